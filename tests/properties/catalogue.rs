//! What the tests know of the real layer catalogue, learnt by asking it rather than written down:
//! every kind's attribute keys (from the `known` list of an unknown-attribute error) and, per key,
//! which values of a fixed pool a declaration of that kind accepts.

use netcalc::layers::{self, CATALOGUE, DeclarationError};
use netcalc::syntax::{Attribute, LayerDecl, Value};
use proptest::prelude::*;
use std::sync::OnceLock;

/// A key no kind knows, used to make a kind list the keys it does know.
const UNKNOWN_KEY: &str = "no_kind_has_this_key";

/// One kind of the catalogue, as the tests see it.
#[derive(Debug)]
pub struct KindFacts {
    /// Its catalogue name.
    pub name: &'static str,
    /// Its name and aliases.
    pub names: Vec<&'static str>,
    /// Its positional keys, in order.
    pub positionals: &'static [&'static str],
    /// Every attribute key it reads.
    pub keys: Vec<&'static str>,
    /// Attributes that make a declaration of this kind build.
    pub required: Vec<Attribute>,
    /// Per key (in `keys` order), the pool values a declaration accepts for it.
    pub accepted: Vec<Vec<Value>>,
}

/// The values tried for every key: small sizes, words the kinds use, numbers, booleans, shapes
/// and tables.
pub fn value_pool() -> Vec<Value> {
    let mut pool: Vec<Value> = [0, 1, 2, 3, 4, 5, -1]
        .into_iter()
        .map(Value::Integer)
        .collect();
    pool.extend([0.0, 0.25, 0.5, 1.0, 1e-4, 2.0].map(Value::Number));
    pool.extend([true, false].map(Value::Boolean));
    pool.extend(
        [
            "relu", "tanh", "sigmoid", "softmax", "linear", "same", "valid", "exact", "floor",
            "ceil", "x", "all", "last", "causal", "concat", "sum", "keras", "pytorch",
        ]
        .map(|word| Value::Text(word.to_string())),
    );
    pool.extend(
        [
            vec![1, 1],
            vec![2, 2],
            vec![3, 3],
            vec![2, 3],
            vec![5, 5],
            vec![1, 1, 1],
            vec![8, 8, 3],
        ]
        .map(Value::Dims),
    );
    pool.push(Value::Grid(vec![vec![true]]));
    pool.push(Value::Grid(vec![vec![true, false], vec![false, true]]));
    pool.push(Value::List(vec![Value::Integer(2)]));
    pool.push(Value::List(vec![
        Value::Integer(8),
        Value::Integer(8),
        Value::Integer(3),
    ]));
    pool
}

/// Every kind of the catalogue, learnt once.
pub fn kinds() -> &'static [KindFacts] {
    static KINDS: OnceLock<Vec<KindFacts>> = OnceLock::new();
    KINDS.get_or_init(|| CATALOGUE.iter().map(|kind| learn(kind.name)).collect())
}

impl KindFacts {
    /// Attributes for a declaration of this kind: each required key nearly always, each other key
    /// now and then, and rarely a key of another kind; each value mostly one the kind accepts for
    /// its key (`accepted_weight` to 1), otherwise one of `other`.
    pub fn attributes(
        &'static self,
        accepted_weight: u32,
        other: BoxedStrategy<Value>,
    ) -> BoxedStrategy<Vec<(&'static str, Value)>> {
        let own: Vec<BoxedStrategy<Option<(&'static str, Value)>>> = self
            .keys
            .iter()
            .zip(&self.accepted)
            .map(|(&key, accepted)| {
                let required = self.required.iter().any(|a| a.key.value == key);
                let value = prop_oneof![
                    accepted_weight => prop::sample::select(accepted.clone()),
                    1 => other.clone(),
                ];
                proptest::option::weighted(if required { 0.95 } else { 0.25 }, (Just(key), value))
                    .boxed()
            })
            .collect();
        let foreign =
            proptest::option::weighted(0.05, (prop::sample::select(all_keys()), other.clone()));
        (own, foreign)
            .prop_map(|(own, foreign)| own.into_iter().flatten().chain(foreign).collect())
            .boxed()
    }
}

/// Every key some kind reads, each once.
pub fn all_keys() -> Vec<&'static str> {
    let mut keys: Vec<&'static str> = kinds().iter().flat_map(|kind| kind.keys.clone()).collect();
    keys.sort_unstable();
    keys.dedup();
    keys
}

/// Every kind name and alias.
pub fn all_names() -> Vec<&'static str> {
    kinds().iter().flat_map(|kind| kind.names.clone()).collect()
}

/// The facts of the kind with this name or alias.
pub fn facts(name: &str) -> Option<&'static KindFacts> {
    kinds().iter().find(|kind| kind.names.contains(&name))
}

fn declaration(kind: &str, attributes: &[Attribute]) -> LayerDecl {
    let mut decl = LayerDecl::new(kind);
    decl.attributes = attributes.to_vec();
    decl
}

/// Finds values for the kind's required keys, one missing key at a time, then its whole key list.
fn learn(name: &'static str) -> KindFacts {
    let kind = layers::find(name).expect("a catalogue name finds its kind");
    let pool = value_pool();
    let mut required: Vec<Attribute> = Vec::new();
    loop {
        match layers::build(&declaration(name, &required)) {
            Ok(_) => break,
            Err(DeclarationError::Missing { key, .. }) => {
                let value = pool
                    .iter()
                    .find(|value| {
                        let mut attempt = required.clone();
                        attempt.push(Attribute::new(key, (*value).clone()));
                        match layers::build(&declaration(name, &attempt)) {
                            Ok(_) => true,
                            Err(DeclarationError::Missing { key: next, .. }) => next != key,
                            Err(_) => false,
                        }
                    })
                    .unwrap_or_else(|| panic!("no pool value satisfies `{name}`'s `{key}`"));
                required.push(Attribute::new(key, value.clone()));
            }
            Err(error) => panic!("`{name}` with {required:?} does not build: {error}"),
        }
    }
    let mut probe = required.clone();
    probe.push(Attribute::new(UNKNOWN_KEY, Value::Integer(1)));
    let keys = match layers::build(&declaration(name, &probe)) {
        Err(DeclarationError::UnknownAttribute { known, key, .. }) if key == UNKNOWN_KEY => known,
        other => panic!("`{name}` accepted or misreported an unknown key: {other:?}"),
    };
    let accepted = keys
        .iter()
        .map(|&key| {
            pool.iter()
                .filter(|value| {
                    let mut attempt: Vec<Attribute> = required
                        .iter()
                        .filter(|attribute| attribute.key.value != key)
                        .cloned()
                        .collect();
                    attempt.push(Attribute::new(key, (*value).clone()));
                    layers::build(&declaration(name, &attempt)).is_ok()
                })
                .cloned()
                .collect()
        })
        .collect();
    KindFacts {
        name,
        names: std::iter::once(kind.name)
            .chain(kind.aliases.iter().copied())
            .collect(),
        positionals: kind.positionals,
        keys,
        required,
        accepted,
    }
}

#[test]
fn the_catalogue_is_learnt_completely() {
    for kind in kinds() {
        for positional in kind.positionals {
            assert!(
                kind.keys.contains(positional),
                "`{}` does not read its positional key `{positional}`",
                kind.name
            );
        }
        for (key, accepted) in kind.keys.iter().zip(&kind.accepted) {
            assert!(
                !accepted.is_empty(),
                "`{}`: no pool value is accepted for `{key}`",
                kind.name
            );
        }
    }
    assert!(facts("conv2d").is_some_and(|conv| conv.keys.contains(&"dilation")));
}
