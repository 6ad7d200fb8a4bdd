//! ONNX models (`.onnx`): the graph's nodes in order, each operator as the netcalc layer of its
//! kind, its weights' sizes from the initializers. ONNX tensors are NCHW; netcalc's maps are
//! H×W×C, which changes no count. The protobuf is decoded with prost from the messages in
//! `onnx/proto.rs`. Errors about a node point into a listing of the graph's nodes (one line per
//! node, `NAME: OP`), reported as `FILE (nodes)`, since the file itself is not text.

mod proto;

use super::ImportError;
use super::builder::{self, Builder};
use crate::error::Error;
use crate::source::{Source, Span};
use crate::syntax::{Description, Value};
use prost::Message;
use std::collections::HashMap;

/// The operators this importer reads, for messages.
const KNOWN: &str = "the ONNX operators Conv, Gemm, MatMul (with a bias Add), MaxPool, \
     AveragePool, GlobalAveragePool, GlobalMaxPool, BatchNormalization, Relu, Sigmoid, Tanh, \
     Softmax, Gelu, Elu, Softplus, HardSwish, LeakyRelu, Concat, Add, Flatten, Reshape (to \
     [batch, features]), Dropout and Identity";

/// Reads an ONNX model file.
pub fn read(name: &str, bytes: &[u8]) -> Result<Description, Error> {
    let container = |problem: String| {
        Error::unplaced(ImportError::Container {
            file: name.to_string(),
            expected: "an ONNX model",
            problem,
        })
    };
    let model = proto::Model::decode(bytes).map_err(|error| container(error.to_string()))?;
    let Some(graph) = model.graph else {
        return Err(container("it holds no graph".to_string()));
    };
    // The listing errors point into: one line per node.
    let mut listing = String::new();
    let mut spans = Vec::with_capacity(graph.node.len());
    for node in &graph.node {
        let start = listing.len();
        let line = format!("{}: {}", node_name(node), node.op_type);
        listing.push_str(&line);
        spans.push(Span::new(start, line.len()));
        listing.push('\n');
    }
    let source = Source::new(format!("{name} (nodes)"), listing);
    let graph_name = if graph.name.is_empty() {
        "onnx-model".to_string()
    } else {
        graph.name.clone()
    };
    let about = format!("imported from the ONNX graph `{graph_name}` ({name})");
    let mut importer = Importer {
        builder: Builder::new(&graph_name, about),
        initializers: graph
            .initializer
            .iter()
            .map(|tensor| (tensor.name.as_str(), tensor))
            .collect(),
        tensors: HashMap::new(),
        ranks: HashMap::new(),
        matmuls: HashMap::new(),
    };
    importer
        .inputs(&graph)
        .and_then(|()| {
            graph
                .node
                .iter()
                .zip(&spans)
                .try_for_each(|(node, span)| importer.node(node, *span))
        })
        .map_err(|error| Error::new(&source, error))?;
    let mut description = importer.builder.finish();
    description.conventions = Some(crate::source::Spanned::unspanned("pytorch".to_string()));
    // ONNX rounds window sizes down unless a node asks for `ceil_mode`.
    description.rounding = Some(crate::source::Spanned::unspanned("floor".to_string()));
    Ok(description)
}

fn node_name(node: &proto::Node) -> &str {
    if !node.name.is_empty() {
        &node.name
    } else {
        node.output.first().map_or("(unnamed)", String::as_str)
    }
}

struct Importer<'g> {
    builder: Builder,
    initializers: HashMap<&'g str, &'g proto::Tensor>,
    /// The netcalc layer that gives each tensor.
    tensors: HashMap<String, String>,
    /// Each tensor's rank with the batch axis, where known.
    ranks: HashMap<String, usize>,
    /// Dense layers read from a MatMul without bias, by their output tensor: a following `Add`
    /// of a bias vector becomes their bias.
    matmuls: HashMap<String, String>,
}

/// One node as the importer reads it.
struct Current<'n> {
    node: &'n proto::Node,
    name: String,
    span: Span,
}

impl Current<'_> {
    fn unsupported(&self, problem: impl Into<String>, help: Option<&str>) -> ImportError {
        ImportError::Unsupported {
            layer: self.name.clone(),
            problem: problem.into(),
            span: self.span,
            help: help.map(str::to_string),
        }
    }

    fn attribute(&self, name: &str) -> Option<&proto::Attribute> {
        self.node.attribute.iter().find(|a| a.name == name)
    }

    fn int(&self, name: &str, default: i64) -> i64 {
        self.attribute(name).map_or(default, |a| a.i)
    }

    fn float(&self, name: &str, default: f32) -> f32 {
        self.attribute(name).map_or(default, |a| a.f)
    }

    fn ints(&self, name: &str) -> Option<&[i64]> {
        self.attribute(name).map(|a| a.ints.as_slice())
    }

    fn text(&self, name: &str) -> Option<String> {
        self.attribute(name)
            .map(|a| String::from_utf8_lossy(&a.s).into_owned())
    }

    /// Positive sizes from an attribute, `count` of them.
    fn sizes(&self, name: &str, count: usize, default: u64) -> Result<Vec<u64>, ImportError> {
        match self.ints(name) {
            None => Ok(vec![default; count]),
            Some(values) if values.len() == count && values.iter().all(|v| *v > 0) => {
                Ok(values.iter().map(|v| *v as u64).collect())
            }
            Some(values) => Err(self.unsupported(
                format!("{name} {values:?}: netcalc reads {count} sizes ≥ 1"),
                None,
            )),
        }
    }

    /// Symmetric padding (`pads` = [top, left, bottom, right]) or `auto_pad`.
    fn padding(&self) -> Result<Option<Value>, ImportError> {
        match self.text("auto_pad").as_deref() {
            None | Some("NOTSET") => {}
            Some("VALID") => return Ok(None),
            Some("SAME_UPPER") => return Ok(Some(Value::Text("same".to_string()))),
            Some(other) => {
                return Err(self.unsupported(format!("auto_pad {other} has no netcalc form"), None));
            }
        }
        match self.ints("pads") {
            None => Ok(None),
            Some(pads) if pads.iter().all(|p| *p == 0) => Ok(None),
            Some([top, left, bottom, right])
                if top == bottom && left == right && *top >= 0 && *left >= 0 =>
            {
                Ok(Some(builder::window(&[*top as u64, *left as u64])))
            }
            Some(pads) => Err(self.unsupported(
                format!("pads {pads:?}: netcalc pads both sides of an axis alike"),
                None,
            )),
        }
    }
}

impl<'g> Importer<'g> {
    /// The graph's inputs that are not initializers, as input layers.
    fn inputs(&mut self, graph: &'g proto::Graph) -> Result<(), ImportError> {
        for input in &graph.input {
            if self.initializers.contains_key(input.name.as_str()) {
                continue;
            }
            let fail = |problem: String| ImportError::Unsupported {
                layer: input.name.clone(),
                problem,
                span: Span::default(),
                help: Some("export the model with fixed input sizes".to_string()),
            };
            let dims = input
                .r#type
                .as_ref()
                .and_then(|t| t.tensor_type.as_ref())
                .and_then(|t| t.shape.as_ref())
                .map(|shape| shape.dim.as_slice())
                .ok_or_else(|| fail("the input has no shape".to_string()))?;
            let mut sizes = Vec::new();
            for dim in dims.iter().skip(1) {
                match dim.dim_value {
                    Some(size) if size > 0 => sizes.push(size as u64),
                    _ => {
                        return Err(fail(format!(
                            "the input has a size of unknown value ({})",
                            dim.dim_param.as_deref().unwrap_or("none")
                        )));
                    }
                }
            }
            // NCHW to netcalc's H×W×C.
            let shape = match sizes[..] {
                [channels, height, width] => vec![height, width, channels],
                [] => return Err(fail("the input has no axes besides the batch".to_string())),
                _ if sizes.len() > 3 => {
                    return Err(fail(format!("the input has {} axes", sizes.len() + 1)));
                }
                _ => sizes.clone(),
            };
            let name = unique(&self.builder, &input.name);
            self.builder
                .layer(&name, "input")
                .set("shape", builder::shape(&shape))
                .add();
            self.tensors.insert(input.name.clone(), name);
            self.ranks.insert(input.name.clone(), dims.len());
        }
        Ok(())
    }

    /// The layers a node's data inputs come from, and its initializers.
    #[allow(clippy::type_complexity)]
    fn operands(
        &self,
        current: &Current,
    ) -> Result<(Vec<String>, Vec<&'g proto::Tensor>, Option<usize>), ImportError> {
        let mut layers = Vec::new();
        let mut weights = Vec::new();
        let mut rank = None;
        for input in current.node.input.iter().filter(|input| !input.is_empty()) {
            if let Some(tensor) = self.initializers.get(input.as_str()) {
                weights.push(*tensor);
            } else if let Some(layer) = self.tensors.get(input) {
                layers.push(layer.clone());
                rank = rank.or_else(|| self.ranks.get(input).copied());
            } else {
                return Err(current.unsupported(
                    format!("reads `{input}`, which no node before it gives"),
                    Some("netcalc reads the nodes in the file's order, inputs first"),
                ));
            }
        }
        Ok((layers, weights, rank))
    }

    fn node(&mut self, node: &'g proto::Node, span: Span) -> Result<(), ImportError> {
        let name = unique(&self.builder, node_name(node));
        let current = Current { node, name, span };
        if !node.domain.is_empty() && node.domain != "ai.onnx" {
            return Err(unknown(&current));
        }
        let Some(output) = node.output.first() else {
            return Err(current.unsupported("the node has no output", None));
        };
        let (inputs, weights, rank) = self.operands(&current)?;
        let name = current.name.clone();
        let mut out_rank = rank;
        match node.op_type.as_str() {
            "Identity" => {
                let [input] = &inputs[..] else {
                    return Err(current.unsupported("an Identity of a constant is not read", None));
                };
                self.tensors.insert(output.clone(), input.clone());
                if let Some(rank) = rank {
                    self.ranks.insert(output.clone(), rank);
                }
                return Ok(());
            }
            "Conv" => {
                let weight = weights
                    .first()
                    .filter(|w| w.dims.len() == 4)
                    .ok_or_else(|| {
                        current.unsupported(
                            "only 2-D convolutions with weights in the file are read",
                            None,
                        )
                    })?;
                let filters = positive(weight.dims[0])
                    .ok_or_else(|| current.unsupported("a weight without filters", None))?;
                let kernel = match current.ints("kernel_shape") {
                    Some(_) => current.sizes("kernel_shape", 2, 1)?,
                    None => weight.dims[2..]
                        .iter()
                        .map(|d| (*d).max(1) as u64)
                        .collect(),
                };
                let stride = current.sizes("strides", 2, 1)?;
                let dilation = current.sizes("dilations", 2, 1)?;
                let groups = current.int("group", 1);
                if groups < 1 {
                    return Err(current.unsupported(format!("group {groups}"), None));
                }
                let padding = current.padding()?;
                self.builder
                    .layer(&name, "conv2d")
                    .set("filters", builder::integer(filters))
                    .set("kernel", builder::window(&kernel))
                    .set_some("stride", not_ones(&stride))
                    .set_some("padding", padding)
                    .set_some("dilation", not_ones(&dilation))
                    .set_some(
                        "groups",
                        (groups != 1).then(|| builder::integer(groups as u64)),
                    )
                    .set_some(
                        "use_bias",
                        (weights.len() < 2).then_some(Value::Boolean(false)),
                    )
                    .inputs(&inputs)
                    .add();
                out_rank = Some(4);
            }
            "Gemm" | "MatMul" => {
                let weight = weights
                    .first()
                    .filter(|w| w.dims.len() == 2)
                    .ok_or_else(|| {
                        current.unsupported(
                            "only a product with a 2-D weight matrix in the file is read",
                            None,
                        )
                    })?;
                let gemm = node.op_type == "Gemm";
                if gemm
                    && (current.int("transA", 0) != 0
                        || current.float("alpha", 1.0) != 1.0
                        || current.float("beta", 1.0) != 1.0)
                {
                    return Err(current.unsupported(
                        "a Gemm with transA, alpha or beta other than the defaults is not read",
                        None,
                    ));
                }
                let units = if gemm && current.int("transB", 0) != 0 {
                    weight.dims[0]
                } else {
                    weight.dims[1]
                };
                let units = positive(units)
                    .ok_or_else(|| current.unsupported("a weight without units", None))?;
                let bias = gemm && weights.len() >= 2;
                self.builder
                    .layer(&name, "dense")
                    .set("units", builder::integer(units))
                    .set_some("use_bias", (!bias).then_some(Value::Boolean(false)))
                    .set_some(
                        "axis",
                        (rank == Some(4)).then(|| Value::Text("last".to_string())),
                    )
                    .inputs(&inputs)
                    .add();
                if !gemm {
                    self.matmuls.insert(output.clone(), name.clone());
                }
            }
            "Add" if weights.len() == 1 && inputs.len() == 1 => {
                // A MatMul's bias: the dense layer gets it.
                let matmul = node
                    .input
                    .iter()
                    .find_map(|input| self.matmuls.get(input))
                    .cloned();
                let vector = weights[0].dims.len() == 1;
                let Some(layer) = matmul.filter(|_| vector) else {
                    return Err(current.unsupported(
                        "an Add of a constant tensor is read only as the bias of a MatMul",
                        None,
                    ));
                };
                if let Some(decl) = self.builder.layer_mut(&layer) {
                    decl.attributes.retain(|a| a.key.value != "use_bias");
                }
                self.tensors.insert(output.clone(), layer);
                if let Some(rank) = rank {
                    self.ranks.insert(output.clone(), rank);
                }
                return Ok(());
            }
            "Add" | "Concat" => {
                if inputs.len() < 2 || !weights.is_empty() {
                    return Err(current.unsupported(
                        format!("a {} of constants is not read", node.op_type),
                        None,
                    ));
                }
                if node.op_type == "Concat" {
                    let axis = current.int("axis", 1);
                    let channels = match rank {
                        Some(4) => axis == 1 || axis == -3,
                        Some(rank) => axis == -1 || axis == rank as i64 - 1,
                        None => false,
                    };
                    if !channels {
                        return Err(current.unsupported(
                            format!("a Concat along axis {axis}: netcalc joins along the channels"),
                            None,
                        ));
                    }
                }
                let kind = if node.op_type == "Add" {
                    "add"
                } else {
                    "concat"
                };
                self.builder.layer(&name, kind).inputs(&inputs).add();
            }
            "MaxPool" | "AveragePool" => {
                if current
                    .ints("dilations")
                    .is_some_and(|d| d.iter().any(|d| *d != 1))
                {
                    return Err(current.unsupported("dilated pooling has no netcalc form", None));
                }
                let size = current.sizes("kernel_shape", 2, 0)?;
                if size.contains(&0) {
                    return Err(current.unsupported("a pooling without kernel_shape", None));
                }
                let stride = current.sizes("strides", 2, 1)?;
                let padding = current.padding()?;
                let ceil = current.int("ceil_mode", 0) != 0;
                let kind = if node.op_type == "MaxPool" {
                    "maxpool"
                } else {
                    "avgpool"
                };
                self.builder
                    .layer(&name, kind)
                    .set("size", builder::window(&size))
                    .set_some("stride", (stride != size).then(|| builder::window(&stride)))
                    .set_some("padding", padding)
                    .set_some("rounding", ceil.then(|| Value::Text("ceil".to_string())))
                    .inputs(&inputs)
                    .add();
                out_rank = Some(4);
            }
            "GlobalAveragePool" | "GlobalMaxPool" => {
                let kind = if node.op_type == "GlobalMaxPool" {
                    "global_maxpool"
                } else {
                    "global_avgpool"
                };
                self.builder.layer(&name, kind).inputs(&inputs).add();
                out_rank = Some(2);
            }
            "BatchNormalization" => {
                if weights.len() != 4 {
                    return Err(current.unsupported(
                        "a BatchNormalization without its four tensors in the file is not read",
                        None,
                    ));
                }
                self.builder
                    .layer(&name, "batchnorm")
                    .set("epsilon", number(current.float("epsilon", 1e-5)))
                    .set("momentum", number(current.float("momentum", 0.9)))
                    .inputs(&inputs)
                    .add();
            }
            "Relu" | "Sigmoid" | "Tanh" | "Gelu" | "Elu" | "Softplus" | "HardSwish"
            | "LeakyRelu" | "Softmax" => {
                let function = match node.op_type.as_str() {
                    "Relu" => "relu",
                    "Sigmoid" => "sigmoid",
                    "Tanh" => "tanh",
                    "Gelu" if current.text("approximate").as_deref() == Some("tanh") => "gelu_tanh",
                    "Gelu" => "gelu",
                    "Elu" if current.float("alpha", 1.0) == 1.0 => "elu",
                    "Softplus" => "softplus",
                    "HardSwish" => "hard_swish",
                    "LeakyRelu" if (current.float("alpha", 0.01) - 0.01).abs() < 1e-9 => {
                        "leaky_relu"
                    }
                    "Softmax" => {
                        let axis = current.int("axis", -1);
                        if !(axis == -1 || rank.is_some_and(|rank| axis == rank as i64 - 1)) {
                            return Err(current.unsupported(
                                format!("a Softmax along axis {axis}: netcalc's runs along the last axis"),
                                None,
                            ));
                        }
                        "softmax"
                    }
                    _ => {
                        return Err(current.unsupported(
                            format!("{} with these settings has no netcalc form", node.op_type),
                            Some("netcalc's leaky_relu has PyTorch's slope 0.01, its elu alpha 1"),
                        ));
                    }
                };
                self.builder
                    .layer(&name, "activation")
                    .set("function", Value::Text(function.to_string()))
                    .inputs(&inputs)
                    .add();
            }
            "Flatten" => {
                if current.int("axis", 1) != 1 {
                    return Err(current.unsupported("a Flatten at another axis than 1", None));
                }
                self.builder.layer(&name, "flatten").inputs(&inputs).add();
                out_rank = Some(2);
            }
            "Reshape" => {
                let target = weights.first().and_then(|shape| integers(shape));
                match target.as_deref() {
                    Some([first, rest]) if (-1..=1).contains(first) && *rest != 0 => {
                        self.builder.layer(&name, "flatten").inputs(&inputs).add();
                        out_rank = Some(2);
                    }
                    _ => {
                        return Err(current.unsupported(
                            "a Reshape is read only to [batch, features] (a flatten)",
                            Some(
                                "netcalc needs the target shape in the file, as [-1, N] or [1, N]",
                            ),
                        ));
                    }
                }
            }
            "Dropout" => {
                let rate = current.float("ratio", 0.5);
                self.builder
                    .layer(&name, "dropout")
                    .set("rate", number(rate))
                    .inputs(&inputs[..inputs.len().min(1)])
                    .add();
            }
            _ => return Err(unknown(&current)),
        }
        self.tensors.insert(output.clone(), name);
        if let Some(rank) = out_rank {
            self.ranks.insert(output.clone(), rank);
        }
        Ok(())
    }
}

/// A layer name not yet taken: the node's, or the node's with a number.
fn unique(builder: &Builder, name: &str) -> String {
    let name = if name.is_empty() { "node" } else { name };
    if !builder.has(name) {
        return name.to_string();
    }
    (1..)
        .map(|n| format!("{name}_{n}"))
        .find(|candidate| !builder.has(candidate))
        .unwrap_or_default()
}

fn unknown(current: &Current) -> ImportError {
    let domain = if current.node.domain.is_empty() {
        String::new()
    } else {
        format!("{}.", current.node.domain)
    };
    ImportError::UnknownClass {
        framework: "ONNX operator",
        class: format!("{domain}{}", current.node.op_type),
        layer: current.name.clone(),
        span: current.span,
        known: KNOWN.to_string(),
    }
}

/// An f32 attribute as the number it was written as (`1e-5`, not 9.999999747378752e-6).
fn number(value: f32) -> Value {
    Value::Number(value.to_string().parse().unwrap_or(f64::from(value)))
}

fn positive(value: i64) -> Option<u64> {
    u64::try_from(value).ok().filter(|value| *value > 0)
}

fn not_ones(values: &[u64]) -> Option<Value> {
    values
        .iter()
        .any(|value| *value != 1)
        .then(|| builder::window(values))
}

/// The values of a small int64 tensor (a shape).
fn integers(tensor: &proto::Tensor) -> Option<Vec<i64>> {
    if tensor.data_type != proto::INT64 {
        return None;
    }
    if !tensor.int64_data.is_empty() {
        return Some(tensor.int64_data.clone());
    }
    if !tensor.raw_data.len().is_multiple_of(8) || tensor.raw_data.len() > 8 * 8 {
        return None;
    }
    Some(
        tensor
            .raw_data
            .chunks_exact(8)
            .map(|bytes| i64::from_le_bytes(bytes.try_into().unwrap_or_default()))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_that_are_not_onnx_are_an_error() {
        for bytes in [&b"not a model"[..], &[0x0a, 0xff, 0xff][..], &[][..]] {
            assert!(read("x.onnx", bytes).is_err(), "{bytes:?}");
        }
    }

    #[test]
    fn an_unknown_operator_points_at_its_node() {
        let model = proto::Model {
            ir_version: 8,
            producer_name: String::new(),
            graph: Some(proto::Graph {
                node: vec![proto::Node {
                    input: vec!["x".to_string()],
                    output: vec!["y".to_string()],
                    name: "odd".to_string(),
                    op_type: "Mystery".to_string(),
                    ..Default::default()
                }],
                name: "g".to_string(),
                input: vec![proto::ValueInfo {
                    name: "x".to_string(),
                    r#type: Some(proto::Type {
                        tensor_type: Some(proto::TensorType {
                            elem_type: proto::FLOAT,
                            shape: Some(proto::TensorShape {
                                dim: vec![
                                    proto::Dimension {
                                        dim_value: None,
                                        dim_param: Some("N".to_string()),
                                    },
                                    proto::Dimension {
                                        dim_value: Some(4),
                                        dim_param: None,
                                    },
                                ],
                            }),
                        }),
                    }),
                }],
                ..Default::default()
            }),
        };
        let error = read("m.onnx", &model.encode_to_vec()).expect_err("unknown operator");
        let text = crate::cli::render_error(&error);
        assert!(
            text.contains("`Mystery`") && text.contains("odd: Mystery"),
            "{text}"
        );
    }
}
