//! `netcalc import` against the frameworks' own figures: every fixture under
//! tests/fixtures/import/ was made by its framework with the script beside it, which also wrote
//! the framework's per-layer output shapes and parameter counts (`*.figures.json`). netcalc's
//! import of the file must agree with them exactly.

use netcalc::graph::Overrides;
use netcalc::import::{self, Importer};
use netcalc::{Network, Source, analysis};
use serde_json::Value;
use std::path::Path;

/// Imports a fixture and analyses it as every command would.
fn analyse(path: &str) -> analysis::Analysis {
    let bytes = std::fs::read(path).expect("fixture exists");
    let importer = Importer::detect(path, &bytes).expect("an importable file");
    let description = import::import(importer, path, &bytes)
        .unwrap_or_else(|error| panic!("{path}: {}", netcalc::cli::render_error(&error)));
    let text = netcalc::syntax::yaml::print(&description);
    let source = Source::new(path, text);
    let network = Network::build(&source, description, "imported", Overrides::default())
        .unwrap_or_else(|error| panic!("{path}: {}", netcalc::cli::render_error(&error)));
    analysis::analyse(&network)
        .unwrap_or_else(|error| panic!("{path}: {}", netcalc::cli::render_error(&error)))
}

fn figures(path: &str) -> Value {
    let text = std::fs::read_to_string(path).expect("figures exist");
    serde_json::from_str(&text).expect("figures are JSON")
}

fn number(value: &Value, key: &str) -> u64 {
    value[key]
        .as_u64()
        .unwrap_or_else(|| panic!("`{key}` in {value}"))
}

/// Every layer the framework lists has netcalc's shape and counts under the same name, and the
/// totals agree.
fn agrees(model: &str, figures_path: &str) {
    agrees_besides(model, figures_path, &["input"]);
}

/// [`agrees`], where netcalc may have layers of the kinds `unlisted` that the framework does not
/// list (a residual `add`, which is an expression in PyTorch and no module).
fn agrees_besides(model: &str, figures_path: &str, unlisted: &[&str]) {
    let analysis = analyse(model);
    let figures = figures(figures_path);
    let layers = figures["layers"].as_array().expect("layers");
    for expected in layers {
        let name = expected["name"].as_str().expect("name");
        let layer = analysis
            .layers
            .iter()
            .find(|layer| layer.name == name)
            .unwrap_or_else(|| panic!("{model}: no layer `{name}`"));
        let shape: Vec<u64> = expected["output"]
            .as_array()
            .expect("output")
            .iter()
            .map(|d| d.as_u64().expect("size"))
            .collect();
        assert_eq!(
            layer.output.dims(),
            &shape[..],
            "{model}: output of `{name}`"
        );
        assert_eq!(
            layer.parameter_count(),
            number(expected, "params"),
            "{model}: parameters of `{name}`"
        );
        if expected.get("trainable").is_some() {
            assert_eq!(
                layer.trainable,
                number(expected, "trainable"),
                "{model}: trainable parameters of `{name}`"
            );
            assert_eq!(
                layer.non_trainable,
                number(expected, "non_trainable"),
                "{model}: non-trainable parameters of `{name}`"
            );
        }
    }
    // Keras lists a Sequential model's layers without its input; PyTorch's residual sums are
    // no modules.
    let listed = |kind: &str| layers.iter().any(|layer| layer["name"] == kind);
    let extra: Vec<&str> = analysis
        .layers
        .iter()
        .filter(|layer| !listed(&layer.name) && !unlisted.contains(&layer.kind))
        .map(|layer| layer.name.as_str())
        .collect();
    assert!(
        extra.is_empty(),
        "{model}: netcalc has layers the framework does not list: {extra:?}"
    );
    assert_eq!(
        analysis.totals.parameters(),
        number(&figures, "params"),
        "{model}: total parameters"
    );
}

const KERAS: &str = "tests/fixtures/import/keras";
const KERAS_MODELS: [&str; 4] = ["mnist-cnn", "branches", "sequences", "attention"];

#[test]
fn keras_json_agrees_with_keras() {
    for model in KERAS_MODELS {
        agrees(
            &format!("{KERAS}/{model}.json"),
            &format!("{KERAS}/{model}.figures.json"),
        );
    }
}

#[test]
fn keras_archives_agree_with_keras() {
    for model in KERAS_MODELS {
        agrees(
            &format!("{KERAS}/{model}.keras"),
            &format!("{KERAS}/{model}.figures.json"),
        );
    }
}

#[test]
fn the_json_and_the_archive_give_one_description() {
    for model in KERAS_MODELS {
        let read = |path: String| {
            let bytes = std::fs::read(&path).expect("fixture");
            let importer = Importer::detect(&path, &bytes).expect("importable");
            import::import(importer, &path, &bytes).expect("imports")
        };
        let mut json = read(format!("{KERAS}/{model}.json"));
        let mut archive = read(format!("{KERAS}/{model}.keras"));
        // `about` names the file read.
        json.about = None;
        archive.about = None;
        assert_eq!(json, archive, "{model}");
    }
    assert!(Path::new(KERAS).join("make.py").exists());
}

const HUGGING_FACE: &str = "tests/fixtures/import/hugging-face";

/// GPT-2 (tied, and untied), BERT with its pooler, Llama (grouped-query, and tied with biases),
/// Mistral (read as Llama): every module transformers builds from the same config has netcalc's
/// output shape and parameters, and the totals are transformers' `num_parameters()` (124,439,808
/// for GPT-2's defaults, those of the released `gpt2`; 109,482,240 for BERT-base with the pooler,
/// its published size). A tied `lm_head` holds no parameters of its own.
#[test]
fn hugging_face_configs_agree_with_transformers() {
    for model in [
        "gpt2-tiny",
        "gpt2-tiny-untied",
        "gpt2",
        "bert-tiny",
        "bert-base",
        "llama-tiny",
        "llama-tiny-tied-bias",
        "mistral-tiny",
    ] {
        agrees_besides(
            &format!("{HUGGING_FACE}/{model}/config.json"),
            &format!("{HUGGING_FACE}/{model}.figures.json"),
            &["input", "add", "take", "multiply", "activation"],
        );
    }
    let total = |model: &str| {
        number(
            &figures(&format!("{HUGGING_FACE}/{model}.figures.json")),
            "params",
        )
    };
    assert_eq!(total("gpt2"), 124_439_808);
    assert_eq!(total("bert-base"), 109_482_240);
}

/// The published Llama configs as the Hub has them, against transformers' `num_parameters()` of
/// the models built from them (on the meta device) and the architecture's arithmetic:
/// TinyLlama-1.1B, 32000·2048 embedding and lm_head, 22 blocks of q/o 2048², k/v 2048·256 (4
/// key/value heads of 64), gate/up/down 2048·5632 and two norms of 2048, a final norm:
/// 1,100,048,384. Llama-2-7B, 32000·4096 twice, 32 blocks of 4·4096², 3·4096·11008 and 2·4096,
/// a final 4096: 6,738,415,616.
#[test]
fn published_llama_configs_agree_with_transformers_and_arithmetic() {
    let tinyllama = 2 * 32000 * 2048
        + 22 * (2 * 2048 * 2048 + 2 * 2048 * 256 + 3 * 2048 * 5632 + 2 * 2048)
        + 2048;
    let llama_2 = 2 * 32000 * 4096 + 32 * (4 * 4096 * 4096 + 3 * 4096 * 11008 + 2 * 4096) + 4096;
    for (model, arithmetic, published) in [
        ("tinyllama-1.1b", tinyllama, 1_100_048_384u64),
        ("llama-2-7b", llama_2, 6_738_415_616),
    ] {
        assert_eq!(arithmetic, published, "{model}");
        agrees_besides(
            &format!("{HUGGING_FACE}/{model}/config.json"),
            &format!("{HUGGING_FACE}/{model}.figures.json"),
            &["input", "add", "multiply", "activation"],
        );
        let figures = figures(&format!("{HUGGING_FACE}/{model}.figures.json"));
        assert_eq!(number(&figures, "params"), published, "{model}");
    }
}

const ONNX: &str = "tests/fixtures/import/onnx";

/// ONNX: each node's output shape as ONNX's shape inference gives it and the values of its float
/// initializers. ONNX's NCHW `[C, H, W]` is netcalc's `[H×W×C]` (the same values), global
/// pooling's `[C, 1, 1]` netcalc's vector of C; a BatchNormalization's four initializers are
/// PyTorch's two parameters and two buffers; a MatMul's bias `Add` is part of its dense layer.
#[test]
fn onnx_models_agree_with_onnx() {
    for model in ["lenet", "branches"] {
        let path = format!("{ONNX}/{model}.onnx");
        let analysis = analyse(&path);
        let figures = figures(&format!("{ONNX}/{model}.figures.json"));
        let nodes = figures["nodes"].as_array().expect("nodes");
        for node in nodes {
            let name = node["name"].as_str().expect("name");
            let target = node["fused_into"].as_str().unwrap_or(name);
            let layer = analysis
                .layers
                .iter()
                .find(|layer| layer.name == target)
                .unwrap_or_else(|| panic!("{model}: no layer `{target}`"));
            let onnx: Vec<u64> = node["output"]
                .as_array()
                .expect("output")
                .iter()
                .map(|d| d.as_u64().expect("size"))
                .collect();
            let expected = match onnx[..] {
                [channels, 1, 1] if layer.kind.starts_with("global") => vec![channels],
                [channels, height, width] => vec![height, width, channels],
                _ => onnx.clone(),
            };
            assert_eq!(
                layer.output.dims(),
                &expected[..],
                "{model}: output of `{name}`"
            );
            let in_layer: u64 = nodes
                .iter()
                .filter(|other| {
                    other["fused_into"]
                        .as_str()
                        .unwrap_or(other["name"].as_str().unwrap_or_default())
                        == target
                })
                .map(|other| number(other, "params"))
                .sum();
            assert_eq!(
                layer.parameter_count() + layer.buffers,
                in_layer,
                "{model}: initializer values of `{target}`"
            );
        }
        assert_eq!(
            analysis.totals.parameters() + analysis.totals.buffers,
            number(&figures, "params"),
            "{model}: total"
        );
    }
}

/// Damaged model files (cut short, bytes changed) give a description or an error, never a panic:
/// a quick, fixed sweep here; the fuzz targets (fuzz/README.md) search further.
#[test]
fn damaged_files_never_panic() {
    let files = [
        format!("{KERAS}/branches.json"),
        format!("{KERAS}/attention.keras"),
        format!("{HUGGING_FACE}/bert-tiny/config.json"),
        format!("{HUGGING_FACE}/llama-tiny/config.json"),
        format!("{ONNX}/branches.onnx"),
    ];
    for path in files {
        let bytes = std::fs::read(&path).expect("fixture");
        let importer = Importer::detect(&path, &bytes).expect("importable");
        let step = (bytes.len() / 150).max(1);
        for cut in (0..bytes.len()).step_by(step) {
            let _ = import::import(importer, &path, &bytes[..cut]);
            let mut changed = bytes.clone();
            changed[cut] = changed[cut].wrapping_add(1 + (cut % 7) as u8);
            if let Err(error) = import::import(importer, &path, &changed) {
                let _ = netcalc::cli::render_error(&error);
            }
        }
    }
}

/// A built-in of architectures/ analysed as every command analyses it.
fn analyse_builtin(name: &str) -> analysis::Analysis {
    let builtin = netcalc::builtin::find(name).expect("a built-in");
    let source = Source::new(builtin.file, builtin.text);
    let format = netcalc::syntax::Format::from_path(builtin.file).expect("a known extension");
    let description = netcalc::syntax::read(&source, format).expect("reads");
    let network = Network::build(&source, description, name, Overrides::default())
        .unwrap_or_else(|error| panic!("{name}: {}", netcalc::cli::render_error(&error)));
    analysis::analyse(&network).expect("analyses")
}

/// The rows of a table that hold weights or shape the output (kind, parameters, output shape),
/// sorted: the built-ins name their layers their own way and add dropout and identity layers.
fn weighted_rows(analysis: &analysis::Analysis) -> Vec<(String, u64, Vec<u64>)> {
    let mut rows: Vec<_> = analysis
        .layers
        .iter()
        .filter(|layer| !["input", "add", "dropout", "activation"].contains(&layer.kind))
        .map(|layer| {
            (
                layer.kind.to_string(),
                layer.parameter_count(),
                layer.output.dims().to_vec(),
            )
        })
        .collect();
    rows.sort();
    rows
}

/// The imports of GPT-2's and BERT-base's configs are the built-ins gpt-2 (its `lm_head` tied to
/// `wte`) and bert-base (with the pooler on the first position): the same layers with the same
/// parameters and shapes, the same totals of parameters and MACs.
#[test]
fn gpt2_and_bert_imports_are_the_builtins() {
    for (model, builtin, total) in [
        ("gpt2", "gpt-2", 124_439_808u64),
        ("bert-base", "bert-base", 109_482_240),
    ] {
        let imported = analyse(&format!("{HUGGING_FACE}/{model}/config.json"));
        let built_in = analyse_builtin(builtin);
        assert_eq!(
            weighted_rows(&imported),
            weighted_rows(&built_in),
            "{model}"
        );
        assert_eq!(imported.totals.parameters(), total, "{model}");
        assert_eq!(built_in.totals.parameters(), total, "{builtin}");
        assert_eq!(imported.totals.macs, built_in.totals.macs, "{model}");
    }
    let gpt2 = analyse(&format!("{HUGGING_FACE}/gpt2/config.json"));
    let head = gpt2
        .layers
        .iter()
        .find(|l| l.name == "lm_head")
        .expect("lm_head");
    assert_eq!((head.kind, head.parameter_count()), ("dense", 0));
}

/// The imported Llama description, with every new attribute (rms_normalization's epsilon,
/// multiply, kv_heads, rotary, rope_theta), converts to the DSL and YAML and back unchanged.
#[test]
fn an_imported_llama_converts_both_ways_losing_nothing() {
    use netcalc::syntax;
    let path = format!("{HUGGING_FACE}/llama-tiny/config.json");
    let bytes = std::fs::read(&path).expect("fixture");
    let importer = Importer::detect(&path, &bytes).expect("importable");
    let mut description = import::import(importer, &path, &bytes).expect("imports");
    netcalc::layers::name_all_positionals(&mut description).expect("positionals");
    let dsl = syntax::dsl::print(&description, &netcalc::layers::positional_keys);
    assert!(
        dsl.contains("kv_heads=2") && dsl.contains("rotary=true"),
        "{dsl}"
    );
    let mut from_dsl = syntax::dsl::read(&Source::new("x.nn", dsl.as_str())).expect("DSL reads");
    netcalc::layers::name_all_positionals(&mut from_dsl).expect("positionals");
    assert_eq!(from_dsl, description, "through the DSL");
    let yaml = syntax::yaml::print(&from_dsl);
    let from_yaml = syntax::yaml::read(&Source::new("x.yaml", yaml.as_str())).expect("YAML reads");
    assert_eq!(from_yaml, description, "through YAML");
}

/// netcalc's attention with `kv_heads` and `rotary` computes what transformers' LlamaAttention
/// computes: the weights, input and output of one such layer (2 heads of 4 sharing 1 key/value
/// head, θ = 100, causal) as `make_attention.py` recorded them, the kernels transposed to
/// netcalc's `[inputs, outputs]`. Without the rotation the outputs differ far beyond the
/// tolerance, so the comparison does see the turn's convention (transformers' rotate_half).
#[test]
fn llama_attention_computes_what_transformers_computes() {
    use netcalc::layers::{self, Pass};
    use netcalc::tensor::{Compute, Tensor};
    use rand_chacha::rand_core::SeedableRng;
    let figures = figures(&format!("{HUGGING_FACE}/llama-attention.json"));
    let matrix = |key: &str| -> Vec<Vec<f64>> {
        figures[key]
            .as_array()
            .expect("rows")
            .iter()
            .map(|row| {
                row.as_array()
                    .expect("a row")
                    .iter()
                    .map(|v| v.as_f64().expect("a number"))
                    .collect()
            })
            .collect()
    };
    let flat =
        |rows: &[Vec<f64>]| -> Vec<f32> { rows.iter().flatten().map(|&v| v as f32).collect() };
    // transformers' [out, in] as netcalc's [in, out].
    let kernel = |key: &str| -> Tensor {
        let weight = matrix(key);
        let (outputs, inputs) = (weight.len(), weight[0].len());
        let values = (0..inputs)
            .flat_map(|i| weight.iter().map(move |row| row[i] as f32))
            .collect();
        Tensor::from_vec(&[inputs, outputs], values).expect("a kernel")
    };
    let input = matrix("input");
    let expected = matrix("output");
    let (length, width) = (input.len(), input[0].len());
    let run = |rotary: bool| -> Vec<f32> {
        let text = format!(
            "input {length}x{width}\nattn: multi_head_attention {} kv_heads={} rotary={rotary} \
             rope_theta={} causal=true use_bias=false\n",
            figures["heads"], figures["kv_heads"], figures["rope_theta"]
        );
        let text = if rotary {
            text
        } else {
            text.replace(&format!(" rope_theta={}", figures["rope_theta"]), "")
        };
        let mut description =
            netcalc::syntax::dsl::read(&Source::new("attention.nn", text.as_str())).expect("reads");
        layers::name_all_positionals(&mut description).expect("positionals");
        let layer = layers::build(description.all_layers()[1]).expect("builds");
        let mut parameters: Vec<Tensor> = ["q_proj", "k_proj", "v_proj", "o_proj"]
            .into_iter()
            .map(kernel)
            .collect();
        let x = Tensor::from_vec(&[1, length, width], flat(&input)).expect("an input");
        let mut random = rand_chacha::ChaCha8Rng::seed_from_u64(0);
        let mut pass = Pass {
            compute: Compute::single(),
            training: false,
            random: &mut random,
        };
        let forward = layer
            .forward(&mut parameters, &[&x], &mut pass)
            .expect("forward");
        forward.output.data().to_vec()
    };
    let want = flat(&expected);
    let largest_error = |got: &[f32]| -> f32 {
        got.iter()
            .zip(&want)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max)
    };
    let turned = run(true);
    assert!(largest_error(&turned) < 1e-4, "{turned:?} against {want:?}");
    assert!(
        largest_error(&run(false)) > 0.1,
        "the rotation changes nothing"
    );
}
