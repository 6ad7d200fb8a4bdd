//! Converting loses nothing, with the real catalogue: descriptions over real kinds (positional
//! values already named by their keys) print and read back to themselves in the DSL (after
//! `layers::name_positionals`) and in YAML, and `netcalc convert` DSL → YAML → DSL gives the same
//! text back.

use crate::catalogue::{KindFacts, all_keys, kinds};
use crate::pipeline::config;
use crate::values::{EXPECT_KEYS, readable_value};
use netcalc::layers;
use netcalc::source::{Source, Spanned};
use netcalc::syntax::{Attribute, Description, LayerDecl, Value, dsl, yaml};
use proptest::collection::vec;
use proptest::option::weighted;
use proptest::prelude::*;
use proptest::sample::{select, subsequence};
use proptest::test_runner::TestRunner;

/// Names: identifiers, names that need quoting, and anything at all.
fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => "[A-Za-z_][A-Za-z0-9_.-]{0,6}",
        2 => select(vec!["C1", "expect", "network", "a b", "x:y", "#", "<-", "\"q\"", "é", "-1", "5x5", "true", ""])
            .prop_map(str::to_string),
        1 => any::<String>(),
    ]
}

/// The keys YAML spells a layer's own fields with; neither reader gives a layer attribute one.
const LAYER_FIELDS: [&str; 4] = ["name", "kind", "inputs", "expect"];

/// A layer's attributes with distinct keys, none of them a layer field.
fn layer_attributes(pairs: Vec<(String, Value)>) -> Vec<Attribute> {
    let pairs = pairs
        .into_iter()
        .filter(|(key, _)| !LAYER_FIELDS.contains(&key.as_str()))
        .collect();
    distinct(pairs)
}

/// Attributes with distinct keys, as both readers require.
fn distinct(pairs: Vec<(String, Value)>) -> Vec<Attribute> {
    let mut attributes: Vec<Attribute> = Vec::new();
    for (key, value) in pairs {
        if attributes.iter().all(|known| known.key.value != key) {
            attributes.push(Attribute::new(&key, value));
        }
    }
    attributes
}

/// A value for a key of a kind: one it accepts, or any value the readers can produce.
fn value_for(kind: &'static KindFacts, key: &str) -> BoxedStrategy<Value> {
    match kind.keys.iter().position(|known| *known == key) {
        Some(index) if !kind.accepted[index].is_empty() => prop_oneof![
            2 => select(kind.accepted[index].clone()),
            1 => readable_value(),
        ]
        .boxed(),
        _ => readable_value().boxed(),
    }
}

/// Attributes of a real kind: a prefix of its positional keys in order (the DSL prints those
/// without `key=`), then some of its other keys in any order, now and then a key it does not have.
fn attributes_of(kind: &'static KindFacts) -> BoxedStrategy<Vec<Attribute>> {
    let positional_count = 0..=kind.positionals.len();
    let others: Vec<&'static str> = kind
        .keys
        .iter()
        .copied()
        .filter(|key| !kind.positionals.contains(key))
        .collect();
    let other_count = 0..=others.len().min(3);
    (
        positional_count.prop_flat_map(move |count| {
            kind.positionals[..count]
                .iter()
                .map(|&key| value_for(kind, key).prop_map(move |value| (key.to_string(), value)))
                .collect::<Vec<_>>()
        }),
        subsequence(others, other_count)
            .prop_shuffle()
            .prop_flat_map(move |keys| {
                keys.into_iter()
                    .map(|key| value_for(kind, key).prop_map(move |value| (key.to_string(), value)))
                    .collect::<Vec<_>>()
            }),
        weighted(0.1, (select(all_keys()), readable_value())),
    )
        .prop_map(|(leading, rest, stray)| {
            let stray = stray.map(|(key, value)| (key.to_string(), value));
            layer_attributes(leading.into_iter().chain(rest).chain(stray).collect())
        })
        .boxed()
}

fn layer() -> impl Strategy<Value = LayerDecl> {
    let real = select(kinds().iter().collect::<Vec<&'static KindFacts>>()).prop_flat_map(|kind| {
        (
            select(kind.names.clone()).prop_map(str::to_string),
            attributes_of(kind),
        )
    });
    let made_up = (
        prop_oneof![Just("conv3d".to_string()), name()],
        vec((name(), readable_value()), 0..3).prop_map(layer_attributes),
    );
    (
        prop_oneof![10 => real, 1 => made_up],
        weighted(0.5, name()),
        vec(name(), 0..3),
        vec(
            (
                select(EXPECT_KEYS.to_vec()).prop_map(str::to_string),
                readable_value(),
            ),
            0..3,
        )
        .prop_map(distinct),
    )
        .prop_map(|((kind, attributes), name, inputs, expect)| {
            let mut layer = LayerDecl::new(&kind);
            layer.attributes = attributes;
            layer.name = name.map(Spanned::unspanned);
            layer.inputs = inputs.into_iter().map(Spanned::unspanned).collect();
            layer.expect = expect;
            layer
        })
}

/// Descriptions as the readers give them, positional values named.
fn description() -> impl Strategy<Value = Description> {
    let input = (1_u64..=64, 1_u64..=64, 1_u64..=4).prop_map(|(height, width, channels)| {
        let mut layer = LayerDecl::new("input");
        layer.attributes = vec![Attribute::new(
            "shape",
            Value::Dims(vec![height, width, channels]),
        )];
        layer
    });
    (
        weighted(0.5, name()),
        weighted(0.3, prop_oneof![name(), any::<String>()]),
        weighted(
            0.3,
            prop_oneof![
                select(vec!["exact", "floor", "ceil"]).prop_map(str::to_string),
                name()
            ],
        ),
        weighted(0.7, input),
        vec(layer(), 1..6),
        vec(
            (
                select(EXPECT_KEYS.to_vec()).prop_map(str::to_string),
                readable_value(),
            ),
            0..3,
        )
        .prop_map(distinct),
        vec((name(), readable_value()), 0..3).prop_map(distinct),
    )
        .prop_map(
            |(name, about, rounding, input, layers, expect, train)| Description {
                name: name.map(Spanned::unspanned),
                about: about.map(Spanned::unspanned),
                conventions: rounding
                    .as_ref()
                    .map(|_| Spanned::unspanned("pytorch".to_string())),
                rounding: rounding.map(Spanned::unspanned),
                layers: input.into_iter().chain(layers).collect(),
                expect,
                train,
            },
        )
}

/// Reads DSL text and names its positional values, as `load` and `convert` do.
fn read_dsl(text: &str) -> Result<Description, String> {
    let mut description =
        dsl::read(&Source::new("generated.nn", text)).map_err(|error| format!("{error:?}"))?;
    for layer in &mut description.layers {
        layers::name_positionals(layer).map_err(|error| error.to_string())?;
    }
    Ok(description)
}

proptest! {
    #![proptest_config(config(192))]

    #[test]
    fn dsl_printing_then_reading_gives_the_description_back(description in description()) {
        let text = dsl::print(&description, &layers::positional_keys);
        match read_dsl(&text) {
            Ok(read_back) => prop_assert_eq!(read_back, description, "printed as:\n{}", text),
            Err(error) => prop_assert!(false, "{} reading:\n{}", error, text),
        }
    }

    #[test]
    fn yaml_printing_then_reading_gives_the_description_back(description in description()) {
        let text = yaml::print(&description);
        match yaml::read(&Source::new("generated.yaml", text.as_str())) {
            Ok(read_back) => prop_assert_eq!(read_back, description, "printed as:\n{}", text),
            Err(error) => prop_assert!(false, "{:?} reading:\n{}", error, text),
        }
    }
}

/// Runs `netcalc convert FILE --to FORMAT` and returns what it prints.
fn convert(file: &std::path::Path, to: &str) -> String {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_netcalc"))
        .arg("convert")
        .arg(file)
        .args(["--to", to])
        .output()
        .expect("netcalc runs");
    assert!(
        output.status.success(),
        "convert {} --to {to} failed: {}",
        file.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("convert prints UTF-8")
}

#[test]
fn convert_dsl_to_yaml_to_dsl_is_stable() {
    let directory = tempfile::tempdir_in(std::env::temp_dir()).expect("a temporary directory");
    let mut runner = TestRunner::new(proptest::test_runner::Config {
        failure_persistence: None,
        ..config(6)
    });
    let result = runner.run(&description(), |description| {
        let dsl_text = dsl::print(&description, &layers::positional_keys);
        let dsl_file = directory.path().join("generated.nn");
        std::fs::write(&dsl_file, &dsl_text).expect("the DSL file is written");
        let yaml_text = convert(&dsl_file, "yaml");
        prop_assert_eq!(&yaml_text, &yaml::print(&description));
        let yaml_file = directory.path().join("generated.yaml");
        std::fs::write(&yaml_file, &yaml_text).expect("the YAML file is written");
        let again = convert(&yaml_file, "dsl");
        prop_assert_eq!(again, dsl_text, "through YAML:\n{}", yaml_text);
        Ok(())
    });
    if let Err(error) = result {
        panic!("{error}");
    }
}
