//! Strategies for attribute values and names: mostly small sizes that fit, with the edges mixed in
//! (0, negatives, 2³², the largest integers), every `Value` variant, and names from a small pool
//! so that inputs often find (and sometimes repeat, or loop back to) a layer.

use netcalc::syntax::Value;
use proptest::collection::vec;
use proptest::prelude::*;

/// Keys a layer's or the network's `expect` may use (as the README documents them), and a
/// misspelt one.
pub const EXPECT_KEYS: [&str; 9] = [
    "output",
    "params",
    "trainable",
    "non_trainable",
    "connections",
    "connections_with_bias",
    "macs",
    "receptive_field",
    "parms",
];

/// Integers as written in a description.
pub fn integer() -> impl Strategy<Value = i64> {
    prop_oneof![
        6 => 0_i64..=8,
        2 => 9_i64..=64,
        1 => -3_i64..0,
        1 => prop::sample::select(vec![
            4_294_967_296,
            4_294_967_295,
            2_147_483_648,
            1 << 40,
            i64::MAX,
            i64::MIN,
        ]),
        1 => any::<i64>(),
    ]
}

/// Sizes inside shapes (`HxWxC`).
pub fn size() -> impl Strategy<Value = u64> {
    prop_oneof![
        6 => 0_u64..=8,
        2 => 9_u64..=64,
        1 => prop::sample::select(vec![
            4_294_967_296,
            4_294_967_297,
            65_536,
            1 << 40,
            u64::MAX / 2,
            u64::MAX,
        ]),
        1 => any::<u64>(),
    ]
}

/// Finite real numbers.
pub fn number() -> impl Strategy<Value = f64> {
    prop_oneof![
        3 => prop::sample::select(vec![0.0, 0.25, 0.5, 0.999, 1.0, -0.5, 2.0, 1e-4, 1e300, -1e300, f64::MIN_POSITIVE]),
        1 => any::<f64>().prop_filter("finite", |number| number.is_finite()),
    ]
}

/// Words the layer kinds use, and some they do not.
pub fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(vec![
            "relu", "tanh", "sigmoid", "softmax", "linear", "same", "valid", "exact", "floor",
            "ceil", "round", "Relu", "",
        ])
        .prop_map(str::to_string),
        1 => "[a-z_]{1,8}",
    ]
}

/// Connection tables: rectangular, as both readers produce them.
pub fn grid() -> impl Strategy<Value = Vec<Vec<bool>>> {
    (1..8_usize, 1..18_usize)
        .prop_flat_map(|(rows, columns)| vec(vec(any::<bool>(), columns), rows))
}

/// Any value, of every variant, including shapes of any rank, empty and ragged tables and nested
/// lists: what a description built in code may hold.
pub fn any_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        4 => integer().prop_map(Value::Integer),
        1 => number().prop_map(Value::Number),
        1 => any::<bool>().prop_map(Value::Boolean),
        2 => word().prop_map(Value::Text),
        3 => vec(size(), 0..5).prop_map(Value::Dims),
        1 => grid().prop_map(Value::Grid),
        1 => vec(vec(any::<bool>(), 0..4), 0..4).prop_map(Value::Grid),
    ];
    leaf.prop_recursive(2, 8, 3, |item| vec(item, 0..4).prop_map(Value::List))
}

/// Values both readers can produce, so that printing and reading gives them back: text that
/// reads as text (and starts no malformed reference), shapes of two or more sizes, non-empty
/// rectangular tables, references to identifiers.
pub fn readable_value() -> impl Strategy<Value = Value> {
    let text = prop_oneof![
        3 => word(),
        1 => any::<String>(),
    ]
    .prop_filter("reads as text", |text| {
        Value::from_text(text) == Value::Text(text.clone()) && !text.starts_with('$')
    });
    let leaf = prop_oneof![
        4 => integer().prop_map(Value::Integer),
        1 => number().prop_map(Value::Number),
        1 => any::<bool>().prop_map(Value::Boolean),
        2 => text.prop_map(Value::Text),
        3 => vec(size(), 2..5).prop_map(Value::Dims),
        1 => grid().prop_map(Value::Grid),
        1 => identifier().prop_map(Value::Reference),
    ];
    leaf.prop_recursive(2, 8, 3, |item| vec(item, 0..4).prop_map(Value::List))
}

/// Parameter and loop variable names: a small pool (so that references find their parameters
/// and loop variables now and then), words the formats treat specially, and other identifiers.
pub fn identifier() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => prop::sample::select(vec!["n", "f", "k", "block", "units"]).prop_map(str::to_string),
        1 => prop::sample::select(vec!["as", "repeat", "let", "sweep", "layers", "no", "true"])
            .prop_map(str::to_string),
        1 => "[A-Za-z_][A-Za-z0-9_.-]{0,6}",
    ]
}

/// Layer names: a small pool (so that inputs find layers, names repeat and generated names such
/// as `conv2d_1` collide), and sometimes anything at all.
pub fn layer_name() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => prop::sample::select(vec![
            "a", "b", "c", "C1", "S2", "input_1", "conv2d_1", "dense_1", "flatten_1",
        ])
        .prop_map(str::to_string),
        1 => "[A-Za-z_][A-Za-z0-9_.-]{0,6}",
        1 => any::<String>(),
    ]
}
