//! Hugging Face `config.json` files of the GPT-2, BERT and Llama families (Mistral's configs
//! have Llama's structure and are read as Llama): the network built from the configuration
//! alone (no weights), over the longest sequence the model takes (`n_positions`,
//! `max_position_embeddings`), with transformers' module names as layer names (without the
//! `transformer.` and `model.` prefixes). The output projection `lm_head` is a `dense` layer;
//! where the config ties it to the token embedding (`tie_word_embeddings`: true unless written
//! for GPT-2, false unless written for Llama) it is `tied_to` the embedding and reuses its
//! matrix, adding no parameters, else it has weights of its own.

use super::ImportError;
use super::builder::{self, Builder};
use super::json::{self, Fields};
use crate::source::{Source, Span};
use crate::syntax::{Description, Value};

/// The `model_type`s this importer reads.
const KNOWN: &str = "the model types gpt2, bert, llama and mistral";

/// Whether the bytes look like a Hugging Face config: a JSON object with a `model_type` and no
/// Keras `class_name`.
pub fn looks_like(bytes: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return false;
    };
    match json::parse(text) {
        Ok(root) => root.get("model_type").is_some() && root.get("class_name").is_none(),
        Err(_) => false,
    }
}

/// Reads a Hugging Face `config.json`.
pub fn read(source: &Source) -> Result<Description, ImportError> {
    let root = json::parse(&source.text)?;
    let first = Span::new(root.span.offset, 1.min(root.span.length));
    let fields = Fields::new(&root, "");
    let Some(model_type) = root.get("model_type") else {
        return Err(ImportError::NotAModel {
            expected: "a Hugging Face config",
            problem: "it has no `model_type`".to_string(),
            span: first,
            help: Some(
                "netcalc reads the config.json of GPT-2, BERT and Llama (Mistral) models"
                    .to_string(),
            ),
        });
    };
    let name = fields
        .string("_name_or_path")?
        .filter(|name| !name.is_empty())
        .map(str::to_string);
    let config = Config {
        fields,
        file: &source.name,
    };
    match model_type.as_str() {
        Some("gpt2") => config.gpt2(name.unwrap_or_else(|| "gpt2".to_string())),
        Some("bert") => config.bert(name.unwrap_or_else(|| "bert".to_string())),
        Some(family @ ("llama" | "mistral")) => {
            config.llama(family, name.unwrap_or_else(|| family.to_string()))
        }
        _ => Err(ImportError::NotAModel {
            expected: "a config of a family netcalc builds",
            problem: format!("its model_type is {}", json::shown(model_type)),
            span: model_type.span,
            help: Some(format!("netcalc builds {KNOWN}")),
        }),
    }
}

struct Config<'n> {
    fields: Fields<'n>,
    file: &'n str,
}

impl Config<'_> {
    fn count(&self, key: &str) -> Result<u64, ImportError> {
        let value = self.fields.required_count(key)?;
        if value == 0 {
            let node = self.fields.node(key)?;
            return Err(self.fields.wrong(key, node, "at least 1"));
        }
        Ok(value)
    }

    /// The number of blocks, at most what keeps the network within netcalc's layer limit.
    fn blocks(&self, key: &str, layers_per_block: u64) -> Result<u64, ImportError> {
        let blocks = self.count(key)?;
        let most = crate::limits::MAX_LAYERS as u64 / layers_per_block;
        if blocks > most {
            let node = self.fields.node(key)?;
            return Err(self.fields.wrong(
                key,
                node,
                &format!(
                    "at most {most} (netcalc reads at most {} layers)",
                    crate::limits::MAX_LAYERS
                ),
            ));
        }
        Ok(blocks)
    }

    fn count_or(&self, key: &str, default: u64) -> Result<u64, ImportError> {
        match self.fields.count(key)? {
            Some(0) => Err(self.fields.wrong(key, self.fields.node(key)?, "at least 1")),
            Some(value) => Ok(value),
            None => Ok(default),
        }
    }

    fn epsilon(&self, key: &str, default: f64) -> Result<f64, ImportError> {
        match self.fields.number(key)? {
            Some(epsilon) if epsilon > 0.0 => Ok(epsilon),
            Some(_) => Err(self
                .fields
                .wrong(key, self.fields.node(key)?, "a number > 0")),
            None => Ok(default),
        }
    }

    /// `key` must divide into `heads`.
    fn divisible(
        &self,
        width_key: &str,
        width: u64,
        heads_key: &str,
        heads: u64,
    ) -> Result<(), ImportError> {
        if !width.is_multiple_of(heads) {
            return Err(self.fields.wrong(
                heads_key,
                self.fields.node(heads_key)?,
                &format!("a divisor of {width_key} ({width})"),
            ));
        }
        Ok(())
    }

    fn activation(&self, key: &str, default: &str) -> Result<Value, ImportError> {
        let name = self.fields.string(key)?.unwrap_or(default);
        let netcalc = match name {
            "gelu" => "gelu",
            "gelu_new" | "gelu_pytorch_tanh" | "gelu_fast" => "gelu_tanh",
            "relu" => "relu",
            "silu" | "swish" => "silu",
            "tanh" => "tanh",
            _ => {
                let node = self.fields.node(key)?;
                return Err(ImportError::Unsupported {
                    layer: key.to_string(),
                    problem: format!("activation \"{name}\" has no netcalc form"),
                    span: node.span,
                    help: Some(
                        "netcalc has gelu, gelu_new (tanh), relu, silu and tanh".to_string(),
                    ),
                });
            }
        };
        Ok(Value::Text(netcalc.to_string()))
    }

    fn about(&self, family: &str, name: &str, tied: Option<bool>) -> String {
        let mut about = format!(
            "imported from the Hugging Face {family} config `{name}` ({})",
            self.file
        );
        match tied {
            Some(true) => about.push_str(
                "; the output projection `lm_head` is tied to the token embedding \
                 (tie_word_embeddings): it reuses that matrix and adds no parameters",
            ),
            Some(false) => about.push_str("; the output projection `lm_head` has its own weights"),
            None => {}
        }
        about
    }

    fn gpt2(&self, name: String) -> Result<Description, ImportError> {
        let vocabulary = self.count("vocab_size")?;
        let positions = self.count("n_positions")?;
        let width = self.count("n_embd")?;
        let layers = self.blocks("n_layer", 7)?;
        let heads = self.count("n_head")?;
        self.divisible("n_embd", width, "n_head", heads)?;
        let inner = self.count_or("n_inner", width.saturating_mul(4))?;
        let epsilon = Value::Number(self.epsilon("layer_norm_epsilon", 1e-5)?);
        let activation = self.activation("activation_function", "gelu_new")?;
        let tied = self.fields.boolean("tie_word_embeddings")?.unwrap_or(true);
        let mut b = Builder::new(&name, self.about("GPT-2", &name, Some(tied)));
        b.layer("input_ids", "input")
            .set("shape", builder::integer(positions))
            .set("vocabulary", builder::integer(vocabulary))
            .add();
        b.layer("wte", "embedding")
            .set("features", builder::integer(width))
            .add();
        b.layer("wpe", "positional_embedding").add();
        let mut residual = "wpe".to_string();
        for i in 0..layers {
            let h = |part: &str| format!("h.{i}.{part}");
            b.layer(&h("ln_1"), "layernorm")
                .set("epsilon", epsilon.clone())
                .inputs(std::slice::from_ref(&residual))
                .add();
            b.layer(&h("attn"), "multi_head_attention")
                .set("heads", builder::integer(heads))
                .set("causal", Value::Boolean(true))
                .add();
            b.layer(&h("add_1"), "add")
                .inputs(&[residual.clone(), h("attn")])
                .add();
            b.layer(&h("ln_2"), "layernorm")
                .set("epsilon", epsilon.clone())
                .add();
            b.layer(&h("mlp.c_fc"), "dense")
                .set("units", builder::integer(inner))
                .set("activation", activation.clone())
                .add();
            b.layer(&h("mlp.c_proj"), "dense")
                .set("units", builder::integer(width))
                .add();
            b.layer(&h("add_2"), "add")
                .inputs(&[h("add_1"), h("mlp.c_proj")])
                .add();
            residual = h("add_2");
        }
        b.layer("ln_f", "layernorm")
            .set("epsilon", epsilon)
            .inputs(std::slice::from_ref(&residual))
            .add();
        output_projection(&mut b, vocabulary, tied.then_some("wte"));
        Ok(pytorch(b.finish()))
    }

    fn bert(&self, name: String) -> Result<Description, ImportError> {
        let vocabulary = self.count("vocab_size")?;
        let positions = self.count("max_position_embeddings")?;
        let width = self.count("hidden_size")?;
        let layers = self.blocks("num_hidden_layers", 7)?;
        let heads = self.count("num_attention_heads")?;
        self.divisible("hidden_size", width, "num_attention_heads", heads)?;
        let inner = self.count("intermediate_size")?;
        let types = self.count_or("type_vocab_size", 2)?;
        let epsilon = Value::Number(self.epsilon("layer_norm_eps", 1e-12)?);
        let activation = self.activation("hidden_act", "gelu")?;
        if let Some(kind) = self.fields.string("position_embedding_type")?
            && kind != "absolute"
        {
            let node = self.fields.node("position_embedding_type")?;
            return Err(ImportError::Unsupported {
                layer: "position_embedding_type".to_string(),
                problem: format!("position embeddings \"{kind}\" have no netcalc form"),
                span: node.span,
                help: Some("netcalc builds BERT's absolute position embeddings".to_string()),
            });
        }
        let mut about = self.about("BERT", &name, None);
        about.push_str(
            "; the encoder and the pooler (a dense layer with tanh on the first position), as \
             transformers' BertModel builds them, without a task head",
        );
        let mut b = Builder::new(&name, about);
        let e = |part: &str| format!("embeddings.{part}");
        b.layer("input_ids", "input")
            .set("shape", builder::integer(positions))
            .set("vocabulary", builder::integer(vocabulary))
            .add();
        b.layer(&e("word_embeddings"), "embedding")
            .set("features", builder::integer(width))
            .add();
        b.layer(&e("position_embeddings"), "positional_embedding")
            .add();
        b.layer("token_type_ids", "input")
            .set("shape", builder::integer(positions))
            .set("vocabulary", builder::integer(types))
            .add();
        b.layer(&e("token_type_embeddings"), "embedding")
            .set("features", builder::integer(width))
            .add();
        b.layer(&e("add"), "add")
            .inputs(&[e("position_embeddings"), e("token_type_embeddings")])
            .add();
        b.layer(&e("LayerNorm"), "layernorm")
            .set("epsilon", epsilon.clone())
            .add();
        let mut residual = e("LayerNorm");
        for i in 0..layers {
            let l = |part: &str| format!("encoder.layer.{i}.{part}");
            b.layer(&l("attention"), "multi_head_attention")
                .set("heads", builder::integer(heads))
                .inputs(std::slice::from_ref(&residual))
                .add();
            b.layer(&l("attention.add"), "add")
                .inputs(&[residual.clone(), l("attention")])
                .add();
            b.layer(&l("attention.output.LayerNorm"), "layernorm")
                .set("epsilon", epsilon.clone())
                .add();
            b.layer(&l("intermediate.dense"), "dense")
                .set("units", builder::integer(inner))
                .set("activation", activation.clone())
                .add();
            b.layer(&l("output.dense"), "dense")
                .set("units", builder::integer(width))
                .add();
            b.layer(&l("output.add"), "add")
                .inputs(&[l("attention.output.LayerNorm"), l("output.dense")])
                .add();
            b.layer(&l("output.LayerNorm"), "layernorm")
                .set("epsilon", epsilon.clone())
                .add();
            residual = l("output.LayerNorm");
        }
        b.layer("pooler.first_token", "take")
            .set("position", builder::integer(0))
            .add();
        b.layer("pooler.dense", "dense")
            .set("units", builder::integer(width))
            .set("activation", Value::Text("tanh".to_string()))
            .add();
        Ok(pytorch(b.finish()))
    }

    /// Llama (and Mistral, whose configs have the same fields and whose modules are the same):
    /// pre-norm blocks of RMSNorm, causal grouped-query attention with the rotary embedding, and
    /// the SwiGLU feed-forward down(silu(gate(x)) ⊙ up(x)), then a final RMSNorm and `lm_head`.
    fn llama(&self, family: &str, name: String) -> Result<Description, ImportError> {
        let vocabulary = self.count("vocab_size")?;
        let positions = self.count("max_position_embeddings")?;
        let width = self.count("hidden_size")?;
        let inner = self.count("intermediate_size")?;
        let layers = self.blocks("num_hidden_layers", 10)?;
        let heads = self.count("num_attention_heads")?;
        let kv_heads = self.count_or("num_key_value_heads", heads)?;
        let head_dim = match self.fields.count("head_dim")? {
            Some(0) => {
                return Err(self.fields.wrong(
                    "head_dim",
                    self.fields.node("head_dim")?,
                    "at least 1",
                ));
            }
            Some(dim) => dim,
            None => {
                self.divisible("hidden_size", width, "num_attention_heads", heads)?;
                width / heads
            }
        };
        if !heads.is_multiple_of(kv_heads) {
            return Err(self.fields.wrong(
                "num_key_value_heads",
                self.fields.node("num_key_value_heads")?,
                &format!("a divisor of num_attention_heads ({heads})"),
            ));
        }
        if !head_dim.is_multiple_of(2) {
            let (key, node) = match self.fields.node("head_dim") {
                Ok(node) => ("head_dim", node),
                Err(_) => (
                    "num_attention_heads",
                    self.fields.node("num_attention_heads")?,
                ),
            };
            return Err(self.fields.wrong(
                key,
                node,
                &format!(
                    "a value that gives an even head size for the rotary embedding (it gives {head_dim})"
                ),
            ));
        }
        let epsilon = Value::Number(self.epsilon("rms_norm_eps", 1e-6)?);
        let activation = self.activation("hidden_act", "silu")?;
        let attention_bias = self.fields.boolean("attention_bias")?.unwrap_or(false);
        let mlp_bias = self.fields.boolean("mlp_bias")?.unwrap_or(false);
        let tied = self.fields.boolean("tie_word_embeddings")?.unwrap_or(false);
        let theta = self.rope_theta()?;
        let title = if family == "mistral" {
            "Mistral (read as Llama)"
        } else {
            "Llama"
        };
        let mut about = self.about(title, &name, Some(tied));
        if let Some(window) = self.fields.count("sliding_window")? {
            about.push_str(&format!(
                "; the sliding window of {window} positions is not modelled: the MACs count \
                 every earlier position"
            ));
        }
        if let Some(kind) = self.rope_scaling()? {
            about.push_str(&format!(
                "; the rotary scaling \"{kind}\" is not modelled (no parameters, the executor \
                 turns by the plain θ)"
            ));
        }
        let mut b = Builder::new(&name, about);
        b.layer("input_ids", "input")
            .set("shape", builder::integer(positions))
            .set("vocabulary", builder::integer(vocabulary))
            .add();
        b.layer("embed_tokens", "embedding")
            .set("features", builder::integer(width))
            .add();
        // One block, repeated `num_hidden_layers` times as `layers`: copy i's layers are
        // `layers.i.…`, transformers' names. `residual`, an identity, names the block's input for
        // the first residual sum (as the built-in transformers' `x` does).
        let mut block = Builder::default();
        block
            .layer("residual", "activation")
            .set("function", Value::Text("linear".to_string()))
            .add();
        block
            .layer("input_layernorm", "rms_normalization")
            .set("epsilon", epsilon.clone())
            .add();
        let mut attention = block
            .layer("self_attn", "multi_head_attention")
            .set("heads", builder::integer(heads));
        if head_dim.checked_mul(heads) != Some(width) {
            attention = attention.set("key_dim", builder::integer(head_dim));
        }
        if kv_heads != heads {
            attention = attention.set("kv_heads", builder::integer(kv_heads));
        }
        attention
            .set("use_bias", Value::Boolean(attention_bias))
            .set("causal", Value::Boolean(true))
            .set("rotary", Value::Boolean(true))
            .set("rope_theta", Value::Number(theta))
            .add();
        block
            .layer("add_1", "add")
            .inputs(&["residual".to_string(), "self_attn".to_string()])
            .add();
        block
            .layer("post_attention_layernorm", "rms_normalization")
            .set("epsilon", epsilon.clone())
            .add();
        block
            .layer("mlp.gate_proj", "dense")
            .set("units", builder::integer(inner))
            .set("use_bias", Value::Boolean(mlp_bias))
            .set("activation", activation)
            .add();
        block
            .layer("mlp.up_proj", "dense")
            .set("units", builder::integer(inner))
            .set("use_bias", Value::Boolean(mlp_bias))
            .inputs(&["post_attention_layernorm".to_string()])
            .add();
        block
            .layer("mlp.multiply", "multiply")
            .inputs(&["mlp.gate_proj".to_string(), "mlp.up_proj".to_string()])
            .add();
        block
            .layer("mlp.down_proj", "dense")
            .set("units", builder::integer(width))
            .set("use_bias", Value::Boolean(mlp_bias))
            .add();
        block
            .layer("add_2", "add")
            .inputs(&["add_1".to_string(), "mlp.down_proj".to_string()])
            .add();
        b.repeat(layers, "layers", block);
        b.layer("norm", "rms_normalization")
            .set("epsilon", epsilon)
            .add();
        output_projection(&mut b, vocabulary, tied.then_some("embed_tokens"));
        Ok(pytorch(b.finish()))
    }

    /// The rotary base: `rope_theta`, or transformers 5's `rope_parameters.rope_theta`, or
    /// Llama's 10000.
    fn rope_theta(&self) -> Result<f64, ImportError> {
        let nested = self.fields.node.present("rope_parameters");
        let (fields, key) = match nested {
            Some(parameters) if parameters.get("rope_theta").is_some() => {
                (Fields::new(parameters, "rope_parameters"), "rope_theta")
            }
            _ => (Fields::new(self.fields.node, ""), "rope_theta"),
        };
        match fields.number(key)? {
            Some(theta) if theta > 1.0 => Ok(theta),
            Some(_) => Err(fields.wrong(key, fields.node(key)?, "a number > 1")),
            None => Ok(10000.0),
        }
    }

    /// The kind of rotary scaling, where the config asks for one other than the default
    /// (`rope_scaling.type` or `rope_type`, or `rope_parameters.rope_type`).
    fn rope_scaling(&self) -> Result<Option<String>, ImportError> {
        for key in ["rope_scaling", "rope_parameters"] {
            let Some(node) = self.fields.node.present(key) else {
                continue;
            };
            let fields = Fields::new(node, key);
            for field in ["rope_type", "type"] {
                if let Some(kind) = fields.string(field)?
                    && kind != "default"
                {
                    return Ok(Some(kind.to_string()));
                }
            }
        }
        Ok(None)
    }
}

/// The output projection `lm_head` to the vocabulary, with no bias, tied to the token
/// embedding `tied` when given.
fn output_projection(b: &mut Builder, vocabulary: u64, tied: Option<&str>) {
    b.layer("lm_head", "dense")
        .set("units", builder::integer(vocabulary))
        .set("use_bias", Value::Boolean(false))
        .set_some("tied_to", tied.map(|name| Value::Text(name.to_string())))
        .add();
}

/// transformers models are PyTorch modules: their conventions.
fn pytorch(mut description: Description) -> Description {
    description.conventions = Some(crate::source::Spanned::unspanned("pytorch".to_string()));
    description
}

#[cfg(test)]
mod tests {
    use super::*;

    fn import(text: &str) -> Result<Description, ImportError> {
        read(&Source::new("config.json", text))
    }

    #[test]
    fn a_missing_field_is_named() {
        let Err(ImportError::Field { field, .. }) = import(
            r#"{"model_type": "gpt2", "vocab_size": 10, "n_positions": 8, "n_embd": 8, "n_layer": 1}"#,
        ) else {
            panic!("imported without n_head")
        };
        assert_eq!(field, "n_head");
    }

    #[test]
    fn an_unknown_model_type_points_at_it() {
        let text = r#"{"model_type": "t5"}"#;
        let Err(error @ ImportError::NotAModel { .. }) = import(text) else {
            panic!("imported t5")
        };
        let span = crate::error::Locate::span(&error);
        assert_eq!(&text[span.offset..][..span.length], "\"t5\"");
    }

    #[test]
    fn an_absurd_depth_is_refused_before_building() {
        let text = r#"{"model_type": "gpt2", "vocab_size": 10, "n_positions": 8, "n_embd": 8,
            "n_layer": 1000000000, "n_head": 2}"#;
        let Err(ImportError::Field { field, .. }) = import(text) else {
            panic!("a billion blocks imported")
        };
        assert_eq!(field, "n_layer");
    }

    #[test]
    fn heads_must_divide_the_width() {
        let text = r#"{"model_type": "gpt2", "vocab_size": 10, "n_positions": 8, "n_embd": 10,
            "n_layer": 1, "n_head": 3}"#;
        assert!(matches!(import(text), Err(ImportError::Field { .. })));
    }

    fn llama(extra: &str) -> String {
        format!(
            r#"{{"model_type": "llama", "vocab_size": 10, "max_position_embeddings": 8,
            "hidden_size": 8, "intermediate_size": 12, "num_hidden_layers": 1,
            "num_attention_heads": 4{extra}}}"#
        )
    }

    fn attention(description: &Description) -> String {
        let decl = description
            .all_layers()
            .into_iter()
            .find(|decl| decl.kind.value == "multi_head_attention")
            .expect("an attention layer");
        let mut keys: Vec<String> = decl
            .attributes
            .iter()
            .map(|a| format!("{}={:?}", a.key.value, a.value.value))
            .collect();
        keys.sort();
        keys.join(" ")
    }

    /// Key/value heads must divide the heads; the field is named and pointed at.
    #[test]
    fn llama_key_value_heads_must_divide_the_heads() {
        let text = llama(r#", "num_key_value_heads": 3"#);
        let Err(error @ ImportError::Field { .. }) = import(&text) else {
            panic!("3 key/value heads for 4 heads imported")
        };
        let span = crate::error::Locate::span(&error);
        assert_eq!(&text[span.offset..][..span.length], "3");
        assert!(error.to_string().contains("num_key_value_heads"), "{error}");
    }

    /// The rotary embedding turns pairs: a head size of 3 (head_dim) is refused at its field.
    #[test]
    fn llama_head_size_must_be_even() {
        let text = llama(r#", "head_dim": 3"#);
        let Err(error @ ImportError::Field { .. }) = import(&text) else {
            panic!("an odd head size imported")
        };
        assert!(error.to_string().contains("head_dim"), "{error}");
    }

    /// θ is read at the top level (transformers 4) or in `rope_parameters` (transformers 5),
    /// 10000 when neither has it; kv_heads only when they differ from the heads, key_dim only
    /// when head_dim is not hidden_size/heads.
    #[test]
    fn llama_reads_theta_in_either_place() {
        let top = import(&llama(
            r#", "rope_theta": 500000.0, "num_key_value_heads": 2"#,
        ))
        .unwrap();
        assert_eq!(
            attention(&top),
            "causal=Boolean(true) heads=Integer(4) kv_heads=Integer(2) rope_theta=Number(500000.0) \
             rotary=Boolean(true) use_bias=Boolean(false)"
        );
        let nested = import(&llama(
            r#", "rope_parameters": {"rope_theta": 250.0, "rope_type": "default"}"#,
        ))
        .unwrap();
        assert!(attention(&nested).contains("rope_theta=Number(250.0)"));
        assert!(!attention(&nested).contains("kv_heads"));
        let plain = import(&llama(r#", "head_dim": 4"#)).unwrap();
        assert!(attention(&plain).contains("rope_theta=Number(10000.0)"));
        assert!(attention(&plain).contains("key_dim=Integer(4)"));
    }

    #[test]
    fn detection_needs_a_model_type() {
        assert!(looks_like(br#"{"model_type": "bert"}"#));
        assert!(!looks_like(
            br#"{"class_name": "Sequential", "model_type": 1}"#
        ));
        assert!(!looks_like(b"{"));
    }
}
