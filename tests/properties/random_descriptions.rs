//! Random descriptions never panic: `Description` values built directly over the real catalogue
//! (real kinds under any of their names, their own keys with accepted or arbitrary values of
//! every type, stray positional values, names from a small pool so that inputs repeat, loop back
//! and collide with generated names) through printing, graph building, analysis and every
//! renderer. Any error is fine; a panic is a failure.

use crate::catalogue::{KindFacts, facts, kinds};
use crate::pipeline::{self, Reached};
use crate::values::{EXPECT_KEYS, any_value, layer_name, word};
use netcalc::source::Spanned;
use netcalc::syntax::{Attribute, Description, LayerDecl, Value};
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
    )
        .prop_map(|((kind, pairs), positionals, name, inputs, expect)| {
            let mut layer = LayerDecl::new(kind);
            layer.attributes = attributes(pairs);
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
        })
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

/// A description; half of them tidied: repeated names dropped and only inputs that name some
/// layer kept (which still allows forward references, so cycles stay possible).
fn description() -> impl Strategy<Value = Description> {
    let rounding = prop_oneof![
        8 => select(vec!["exact", "floor", "ceil"]).prop_map(str::to_string),
        1 => word(),
    ];
    (
        weighted(0.3, word()),
        weighted(0.5, rounding),
        weighted(0.9, input_layer()),
        vec(layer(), 0..8),
        weighted(0.15, expectations()),
        any::<bool>(),
    )
        .prop_map(|(name, rounding, input, layers, expect, tidy)| {
            let mut layers: Vec<LayerDecl> = input.into_iter().chain(layers).collect();
            if tidy {
                tidy_names(&mut layers);
            }
            Description {
                name: name.map(Spanned::unspanned),
                about: None,
                rounding: rounding.map(Spanned::unspanned),
                conventions: None,
                layers,
                expect: expect.unwrap_or_default(),
                train: Vec::new(),
            }
        })
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
