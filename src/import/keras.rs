//! Keras models: the JSON of `model.to_json()` (Keras 3, and the layer lists of Keras 2) and
//! `.keras` archives (a zip whose `config.json` is that JSON). Sequential and functional models;
//! each Keras layer becomes the netcalc layer of its kind, with Keras' own defaults (netcalc's
//! Keras conventions), under its Keras name.

use super::ImportError;
use super::builder::{self, Builder};
use super::json::{self, Fields, Json, Node};
use crate::error::Error;
use crate::source::{Source, Span};
use crate::syntax::{Description, Value};
use std::collections::HashMap;
use std::io::Read;

/// The Keras classes this importer reads, for messages.
const KNOWN: &str = "InputLayer, Dense, Conv1D, Conv2D, Conv2DTranspose, DepthwiseConv2D, \
     MaxPooling1D/2D, AveragePooling1D/2D, GlobalAveragePooling1D/2D, GlobalMaxPooling1D/2D, \
     Flatten, Dropout, Activation, ReLU, Softmax, LeakyReLU, ELU, BatchNormalization, \
     LayerNormalization, Concatenate, Add, Embedding, SimpleRNN, LSTM, GRU, Bidirectional, \
     MultiHeadAttention, UpSampling2D, Reshape, Permute";

/// The largest `config.json` read from an archive (as for descriptions, 16 MiB).
const LARGEST_CONFIG: u64 = 16 << 20;

/// Reads the JSON of a Keras model.
pub fn read(source: &Source) -> Result<Description, ImportError> {
    let root = json::parse(&source.text)?;
    model(&root, &source.name)
}

/// Reads a `.keras` archive: its `config.json`, reported as `NAME/config.json`.
pub fn read_archive(name: &str, bytes: &[u8]) -> Result<Description, Error> {
    let container = |problem: String| {
        Error::unplaced(ImportError::Container {
            file: name.to_string(),
            expected: "a Keras archive (a zip holding config.json)",
            problem,
        })
    };
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|error| container(error.to_string()))?;
    let mut member = archive
        .by_name("config.json")
        .map_err(|error| container(format!("config.json: {error}")))?;
    if member.size() > LARGEST_CONFIG {
        return Err(container(
            "its config.json is larger than 16 MiB, the most netcalc reads".to_string(),
        ));
    }
    let mut text = Vec::new();
    (&mut member)
        .take(LARGEST_CONFIG + 1)
        .read_to_end(&mut text)
        .map_err(|error| container(format!("config.json: {error}")))?;
    if text.len() as u64 > LARGEST_CONFIG {
        return Err(container(
            "its config.json is larger than 16 MiB, the most netcalc reads".to_string(),
        ));
    }
    let source = super::text_source(&format!("{name}/config.json"), &text)?;
    json::parse(&source.text)
        .and_then(|root| model(&root, name))
        .map_err(|error| Error::new(&source, error))
}

fn not_keras(problem: impl Into<String>, span: Span) -> ImportError {
    ImportError::NotAModel {
        expected: "a Keras model",
        problem: problem.into(),
        span,
        help: Some(
            "netcalc reads the JSON of `model.to_json()` or a `.keras` archive (`model.save`)"
                .to_string(),
        ),
    }
}

fn model(root: &Node, file: &str) -> Result<Description, ImportError> {
    let first = Span::new(root.span.offset, 1.min(root.span.length));
    let Json::Object(_) = root.value else {
        return Err(not_keras(format!("it holds {}", root.type_name()), first));
    };
    let Some(class) = root.get("class_name") else {
        return Err(not_keras("it has no `class_name`", first));
    };
    let sequential = match class.as_str() {
        Some("Sequential") => true,
        Some("Functional" | "Model") => false,
        _ => {
            return Err(not_keras(
                format!(
                    "its class is {}, not Sequential or Functional",
                    json::shown(class)
                ),
                class.span,
            ));
        }
    };
    let top = Fields::new(root, "");
    let config = Fields::new(top.node("config")?, "config");
    let layers = config.node("layers")?;
    let items = layers
        .as_array()
        .ok_or_else(|| config.wrong("layers", layers, "an array"))?;
    let name = config.string("name")?.unwrap_or("keras-model");
    let mut importer = Importer {
        builder: Builder::new(name, String::new()),
        ranks: HashMap::new(),
        classes: HashMap::new(),
        frozen: Vec::new(),
    };
    if sequential {
        importer.sequential_input(&config, items)?;
    }
    for (index, item) in items.iter().enumerate() {
        let path = format!("config.layers[{index}]");
        importer.layer(item, &path, sequential)?;
    }
    let mut about = format!("imported from the Keras model `{name}` ({file})");
    if !importer.frozen.is_empty() {
        about.push_str(&format!(
            "; frozen in Keras (trainable: false), counted as trainable here: {}",
            importer.frozen.join(", ")
        ));
    }
    let mut builder = importer.builder;
    let mut description = std::mem::take(&mut builder).finish();
    description.about = Some(crate::source::Spanned::unspanned(about));
    Ok(description)
}

struct Importer {
    builder: Builder,
    /// Each layer's output rank (axes without the batch), where known.
    ranks: HashMap<String, usize>,
    /// Each layer's Keras class.
    classes: HashMap<String, String>,
    /// Layers Keras keeps frozen.
    frozen: Vec<String>,
}

/// A layer as the importer reads it.
struct Entry<'n> {
    name: String,
    class: &'n str,
    class_span: Span,
    config: Fields<'n>,
    inputs: Vec<String>,
    /// The shapes of the inputs as the JSON gives them (Keras 3), without the batch axis.
    input_shapes: Vec<Option<Vec<Option<u64>>>>,
    /// The call's keyword arguments (Keras 3).
    kwargs: Option<&'n Node>,
}

impl Entry<'_> {
    fn unsupported(
        &self,
        problem: impl Into<String>,
        span: Span,
        help: Option<&str>,
    ) -> ImportError {
        ImportError::Unsupported {
            layer: self.name.clone(),
            problem: problem.into(),
            span,
            help: help.map(str::to_string),
        }
    }

    /// The span of a config field, or of the class name when it is absent.
    fn span_of(&self, key: &str) -> Span {
        self.config
            .node
            .get(key)
            .map_or(self.class_span, |node| node.span)
    }
}

impl Importer {
    /// A Sequential model's input: its InputLayer, or the shape its first layer or its config
    /// records.
    fn sequential_input(&mut self, config: &Fields, items: &[Node]) -> Result<(), ImportError> {
        let first_class = items
            .first()
            .and_then(|item| item.get("class_name"))
            .and_then(Node::as_str);
        if first_class == Some("InputLayer") {
            return Ok(());
        }
        let from_layer = items
            .first()
            .and_then(|item| item.get("config"))
            .and_then(|config| config.present("batch_input_shape"));
        let Some(shape) = from_layer.or_else(|| config.node.present("build_input_shape")) else {
            return Err(not_keras(
                "the Sequential model records no input shape",
                Span::new(config.node.span.offset, 1),
            ));
        };
        let dims = batch_shape(shape, "input_layer")?;
        let rank = dims.len();
        self.builder
            .layer("input_layer", "input")
            .set("shape", builder::shape(&dims))
            .add();
        self.ranks.insert("input_layer".to_string(), rank);
        self.classes
            .insert("input_layer".to_string(), "InputLayer".to_string());
        Ok(())
    }

    fn layer(&mut self, item: &Node, path: &str, sequential: bool) -> Result<(), ImportError> {
        let fields = Fields::new(item, path);
        let class_node = fields.node("class_name")?;
        let class = class_node
            .as_str()
            .ok_or_else(|| fields.wrong("class_name", class_node, "a string"))?;
        let config = Fields::new(fields.node("config")?, format!("{path}.config"));
        let name = match fields.string("name")? {
            Some(name) => name,
            None => config.required_string("name")?,
        }
        .to_string();
        if self.builder.has(&name) {
            return Err(not_keras(
                format!("two layers are named `{name}`"),
                class_node.span,
            ));
        }
        let (inputs, input_shapes, kwargs) = if sequential {
            let previous: Vec<String> = self
                .builder
                .last()
                .map(str::to_string)
                .into_iter()
                .collect();
            let shapes = previous.iter().map(|_| None).collect();
            (previous, shapes, None)
        } else {
            inbound(&fields, &name)?
        };
        for input in &inputs {
            if !self.builder.has(input) {
                return Err(ImportError::Field {
                    field: format!("{path}.inbound_nodes"),
                    problem: format!("names `{input}`, which is not a layer before `{name}`"),
                    span: item
                        .get("inbound_nodes")
                        .map_or(class_node.span, |n| n.span),
                });
            }
        }
        if config.boolean("trainable")? == Some(false) && class != "InputLayer" {
            self.frozen.push(name.clone());
        }
        let entry = Entry {
            name,
            class,
            class_span: class_node.span,
            config,
            inputs,
            input_shapes,
            kwargs,
        };
        let rank = self.convert(&entry)?;
        if let Some(rank) = rank {
            self.ranks.insert(entry.name.clone(), rank);
        }
        self.classes.insert(entry.name.clone(), class.to_string());
        Ok(())
    }

    /// The rank of the first input, where known.
    fn input_rank(&self, entry: &Entry) -> Option<usize> {
        if let Some(Some(shape)) = entry.input_shapes.first() {
            return Some(shape.len());
        }
        entry
            .inputs
            .first()
            .and_then(|input| self.ranks.get(input))
            .copied()
    }

    /// Adds the layer; returns its output rank where known.
    fn convert(&mut self, entry: &Entry) -> Result<Option<usize>, ImportError> {
        let c = &entry.config;
        let rank = self.input_rank(entry);
        let same = Ok(rank);
        match entry.class {
            "InputLayer" => {
                let shape = c
                    .node
                    .present("batch_shape")
                    .or_else(|| c.node.present("batch_input_shape"))
                    .ok_or_else(|| c.missing("batch_shape"))?;
                let dims = batch_shape(shape, &entry.name)?;
                let rank = dims.len();
                self.builder
                    .layer(&entry.name, "input")
                    .set("shape", builder::shape(&dims))
                    .add();
                Ok(Some(rank))
            }
            "Dense" => {
                channels_last(entry)?;
                let activation = activation(entry, "activation")?;
                let layer = self
                    .builder
                    .layer(&entry.name, "dense")
                    .set("units", builder::integer(c.required_count("units")?))
                    .set_some("use_bias", use_bias(c)?)
                    .set_some("activation", activation);
                // Keras' Dense reads the last axis; netcalc's reads every unit of maps unless
                // told.
                let layer = if rank.is_none_or(|rank| rank >= 3) {
                    layer.set("axis", Value::Text("last".to_string()))
                } else {
                    layer
                };
                layer.inputs(&entry.inputs).add();
                same
            }
            "Conv2D" | "Conv1D" | "DepthwiseConv2D" => {
                channels_last(entry)?;
                let axes = if entry.class == "Conv1D" { 1 } else { 2 };
                let (kind, padding_words): (&str, &[&str]) = if axes == 1 {
                    ("conv1d", &["valid", "same", "causal"])
                } else {
                    ("conv2d", &["valid", "same"])
                };
                let kernel = window_field(entry, "kernel_size", axes)?;
                let strides = c.counts("strides", axes)?;
                let dilation = c.counts("dilation_rate", axes)?;
                let padding = padding(entry, padding_words)?;
                let activation = activation(entry, "activation")?;
                let (filters, groups) = if entry.class == "DepthwiseConv2D" {
                    let channels = entry
                        .input_shapes
                        .first()
                        .cloned()
                        .flatten()
                        .and_then(|shape| shape.last().copied().flatten())
                        .ok_or_else(|| {
                            entry.unsupported(
                                "the JSON does not give the input's channels, which a \
                                 depthwise convolution's filters depend on",
                                entry.class_span,
                                Some("save the model with Keras 3, which records input shapes"),
                            )
                        })?;
                    let multiplier = c.count("depth_multiplier")?.unwrap_or(1);
                    (channels.saturating_mul(multiplier), Some(channels))
                } else {
                    (
                        c.required_count("filters")?,
                        c.count("groups")?.filter(|groups| *groups != 1),
                    )
                };
                self.builder
                    .layer(&entry.name, kind)
                    .set("filters", builder::integer(filters))
                    .set("kernel", builder::window(&kernel))
                    .set_some("stride", not_ones(strides))
                    .set_some("padding", padding)
                    .set_some("dilation", not_ones(dilation))
                    .set_some("groups", groups.map(builder::integer))
                    .set_some("use_bias", use_bias(c)?)
                    .set_some("activation", activation)
                    .inputs(&entry.inputs)
                    .add();
                Ok(Some(axes + 1))
            }
            "Conv2DTranspose" => {
                channels_last(entry)?;
                let kernel = window_field(entry, "kernel_size", 2)?;
                let strides = c.counts("strides", 2)?;
                let dilation = c.counts("dilation_rate", 2)?;
                if padding(entry, &["valid", "same"])?.is_some() {
                    return Err(entry.unsupported(
                        "padding \"same\" of a transposed convolution has no netcalc form",
                        entry.span_of("padding"),
                        Some("netcalc's conv2d_transpose takes padding `valid` or an explicit one"),
                    ));
                }
                if let Some(node) = c.node.present("output_padding") {
                    return Err(entry.unsupported(
                        "an explicit output_padding is not read",
                        node.span,
                        None,
                    ));
                }
                let activation = activation(entry, "activation")?;
                self.builder
                    .layer(&entry.name, "conv2d_transpose")
                    .set("filters", builder::integer(c.required_count("filters")?))
                    .set("kernel", builder::window(&kernel))
                    .set_some("stride", not_ones(strides))
                    .set_some("dilation", not_ones(dilation))
                    .set_some("use_bias", use_bias(c)?)
                    .set_some("activation", activation)
                    .inputs(&entry.inputs)
                    .add();
                Ok(Some(3))
            }
            "MaxPooling2D" | "AveragePooling2D" | "MaxPooling1D" | "AveragePooling1D" => {
                channels_last(entry)?;
                let (kind, axes) = match entry.class {
                    "MaxPooling2D" => ("maxpool", 2),
                    "AveragePooling2D" => ("avgpool", 2),
                    "MaxPooling1D" => ("maxpool1d", 1),
                    _ => ("avgpool1d", 1),
                };
                let size = window_field(entry, "pool_size", axes)?;
                let strides = c
                    .counts("strides", axes)?
                    .filter(|strides| *strides != size);
                let padding = padding(entry, &["valid", "same"])?;
                self.builder
                    .layer(&entry.name, kind)
                    .set("size", builder::window(&size))
                    .set_some("stride", strides.map(|s| builder::window(&s)))
                    .set_some("padding", padding)
                    .inputs(&entry.inputs)
                    .add();
                Ok(Some(axes + 1))
            }
            "GlobalAveragePooling2D"
            | "GlobalMaxPooling2D"
            | "GlobalAveragePooling1D"
            | "GlobalMaxPooling1D" => {
                channels_last(entry)?;
                if c.boolean("keepdims")? == Some(true) {
                    return Err(entry.unsupported(
                        "keepdims=True has no netcalc form",
                        entry.span_of("keepdims"),
                        Some("netcalc's global pooling gives one value per channel"),
                    ));
                }
                let kind = match entry.class {
                    "GlobalAveragePooling2D" => "global_avgpool",
                    "GlobalMaxPooling2D" => "global_maxpool",
                    "GlobalAveragePooling1D" => "global_avgpool1d",
                    _ => "global_maxpool1d",
                };
                self.builder
                    .layer(&entry.name, kind)
                    .inputs(&entry.inputs)
                    .add();
                Ok(Some(1))
            }
            "Flatten" => {
                channels_last(entry)?;
                self.builder
                    .layer(&entry.name, "flatten")
                    .inputs(&entry.inputs)
                    .add();
                Ok(Some(1))
            }
            "Dropout" => {
                let rate = c.number("rate")?.ok_or_else(|| c.missing("rate"))?;
                self.builder
                    .layer(&entry.name, "dropout")
                    .set("rate", Value::Number(rate))
                    .inputs(&entry.inputs)
                    .add();
                same
            }
            "Activation" => {
                let function = activation(entry, "activation")?
                    .unwrap_or_else(|| Value::Text("linear".to_string()));
                self.activation_layer(entry, function);
                same
            }
            "ReLU" => {
                let slope = c.number("negative_slope")?.unwrap_or(0.0);
                let threshold = c.number("threshold")?.unwrap_or(0.0);
                let function = match c.number("max_value")? {
                    _ if slope != 0.0 || threshold != 0.0 => None,
                    None => Some("relu"),
                    Some(6.0) => Some("relu6"),
                    Some(_) => None,
                };
                let Some(function) = function else {
                    return Err(entry.unsupported(
                        "a ReLU with a negative slope, a threshold or a maximum other than 6 has \
                         no netcalc form",
                        entry.class_span,
                        Some("netcalc has relu, relu6 and leaky_relu (slope 0.2)"),
                    ));
                };
                self.activation_layer(entry, Value::Text(function.to_string()));
                same
            }
            "Softmax" => {
                last_axis(entry, "axis")?;
                self.activation_layer(entry, Value::Text("softmax".to_string()));
                same
            }
            "LeakyReLU" => {
                let slope = match c.number("negative_slope")? {
                    Some(slope) => slope,
                    None => c.number("alpha")?.unwrap_or(0.3),
                };
                if slope != 0.2 {
                    return Err(entry.unsupported(
                        format!("a leaky ReLU of slope {slope} has no netcalc form"),
                        entry.class_span,
                        Some("netcalc's leaky_relu has Keras' function's slope, 0.2"),
                    ));
                }
                self.activation_layer(entry, Value::Text("leaky_relu".to_string()));
                same
            }
            "ELU" => {
                if c.number("alpha")?.is_some_and(|alpha| alpha != 1.0) {
                    return Err(entry.unsupported(
                        "an ELU with alpha other than 1 has no netcalc form",
                        entry.span_of("alpha"),
                        None,
                    ));
                }
                self.activation_layer(entry, Value::Text("elu".to_string()));
                same
            }
            "BatchNormalization" | "LayerNormalization" => {
                last_axis(entry, "axis")?;
                let batch = entry.class == "BatchNormalization";
                if c.boolean("rms_scaling")? == Some(true) {
                    return Err(entry.unsupported(
                        "rms_scaling=True has no netcalc form",
                        entry.span_of("rms_scaling"),
                        None,
                    ));
                }
                let epsilon = c.number("epsilon")?.filter(|epsilon| *epsilon != 1e-3);
                let momentum = if batch {
                    c.number("momentum")?.filter(|momentum| *momentum != 0.99)
                } else {
                    None
                };
                let off = |key: &str| -> Result<Option<Value>, ImportError> {
                    Ok((c.boolean(key)? == Some(false)).then_some(Value::Boolean(false)))
                };
                self.builder
                    .layer(&entry.name, if batch { "batchnorm" } else { "layernorm" })
                    .set_some("epsilon", epsilon.map(Value::Number))
                    .set_some("momentum", momentum.map(Value::Number))
                    .set_some("scale", off("scale")?)
                    .set_some("center", off("center")?)
                    .inputs(&entry.inputs)
                    .add();
                same
            }
            "Concatenate" | "Add" => {
                if entry.class == "Concatenate" {
                    last_axis(entry, "axis")?;
                }
                let kind = if entry.class == "Add" {
                    "add"
                } else {
                    "concat"
                };
                self.builder
                    .layer(&entry.name, kind)
                    .inputs(&entry.inputs)
                    .add();
                same
            }
            "Embedding" => {
                let vocabulary = c.required_count("input_dim")?;
                let Some(input) = entry.inputs.first() else {
                    return Err(c.missing("inbound_nodes"));
                };
                if self.classes.get(input).map(String::as_str) != Some("InputLayer") {
                    return Err(entry.unsupported(
                        "an embedding must read the model's input (token ids) directly",
                        entry.class_span,
                        None,
                    ));
                }
                if let Some(decl) = self.builder.layer_mut(input) {
                    decl.attributes.retain(|a| a.key.value != "vocabulary");
                    decl.attributes.push(crate::syntax::Attribute::new(
                        "vocabulary",
                        builder::integer(vocabulary),
                    ));
                }
                self.builder
                    .layer(&entry.name, "embedding")
                    .set(
                        "features",
                        builder::integer(c.required_count("output_dim")?),
                    )
                    .inputs(&entry.inputs)
                    .add();
                Ok(rank.map(|rank| rank + 1))
            }
            "SimpleRNN" | "LSTM" | "GRU" => {
                let returns = self.recurrent(entry, c, None)?;
                Ok(Some(if returns { 2 } else { 1 }))
            }
            "Bidirectional" => {
                let merge = match c.string("merge_mode")? {
                    Some(mode @ ("concat" | "sum")) => mode,
                    _ => {
                        return Err(entry.unsupported(
                            "a Bidirectional merge other than concat or sum has no netcalc form",
                            entry.span_of("merge_mode"),
                            None,
                        ));
                    }
                };
                let inner = c.node("layer")?;
                let inner_fields = Fields::new(inner, format!("{}.layer", c.path));
                let inner_class = inner_fields.required_string("class_name")?;
                let inner_config = Fields::new(
                    inner_fields.node("config")?,
                    format!("{}.layer.config", c.path),
                );
                let inner_entry = Entry {
                    name: entry.name.clone(),
                    class: inner_class,
                    class_span: inner_fields.node("class_name")?.span,
                    config: inner_config,
                    inputs: entry.inputs.clone(),
                    input_shapes: Vec::new(),
                    kwargs: None,
                };
                if !matches!(inner_class, "SimpleRNN" | "LSTM" | "GRU") {
                    return Err(unknown(&inner_entry));
                }
                let returns = self.recurrent(&inner_entry, &inner_entry.config, Some(merge))?;
                Ok(Some(if returns { 2 } else { 1 }))
            }
            "MultiHeadAttention" => {
                // Keras records the default, the steps of a sequence, as [1].
                if let Some(node) = c
                    .node
                    .present("attention_axes")
                    .filter(|node| sizes_of(node).as_deref() != Some(&[1]))
                {
                    return Err(entry.unsupported(
                        "attention over other axes than the steps is not read",
                        node.span,
                        None,
                    ));
                }
                if let Some(node) = c.node.present("output_shape") {
                    return Err(entry.unsupported(
                        "an explicit output_shape is not read",
                        node.span,
                        None,
                    ));
                }
                let key_dim = c.required_count("key_dim")?;
                let value_dim = c.count("value_dim")?.unwrap_or(key_dim);
                let causal = entry
                    .kwargs
                    .and_then(|kwargs| kwargs.get("use_causal_mask"))
                    .and_then(Node::as_boolean)
                    .unwrap_or(false);
                // Keras' (query, value) with one tensor twice is self-attention.
                let mut inputs = entry.inputs.clone();
                if inputs.len() == 2 && inputs[0] == inputs[1] {
                    inputs.truncate(1);
                }
                if inputs.len() == 3 && inputs[2] == inputs[1] {
                    inputs.truncate(2);
                }
                if inputs.len() == 2 && inputs[0] == inputs[1] {
                    inputs.truncate(1);
                }
                self.builder
                    .layer(&entry.name, "multi_head_attention")
                    .set("heads", builder::integer(c.required_count("num_heads")?))
                    .set("key_dim", builder::integer(key_dim))
                    .set("value_dim", builder::integer(value_dim))
                    .set_some("use_bias", use_bias(c)?)
                    .set_some("causal", causal.then_some(Value::Boolean(true)))
                    .inputs(&inputs)
                    .add();
                same
            }
            "UpSampling2D" => {
                channels_last(entry)?;
                if c.string("interpolation")?
                    .is_some_and(|mode| mode != "nearest")
                {
                    return Err(entry.unsupported(
                        "only nearest-neighbour upsampling has a netcalc form",
                        entry.span_of("interpolation"),
                        None,
                    ));
                }
                let size = window_field(entry, "size", 2)?;
                self.builder
                    .layer(&entry.name, "upsampling2d")
                    .set("size", builder::window(&size))
                    .inputs(&entry.inputs)
                    .add();
                Ok(Some(3))
            }
            "Reshape" => {
                let target = c.node("target_shape")?;
                let dims = sizes_of(target).ok_or_else(|| {
                    entry.unsupported(
                        "a target shape with -1 or a size that is not a count is not read",
                        target.span,
                        Some("write every size of the target"),
                    )
                })?;
                self.builder
                    .layer(&entry.name, "reshape")
                    .set("target", builder::shape(&dims))
                    .inputs(&entry.inputs)
                    .add();
                Ok(Some(dims.len()))
            }
            "Permute" => {
                let dims = c.node("dims")?;
                let order =
                    sizes_of(dims).ok_or_else(|| c.wrong("dims", dims, "a list of axes"))?;
                let rank = order.len();
                self.builder
                    .layer(&entry.name, "permute")
                    .set(
                        "dims",
                        Value::List(order.into_iter().map(builder::integer).collect()),
                    )
                    .inputs(&entry.inputs)
                    .add();
                Ok(Some(rank))
            }
            _ => Err(unknown(entry)),
        }
    }

    fn activation_layer(&mut self, entry: &Entry, function: Value) {
        self.builder
            .layer(&entry.name, "activation")
            .set("function", function)
            .inputs(&entry.inputs)
            .add();
    }

    /// A recurrent layer, bidirectional when `merge` is given; whether it returns sequences.
    fn recurrent(
        &mut self,
        entry: &Entry,
        c: &Fields,
        merge: Option<&str>,
    ) -> Result<bool, ImportError> {
        for key in ["return_state", "go_backwards", "stateful"] {
            if c.boolean(key)? == Some(true) {
                return Err(entry.unsupported(
                    format!("{key}=True has no netcalc form"),
                    entry.span_of(key),
                    None,
                ));
            }
        }
        let kind = match entry.class {
            "SimpleRNN" => "simple_rnn",
            "LSTM" => "lstm",
            _ => "gru",
        };
        let function = c.string("activation")?.unwrap_or("tanh");
        let simple = kind == "simple_rnn";
        if (!simple && function != "tanh")
            || (simple && !matches!(function, "tanh" | "relu" | "linear"))
        {
            return Err(entry.unsupported(
                format!(
                    "a {} with activation \"{function}\" has no netcalc form",
                    entry.class
                ),
                entry.span_of("activation"),
                None,
            ));
        }
        if !simple && c.string("recurrent_activation")?.unwrap_or("sigmoid") != "sigmoid" {
            return Err(entry.unsupported(
                "a recurrent activation other than sigmoid has no netcalc form",
                entry.span_of("recurrent_activation"),
                None,
            ));
        }
        let returns = c.boolean("return_sequences")?.unwrap_or(false);
        let reset_after = if kind == "gru" {
            c.boolean("reset_after")?
                .filter(|reset| !reset)
                .map(Value::Boolean)
        } else {
            None
        };
        self.builder
            .layer(&entry.name, kind)
            .set("units", builder::integer(c.required_count("units")?))
            .set_some(
                "activation",
                (simple && function != "tanh").then(|| Value::Text(function.to_string())),
            )
            .set_some("return_sequences", returns.then_some(Value::Boolean(true)))
            .set_some("reset_after", reset_after)
            .set_some("use_bias", use_bias(c)?)
            .set_some("bidirectional", merge.map(|_| Value::Boolean(true)))
            .set_some(
                "merge",
                merge
                    .filter(|merge| *merge != "concat")
                    .map(|merge| Value::Text(merge.to_string())),
            )
            .inputs(&entry.inputs)
            .add();
        Ok(returns)
    }
}

fn unknown(entry: &Entry) -> ImportError {
    ImportError::UnknownClass {
        framework: "Keras class",
        class: entry.class.to_string(),
        layer: entry.name.clone(),
        span: entry.class_span,
        known: format!("the Keras classes {KNOWN}"),
    }
}

/// The layers a functional model's layer reads (in call order), their shapes where the JSON
/// records them, and the call's keyword arguments.
#[allow(clippy::type_complexity)]
fn inbound<'n>(
    fields: &Fields<'n>,
    name: &str,
) -> Result<(Vec<String>, Vec<Option<Vec<Option<u64>>>>, Option<&'n Node>), ImportError> {
    let Some(nodes) = fields.node.get("inbound_nodes") else {
        return Err(fields.missing("inbound_nodes"));
    };
    let calls = nodes
        .as_array()
        .ok_or_else(|| fields.wrong("inbound_nodes", nodes, "an array"))?;
    match calls {
        [] => Ok((Vec::new(), Vec::new(), None)),
        [call] => {
            let mut tensors = Vec::new();
            let kwargs = match &call.value {
                // Keras 3: {"args": [...], "kwargs": {...}}
                Json::Object(_) => {
                    if let Some(args) = call.get("args") {
                        collect_tensors(args, &mut tensors, 0);
                    }
                    if let Some(kwargs) = call.get("kwargs") {
                        for key in ["query", "value", "key"] {
                            if let Some(tensor) = kwargs.get(key) {
                                collect_tensors(tensor, &mut tensors, 0);
                            }
                        }
                    }
                    call.get("kwargs")
                }
                // Keras 2: [["name", node, tensor, {kwargs}], ...]
                Json::Array(items) => {
                    for item in items {
                        if let Some(name) = item
                            .as_array()
                            .and_then(|a| a.first())
                            .and_then(Node::as_str)
                        {
                            tensors.push((name.to_string(), None));
                        }
                    }
                    None
                }
                _ => return Err(fields.wrong("inbound_nodes", call, "a call")),
            };
            let (names, shapes) = tensors.into_iter().unzip();
            Ok((names, shapes, kwargs))
        }
        _ => Err(ImportError::Unsupported {
            layer: name.to_string(),
            problem: format!(
                "the layer is called {} times (shared weights); netcalc describes each call as \
                 a layer of its own",
                calls.len()
            ),
            span: nodes.span,
            help: None,
        }),
    }
}

/// The Keras 3 tensors in a call's arguments: `{"class_name": "__keras_tensor__", "config":
/// {"shape": [...], "keras_history": [layer, node, tensor]}}`, in lists at any depth.
fn collect_tensors(
    node: &Node,
    tensors: &mut Vec<(String, Option<Vec<Option<u64>>>)>,
    depth: usize,
) {
    if depth > 8 {
        return;
    }
    match &node.value {
        Json::Array(items) => {
            for item in items {
                collect_tensors(item, tensors, depth + 1);
            }
        }
        Json::Object(_)
            if node.get("class_name").and_then(Node::as_str) == Some("__keras_tensor__") =>
        {
            let Some(config) = node.get("config") else {
                return;
            };
            let Some(layer) = config
                .get("keras_history")
                .and_then(Node::as_array)
                .and_then(|history| history.first())
                .and_then(Node::as_str)
            else {
                return;
            };
            let shape = config.get("shape").and_then(Node::as_array).map(|dims| {
                dims.iter()
                    .skip(1)
                    .map(|dim| dim.as_integer().and_then(|d| u64::try_from(d).ok()))
                    .collect()
            });
            tensors.push((layer.to_string(), shape));
        }
        _ => {}
    }
}

/// A batch shape `[null, 28, 28, 1]` without its batch axis; every size must be known.
fn batch_shape(node: &Node, layer: &str) -> Result<Vec<u64>, ImportError> {
    let items = node.as_array().ok_or_else(|| ImportError::Field {
        field: "batch_shape".to_string(),
        problem: format!("must be a list of sizes, not {}", json::shown(node)),
        span: node.span,
    })?;
    let mut dims = Vec::new();
    for item in items.iter().skip(1) {
        match item.as_integer() {
            Some(size) if size > 0 => dims.push(size as u64),
            _ => {
                return Err(ImportError::Unsupported {
                    layer: layer.to_string(),
                    problem: format!(
                        "the input has a size of {} (unknown until run time)",
                        json::shown(item)
                    ),
                    span: item.span,
                    help: Some("build the model with fixed input sizes".to_string()),
                });
            }
        }
    }
    if dims.is_empty() {
        return Err(ImportError::Unsupported {
            layer: layer.to_string(),
            problem: "the input has no axes besides the batch".to_string(),
            span: node.span,
            help: None,
        });
    }
    Ok(dims)
}

/// Positive sizes of a list, `None` when one is not.
fn sizes_of(node: &Node) -> Option<Vec<u64>> {
    node.as_array()?
        .iter()
        .map(|item| item.as_integer().filter(|n| *n > 0).map(|n| n as u64))
        .collect()
}

fn window_field(entry: &Entry, key: &str, axes: usize) -> Result<Vec<u64>, ImportError> {
    let sizes = entry
        .config
        .counts(key, axes)?
        .ok_or_else(|| entry.config.missing(key))?;
    if sizes.len() != axes || sizes.contains(&0) {
        return Err(entry.config.wrong(
            key,
            entry.config.node.get(key).unwrap_or(entry.config.node),
            &format!("{axes} sizes ≥ 1"),
        ));
    }
    Ok(sizes)
}

fn not_ones(values: Option<Vec<u64>>) -> Option<Value> {
    values
        .filter(|values| values.iter().any(|value| *value != 1))
        .map(|values| builder::window(&values))
}

fn padding(entry: &Entry, words: &[&str]) -> Result<Option<Value>, ImportError> {
    match entry.config.string("padding")? {
        None | Some("valid") => Ok(None),
        Some(word) if words.contains(&word) => Ok(Some(Value::Text(word.to_string()))),
        Some(word) => Err(entry.unsupported(
            format!("padding \"{word}\" has no netcalc form here"),
            entry.span_of("padding"),
            None,
        )),
    }
}

fn use_bias(c: &Fields) -> Result<Option<Value>, ImportError> {
    Ok((c.boolean("use_bias")? == Some(false)).then_some(Value::Boolean(false)))
}

fn channels_last(entry: &Entry) -> Result<(), ImportError> {
    match entry.config.string("data_format")? {
        None | Some("channels_last") => Ok(()),
        Some(format) => Err(entry.unsupported(
            format!("data_format \"{format}\": netcalc's maps are channels last"),
            entry.span_of("data_format"),
            Some("save the model with data_format=\"channels_last\""),
        )),
    }
}

/// An `axis` that must be the last one (-1, or a list holding only -1).
fn last_axis(entry: &Entry, key: &str) -> Result<(), ImportError> {
    let Some(node) = entry.config.node.present(key) else {
        return Ok(());
    };
    let axis = node.as_integer().or_else(|| match node.as_array() {
        Some([only]) => only.as_integer(),
        _ => None,
    });
    if axis == Some(-1) {
        return Ok(());
    }
    Err(entry.unsupported(
        format!(
            "{key} {}: netcalc normalises and joins along the last axis only",
            json::shown(node)
        ),
        node.span,
        None,
    ))
}

/// A Keras activation as netcalc's name (`None` for linear).
fn activation(entry: &Entry, key: &str) -> Result<Option<Value>, ImportError> {
    let Some(node) = entry.config.node.present(key) else {
        return Ok(None);
    };
    // Keras 3 may serialise a function as {"class_name": "function", "config": "relu", …}.
    let name = node
        .as_str()
        .or_else(|| node.get("config").and_then(Node::as_str))
        .ok_or_else(|| entry.config.wrong(key, node, "the name of an activation"))?;
    let netcalc = match name {
        "linear" => return Ok(None),
        "relu" | "tanh" | "sigmoid" | "softmax" | "gelu" | "relu6" | "elu" | "softplus"
        | "leaky_relu" | "hard_swish" => name,
        "silu" | "swish" => "silu",
        "hard_silu" => "hard_swish",
        _ => {
            return Err(entry.unsupported(
                format!("activation \"{name}\" has no netcalc form"),
                node.span,
                Some(
                    "netcalc has relu, tanh, sigmoid, softmax, linear, gelu, silu, relu6, \
                     hard_swish, elu, leaky_relu and softplus",
                ),
            ));
        }
    };
    Ok(Some(Value::Text(netcalc.to_string())))
}

#[cfg(test)]
mod tests;
