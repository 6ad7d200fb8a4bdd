//! Converting loses nothing, with the real catalogue: descriptions over real kinds (positional
//! values already named by their keys) print and read back to themselves in the DSL (after
//! `layers::name_positionals`) and in YAML, and `netcalc convert` DSL → YAML → DSL gives the same
//! text back. For valid descriptions, converting to the other format and back keeps the analysis
//! (every layer's and the totals' numbers and formulas, and the `expect` assertions holding).

use crate::catalogue::{KindFacts, all_keys, kinds};
use crate::pipeline::config;
use crate::valid_descriptions::valid_description;
use crate::values::{EXPECT_KEYS, identifier, readable_value};
use netcalc::layers;
use netcalc::source::{Source, Spanned};
use netcalc::syntax::{Attribute, Description, Format, Item, LayerDecl, Repeat, Value, dsl, yaml};
use netcalc::{Analysis, analyse};
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

/// The keys YAML spells a layer's own fields with (and `repeat`, which marks a repeated block's
/// item); neither reader gives a layer attribute one.
const LAYER_FIELDS: [&str; 5] = ["name", "kind", "inputs", "expect", "repeat"];

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

/// Layers and repeated blocks (over counts, lists and references, with and without a loop
/// variable), nested up to three deep, every body holding at least one item.
fn items() -> impl Strategy<Value = Vec<Item>> {
    let item = layer()
        .prop_map(Item::Layer)
        .prop_recursive(3, 12, 3, |inner| {
            (
                prop_oneof![
                    2 => (0_i64..4).prop_map(Value::Integer),
                    2 => identifier().prop_map(Value::Reference),
                    1 => readable_value(),
                ],
                weighted(0.7, identifier()),
                vec(inner, 1..3),
            )
                .prop_map(|(over, variable, body)| Item::Repeat(Repeat::new(over, variable, body)))
        });
    vec(item, 1..6)
}

/// `let` parameters and `sweep` entries: identifiers with distinct names.
fn parameters() -> impl Strategy<Value = Vec<Attribute>> {
    vec((identifier(), readable_value()), 0..3).prop_map(distinct)
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
        items(),
        vec(
            (
                select(EXPECT_KEYS.to_vec()).prop_map(str::to_string),
                readable_value(),
            ),
            0..3,
        )
        .prop_map(distinct),
        vec((name(), readable_value()), 0..3).prop_map(distinct),
        (parameters(), parameters()),
    )
        .prop_map(
            |(name, about, rounding, input, layers, expect, train, (parameters, sweep))| {
                Description {
                    name: name.map(Spanned::unspanned),
                    about: about.map(Spanned::unspanned),
                    conventions: rounding
                        .as_ref()
                        .map(|_| Spanned::unspanned("pytorch".to_string())),
                    rounding: rounding.map(Spanned::unspanned),
                    parameters,
                    layers: input.map(Item::Layer).into_iter().chain(layers).collect(),
                    expect,
                    train,
                    sweep,
                }
            },
        )
}

/// Reads DSL text and names its positional values, as `load` and `convert` do.
fn read_dsl(text: &str) -> Result<Description, String> {
    let mut description =
        dsl::read(&Source::new("generated.nn", text)).map_err(|error| format!("{error:?}"))?;
    layers::name_all_positionals(&mut description).map_err(|error| error.to_string())?;
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

/// The file a text in `format` is read from; both have the stem `generated`, which names a network
/// that does not name itself.
fn file_name(format: Format) -> &'static str {
    match format {
        Format::Dsl => "generated.nn",
        Format::Yaml => "generated.yaml",
    }
}

/// Prints a description as `netcalc convert --to FORMAT` does.
fn print(description: &Description, format: Format) -> String {
    match format {
        Format::Dsl => dsl::print(description, &layers::positional_keys),
        Format::Yaml => yaml::print(description),
    }
}

/// What `netcalc convert` does to a text in `from`: read it, name its positional values and
/// print it in `to` (`convert_dsl_to_yaml_to_dsl_is_stable` pins the command to these steps).
fn convert_text(text: &str, from: Format, to: Format) -> Result<String, TestCaseError> {
    let source = Source::new(file_name(from), text);
    let mut description = netcalc::syntax::read(&source, from)
        .map_err(|error| TestCaseError::fail(format!("{error:?} reading:\n{text}")))?;
    for layer in description.all_layers_mut() {
        layers::name_positionals(layer).map_err(|error| TestCaseError::fail(error.to_string()))?;
    }
    Ok(print(&description, to))
}

/// The analysis of a text in `format`, as `netcalc table FILE` computes it.
fn analysis_of(text: &str, format: Format) -> Result<Analysis, TestCaseError> {
    let source = Source::new(file_name(format), text);
    netcalc::load(&source, format)
        .and_then(|network| analyse(&network))
        .map_err(|error| TestCaseError::fail(format!("{error} in:\n{text}")))
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn converting_to_the_other_format_and_back_keeps_the_analysis(
        description in valid_description()
    ) {
        for (format, other) in [(Format::Dsl, Format::Yaml), (Format::Yaml, Format::Dsl)] {
            let text = print(&description, format);
            let analysis = analysis_of(&text, format)?;
            let converted = convert_text(&text, format, other)?;
            prop_assert_eq!(
                &analysis_of(&converted, other)?,
                &analysis,
                "{:?} analyses differently; converted from:\n{}\nto:\n{}",
                other,
                text,
                converted
            );
            let back = convert_text(&converted, other, format)?;
            prop_assert_eq!(&back, &text, "converted to:\n{}", converted);
            prop_assert_eq!(&analysis_of(&back, format)?, &analysis);
        }
    }
}
