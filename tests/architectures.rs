//! The files of architectures/: every one is a built-in, each DSL file means exactly what its
//! YAML twin means, and converting either way and back loses nothing.

use netcalc::report::{self, OutputFormat, Report};
use netcalc::shape::Rounding;
use netcalc::syntax::{self, Configuration, Description, Format, Grid, Value};
use netcalc::{Network, Source, analyse, builtin, layers};
use std::path::Path;

fn read(path: &Path) -> Description {
    let text = std::fs::read_to_string(path).expect("readable");
    let name = path.display().to_string();
    let format = Format::from_path(&name).expect("a known extension");
    let mut description = syntax::read(&Source::new(name, text), format).expect("reads");
    layers::name_all_positionals(&mut description).expect("positionals");
    description
}

fn files(extension: &str) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir("architectures")
        .expect("architectures/")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == extension))
        .collect();
    files.sort();
    files
}

#[test]
fn every_yaml_file_is_a_builtin_and_every_builtin_a_file() {
    let yaml = files("yaml");
    assert_eq!(yaml.len(), builtin::BUILTINS.len());
    for path in yaml {
        let stem = path.file_stem().and_then(|s| s.to_str()).expect("stem");
        let builtin = builtin::find(stem).expect("a built-in of that name");
        assert_eq!(builtin.text, std::fs::read_to_string(&path).expect("text"));
    }
}

#[test]
fn dsl_twins_mean_what_their_yaml_means() {
    let dsl = files("nn");
    assert!(
        dsl.len() * 2 >= builtin::BUILTINS.len(),
        "DSL for at least half"
    );
    for path in dsl {
        let twin = path.with_extension("yaml");
        assert_eq!(
            read(&path),
            read(&twin),
            "{} and {}",
            path.display(),
            twin.display()
        );
    }
}

#[test]
fn converting_back_and_forth_loses_nothing() {
    for path in files("yaml") {
        let description = read(&path);
        let dsl = syntax::dsl::print(&description, &layers::positional_keys);
        let mut from_dsl =
            syntax::dsl::read(&Source::new("x.nn", dsl.as_str())).expect("DSL reads");
        layers::name_all_positionals(&mut from_dsl).expect("positionals");
        assert_eq!(from_dsl, description, "{} through the DSL", path.display());
        let yaml = syntax::yaml::print(&from_dsl);
        let from_yaml =
            syntax::yaml::read(&Source::new("x.yaml", yaml.as_str())).expect("YAML reads");
        assert_eq!(from_yaml, description, "{} through YAML", path.display());
    }
}

fn builtin_source(name: &str) -> Source {
    let builtin = builtin::find(name).expect("a built-in");
    Source::new(builtin.file, builtin.text)
}

/// The grid model's defaults are the sheet's best configuration: every row of its summary is
/// keras-mnist-grid-best's (whose 650,698 parameters tests/sheet.rs pins to the sheet).
#[test]
fn the_grid_models_defaults_are_the_best_model() {
    let summary = |name: &str| {
        let network = netcalc::load(&builtin_source(name), Format::Yaml).expect("loads");
        let analysis = analyse(&network).expect("analyses");
        (
            analysis.totals.parameters(),
            report::render(&analysis, Report::Summary, OutputFormat::Csv),
        )
    };
    let (parameters, rows) = summary("keras-mnist-grid");
    assert_eq!(parameters, 650_698);
    assert_eq!(rows, summary("keras-mnist-grid-best").1);
}

/// The parameters of the sheet's network for one configuration, counted by hand: convolutions
/// `k·k·in·out + out`, pooling by `pool` with no remainder (else `None`: a size that is not an
/// integer), dense layers `in·out + out`, then the 10 outputs.
fn naive_parameters(
    dense_sizes: &[i64],
    blocks: &[Vec<i64>],
    kernel: i64,
    pool: i64,
) -> Option<i64> {
    let (mut side, mut channels, mut parameters) = (28, 1, 0);
    for block in blocks {
        for &filters in block {
            parameters += kernel * kernel * channels * filters + filters;
            side = side - kernel + 1;
            channels = filters;
        }
        if side % pool != 0 {
            return None;
        }
        side /= pool;
    }
    let mut units = side * side * channels;
    for &size in dense_sizes {
        parameters += units * size + size;
        units = size;
    }
    Some(parameters + units * 10 + 10)
}

fn integers(value: &Value) -> Vec<i64> {
    match value {
        Value::List(items) => items
            .iter()
            .map(|item| match item {
                Value::Integer(integer) => *integer,
                other => panic!("an integer expected, not {other:?}"),
            })
            .collect(),
        other => panic!("a list expected, not {other:?}"),
    }
}

fn integer(value: &Value) -> i64 {
    match value {
        Value::Integer(integer) => *integer,
        other => panic!("an integer expected, not {other:?}"),
    }
}

/// Every configuration of the sheet's grid builds with exact rounding (all sizes integers) and
/// has the parameters a count by hand gives; the 16 are enumerated first key slowest.
#[test]
fn every_configuration_of_the_sheets_grid_has_integer_sizes() {
    let source = builtin_source("keras-mnist-grid");
    let description = syntax::read(&source, Format::Yaml).expect("reads");
    let grid = Grid::of(&description).expect("a valid grid");
    assert_eq!(grid.count(), Ok(16));
    let configurations: Vec<Configuration> = grid.configurations().collect();
    assert_eq!(
        configurations[0].label(),
        "dense_layer_sizes=[32] filters=[[32, 64]] kernel_size=3 pool_size=2"
    );
    assert_eq!(
        configurations[15].label(),
        "dense_layer_sizes=[64, 64] filters=[[32, 64], [128, 256]] kernel_size=5 pool_size=2"
    );
    let mut counts = Vec::new();
    for configuration in configurations {
        let plain = syntax::instantiate(&description, &configuration).expect("instantiates");
        let network = Network::build(
            &source,
            plain,
            "grid",
            netcalc::graph::Overrides {
                rounding: Some(Rounding::Exact),
                conventions: None,
            },
        )
        .unwrap_or_else(|error| panic!("{}: {error}", configuration.label()));
        let analysis = analyse(&network).expect("analyses");
        let value = |name: &str| configuration.get(name).expect("swept");
        let blocks: Vec<Vec<i64>> = match value("filters") {
            Value::List(blocks) => blocks.iter().map(integers).collect(),
            other => panic!("filters: {other:?}"),
        };
        let expected = naive_parameters(
            &integers(value("dense_layer_sizes")),
            &blocks,
            integer(value("kernel_size")),
            integer(value("pool_size")),
        )
        .expect("integer sizes");
        assert_eq!(
            analysis.totals.parameters(),
            u64::try_from(expected).expect("positive"),
            "{}",
            configuration.label()
        );
        counts.push(expected);
    }
    assert!(counts.contains(&650_698));
    // Sanity of the hand count: the best configuration of the Keras CNN's own numbers.
    assert_eq!(
        naive_parameters(&[128], &[vec![32, 64]], 3, 2),
        Some(1_199_882)
    );
}

/// The README's example of parameters and repeated blocks means the grid model: same defaults,
/// same network.
#[test]
fn the_readme_example_of_parameters_is_the_grid_model() {
    let readme = std::fs::read_to_string("README.md").expect("README.md");
    let part = readme
        .split("### Parameters and repeated blocks")
        .nth(1)
        .expect("the README has the part");
    let example = part
        .split("```nn\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("an nn block");
    let network =
        netcalc::load(&Source::new("README.md", example), Format::Dsl).expect("the example loads");
    let analysis = analyse(&network).expect("analyses");
    assert_eq!(analysis.totals.parameters(), 650_698);
    let description = syntax::read(&Source::new("README.md", example), Format::Dsl).expect("reads");
    assert_eq!(Grid::of(&description).and_then(|grid| grid.count()), Ok(4));
}
