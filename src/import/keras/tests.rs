//! The Keras importer on small hand-written models and broken files; the fixtures made by Keras
//! itself are checked in tests/import.rs.

use super::read;
use crate::import::ImportError;
use crate::source::Source;

fn import(text: &str) -> Result<crate::syntax::Description, ImportError> {
    read(&Source::new("model.json", text))
}

#[test]
fn a_keras_2_functional_model_reads_its_layer_lists() {
    let text = r#"{"class_name": "Model", "config": {"name": "old", "layers": [
        {"class_name": "InputLayer", "name": "in", "config": {"name": "in", "batch_input_shape": [null, 8, 8, 3]}, "inbound_nodes": []},
        {"class_name": "Conv2D", "name": "a", "config": {"name": "a", "filters": 4, "kernel_size": [3, 3], "strides": [2, 2], "padding": "same", "use_bias": false, "activation": "relu"}, "inbound_nodes": [[["in", 0, 0, {}]]]},
        {"class_name": "Conv2D", "name": "b", "config": {"name": "b", "filters": 4, "kernel_size": [1, 3], "padding": "valid"}, "inbound_nodes": [[["in", 0, 0, {}]]]},
        {"class_name": "Dense", "name": "d", "config": {"name": "d", "units": 5}, "inbound_nodes": [[["a", 0, 0, {}]]]}
    ]}}"#;
    let description = import(text).expect("imports");
    let printed = crate::syntax::dsl::print(&description, &crate::layers::positional_keys);
    let layers: Vec<&str> = printed.lines().skip(2).collect();
    assert_eq!(
        layers,
        [
            "in: input 8x8x3",
            "a: conv2d 4 3 stride=2 padding=same use_bias=false activation=relu",
            "b: conv2d 4 1x3 <- in",
            // Keras' Dense reads the last axis of maps, which netcalc must be told.
            "d: dense 5 axis=last <- a",
        ]
    );
}

#[test]
fn a_sequential_model_without_an_input_layer_takes_its_recorded_shape() {
    let text = r#"{"class_name": "Sequential", "config": {"name": "s", "layers": [
        {"class_name": "Dense", "config": {"name": "d", "units": 3, "batch_input_shape": [null, 7]}}
    ]}}"#;
    let printed = crate::syntax::dsl::print(&import(text).expect("imports"), &|_| &[]);
    assert!(
        printed.contains("input_layer: input shape=7\nd: dense units=3\n"),
        "{printed}"
    );
    let text = r#"{"class_name": "Sequential", "config": {"name": "s", "layers": [
        {"class_name": "Dense", "config": {"name": "d", "units": 3}}]}}"#;
    assert!(matches!(import(text), Err(ImportError::NotAModel { .. })));
}

#[test]
fn what_netcalc_cannot_describe_is_an_error_at_the_field() {
    let layer = |class: &str, config: &str| {
        format!(
            r#"{{"class_name": "Sequential", "config": {{"name": "s", "layers": [
            {{"class_name": "InputLayer", "config": {{"name": "i", "batch_shape": [null, 8, 8, 3]}}}},
            {{"class_name": "{class}", "config": {{"name": "x", {config}}}}}]}}}}"#
        )
    };
    let cases = [
        (
            layer(
                "Conv2D",
                r#""filters": 2, "kernel_size": 3, "data_format": "channels_first""#,
            ),
            "\"channels_first\"",
        ),
        (
            layer("Dense", r#""units": 2, "activation": "selu""#),
            "\"selu\"",
        ),
        (
            layer("LeakyReLU", r#""negative_slope": 0.3"#),
            "\"LeakyReLU\"",
        ),
        (layer("BatchNormalization", r#""axis": 1"#), "1"),
        (layer("Reshape", r#""target_shape": [-1, 3]"#), "[-1, 3]"),
    ];
    for (text, at) in cases {
        match import(&text) {
            Err(error @ ImportError::Unsupported { .. }) => {
                let span = crate::error::Locate::span(&error);
                assert_eq!(&text[span.offset..][..span.length], at, "{error}");
            }
            other => panic!("{text}: {other:?}"),
        }
    }
    let text = layer("Conv2D", r#""kernel_size": 3"#);
    let Err(ImportError::Field { field, .. }) = import(&text) else {
        panic!("a convolution without filters imported")
    };
    assert_eq!(field, "config.layers[1].config.filters");
}

#[test]
fn an_input_of_unknown_size_is_refused() {
    let text = r#"{"class_name": "Sequential", "config": {"name": "s", "layers": [
        {"class_name": "InputLayer", "config": {"name": "i", "batch_shape": [null, null, 16]}}]}}"#;
    let Err(ImportError::Unsupported { problem, .. }) = import(text) else {
        panic!("imported")
    };
    assert!(problem.contains("null"), "{problem}");
}

#[test]
fn a_shared_layer_is_refused() {
    let text = r#"{"class_name": "Functional", "config": {"name": "f", "layers": [
        {"class_name": "InputLayer", "name": "i", "config": {"name": "i", "batch_shape": [null, 4]}, "inbound_nodes": []},
        {"class_name": "Dense", "name": "d", "config": {"name": "d", "units": 4}, "inbound_nodes": [[["i", 0, 0, {}]], [["i", 0, 0, {}]]]}]}}"#;
    assert!(matches!(import(text), Err(ImportError::Unsupported { .. })));
}

#[test]
fn json_of_other_things_is_not_a_keras_model() {
    for text in [
        "[]",
        "3",
        r#"{"class_name": "Conv2D"}"#,
        r#"{"class_name": "Sequential"}"#,
    ] {
        assert!(import(text).is_err(), "{text}");
    }
}
