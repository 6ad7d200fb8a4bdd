//! Random descriptions never panic: `Description` values built directly over the real catalogue
//! (real kinds under any of their names, their own keys with accepted or arbitrary values of
//! every type, stray positional values, names from a small pool so that inputs repeat, loop back
//! and collide with generated names; now and then parameters, references and repeated blocks
//! over counts, lists and references) through printing, instantiation, graph building, analysis
//! and every renderer. Any error is fine; a panic is a failure.

use crate::catalogue::{KindFacts, facts, kinds};
use crate::pipeline::{self, Reached};
use crate::values::{EXPECT_KEYS, any_value, identifier, integer, layer_name, word};
use netcalc::source::Spanned;
use netcalc::syntax::{Attribute, Description, Item, LayerDecl, Repeat, Value};
use proptest::collection::vec;
use proptest::option::weighted;
use proptest::prelude::*;
use proptest::sample::select;

fn attributes(pairs: Vec<(&str, Value)>) -> Vec<Attribute> {
    pairs
        .into_iter()
        .map(|(key, value)| Attribute::new(key, value))
        .collect()
}

fn expectations() -> impl Strategy<Value = Vec<Attribute>> {
    vec((select(EXPECT_KEYS.to_vec()), any_value()), 0..3).prop_map(attributes)
}

/// A layer of a real kind (or, rarely, of a made-up one).
fn layer() -> impl Strategy<Value = LayerDecl> {
    let real = select(kinds().iter().collect::<Vec<&'static KindFacts>>()).prop_flat_map(|kind| {
        (
            select(kind.names.clone()),
            kind.attributes(12, any_value().boxed()),
        )
    });
    let made_up = (
        select(vec!["conv3d", "Dense", "", "input_1"]),
        vec((select(crate::catalogue::all_keys()), any_value()), 0..3),
    );
    (
        prop_oneof![30 => real, 1 => made_up],
        weighted(0.04, vec(any_value(), 1..3)),
        weighted(0.6, layer_name()),
        weighted(0.25, vec(layer_name(), 1..3)),
        weighted(0.15, expectations()),
        weighted(0.03, (any::<prop::sample::Index>(), identifier())),
    )
        .prop_map(
            |((kind, pairs), positionals, name, inputs, expect, reference)| {
                let mut layer = LayerDecl::new(kind);
                layer.attributes = attributes(pairs);
                if let Some((at, name)) = reference
                    && !layer.attributes.is_empty()
                {
                    let at = at.index(layer.attributes.len());
                    layer.attributes[at].value.value = Value::Reference(name);
                }
                layer.positionals = positionals
                    .unwrap_or_default()
                    .into_iter()
                    .map(Spanned::unspanned)
                    .collect();
                layer.name = name.map(Spanned::unspanned);
                layer.inputs = inputs
                    .unwrap_or_default()
                    .into_iter()
                    .map(Spanned::unspanned)
                    .collect();
                layer.expect = expect.unwrap_or_default();
                layer
            },
        )
}

/// An input layer, mostly with a shape other layers fit into.
fn input_layer() -> impl Strategy<Value = LayerDecl> {
    let input = facts("input").expect("the catalogue has `input`");
    let fitting = (4_u64..=32, 4_u64..=32, 1_u64..=4).prop_map(|(height, width, channels)| {
        vec![("shape", Value::Dims(vec![height, width, channels]))]
    });
    (
        prop_oneof![3 => fitting, 1 => input.attributes(12, any_value().boxed())],
        weighted(0.3, layer_name()),
    )
        .prop_map(|(pairs, name)| {
            let mut layer = LayerDecl::new("input");
            layer.attributes = attributes(pairs);
            layer.name = name.map(Spanned::unspanned);
            layer
        })
}

/// The names parameters get: a small pool, so that references find them.
const PARAMETER_NAMES: [&str; 4] = ["n", "f", "k", "units"];

/// What a repeat runs over: counts (negative ones too), lists, references, or anything.
fn repeat_over() -> impl Strategy<Value = Value> {
    prop_oneof![
        8 => (0_i64..4).prop_map(Value::Integer),
        1 => integer().prop_map(Value::Integer),
        1 => select(PARAMETER_NAMES.to_vec()).prop_map(|name| Value::Reference(name.to_string())),
        1 => vec(any_value(), 0..3).prop_map(Value::List),
        1 => any_value(),
    ]
}

/// Loop variables: names no parameter has, and now and then any name (which may hide one).
fn loop_variable() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => select(vec!["block", "copy", "i"]).prop_map(str::to_string),
        1 => identifier(),
    ]
}

/// Uses every parameter: an attribute of a layer from the chosen one on becomes a reference to
/// it, its value the parameter's default (so the network stays what it was); when no layer there
/// has attributes, a training setting refers to it.
fn use_parameters(
    layers: &mut [LayerDecl],
    train: &mut Vec<Attribute>,
    parameters: &mut [Attribute],
    places: &[(prop::sample::Index, prop::sample::Index)],
) {
    for (parameter, (layer, attribute)) in parameters.iter_mut().zip(places.iter().cycle()) {
        let reference = Value::Reference(parameter.key.value.clone());
        let start = if layers.is_empty() {
            0
        } else {
            layer.index(layers.len())
        };
        let free = |layer: &LayerDecl| {
            layer
                .attributes
                .iter()
                .filter(|attribute| !matches!(attribute.value.value, Value::Reference(_)))
                .count()
        };
        match layers[start..].iter_mut().find(|layer| free(layer) > 0) {
            Some(layer) => {
                let at = attribute.index(free(layer));
                let Some(slot) = layer
                    .attributes
                    .iter_mut()
                    .filter(|attribute| !matches!(attribute.value.value, Value::Reference(_)))
                    .nth(at)
                else {
                    continue;
                };
                parameter.value.value = std::mem::replace(&mut slot.value.value, reference);
            }
            None => train.push(Attribute::new(
                &format!("setting_{}", parameter.key.value),
                reference,
            )),
        }
    }
}

/// A repeated block around layers `start..end` (clamped) of the list, when asked for; without a
/// loop variable, the body's layers mostly lose their names (which would be an error).
type Wrap = (
    prop::sample::Index,
    prop::sample::Index,
    Value,
    Option<String>,
    bool,
);

fn wrap(layers: Vec<LayerDecl>, wrap: Option<Wrap>) -> Vec<Item> {
    let mut items: Vec<Item> = layers.into_iter().map(Item::Layer).collect();
    let Some((start, length, over, variable, keep_names)) = wrap else {
        return items;
    };
    if items.len() < 2 {
        return items;
    }
    // Keep the first layer (usually the input) outside the block.
    let start = 1 + start.index(items.len() - 1);
    let end = start + 1 + length.index(items.len() - start);
    let mut body: Vec<Item> = items.drain(start..end).collect();
    if variable.is_none() && !keep_names {
        for item in &mut body {
            if let Item::Layer(layer) = item {
                layer.name = None;
            }
        }
    }
    items.insert(start, Item::Repeat(Repeat::new(over, variable, body)));
    items
}

/// Parameters named from [`PARAMETER_NAMES`], mostly small counts.
fn parameters() -> impl Strategy<Value = Vec<Attribute>> {
    vec(
        (
            select(PARAMETER_NAMES.to_vec()),
            prop_oneof![3 => (0_i64..5).prop_map(Value::Integer), 1 => any_value()],
        ),
        1..3,
    )
    .prop_map(|pairs| {
        let mut parameters: Vec<Attribute> = Vec::new();
        for (key, value) in pairs {
            if parameters.iter().all(|known| known.key.value != key) {
                parameters.push(Attribute::new(key, value));
            }
        }
        parameters
    })
}

/// A description; half of them tidied: repeated names dropped and only inputs that name some
/// layer kept (which still allows forward references, so cycles stay possible).
fn description() -> impl Strategy<Value = Description> {
    let rounding = prop_oneof![
        8 => select(vec!["exact", "floor", "ceil"]).prop_map(str::to_string),
        1 => word(),
    ];
    let block = (
        any::<prop::sample::Index>(),
        any::<prop::sample::Index>(),
        repeat_over(),
        weighted(0.6, loop_variable()),
        prop::bool::weighted(0.1),
    );
    let parameters = (
        parameters(),
        vec(
            (any::<prop::sample::Index>(), any::<prop::sample::Index>()),
            1..3,
        ),
    );
    (
        weighted(0.3, word()),
        weighted(0.5, rounding),
        weighted(0.9, input_layer()),
        vec(layer(), 0..8),
        weighted(0.15, expectations()),
        any::<bool>(),
        weighted(0.2, parameters),
        weighted(0.2, block),
    )
        .prop_map(
            |(name, rounding, input, layers, expect, tidy, parameters, block)| {
                let mut layers: Vec<LayerDecl> = input.into_iter().chain(layers).collect();
                if tidy {
                    tidy_names(&mut layers);
                }
                let mut train = Vec::new();
                let (mut parameters, places) = parameters.unwrap_or_default();
                use_parameters(&mut layers, &mut train, &mut parameters, &places);
                Description {
                    name: name.map(Spanned::unspanned),
                    about: None,
                    rounding: rounding.map(Spanned::unspanned),
                    conventions: None,
                    parameters,
                    layers: wrap(layers, block),
                    expect: expect.unwrap_or_default(),
                    train,
                    sweep: Vec::new(),
                }
            },
        )
}

fn tidy_names(layers: &mut [LayerDecl]) {
    let mut seen: Vec<String> = Vec::new();
    for layer in layers.iter_mut() {
        if let Some(name) = &layer.name {
            if seen.contains(&name.value) {
                layer.name = None;
            } else {
                seen.push(name.value.clone());
            }
        }
    }
    for layer in layers.iter_mut() {
        layer.inputs.retain(|input| seen.contains(&input.value));
    }
}

#[test]
fn random_descriptions_never_panic() {
    let tally = pipeline::tally(384, description(), pipeline::description);
    tally.require("random descriptions", Reached::Unanalysed, 20);
    tally.require("random descriptions", Reached::Analysed, 5);
}
