//! The part of ONNX's protobuf schema (onnx.proto, IR version 3 and later) that the importer
//! reads, as prost messages with onnx.proto's field numbers. Fields not declared here (subgraphs,
//! sparse tensors, metadata, training information) are skipped by the decoder unread.

/// `ModelProto`: the file.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Model {
    /// `ir_version`.
    #[prost(int64, tag = "1")]
    pub ir_version: i64,
    /// `producer_name`.
    #[prost(string, tag = "2")]
    pub producer_name: String,
    /// `graph`.
    #[prost(message, optional, tag = "7")]
    pub graph: Option<Graph>,
}

/// `GraphProto`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Graph {
    /// `node`, in topological order.
    #[prost(message, repeated, tag = "1")]
    pub node: Vec<Node>,
    /// `name`.
    #[prost(string, tag = "2")]
    pub name: String,
    /// `initializer`: the weights.
    #[prost(message, repeated, tag = "5")]
    pub initializer: Vec<Tensor>,
    /// `input` (before IR version 4 it also lists the initializers).
    #[prost(message, repeated, tag = "11")]
    pub input: Vec<ValueInfo>,
    /// `output`.
    #[prost(message, repeated, tag = "12")]
    pub output: Vec<ValueInfo>,
}

/// `NodeProto`: one operator application.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Node {
    /// `input`: tensor names.
    #[prost(string, repeated, tag = "1")]
    pub input: Vec<String>,
    /// `output`: tensor names.
    #[prost(string, repeated, tag = "2")]
    pub output: Vec<String>,
    /// `name`.
    #[prost(string, tag = "3")]
    pub name: String,
    /// `op_type`.
    #[prost(string, tag = "4")]
    pub op_type: String,
    /// `attribute`.
    #[prost(message, repeated, tag = "5")]
    pub attribute: Vec<Attribute>,
    /// `domain` (empty for the standard operators).
    #[prost(string, tag = "7")]
    pub domain: String,
}

/// `AttributeProto` (the scalar, text and list forms).
#[derive(Clone, PartialEq, prost::Message)]
pub struct Attribute {
    /// `name`.
    #[prost(string, tag = "1")]
    pub name: String,
    /// `f`.
    #[prost(float, tag = "2")]
    pub f: f32,
    /// `i`.
    #[prost(int64, tag = "3")]
    pub i: i64,
    /// `s`.
    #[prost(bytes = "vec", tag = "4")]
    pub s: Vec<u8>,
    /// `floats`.
    #[prost(float, repeated, tag = "7")]
    pub floats: Vec<f32>,
    /// `ints`.
    #[prost(int64, repeated, tag = "8")]
    pub ints: Vec<i64>,
}

/// `TensorProto`: an initializer's shape and, for small integer tensors (shapes), its values.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Tensor {
    /// `dims`.
    #[prost(int64, repeated, tag = "1")]
    pub dims: Vec<i64>,
    /// `data_type` (1 float, 7 int64, …).
    #[prost(int32, tag = "2")]
    pub data_type: i32,
    /// `int64_data`.
    #[prost(int64, repeated, tag = "7")]
    pub int64_data: Vec<i64>,
    /// `name`.
    #[prost(string, tag = "8")]
    pub name: String,
    /// `raw_data`: the values as little-endian bytes.
    #[prost(bytes = "vec", tag = "9")]
    pub raw_data: Vec<u8>,
}

/// `ValueInfoProto`: a graph input's or output's name and type.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ValueInfo {
    /// `name`.
    #[prost(string, tag = "1")]
    pub name: String,
    /// `type`.
    #[prost(message, optional, tag = "2")]
    pub r#type: Option<Type>,
}

/// `TypeProto`, its tensor form only.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Type {
    /// `tensor_type`.
    #[prost(message, optional, tag = "1")]
    pub tensor_type: Option<TensorType>,
}

/// `TypeProto.Tensor`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TensorType {
    /// `elem_type`.
    #[prost(int32, tag = "1")]
    pub elem_type: i32,
    /// `shape`.
    #[prost(message, optional, tag = "2")]
    pub shape: Option<TensorShape>,
}

/// `TensorShapeProto`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TensorShape {
    /// `dim`.
    #[prost(message, repeated, tag = "1")]
    pub dim: Vec<Dimension>,
}

/// `TensorShapeProto.Dimension`: a size or a symbolic name (the batch).
#[derive(Clone, PartialEq, prost::Message)]
pub struct Dimension {
    /// `dim_value`.
    #[prost(int64, optional, tag = "1")]
    pub dim_value: Option<i64>,
    /// `dim_param`.
    #[prost(string, optional, tag = "2")]
    pub dim_param: Option<String>,
}

/// `TensorProto.DataType.FLOAT`.
#[cfg(test)]
pub const FLOAT: i32 = 1;
/// `TensorProto.DataType.INT64`.
pub const INT64: i32 = 7;
