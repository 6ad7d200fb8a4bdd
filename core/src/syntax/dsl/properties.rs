//! Properties of the reader and printer together: printing then reading gives the description
//! back, reading any text never panics, and printing what was read reads back the same.

use proptest::collection::vec;
use proptest::prelude::*;

use super::{print, read};
use crate::source::{Source, Spanned};
use crate::syntax::ast::is_malformed_reference;
use crate::syntax::{Attribute, Description, Item, LayerDecl, Repeat, SyntaxError, Value};

/// Stands in for the layer catalogue: `k2` takes `a` and `b` positionally, `k1` takes `a`.
fn fake_positional_keys(kind: &str) -> &'static [&'static str] {
    if kind == "k2" {
        &["a", "b"]
    } else if kind == "k1" {
        &["a"]
    } else {
        &[]
    }
}

/// Gives positional values their keys, in order, ahead of the keyed attributes (what
/// `layers::name_positionals` will do with the real catalogue). Leftover values stay positional.
fn name_positionals(description: &mut Description) {
    for layer in description.all_layers_mut() {
        let keys = fake_positional_keys(&layer.kind.value);
        let count = layer.positionals.len().min(keys.len());
        let named: Vec<Attribute> = layer
            .positionals
            .drain(..count)
            .zip(keys)
            .map(|(value, key)| Attribute {
                key: Spanned::unspanned((*key).to_string()),
                value,
            })
            .collect();
        layer.attributes.splice(0..0, named);
    }
}

fn no_positional_keys(_kind: &str) -> &'static [&'static str] {
    &[]
}

fn parse(text: &str) -> Result<Description, SyntaxError> {
    read(&Source::new("generated.nn", text))
}

/// Names, kinds and keys: identifiers, statement keywords, and any text at all.
fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[A-Za-z_][A-Za-z0-9_.-]{0,6}",
        1 => prop::sample::select(vec!["network", "about", "rounding", "expect", "train", "let", "sweep", "repeat", "as", "true", "a", "b"])
            .prop_map(str::to_string),
        2 => any::<String>(),
        1 => "[ \"\\\\#=:,<\\-\\[\\]\\n\\r\\tXx./]{0,5}",
    ]
}

/// Texts that a reader can produce: those [`Value::from_text`] keeps as text.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[a-z][a-z0-9_]{0,6}",
        2 => "[A-Za-z0-9 _.@/×+\\-\"\\\\#=,\\[\\]<:\\n\\t]{0,8}",
        2 => prop::sample::select(vec!["expect", "X/X", "x.", "-", "5x", "inf", "a b", ""])
            .prop_map(str::to_string),
        2 => any::<String>(),
    ]
    .prop_filter("reads as text", |text| {
        Value::from_text(text) == Value::Text(text.clone()) && !is_malformed_reference(text)
    })
}

/// Parameter and loop variable names.
fn identifier() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[A-Za-z_][A-Za-z0-9_.-]{0,6}",
        1 => prop::sample::select(vec!["as", "repeat", "let", "expect", "x"]).prop_map(str::to_string),
    ]
}

fn grid() -> impl Strategy<Value = Vec<Vec<bool>>> {
    (1..5_usize, 1..9_usize).prop_flat_map(|(rows, columns)| vec(vec(any::<bool>(), columns), rows))
}

fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        any::<i64>().prop_map(Value::Integer),
        any::<f64>()
            .prop_filter("finite", |number| number.is_finite())
            .prop_map(Value::Number),
        any::<bool>().prop_map(Value::Boolean),
        text().prop_map(Value::Text),
        vec(any::<u64>(), 2..5).prop_map(Value::Dims),
        grid().prop_map(Value::Grid),
        identifier().prop_map(Value::Reference),
    ];
    leaf.prop_recursive(3, 24, 4, |item| vec(item, 0..4).prop_map(Value::List))
}

/// Attributes with distinct keys, as a reader requires.
fn attributes(size: std::ops::Range<usize>) -> impl Strategy<Value = Vec<Attribute>> {
    let key = prop_oneof![
        2 => prop::sample::select(vec!["a", "b"]).prop_map(str::to_string),
        3 => name(),
    ];
    // Often start with `a`, then `b`: the keys `k1` and `k2` take positionally.
    let leading = (0..3_usize, value(), value()).prop_map(|(count, a, b)| {
        [("a".to_string(), a), ("b".to_string(), b)]
            .into_iter()
            .take(count)
            .collect::<Vec<_>>()
    });
    (leading, vec((key, value()), size)).prop_map(|(leading, pairs)| {
        let mut attributes: Vec<Attribute> = Vec::new();
        for (key, value) in leading.into_iter().chain(pairs) {
            if attributes.iter().all(|known| known.key.value != key) {
                attributes.push(Attribute::new(&key, value));
            }
        }
        attributes
    })
}

fn layer() -> impl Strategy<Value = LayerDecl> {
    let kind = prop_oneof![
        2 => prop::sample::select(vec!["k2", "k1", "conv2d"]).prop_map(str::to_string),
        1 => name(),
    ];
    // YAML's keys for a layer's own fields are no layer's attribute keys.
    let layer_attributes = attributes(0..5).prop_map(|attributes| {
        attributes
            .into_iter()
            .filter(|a| {
                !["name", "kind", "inputs", "expect", "repeat"].contains(&a.key.value.as_str())
            })
            .collect::<Vec<_>>()
    });
    (
        proptest::option::of(name()),
        kind,
        layer_attributes,
        vec(name(), 0..3),
        attributes(0..3),
    )
        .prop_map(|(name, kind, attributes, inputs, expect)| {
            let mut layer = LayerDecl::new(&kind);
            layer.name = name.map(Spanned::unspanned);
            layer.attributes = attributes;
            layer.inputs = inputs.into_iter().map(Spanned::unspanned).collect();
            layer.expect = expect;
            layer
        })
}

/// Layers and repeated blocks, nested up to three deep, each body holding at least one item.
fn items(size: std::ops::Range<usize>) -> impl Strategy<Value = Vec<Item>> {
    let item = layer()
        .prop_map(Item::Layer)
        .prop_recursive(3, 12, 3, |inner| {
            (
                value(),
                proptest::option::of(identifier()),
                vec(inner, 1..3),
            )
                .prop_map(|(over, variable, body)| Item::Repeat(Repeat::new(over, variable, body)))
        });
    vec(item, size)
}

/// Parameters: identifiers as keys, distinct, with any values.
fn parameters() -> impl Strategy<Value = Vec<Attribute>> {
    vec((identifier(), value()), 0..3).prop_map(|pairs| {
        let mut parameters: Vec<Attribute> = Vec::new();
        for (key, value) in pairs {
            if parameters.iter().all(|known| known.key.value != key) {
                parameters.push(Attribute::new(&key, value));
            }
        }
        parameters
    })
}

fn description() -> impl Strategy<Value = Description> {
    (
        (
            proptest::option::of(name()),
            proptest::option::of(name()),
            proptest::option::of(name()),
            proptest::option::of(name()),
        ),
        parameters(),
        items(0..5),
        attributes(0..3),
        attributes(0..3),
        attributes(0..3),
    )
        .prop_map(
            |((name, about, rounding, conventions), parameters, layers, expect, train, sweep)| {
                Description {
                    name: name.map(Spanned::unspanned),
                    about: about.map(Spanned::unspanned),
                    rounding: rounding.map(Spanned::unspanned),
                    parameters,
                    conventions: conventions.map(Spanned::unspanned),
                    layers,
                    expect,
                    train,
                    sweep,
                }
            },
        )
}

/// Text made of DSL pieces, more likely than random text to get deep into the grammar: loose
/// fragments, and lines of mostly well-formed tokens.
fn dsl_like_text() -> impl Strategy<Value = String> {
    prop_oneof![dsl_fragments(), dsl_lines()]
}

fn dsl_lines() -> impl Strategy<Value = String> {
    let pick = |tokens: &[&'static str]| prop::sample::select(tokens.to_vec());
    let layer = (
        pick(&["", "C1:", "\"a b\":", "expect:", "n.1-x :"]),
        pick(&["k", "k2", "conv2d", "\"train\"", "x"]),
        vec(
            pick(&[
                "5",
                "-1",
                "0.5",
                "1e-4",
                "5x5",
                "6@28x28",
                "true",
                "relu",
                "\"expect\"",
                "\"q\\\"r\"",
                "[1, [x, \"y\"]]",
                "[]",
                "X./.x",
                "XX./",
                "\"X.\\n.X\"",
            ]),
            0..3,
        ),
        vec(
            pick(&[
                "a=5",
                "b=[2]",
                "e=\"\"",
                "\"k k\"=x",
                "t=\n    X.\n    .X\n   ",
                "t2= # c\n  XX\n ",
                "u=X/X/",
            ]),
            0..3,
        ),
        pick(&["", "<- a, b", "<- \"c d\"", "<-a,\n   b"]),
        pick(&["", "expect p=1", "expect q=2x2 r=\n  X\n"]),
    )
        .prop_map(|(name, kind, positionals, attributes, inputs, expect)| {
            let mut tokens = vec![name, kind];
            tokens.extend(positionals);
            tokens.extend(attributes);
            tokens.extend([inputs, expect]);
            tokens.retain(|token| !token.is_empty());
            tokens.join(" ")
        });
    let statement = pick(&[
        "network n",
        "network \"n m\"",
        "about \"a\"",
        "rounding floor",
        "train e=1",
        "expect p=5 q=[1]",
        "let n=3 f=[[1, 2], [3]]",
        "sweep n=[1, 2] f=[[[1]]]",
        "repeat $n as b",
        "repeat 2",
        "repeat [1, $x] as v",
        "  repeat $v",
        "  k $b $v",
        "    k2 \"$b\" [$n]",
        "# note",
        "",
    ])
    .prop_map(str::to_string);
    let junk = prop_oneof![
        12 => Just(""),
        1 => pick(&["=", ";", "[", "\"", "expect", "<-", "x=", ",", "#", "\t", "C1:", "\\"]),
    ];
    let line = (
        prop_oneof![3 => layer, 1 => statement],
        junk,
        any::<prop::sample::Index>(),
    )
        .prop_map(|(line, junk, at)| {
            // Break a line now and then by putting a stray token at a token boundary.
            let boundaries: Vec<usize> = std::iter::once(0)
                .chain(line.match_indices(' ').map(|(index, _)| index))
                .chain(std::iter::once(line.len()))
                .collect();
            let at = boundaries[at.index(boundaries.len())];
            format!("{} {junk} {}", &line[..at], &line[at..])
        });
    let separator = pick(&["\n", "\n", "\n", "\n\n", "\n    ", "\r\n", "  # c\n"]);
    vec((line, separator), 1..5).prop_map(|lines| {
        lines
            .into_iter()
            .flat_map(|(line, separator)| [line, separator.to_string()])
            .collect()
    })
}

fn dsl_fragments() -> impl Strategy<Value = String> {
    let piece = prop::sample::select(vec![
        "network",
        "about",
        "rounding",
        "expect",
        "train",
        "C1:",
        "conv2d",
        " ",
        "  ",
        "\n",
        "\r\n",
        "\n    ",
        "\t",
        "#",
        "# c\n",
        "=",
        "a=",
        "table=\n",
        "X..X",
        "XX",
        ".",
        "/",
        "<-",
        ",",
        "[",
        "]",
        "\"",
        "\\",
        "\"q\"",
        "5",
        "-1",
        "1e-4",
        "5x5",
        "6@28x28",
        "true",
        "relu",
        "repeat",
        "as",
        "let",
        "sweep",
        "$",
        "$n",
        "$5",
        "\n  ",
        "99999999999999999999",
        "1e999",
        ":",
        "é",
        "\u{0}",
    ]);
    vec(piece, 0..40).prop_map(|pieces| pieces.concat())
}

proptest! {
    #[test]
    fn printing_then_reading_gives_the_description_back(description in description()) {
        let text = print(&description, &fake_positional_keys);
        match parse(&text) {
            Ok(mut read_back) => {
                name_positionals(&mut read_back);
                prop_assert_eq!(read_back, description, "printed as:\n{}", text);
            }
            Err(SyntaxError::Empty { .. }) => {
                prop_assert!(description.layers.is_empty(), "printed as:\n{}", text);
            }
            Err(error) => prop_assert!(false, "{:?} reading:\n{}", error, text),
        }
    }

    #[test]
    fn reading_any_text_never_panics(text in any::<String>()) {
        let _ = parse(&text);
    }

    #[test]
    fn what_was_read_prints_and_reads_back_the_same(text in dsl_like_text()) {
        if let Ok(description) = parse(&text) {
            let printed = print(&description, &no_positional_keys);
            match parse(&printed) {
                Ok(again) => prop_assert_eq!(again, description, "{:?} printed as:\n{}", text, printed),
                Err(error) => prop_assert!(false, "{:?} reading {:?} printed as:\n{}", error, text, printed),
            }
        }
    }
}

#[test]
fn connection_tables_round_trip_through_the_printer() {
    let text = "C3: conv2d 16 5x5 table=\n    X...XXX..XXXX.XX\n    XX...XXX..XXXX.X\n    expect params=1516\n";
    let description = parse(text).unwrap_or_default();
    let printed = print(&description, &no_positional_keys);
    assert_eq!(printed, text);
}
