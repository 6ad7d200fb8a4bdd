//! Random descriptions that netcalc analyses without error, for properties about what valid
//! networks keep: sequential networks (those of `invariants`), networks that branch and merge
//! again (`concat`, `add`), and the built-in architectures, each decorated with what else a
//! description may carry (a name, `about`, `train` settings, layer names that need quoting, and
//! `expect` assertions that hold, taken from a first analysis).

use netcalc::analysis::ReceptiveField;
use netcalc::builtin::BUILTINS;
use netcalc::source::{Source, Spanned};
use netcalc::syntax::{Attribute, Configuration, Description, Item, LayerDecl, Value, yaml};
use netcalc::{Network, analyse};
use proptest::collection::vec;
use proptest::option::weighted;
use proptest::prelude::*;
use proptest::sample::select;

/// A description that analyses, in the three shapes above.
pub fn valid_description() -> impl Strategy<Value = Description> {
    let base = prop_oneof![
        3 => crate::invariants::sequential_network(),
        2 => branched_network(),
        // A parametrised built-in as its defaults make it (the expectations added below are
        // per layer, which a repeated block's body is not); parameters and repeats have their
        // own round trips.
        1 => select(BUILTINS.to_vec()).prop_map(|builtin| {
            let description = yaml::read(&Source::new(builtin.file, builtin.text))
                .unwrap_or_else(|error| panic!("{} reads: {error:?}", builtin.name));
            netcalc::syntax::instantiate(&description, &Configuration::defaults())
                .unwrap_or_else(|error| panic!("{} instantiates: {error:?}", builtin.name))
        }),
    ];
    (base, decorations()).prop_map(|(description, decorations)| decorations.apply(description))
}

fn integer(key: &str, value: u64) -> Attribute {
    Attribute::new(key, Value::Integer(value as i64))
}

fn sizes(key: &str, sizes: &[u64]) -> Attribute {
    Attribute::new(key, Value::Dims(sizes.to_vec()))
}

fn layer(name: &str, kind: &str, attributes: Vec<Attribute>, inputs: &[&str]) -> LayerDecl {
    let mut layer = LayerDecl::new(kind);
    layer.name = Some(Spanned::unspanned(name.to_string()));
    layer.attributes = attributes;
    layer.inputs = inputs
        .iter()
        .map(|input| Spanned::unspanned(input.to_string()))
        .collect();
    layer
}

/// An input, a stem convolution, two or three branches read from it (1×1 convolutions, a
/// `same` max pooling) joined by `concat`, or a 1×1 convolution added back to the stem; then a
/// dense head on the flattened result.
fn branched_network() -> impl Strategy<Value = Description> {
    (
        (4_u64..=16, 4_u64..=16, 1_u64..=4),
        1_u64..=8,
        vec(1_u64..=8, 1..=2),
        any::<bool>(),
        1_u64..=10,
    )
        .prop_map(|((height, width, channels), stem, branches, add, units)| {
            let mut input = LayerDecl::new("input");
            input.attributes = vec![sizes("shape", &[height, width, channels])];
            let same = Attribute::new("padding", Value::Text("same".to_string()));
            let mut layers = vec![
                input,
                layer(
                    "stem",
                    "conv2d",
                    vec![
                        integer("filters", stem),
                        sizes("kernel", &[3, 3]),
                        same.clone(),
                    ],
                    &[],
                ),
            ];
            if add {
                let one_by_one = vec![integer("filters", stem), sizes("kernel", &[1, 1])];
                layers.push(layer("branch", "conv2d", one_by_one, &["stem"]));
                layers.push(layer("merged", "add", vec![], &["branch", "stem"]));
            } else {
                let mut names = Vec::new();
                for (index, filters) in branches.iter().enumerate() {
                    let name = format!("branch_{index}");
                    let one_by_one = vec![integer("filters", *filters), sizes("kernel", &[1, 1])];
                    layers.push(layer(&name, "conv2d", one_by_one, &["stem"]));
                    names.push(name);
                }
                let pool = vec![sizes("size", &[3, 3]), sizes("stride", &[1, 1]), same];
                layers.push(layer("pooled", "maxpool", pool, &["stem"]));
                names.push("pooled".to_string());
                let inputs: Vec<&str> = names.iter().map(String::as_str).collect();
                layers.push(layer("merged", "concat", vec![], &inputs));
            }
            layers.push(LayerDecl::new("flatten"));
            let mut head = LayerDecl::new("dense");
            head.attributes = vec![integer("units", units)];
            layers.push(head);
            Description {
                layers: layers.into_iter().map(Item::from).collect(),
                ..Description::default()
            }
        })
}

/// Names a printer must quote or escape, none of them like a generated name (`conv2d_1`).
const AWKWARD_NAMES: [&str; 14] = [
    "C1", "Conv 1", "x:y", "é", "5x5", "true", "yes", "null", "#1", "-1", "0x10", "1e3", "a-b.c",
    "\"q\"",
];

/// What [`Decorations::apply`] adds to a description.
#[derive(Debug, Clone)]
struct Decorations {
    name: Option<String>,
    about: Option<String>,
    train: Vec<Attribute>,
    /// For each layer in turn, a name from [`AWKWARD_NAMES`] to give it if it has none.
    layer_names: Vec<Option<usize>>,
    /// Which of the true facts become `expect` assertions (bit by bit, in a fixed order).
    expectations: u64,
}

fn decorations() -> impl Strategy<Value = Decorations> {
    let train = prop_oneof![
        Just(vec![]),
        (
            1_u64..=20,
            select(vec!["sgd", "adam", "adadelta", "rmsprop"]),
            select(vec![0.1, 0.01, 1e-3])
        )
            .prop_map(|(epochs, optimizer, rate)| vec![
                integer("epochs", epochs),
                Attribute::new("optimizer", Value::Text(optimizer.to_string())),
                Attribute::new("learning_rate", Value::Number(rate)),
            ]),
    ];
    (
        weighted(0.5, prop_oneof!["[a-z][a-z0-9-]{0,12}", any::<String>()]),
        weighted(0.3, any::<String>()),
        train,
        vec(weighted(0.3, 0..AWKWARD_NAMES.len()), 0..12),
        any::<u64>(),
    )
        .prop_map(
            |(name, about, train, layer_names, expectations)| Decorations {
                name,
                about,
                train,
                layer_names,
                expectations,
            },
        )
}

impl Decorations {
    fn apply(self, mut description: Description) -> Description {
        if description.name.is_none() {
            description.name = self.name.map(Spanned::unspanned);
        }
        if description.about.is_none() {
            description.about = self.about.map(Spanned::unspanned);
        }
        if description.train.is_empty() {
            description.train = self.train;
        }
        let mut taken: Vec<String> = description
            .all_layers()
            .into_iter()
            .filter_map(|layer| layer.name.as_ref().map(|name| name.value.clone()))
            .collect();
        for (layer, choice) in description
            .all_layers_mut()
            .into_iter()
            .zip(self.layer_names)
        {
            if let Some(name) = choice.map(|index| AWKWARD_NAMES[index].to_string())
                && layer.name.is_none()
                && !taken.contains(&name)
            {
                taken.push(name.clone());
                layer.name = Some(Spanned::unspanned(name));
            }
        }
        add_true_expectations(&mut description, self.expectations);
        description
    }
}

/// Adds `expect` assertions with the values a first analysis computes, those whose bit in
/// `chosen` is set (the network's totals, then each layer's facts, in order; beyond 64 facts the
/// bits repeat), and not already written.
fn add_true_expectations(description: &mut Description, chosen: u64) {
    let network = Network::build(
        &Source::new("valid", ""),
        description.clone(),
        "valid",
        netcalc::graph::Overrides::default(),
    )
    .unwrap_or_else(|error| panic!("a valid description builds: {error}\n{description:?}"));
    let analysis = analyse(&network)
        .unwrap_or_else(|error| panic!("a valid description analyses: {error}\n{description:?}"));
    let mut bits = (0..64).cycle().map(|bit| chosen >> bit & 1 == 1);
    let totals = &analysis.totals;
    for (key, value) in [
        ("params", totals.parameters()),
        ("trainable", totals.trainable),
        ("connections", totals.connections_without_bias),
        ("macs", totals.macs),
    ] {
        if bits.next() == Some(true) && !has(&description.expect, key) {
            description.expect.push(integer(key, value));
        }
    }
    // Every layer here reads only layers declared before it, so the evaluation order is the
    // order of declaration.
    assert_eq!(analysis.layers.len(), description.layers.len());
    for (info, layer) in analysis.layers.iter().zip(description.all_layers_mut()) {
        if let Some(name) = &layer.name {
            assert_eq!(name.value, info.name, "evaluated in the order declared");
        }
        let output = match info.output.dims() {
            [units] => integer("output", *units),
            dims => sizes("output", dims),
        };
        let mut facts = vec![output, integer("params", info.parameter_count())];
        if let ReceptiveField::Window { size, .. } = info.receptive_field {
            facts.push(sizes("receptive_field", &size));
        }
        for fact in facts {
            if bits.next() == Some(true) && !has(&layer.expect, &fact.key.value) {
                layer.expect.push(fact);
            }
        }
    }
}

fn has(attributes: &[Attribute], key: &str) -> bool {
    attributes
        .iter()
        .any(|attribute| attribute.key.value == key)
}
