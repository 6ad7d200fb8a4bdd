//! netcalc against the frameworks themselves: the networks of tests/fixtures/sequences/ were
//! built in Keras 3 or PyTorch by tests/fixtures/frameworks/make_figures.py, which wrote what the
//! framework says of each layer (output shape, parameters, PyTorch's buffer values) beside them.
//! netcalc's analysis of the same description must agree on every layer.

use netcalc::syntax::Format;
use netcalc::{Source, analyse};
use serde_json::Value;
use std::path::Path;

fn figures() -> Vec<(String, Value)> {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/frameworks");
    let mut files: Vec<_> = std::fs::read_dir(&folder)
        .expect("tests/fixtures/frameworks")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).expect("readable");
            (
                path.display().to_string(),
                serde_json::from_str(&text).expect("JSON"),
            )
        })
        .collect()
}

#[test]
fn every_layer_agrees_with_the_framework_that_built_it() {
    let all = figures();
    assert_eq!(all.len(), 8, "one file per framework-built fixture");
    for (file, document) in all {
        let fixture = document["fixture"].as_str().expect("fixture");
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(fixture);
        let text = std::fs::read_to_string(&path).expect("fixture readable");
        let source = Source::new(fixture, text);
        let network = netcalc::load(&source, Format::Dsl).expect("builds");
        let analysis = analyse(&network).expect("analyses");
        let layers = document["layers"].as_array().expect("layers");
        assert!(!layers.is_empty(), "{file}");
        for figure in layers {
            let name = figure["name"].as_str().expect("name");
            let layer = analysis
                .layers
                .iter()
                .find(|layer| layer.name == name)
                .unwrap_or_else(|| panic!("{fixture} has no layer `{name}`"));
            let output: Vec<u64> = figure["output"]
                .as_array()
                .expect("output")
                .iter()
                .map(|d| d.as_u64().expect("size"))
                .collect();
            assert_eq!(
                layer.output.dims(),
                &output[..],
                "{fixture}: output of `{name}` ({})",
                document["version"]
            );
            assert_eq!(
                layer.trainable + layer.non_trainable,
                figure["parameters"].as_u64().expect("parameters"),
                "{fixture}: parameters of `{name}` ({})",
                document["version"]
            );
            if let Some(buffers) = figure.get("buffers") {
                assert_eq!(
                    layer.buffers,
                    buffers.as_u64().expect("buffers"),
                    "{fixture}: buffer values of `{name}`"
                );
            }
        }
    }
}
