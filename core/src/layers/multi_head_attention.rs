//! `multi_head_attention`: scaled dot-product attention with h heads (Vaswani et al. 2017), as
//! Keras' `MultiHeadAttention(num_heads, key_dim, value_dim)` and PyTorch's
//! `nn.MultiheadAttention(embed_dim, num_heads)` compute it.
//!
//! Inputs are sequences: one (self-attention: query, key and value are the same sequence), two
//! (cross-attention, Keras' `(query, value)`: the key is the value) or three (`query, value,
//! key`, Keras' order). With query Lq×Dq, key Lk×Dk and value Lk×Dv, each head projects
//! Q = X_q·W_q + b_q (dk values per position), K = X_k·W_k + b_k (dk) and V = X_v·W_v + b_v (dv),
//! then A = softmax(Q·Kᵀ/√dk) over the keys (with `causal=true`, query i sees keys 1…i only,
//! Keras' lower-triangular mask) and O = A·V; the heads' O side by side (h·dv values) are
//! projected to the output, Y = O·W_o + b_o, Lq×Do with Do = Dq unless `output_dim` says.
//! `key_dim` defaults to Dq/h (PyTorch's head size, embed_dim/num_heads); `value_dim` to
//! `key_dim`.
//!
//! Parameters, as Keras' four EinsumDense layers hold them: Dq·h·dk + h·dk, Dk·h·dk + h·dk,
//! Dv·h·dv + h·dv and h·dv·Do + Do (no biases with `use_bias=false`). PyTorch's in_proj (3E×E +
//! 3E) and out_proj (E×E + E) are the same numbers with dk = dv = E/h: 4E² + 4E.
//!
//! Connections are the weighted links of the four projections (each projected value reads its
//! position's D inputs, and its bias). MACs are those links plus the two products between
//! positions that have no weights: Q·Kᵀ, h·Lq·Lk·dk, and A·V, h·Lq·Lk·dv. With `causal=true`
//! the printed MACs stay those of a dense implementation (as Keras and PyTorch compute the full
//! Lq×Lk scores and mask them); `explain` also gives the count of a kernel that skips the masked
//! pairs. The softmax, the scaling by 1/√dk and the mask are not MACs.
//!
//! Grouped-query attention (Ainslie et al. 2023; Llama 2 70B, TinyLlama, Mistral): `kv_heads`
//! key/value heads, a divisor of `heads`, each shared by heads/kv_heads consecutive query heads
//! (transformers' `repeat_kv`). The key and value projections then have kv_heads·dk and
//! kv_heads·dv outputs; the products between positions are still one per query head. The
//! default, kv_heads = heads, is ordinary multi-head attention with unchanged numbers.
//!
//! The rotary position embedding (Su et al. 2021, RoFormer; Llama, Mistral) is an attribute here,
//! `rotary=true` with base `rope_theta` (default 10000; `rope_theta` alone implies `rotary=true`),
//! not a kind of its own: it turns the
//! projected queries and keys of each head after the projections and before Q·Kᵀ, inside what
//! this kind computes, so a separate layer could not sit where it acts (and it never touches the
//! values). It has no parameters. In each head's dk values at position p (0, 1, … along each
//! sequence), the pair (i, i + dk/2) is turned by the angle p·θ^(−2i/dk), as transformers'
//! `rotate_half` does; dk must be even. Its MACs are not counted (4 multiplications per pair, by
//! constants, like the scaling by 1/√dk, and left out as fvcore, ptflops and the Llama papers'
//! 6N-style estimates leave it out); `explain` says so.

use super::recurrence::{add_transposed_product, product, product_transposed};
use super::sizes::extent;
use super::{
    AttributeReader, Connections, DeclarationError, Explanation, Forward, Gradients, Inference,
    Kind, Layer, ParameterGroup, ParameterSpec, Pass, ReceptiveStep, Role, ShapeError, values,
};
use crate::expression::Expression;
use crate::shape::{Rounding, Shape};
use crate::tensor::{Compute, Tensor, TensorError};

/// The catalogue entry.
pub const KIND: Kind = Kind {
    name: "multi_head_attention",
    aliases: &["attention", "mha"],
    positionals: &["heads", "key_dim"],
    summary: "multi-head attention over 1 (self), 2 (query, value) or 3 (query, value, key) sequences: heads, key_dim (default D/heads), value_dim, output_dim, use_bias, causal, kv_heads (grouped-query), rotary and rope_theta (rotary position embedding)",
    build,
};

#[derive(Debug)]
struct Attention {
    heads: u64,
    /// As written; `None` takes Dq/h.
    key_dim: Option<u64>,
    value_dim: Option<u64>,
    output_dim: Option<u64>,
    use_bias: bool,
    causal: bool,
    /// Key/value heads (grouped-query attention); `None` is one per query head.
    kv_heads: Option<u64>,
    /// The rotary position embedding's base θ, when `rotary=true`.
    rotary: Option<f64>,
    /// Whether `rope_theta` was written (else 10000, not shown).
    theta_written: bool,
}

/// The rotary embedding's base when `rope_theta` is not written: Su et al.'s and Llama's 10000.
const DEFAULT_THETA: f64 = 10000.0;

fn build(reader: &mut AttributeReader) -> Result<Box<dyn Layer>, DeclarationError> {
    let heads = reader.required_count("heads")?;
    let key_dim = reader.count("key_dim")?;
    let value_dim = reader.count("value_dim")?;
    let output_dim = reader.count("output_dim")?;
    let use_bias = reader.boolean("use_bias")?.unwrap_or(true);
    let causal = reader.boolean("causal")?.unwrap_or(false);
    let kv_heads = reader.count("kv_heads")?;
    if let Some(kv_heads) = kv_heads
        && !heads.is_multiple_of(kv_heads)
        && let Some(value) = reader.value("kv_heads")
    {
        return Err(reader.invalid("kv_heads", value, &format!("must divide heads ({heads})")));
    }
    // `rope_theta` alone asks for the rotary embedding; beside `rotary=false` it is an error.
    let rotary = reader.boolean("rotary")?;
    let theta = reader.number_where("rope_theta", "must be a number > 1", |x| x > 1.0)?;
    if theta.is_some()
        && rotary == Some(false)
        && let Some(value) = reader.value("rope_theta")
    {
        return Err(reader.invalid("rope_theta", value, "needs rotary=true"));
    }
    let rotary = rotary.unwrap_or(theta.is_some());
    Ok(Box::new(Attention {
        heads,
        key_dim,
        value_dim,
        output_dim,
        use_bias,
        causal,
        kv_heads,
        rotary: rotary.then_some(theta.unwrap_or(DEFAULT_THETA)),
        theta_written: theta.is_some(),
    }))
}

/// The sizes of one attention layer on its inputs.
#[derive(Debug, Clone, Copy)]
struct Sizes {
    heads: u64,
    kv_heads: u64,
    query_length: u64,
    key_length: u64,
    query_features: u64,
    key_features: u64,
    value_features: u64,
    key_dim: u64,
    value_dim: u64,
    output_dim: u64,
}

fn sequence(shape: &Shape) -> Result<(u64, u64), ShapeError> {
    values(shape)?;
    shape.sequence().ok_or_else(|| ShapeError::Rank {
        expected: "sequences L×D (steps × features)",
        found: shape.clone(),
    })
}

impl Attention {
    fn sizes(&self, inputs: &[Shape]) -> Result<Sizes, ShapeError> {
        let (query, value, key) = match inputs {
            [query] => (query, query, query),
            [query, value] => (query, value, value),
            [query, value, key] => (query, value, key),
            _ => {
                return Err(ShapeError::InputCount {
                    expected: "1 (self-attention), 2 (query, value) or 3 (query, value, key) inputs",
                    found: inputs.len(),
                });
            }
        };
        let (query_length, query_features) = sequence(query)?;
        let (value_length, value_features) = sequence(value)?;
        let (key_length, key_features) = sequence(key)?;
        if key_length != value_length {
            return Err(ShapeError::Mismatch(format!(
                "the key has {key_length} steps and the value {value_length}: they must be equal"
            )));
        }
        let key_dim = match self.key_dim {
            Some(dim) => dim,
            None if query_features % self.heads == 0 => query_features / self.heads,
            None => {
                return Err(ShapeError::Mismatch(format!(
                    "{query_features} query features do not split into {} heads; give key_dim",
                    self.heads
                )));
            }
        };
        if self.rotary.is_some() && !key_dim.is_multiple_of(2) {
            return Err(ShapeError::Mismatch(format!(
                "the rotary embedding turns pairs of a head's {key_dim} key values: key_dim must be even"
            )));
        }
        Ok(Sizes {
            heads: self.heads,
            kv_heads: self.kv_heads.unwrap_or(self.heads),
            query_length,
            key_length,
            query_features,
            key_features,
            value_features,
            key_dim,
            value_dim: self.value_dim.unwrap_or(key_dim),
            output_dim: self.output_dim.unwrap_or(query_features),
        })
    }

    /// The four projections: (name, positions, inputs per value, values per position), the
    /// parameter names of kernel and bias.
    fn projections(&self, sizes: &Sizes) -> [(Expression, u64, [Expression; 2], Names); 4] {
        let n = Expression::Number;
        let Sizes {
            heads,
            kv_heads,
            query_length,
            key_length,
            query_features,
            key_features,
            value_features,
            key_dim,
            value_dim,
            output_dim,
        } = *sizes;
        let head_values = |dim| Expression::product(vec![n(heads), n(dim)]);
        let kv_values = |dim| Expression::product(vec![n(kv_heads), n(dim)]);
        [
            (
                n(query_length),
                query_features,
                [n(query_features), head_values(key_dim)],
                QUERY,
            ),
            (
                n(key_length),
                key_features,
                [n(key_features), kv_values(key_dim)],
                KEY,
            ),
            (
                n(key_length),
                value_features,
                [n(value_features), kv_values(value_dim)],
                VALUE,
            ),
            (
                n(query_length),
                heads * value_dim,
                [head_values(value_dim), n(output_dim)],
                OUTPUT,
            ),
        ]
    }

    /// The projections' links: Σ positions·values·inputs (with bias: ·(inputs+1)).
    fn links(&self, sizes: &Sizes, with_bias: bool) -> Expression {
        Expression::sum(
            self.projections(sizes)
                .into_iter()
                .map(|(positions, _, [inputs, outputs], _)| {
                    let fan_in = if with_bias && self.use_bias {
                        Expression::sum(vec![inputs, Expression::Number(1)])
                    } else {
                        inputs
                    };
                    Expression::product(vec![positions, outputs, fan_in])
                })
                .collect(),
        )
    }

    /// h·Lq·Lk·dk + h·Lq·Lk·dv, the products between positions, with `pairs` query–key pairs
    /// (Lq·Lk dense).
    fn between_positions(&self, sizes: &Sizes, pairs: Expression) -> [Expression; 2] {
        [sizes.key_dim, sizes.value_dim].map(|dim| {
            Expression::product(vec![
                Expression::Number(sizes.heads),
                pairs.clone(),
                Expression::Number(dim),
            ])
        })
    }

    /// The query–key pairs a causal mask leaves: query i sees min(i, Lk) keys.
    fn unmasked_pairs(sizes: &Sizes) -> u64 {
        (1..=sizes.query_length)
            .map(|i| i.min(sizes.key_length))
            .sum()
    }
}

/// A projection's parameter names: kernel and bias, for the analysis and the executor.
type Names = [&'static str; 4];
const QUERY: Names = ["query kernel", "query bias", "query_kernel", "query_bias"];
const KEY: Names = ["key kernel", "key bias", "key_kernel", "key_bias"];
const VALUE: Names = ["value kernel", "value bias", "value_kernel", "value_bias"];
const OUTPUT: Names = [
    "output kernel",
    "output bias",
    "output_kernel",
    "output_bias",
];

impl Layer for Attention {
    fn caption(&self) -> super::Caption {
        // What `netcalc draw` writes after the kind: the settings the reports show.
        super::Caption::text(self.settings())
    }

    fn settings(&self) -> String {
        let mut parts = vec![format!("{} heads", self.heads)];
        if let Some(dim) = self.key_dim {
            parts.push(format!("key {dim}"));
        }
        if let Some(dim) = self.value_dim {
            parts.push(format!("value {dim}"));
        }
        if let Some(dim) = self.output_dim {
            parts.push(format!("output {dim}"));
        }
        if let Some(kv_heads) = self.kv_heads {
            parts.push(format!("{kv_heads} kv heads"));
        }
        if let Some(theta) = self.rotary {
            parts.push("rotary".to_string());
            if self.theta_written {
                parts.push(format!("rope_theta={theta}"));
            }
        }
        if self.causal {
            parts.push("causal".to_string());
        }
        if !self.use_bias {
            parts.push("no bias".to_string());
        }
        parts.join(", ")
    }

    fn infer(&self, inputs: &[Shape], _: Rounding) -> Result<Inference, ShapeError> {
        let sizes = self.sizes(inputs)?;
        let largest = [
            self.links(&sizes, true),
            Expression::sum(
                self.between_positions(
                    &sizes,
                    Expression::product_of(&[sizes.query_length, sizes.key_length]),
                )
                .into_iter()
                .chain([self.links(&sizes, false)])
                .collect(),
            ),
        ];
        let heads_values = sizes
            .heads
            .max(sizes.kv_heads)
            .checked_mul(sizes.key_dim.max(sizes.value_dim))
            .and_then(|v| v.checked_mul(sizes.query_length.max(sizes.key_length)));
        if largest.iter().any(|e| e.count().is_err()) || heads_values.is_none() {
            return Err(ShapeError::Overflow("the layer's size".to_string()));
        }
        Ok(Inference::plain(Shape::new(vec![
            sizes.query_length,
            sizes.output_dim,
        ])))
    }

    fn parameters(&self, inputs: &[Shape], _: &Shape) -> Vec<ParameterGroup> {
        let Ok(sizes) = self.sizes(inputs) else {
            return Vec::new();
        };
        let mut groups = Vec::new();
        for (_, _, [fan_in, outputs], names) in self.projections(&sizes) {
            groups.push(ParameterGroup {
                name: names[0],
                count: Expression::product(vec![fan_in, outputs.clone()]),
                trainable: true,
                buffer: false,
            });
            if self.use_bias {
                groups.push(ParameterGroup {
                    name: names[1],
                    count: outputs,
                    trainable: true,
                    buffer: false,
                });
            }
        }
        groups
    }

    fn connections(&self, inputs: &[Shape], _: &Shape) -> Connections {
        match self.sizes(inputs) {
            Ok(sizes) => Connections {
                without_bias: self.links(&sizes, false),
                with_bias: self.links(&sizes, true),
            },
            Err(_) => Connections::none(),
        }
    }

    fn receptive_step(&self, _: &[Shape]) -> ReceptiveStep {
        ReceptiveStep::Whole
    }

    fn macs(&self, inputs: &[Shape], _: &Shape) -> Expression {
        let Ok(sizes) = self.sizes(inputs) else {
            return Expression::Number(0);
        };
        let pairs = Expression::product_of(&[sizes.query_length, sizes.key_length]);
        let mut terms = vec![self.links(&sizes, false)];
        terms.extend(self.between_positions(&sizes, pairs));
        Expression::sum(terms)
    }

    /// Per projection (query, key, value, output): `…_kernel` `[inputs, outputs]`, then
    /// `…_bias` `[outputs]`; the heads lie side by side in the columns (head j's query values
    /// are columns j·dk … (j+1)·dk).
    fn parameter_specs(&self, inputs: &[Shape]) -> Vec<ParameterSpec> {
        let Ok(sizes) = self.sizes(inputs) else {
            return Vec::new();
        };
        let mut specs = Vec::new();
        for (_, fan_in, [_, outputs], names) in self.projections(&sizes) {
            let rows = extent(fan_in);
            let columns = extent(outputs.count().unwrap_or(0));
            specs.push(ParameterSpec {
                name: names[2],
                shape: vec![rows, columns],
                trainable: true,
                active: rows.saturating_mul(columns),
                role: Role::Weights {
                    fan_in: rows,
                    fan_out: columns,
                },
                mask: None,
            });
            if self.use_bias {
                specs.push(ParameterSpec {
                    name: names[3],
                    ..ParameterSpec::bias(columns)
                });
            }
        }
        specs
    }

    fn forward(
        &self,
        parameters: &mut [Tensor],
        inputs: &[&Tensor],
        pass: &mut Pass,
    ) -> Result<Forward, TensorError> {
        let run = Run::new(self, parameters, inputs)?;
        let saved = run.forward(pass.compute)?;
        let output = Tensor::from_vec(
            &[run.batch, run.query_length, run.output_dim],
            saved.output.clone(),
        )?;
        Ok(Forward {
            output,
            saved: Box::new(saved),
        })
    }

    fn backward(
        &self,
        parameters: &[Tensor],
        inputs: &[&Tensor],
        forward: &Forward,
        output_gradient: &Tensor,
        compute: Compute,
    ) -> Result<Gradients, TensorError> {
        let run = Run::new(self, parameters, inputs)?;
        let saved = forward
            .saved
            .downcast_ref::<Saved>()
            .ok_or_else(|| TensorError::Geometry {
                reason: "attention's backward pass needs its own forward pass".to_string(),
            })?;
        if output_gradient.shape() != forward.output.shape() {
            return Err(TensorError::Geometry {
                reason: "the output gradient has another shape than the output".to_string(),
            });
        }
        run.backward(saved, output_gradient.data(), compute)
    }

    fn explanation(&self, inputs: &[Shape], _: &Shape) -> Option<Explanation> {
        let sizes = self.sizes(inputs).ok()?;
        let Sizes {
            heads,
            kv_heads,
            query_length,
            key_length,
            query_features,
            key_features,
            value_features,
            key_dim,
            value_dim,
            output_dim,
        } = sizes;
        let bias = if self.use_bias {
            "a kernel and a bias"
        } else {
            "a kernel"
        };
        let parameters = if kv_heads == heads {
            format!(
                "an attention layer has 4 projections (query, key, value to {heads} heads of {key_dim}, \
                 {key_dim} and {value_dim} values, and the {heads}·{value_dim} values back to the \
                 output), each with {bias}"
            )
        } else {
            format!(
                "an attention layer has 4 projections (query to {heads} heads of {key_dim} values, \
                 key and value to {kv_heads} heads of {key_dim} and {value_dim} values, each shared \
                 by {} query heads, and the {heads}·{value_dim} values back to the output), each \
                 with {bias}",
                heads / kv_heads.max(1)
            )
        };
        let dense = Expression::sum(
            self.between_positions(&sizes, Expression::product_of(&[query_length, key_length]))
                .to_vec(),
        );
        let dense_count = dense.count().ok()?;
        let mut macs = format!(
            "the projections' {} plus Q·Kᵀ and A·V, {dense} = {dense_count} between positions",
            self.links(&sizes, false).count().ok()?
        );
        if self.causal {
            let pairs = Self::unmasked_pairs(&sizes);
            let masked = Expression::sum(
                self.between_positions(&sizes, Expression::Number(pairs))
                    .to_vec(),
            );
            let masked_count = masked.count().ok()?;
            let total = self.links(&sizes, false).count().ok()? + masked_count;
            macs.push_str(&format!(
                " (counted dense, as Keras and PyTorch compute the masked scores too; a kernel \
                 that skips the masked pairs needs {masked} = {masked_count} there, {total} in all)"
            ));
        }
        if self.rotary.is_some() {
            macs.push_str(
                "; the rotary embedding's turns of the queries and keys, multiplications by \
                 constants, are not counted",
            );
        }
        let words = format!(
            "each projected value reads the inputs of its position: the query's {query_length}·{heads}·{key_dim} \
                 values {query_features} inputs each, the key's {key_length}·{kv_heads}·{key_dim} values {key_features} each, \
                 the value's {key_length}·{kv_heads}·{value_dim} values {value_features} each, and the output's \
                 {query_length}·{output_dim} values the {heads}·{value_dim} values of the heads"
        );
        Some(Explanation {
            parameters,
            units: format!(
                "at each of the {query_length} query and {key_length} key/value positions, each projected value"
            ),
            links: None,
            macs: Some(macs),
            size_rule: None,
            connections: Some([words.clone(), format!("{words}, and its bias")]),
        })
    }
}

/// One pass's tensors and sizes (as usize).
struct Run<'a> {
    parameters: &'a [Tensor],
    inputs: &'a [&'a Tensor],
    use_bias: bool,
    causal: bool,
    rotary: Option<f64>,
    batch: usize,
    heads: usize,
    kv_heads: usize,
    query_length: usize,
    key_length: usize,
    features: [usize; 3],
    key_dim: usize,
    value_dim: usize,
    output_dim: usize,
}

/// What the forward pass keeps: the projections, the attention weights and the heads' outputs.
struct Saved {
    /// Q, K, V: `[batch·L, h·d]`.
    projected: [Vec<f32>; 3],
    /// A: `[batch, heads, Lq, Lk]`.
    weights: Vec<f32>,
    /// The heads side by side: `[batch·Lq, h·dv]`.
    heads: Vec<f32>,
    output: Vec<f32>,
}

impl<'a> Run<'a> {
    fn new(
        layer: &Attention,
        parameters: &'a [Tensor],
        inputs: &'a [&'a Tensor],
    ) -> Result<Run<'a>, TensorError> {
        let shapes: Vec<Shape> = inputs
            .iter()
            .map(|tensor| Shape::new(tensor.shape().iter().skip(1).map(|&d| d as u64).collect()))
            .collect();
        let sizes = layer
            .sizes(&shapes)
            .map_err(|error| TensorError::Geometry {
                reason: error.to_string(),
            })?;
        let batch = inputs.first().map_or(0, |t| t.shape()[0]);
        if inputs.iter().any(|t| t.shape()[0] != batch) {
            return Err(TensorError::Geometry {
                reason: "attention's inputs have different batch sizes".to_string(),
            });
        }
        let specs = layer.parameter_specs(&shapes);
        if specs.len() != parameters.len()
            || specs
                .iter()
                .zip(parameters)
                .any(|(spec, tensor)| spec.shape.as_slice() != tensor.shape())
        {
            return Err(TensorError::Geometry {
                reason: "attention's parameter tensors do not fit its inputs".to_string(),
            });
        }
        Ok(Run {
            parameters,
            inputs,
            use_bias: layer.use_bias,
            causal: layer.causal,
            rotary: layer.rotary,
            batch,
            heads: extent(sizes.heads),
            kv_heads: extent(sizes.kv_heads).max(1),
            query_length: extent(sizes.query_length),
            key_length: extent(sizes.key_length),
            features: [
                extent(sizes.query_features),
                extent(sizes.key_features),
                extent(sizes.value_features),
            ],
            key_dim: extent(sizes.key_dim),
            value_dim: extent(sizes.value_dim),
            output_dim: extent(sizes.output_dim),
        })
    }

    /// The input read by query (0), key (1) and value (2).
    fn source(&self, projection: usize) -> usize {
        match (self.inputs.len(), projection) {
            (1, _) | (_, 0) => 0,
            (2, _) => 1,
            (_, 1) => 2,
            _ => 1,
        }
    }

    /// The key/value head that query head `head` reads: consecutive query heads share one, as
    /// transformers' `repeat_kv` repeats each key/value head.
    fn kv_head(&self, head: usize) -> usize {
        head / (self.heads / self.kv_heads).max(1)
    }

    /// The rotary position embedding (Su et al. 2021) as transformers' Llama applies it
    /// (`rotate_half`): in each head's d values at position p, the pair (i, i + d/2) is turned by
    /// the angle p·θ^(−2i/d), i < d/2; `inverse` turns back. `values` is `[batch·length,
    /// heads·d]`; nothing happens without `rotary`.
    fn rotate(&self, values: &mut [f32], length: usize, heads: usize, inverse: bool) {
        let Some(theta) = self.rotary else {
            return;
        };
        let dk = self.key_dim;
        let half = dk / 2;
        let sign = if inverse { -1.0 } else { 1.0 };
        let turns: Vec<(f32, f32)> = (0..length)
            .flat_map(|position| {
                (0..half).map(move |i| {
                    let angle = position as f64 * theta.powf(-2.0 * i as f64 / dk as f64);
                    (angle.cos() as f32, sign * angle.sin() as f32)
                })
            })
            .collect();
        for (row, values) in values.chunks_exact_mut((heads * dk).max(1)).enumerate() {
            let turns = &turns[(row % length.max(1)) * half..][..half];
            for head in values.chunks_exact_mut(dk.max(1)) {
                let (first, second) = head.split_at_mut(half);
                for ((x1, x2), &(cos, sin)) in first.iter_mut().zip(second).zip(turns) {
                    let (a, b) = (*x1, *x2);
                    *x1 = a * cos - b * sin;
                    *x2 = b * cos + a * sin;
                }
            }
        }
    }

    /// Kernel and bias of projection `which` (0 query, 1 key, 2 value, 3 output).
    fn weights(&self, which: usize) -> (&Tensor, Option<&Tensor>) {
        let per = if self.use_bias { 2 } else { 1 };
        let kernel = &self.parameters[which * per];
        let bias = self.use_bias.then(|| &self.parameters[which * per + 1]);
        (kernel, bias)
    }

    /// Rows, inputs and outputs of projection `which`.
    fn projection_sizes(&self, which: usize) -> (usize, usize, usize) {
        let head_keys = self.heads * self.key_dim;
        let head_values = self.heads * self.value_dim;
        let kv_keys = self.kv_heads * self.key_dim;
        let kv_values = self.kv_heads * self.value_dim;
        match which {
            0 => (self.batch * self.query_length, self.features[0], head_keys),
            1 => (self.batch * self.key_length, self.features[1], kv_keys),
            2 => (self.batch * self.key_length, self.features[2], kv_values),
            _ => (self.batch * self.query_length, head_values, self.output_dim),
        }
    }

    /// x·W + b.
    fn project(&self, which: usize, x: &[f32], compute: Compute) -> Result<Vec<f32>, TensorError> {
        let (rows, inputs, outputs) = self.projection_sizes(which);
        let (kernel, bias) = self.weights(which);
        let mut result = vec![0.0f32; rows * outputs];
        if let Some(bias) = bias {
            for row in result.chunks_exact_mut(outputs.max(1)) {
                row.copy_from_slice(bias.data());
            }
        }
        product(
            (rows, inputs, outputs),
            x,
            kernel.data(),
            &mut result,
            bias.is_some(),
            compute,
        )?;
        Ok(result)
    }

    fn forward(&self, compute: Compute) -> Result<Saved, TensorError> {
        let projected = [0, 1, 2]
            .map(|which| self.project(which, self.inputs[self.source(which)].data(), compute));
        let [query, key, value] = projected;
        let mut projected = [query?, key?, value?];
        self.rotate(&mut projected[0], self.query_length, self.heads, false);
        self.rotate(&mut projected[1], self.key_length, self.kv_heads, false);
        let (lq, lk, dk, dv, h, hk) = (
            self.query_length,
            self.key_length,
            self.key_dim,
            self.value_dim,
            self.heads,
            self.kv_heads,
        );
        let scale = 1.0 / (dk as f32).sqrt();
        let mut weights = vec![0.0f32; self.batch * h * lq * lk];
        let mut heads = vec![0.0f32; self.batch * lq * h * dv];
        for example in 0..self.batch {
            for head in 0..h {
                let kv = self.kv_head(head);
                let scores = &mut weights[((example * h + head) * lq) * lk..][..lq * lk];
                for i in 0..lq {
                    let q = &projected[0][(example * lq + i) * h * dk + head * dk..][..dk];
                    let row = &mut scores[i * lk..(i + 1) * lk];
                    for (j, score) in row.iter_mut().enumerate() {
                        let k = &projected[1][(example * lk + j) * hk * dk + kv * dk..][..dk];
                        *score = if self.causal && j > i {
                            f32::NEG_INFINITY
                        } else {
                            q.iter().zip(k).map(|(a, b)| a * b).sum::<f32>() * scale
                        };
                    }
                    let largest = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                    let mut total = 0.0;
                    for score in row.iter_mut() {
                        *score = (*score - largest).exp();
                        total += *score;
                    }
                    for score in row.iter_mut() {
                        *score /= total;
                    }
                    let out = &mut heads[(example * lq + i) * h * dv + head * dv..][..dv];
                    for (j, &a) in row.iter().enumerate() {
                        let v = &projected[2][(example * lk + j) * hk * dv + kv * dv..][..dv];
                        for (o, x) in out.iter_mut().zip(v) {
                            *o += a * x;
                        }
                    }
                }
            }
        }
        let output = self.project(3, &heads, compute)?;
        Ok(Saved {
            projected,
            weights,
            heads,
            output,
        })
    }

    fn backward(
        &self,
        saved: &Saved,
        upstream: &[f32],
        compute: Compute,
    ) -> Result<Gradients, TensorError> {
        let (lq, lk, dk, dv, h, hk) = (
            self.query_length,
            self.key_length,
            self.key_dim,
            self.value_dim,
            self.heads,
            self.kv_heads,
        );
        let scale = 1.0 / (dk as f32).sqrt();
        let mut parameter_gradients: Vec<Tensor> = Vec::new();
        // The output projection: dW_o = Oᵀ·dY, db_o = Σ dY, dO = dY·W_oᵀ.
        let (output_gradients, heads_gradient) =
            self.projection_backward(3, &saved.heads, upstream, compute)?;
        let mut projected_gradient = [
            vec![0.0f32; saved.projected[0].len()],
            vec![0.0f32; saved.projected[1].len()],
            vec![0.0f32; saved.projected[2].len()],
        ];
        let mut weight_gradient = vec![0.0f32; lk];
        for example in 0..self.batch {
            for head in 0..h {
                let kv = self.kv_head(head);
                let a = &saved.weights[((example * h + head) * lq) * lk..][..lq * lk];
                for i in 0..lq {
                    let d_out = &heads_gradient[(example * lq + i) * h * dv + head * dv..][..dv];
                    // dA_ij = dO_i·V_j; dV_j += A_ij·dO_i.
                    for j in 0..lk {
                        let at = (example * lk + j) * hk * dv + kv * dv;
                        let v = &saved.projected[2][at..at + dv];
                        weight_gradient[j] = d_out.iter().zip(v).map(|(g, x)| g * x).sum();
                        let a_ij = a[i * lk + j];
                        for (target, g) in projected_gradient[2][at..at + dv].iter_mut().zip(d_out)
                        {
                            *target += a_ij * g;
                        }
                    }
                    // Through the softmax: dS_ij = A_ij·(dA_ij − Σ_l A_il·dA_il), then the scale.
                    let row = &a[i * lk..(i + 1) * lk];
                    let inner: f32 = row.iter().zip(&weight_gradient).map(|(p, g)| p * g).sum();
                    let q_at = (example * lq + i) * h * dk + head * dk;
                    for j in 0..lk {
                        let d_score = row[j] * (weight_gradient[j] - inner) * scale;
                        if d_score == 0.0 {
                            continue;
                        }
                        let k_at = (example * lk + j) * hk * dk + kv * dk;
                        for d in 0..dk {
                            projected_gradient[0][q_at + d] +=
                                d_score * saved.projected[1][k_at + d];
                            projected_gradient[1][k_at + d] +=
                                d_score * saved.projected[0][q_at + d];
                        }
                    }
                }
            }
        }
        // Back through the rotations: each is orthogonal, so its gradient is the inverse turn.
        self.rotate(&mut projected_gradient[0], lq, h, true);
        self.rotate(&mut projected_gradient[1], lk, hk, true);
        let mut input_gradients: Vec<Tensor> = self
            .inputs
            .iter()
            .map(|input| Tensor::zeros(input.shape()))
            .collect::<Result<_, _>>()?;
        for (which, gradient) in projected_gradient.iter().enumerate() {
            let source = self.source(which);
            let (gradients, input_gradient) =
                self.projection_backward(which, self.inputs[source].data(), gradient, compute)?;
            parameter_gradients.extend(gradients);
            for (sum, value) in input_gradients[source]
                .data_mut()
                .iter_mut()
                .zip(&input_gradient)
            {
                *sum += value;
            }
        }
        parameter_gradients.extend(output_gradients);
        Ok(Gradients {
            inputs: input_gradients,
            parameters: parameter_gradients,
        })
    }

    /// The gradients of projection `which` from its input `x` and ∂loss/∂(x·W + b): the kernel's
    /// and bias's, and ∂loss/∂x.
    fn projection_backward(
        &self,
        which: usize,
        x: &[f32],
        gradient: &[f32],
        compute: Compute,
    ) -> Result<(Vec<Tensor>, Vec<f32>), TensorError> {
        let (rows, inputs, outputs) = self.projection_sizes(which);
        let (kernel, bias) = self.weights(which);
        let mut kernel_gradient = Tensor::zeros(kernel.shape())?;
        add_transposed_product(
            (inputs, rows, outputs),
            x,
            gradient,
            kernel_gradient.data_mut(),
            compute,
        )?;
        let mut gradients = vec![kernel_gradient];
        if let Some(bias) = bias {
            let mut bias_gradient = Tensor::zeros(bias.shape())?;
            for row in gradient.chunks_exact(outputs.max(1)) {
                for (sum, value) in bias_gradient.data_mut().iter_mut().zip(row) {
                    *sum += value;
                }
            }
            gradients.push(bias_gradient);
        }
        let mut input_gradient = vec![0.0f32; rows * inputs];
        product_transposed(
            (rows, outputs, inputs),
            gradient,
            kernel.data(),
            &mut input_gradient,
            false,
            compute,
        )?;
        Ok((gradients, input_gradient))
    }
}

#[cfg(test)]
mod tests {
    use crate::layers::testing::{
        Values, check, check_details, check_error, check_gradients_with, run_forward,
    };
    use crate::tensor::Tensor;

    #[test]
    fn counts_match_keras_and_pytorch() {
        // PyTorch: nn.MultiheadAttention(512, 8) has in_proj_weight (1536, 512), in_proj_bias
        // (1536), out_proj.weight (512, 512), out_proj.bias (512): 4·512² + 4·512 = 1,050,624.
        // Keras: MultiHeadAttention(num_heads=8, key_dim=64) on (None, 10, 512) holds the same
        // in four EinsumDense layers, query/key/value kernels (512, 8, 64) with biases (8, 64),
        // output kernel (8, 64, 512) with bias (512,).
        check(
            "multi_head_attention 8 64",
            &[&[10, 512]],
            "[10×512]",
            "512·8·64+8·64+512·8·64+8·64+512·8·64+8·64+8·64·512+512 = 1050624",
            "10·8·64·512+10·8·64·512+10·8·64·512+10·512·8·64 = 10485760",
            "10·8·64·(512+1)+10·8·64·(512+1)+10·8·64·(512+1)+10·512·(8·64+1) = 10506240",
        );
        // key_dim defaults to D/heads, PyTorch's head size.
        check(
            "multi_head_attention 8",
            &[&[10, 512]],
            "[10×512]",
            "512·8·64+8·64+512·8·64+8·64+512·8·64+8·64+8·64·512+512 = 1050624",
            "10·8·64·512+10·8·64·512+10·8·64·512+10·512·8·64 = 10485760",
            "10·8·64·(512+1)+10·8·64·(512+1)+10·8·64·(512+1)+10·512·(8·64+1) = 10506240",
        );
        // Keras' docstring example: MultiHeadAttention(num_heads=2, key_dim=2) with target
        // (8, 16) and source (4, 16) gives output (None, 8, 16). Its parameters, from the shapes
        // its EinsumDense layers build (kernels (16, 2, 2) with biases (2, 2) for query, key and
        // value; output kernel (2, 2, 16) with bias (16,)): 3·(64+4)+64+16 = 284.
        check(
            "multi_head_attention 2 2",
            &[&[8, 16], &[4, 16]],
            "[8×16]",
            "16·2·2+2·2+16·2·2+2·2+16·2·2+2·2+2·2·16+16 = 284",
            "8·2·2·16+4·2·2·16+4·2·2·16+8·16·2·2 = 1536",
            "8·2·2·(16+1)+4·2·2·(16+1)+4·2·2·(16+1)+8·16·(2·2+1) = 1728",
        );
        // Three inputs (query, value, key) of different widths, value_dim and output_dim.
        check(
            "multi_head_attention 2 3 value_dim=5 output_dim=7 use_bias=false",
            &[&[4, 6], &[3, 8], &[3, 9]],
            "[4×7]",
            "6·2·3+9·2·3+8·2·5+2·5·7 = 240",
            "4·2·3·6+3·2·3·9+3·2·5·8+4·7·2·5 = 826",
            "4·2·3·6+3·2·3·9+3·2·5·8+4·7·2·5 = 826",
        );
    }

    /// Grouped-query attention: TinyLlama's layer (hidden 2048, 32 heads of 64, 4 key/value
    /// heads, no biases). transformers' LlamaAttention holds q_proj (2048, 2048), k_proj and
    /// v_proj (256, 2048), o_proj (2048, 2048): 9,437,184. The products between positions are
    /// still one per query head.
    #[test]
    fn key_value_heads_shrink_the_key_and_value_projections() {
        check(
            "multi_head_attention 32 kv_heads=4 use_bias=false rotary=true causal=true",
            &[&[16, 2048]],
            "[16×2048]",
            "2048·32·64+2048·4·64+2048·4·64+32·64·2048 = 9437184",
            "16·32·64·2048+16·4·64·2048+16·4·64·2048+16·2048·32·64 = 150994944",
            "16·32·64·2048+16·4·64·2048+16·4·64·2048+16·2048·32·64 = 150994944",
        );
        assert_eq!(2 * 2048 * 2048 + 2 * 2048 * 256, 9_437_184);
        // The rotation is not counted (see the module's words): the MACs are those without it.
        check_details(
            "multi_head_attention 32 kv_heads=4 use_bias=false rotary=true rope_theta=500000",
            &[&[16, 2048]],
            "32 heads, 4 kv heads, rotary, rope_theta=500000, no bias",
            [9437184, 0],
            "16·32·64·2048+16·4·64·2048+16·4·64·2048+16·2048·32·64+32·16·16·64+32·16·16·64 = 152043520",
            "whole",
        );
        // kv_heads = heads is the default: the same numbers as without it.
        check(
            "multi_head_attention 8 kv_heads=8",
            &[&[10, 512]],
            "[10×512]",
            "512·8·64+8·64+512·8·64+8·64+512·8·64+8·64+8·64·512+512 = 1050624",
            "10·8·64·512+10·8·64·512+10·8·64·512+10·512·8·64 = 10485760",
            "10·8·64·(512+1)+10·8·64·(512+1)+10·8·64·(512+1)+10·512·(8·64+1) = 10506240",
        );
        check_error(
            "multi_head_attention 32 kv_heads=5",
            &[&[4, 64]],
            "`kv_heads` must divide heads (32), got 5",
        );
        check_error(
            "multi_head_attention 2 3 rotary=true",
            &[&[4, 6]],
            "the rotary embedding turns pairs of a head's 3 key values: key_dim must be even",
        );
        check_error(
            "multi_head_attention 2 rotary=false rope_theta=10000",
            &[&[4, 8]],
            "`rope_theta` needs rotary=true, got 10000",
        );
    }

    /// Rotary embedding and shared key/value heads against the definition, computed naively in
    /// f64: 4 query heads of 4 sharing 2 key/value heads (heads 0, 1 read 0; 2, 3 read 1), on a
    /// causal sequence of 3, with transformers' rotate_half rotation at θ = 100.
    #[test]
    fn rotary_and_shared_heads_follow_the_definition() {
        let (lq, d, h, hk, dk, o) = (3usize, 3usize, 4usize, 2usize, 4usize, 2usize);
        let theta = 100.0f64;
        let line = "multi_head_attention 4 4 kv_heads=2 output_dim=2 rotary=true rope_theta=100 causal=true use_bias=false";
        let values = |n: usize, seed: usize| -> Vec<f32> {
            (0..n)
                .map(|i| (((i * 7 + seed * 13) % 11) as f32 - 5.0) / 7.0)
                .collect()
        };
        let x = values(lq * d, 1);
        let shapes = [
            (vec![d, h * dk], 2),
            (vec![d, hk * dk], 4),
            (vec![d, hk * dk], 6),
            (vec![h * dk, o], 8),
        ];
        let mut parameters: Vec<Tensor> = shapes
            .iter()
            .map(|(shape, seed)| {
                Tensor::from_vec(shape, values(shape.iter().product(), *seed)).unwrap()
            })
            .collect();
        let input = Tensor::from_vec(&[1, lq, d], x.clone()).unwrap();
        let got = run_forward(line, &mut parameters, &[&input], true).output;
        let p: Vec<Vec<f64>> = parameters
            .iter()
            .map(|t| t.data().iter().map(|&v| f64::from(v)).collect())
            .collect();
        let x: Vec<f64> = x.iter().map(|&v| f64::from(v)).collect();
        let project = |kernel: &[f64], width: usize, row: usize| -> Vec<f64> {
            (0..width)
                .map(|c| (0..d).map(|r| x[row * d + r] * kernel[r * width + c]).sum())
                .collect()
        };
        // One head's vector at position `at`, turned: (x1, x2) → (x1·cos − x2·sin, x2·cos + x1·sin).
        let turn = |v: &[f64], at: usize| -> Vec<f64> {
            let half = dk / 2;
            let mut out = v.to_vec();
            for i in 0..half {
                let angle = at as f64 / theta.powf(2.0 * i as f64 / dk as f64);
                out[i] = v[i] * angle.cos() - v[i + half] * angle.sin();
                out[i + half] = v[i + half] * angle.cos() + v[i] * angle.sin();
            }
            out
        };
        let mut concatenated = vec![vec![0.0; h * dk]; lq];
        for head in 0..h {
            let kv = head / (h / hk);
            for (i, row) in concatenated.iter_mut().enumerate() {
                let q = turn(&project(&p[0], h * dk, i)[head * dk..][..dk], i);
                let scores: Vec<f64> = (0..=i)
                    .map(|j| {
                        let k = turn(&project(&p[1], hk * dk, j)[kv * dk..][..dk], j);
                        q.iter().zip(&k).map(|(a, b)| a * b).sum::<f64>() / (dk as f64).sqrt()
                    })
                    .collect();
                let total: f64 = scores.iter().map(|s| s.exp()).sum();
                for (j, score) in scores.iter().enumerate() {
                    let v = project(&p[2], hk * dk, j);
                    for e in 0..dk {
                        row[head * dk + e] += score.exp() / total * v[kv * dk + e];
                    }
                }
            }
        }
        for (i, row) in concatenated.iter().enumerate() {
            for c in 0..o {
                let want: f64 = (0..h * dk).map(|r| row[r] * p[3][r * o + c]).sum();
                let value = f64::from(got.data()[i * o + c]);
                assert!((value - want).abs() < 1e-5, "[{i}, {c}]: {value} vs {want}");
            }
        }
    }

    #[test]
    fn macs_add_the_products_between_positions() {
        // Projections 4·L·E² (E = 512, L = 10) and Q·Kᵀ, A·V: h·L²·dk each, 8·100·64 = 51200.
        check_details(
            "multi_head_attention 8 64 causal=true",
            &[&[10, 512]],
            "8 heads, key 64, causal",
            [1050624, 0],
            "10·8·64·512+10·8·64·512+10·8·64·512+10·512·8·64+8·10·10·64+8·10·10·64 = 10588160",
            "whole",
        );
        assert_eq!(10485760 + 2 * 8 * 100 * 64, 10588160);
    }

    #[test]
    fn a_causal_kernel_that_skips_masked_pairs_is_explained() {
        let mut decl = crate::layers::testing::declaration("multi_head_attention 2 4 causal=true");
        crate::layers::name_positionals(&mut decl).unwrap();
        let layer = crate::layers::build(&decl).unwrap();
        let input = crate::shape::Shape::new(vec![5, 8]);
        let output = crate::shape::Shape::new(vec![5, 8]);
        let explanation = layer.explanation(&[input], &output).unwrap();
        // 5 queries see 1+2+3+4+5 = 15 keys: 2·15·4 twice = 240, against 2·25·4 twice = 400.
        let macs = explanation.macs.unwrap();
        assert!(macs.contains("2·5·5·4+2·5·5·4 = 400"), "{macs}");
        assert!(macs.contains("2·15·4+2·15·4 = 240"), "{macs}");
    }

    #[test]
    fn bad_inputs_are_errors() {
        check_error(
            "multi_head_attention 3",
            &[&[4, 8]],
            "8 query features do not split into 3 heads; give key_dim",
        );
        check_error(
            "multi_head_attention 2 4",
            &[&[4, 8], &[3, 8], &[2, 8]],
            "the key has 2 steps and the value 3: they must be equal",
        );
        check_error(
            "multi_head_attention 2 4",
            &[&[4, 4, 8]],
            "expects sequences L×D (steps × features), got [4×4×8]",
        );
        check_error(
            "multi_head_attention 0",
            &[&[4, 8]],
            "`heads` must be a positive integer, got 0",
        );
    }

    /// The forward pass against the definition, computed naively in f64: one head of size 2 on
    /// a sequence of 3, self-attention, causal and not.
    #[test]
    fn the_forward_pass_follows_the_definition() {
        for causal in [false, true] {
            let line = format!("multi_head_attention 2 2 value_dim=1 output_dim=2 causal={causal}");
            let (lq, d, h, dk, dv, o) = (3usize, 2usize, 2usize, 2usize, 1usize, 2usize);
            let values = |n: usize, seed: usize| -> Vec<f32> {
                (0..n)
                    .map(|i| (((i * 7 + seed * 13) % 11) as f32 - 5.0) / 7.0)
                    .collect()
            };
            let x = values(lq * d, 1);
            let shapes = [
                (vec![d, h * dk], 2),
                (vec![h * dk], 3),
                (vec![d, h * dk], 4),
                (vec![h * dk], 5),
                (vec![d, h * dv], 6),
                (vec![h * dv], 7),
                (vec![h * dv, o], 8),
                (vec![o], 9),
            ];
            let mut parameters: Vec<Tensor> = shapes
                .iter()
                .map(|(shape, seed)| {
                    Tensor::from_vec(shape, values(shape.iter().product(), *seed)).unwrap()
                })
                .collect();
            let input = Tensor::from_vec(&[1, lq, d], x.clone()).unwrap();
            let got = run_forward(&line, &mut parameters, &[&input], true).output;
            let p: Vec<Vec<f64>> = parameters
                .iter()
                .map(|t| t.data().iter().map(|&v| f64::from(v)).collect())
                .collect();
            let x: Vec<f64> = x.iter().map(|&v| f64::from(v)).collect();
            let project = |kernel: &[f64], bias: &[f64], width: usize, row: usize| -> Vec<f64> {
                (0..width)
                    .map(|c| {
                        bias[c]
                            + (0..d)
                                .map(|r| x[row * d + r] * kernel[r * width + c])
                                .sum::<f64>()
                    })
                    .collect()
            };
            let mut concatenated = vec![vec![0.0; h * dv]; lq];
            for head in 0..h {
                for (i, row) in concatenated.iter_mut().enumerate() {
                    let q = project(&p[0], &p[1], h * dk, i);
                    let seen = if causal { i + 1 } else { lq };
                    let scores: Vec<f64> = (0..seen)
                        .map(|j| {
                            let k = project(&p[2], &p[3], h * dk, j);
                            (0..dk)
                                .map(|e| q[head * dk + e] * k[head * dk + e])
                                .sum::<f64>()
                                / (dk as f64).sqrt()
                        })
                        .collect();
                    let total: f64 = scores.iter().map(|s| s.exp()).sum();
                    for (j, s) in scores.iter().enumerate() {
                        let v = project(&p[4], &p[5], h * dv, j);
                        for e in 0..dv {
                            row[head * dv + e] += s.exp() / total * v[head * dv + e];
                        }
                    }
                }
            }
            for (i, row) in concatenated.iter().enumerate() {
                for c in 0..o {
                    let want = p[7][c] + (0..h * dv).map(|r| row[r] * p[6][r * o + c]).sum::<f64>();
                    let value = f64::from(got.data()[i * o + c]);
                    assert!(
                        (value - want).abs() < 1e-5,
                        "causal={causal} [{i}, {c}]: {value} vs {want}"
                    );
                }
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]
        /// Backward agrees with finite differences on random small shapes, self- and
        /// cross-attention, causal or not, with and without bias.
        #[test]
        fn gradients_match_finite_differences_on_random_shapes(
            query in crate::layers::testing::small_sequences(),
            key_length in 1u64..5,
            widths in (1u64..4, 1u64..4),
            inputs in 1usize..4,
            heads in 1u64..3,
            dims in (1u64..3, 1u64..3),
            causal in proptest::bool::ANY,
            use_bias in proptest::bool::ANY,
            shared in proptest::bool::ANY,
            rotary in proptest::bool::ANY,
            seed in proptest::num::u64::ANY,
        ) {
            // Shared key/value heads: one for all query heads; the rotary needs an even key_dim.
            let kv_heads = if shared { 1 } else { heads };
            let key_dim = if rotary { 2 * dims.0 } else { dims.0 };
            let line = format!(
                "multi_head_attention {heads} {key_dim} value_dim={} causal={causal} \
                 use_bias={use_bias} kv_heads={kv_heads} rotary={rotary}",
                dims.1
            );
            let value = [key_length, widths.0];
            let key = [key_length, widths.1];
            let shapes: Vec<&[u64]> = match inputs {
                1 => vec![query.as_slice()],
                2 => vec![query.as_slice(), &value],
                _ => vec![query.as_slice(), &value, &key],
            };
            check_gradients_with(&line, &shapes, 2, Values { seed, distinct: false });
        }
    }

    #[test]
    fn gradients_match_finite_differences() {
        check_gradients_with(
            "multi_head_attention 2 3 causal=true",
            &[&[4, 5]],
            2,
            Values::default(),
        );
        check_gradients_with(
            "multi_head_attention 2 2 value_dim=3",
            &[&[3, 4], &[5, 2]],
            2,
            Values::default(),
        );
        // Llama's attention: 4 query heads over 2 key/value heads, rotary, causal, no biases.
        check_gradients_with(
            "multi_head_attention 4 4 kv_heads=2 rotary=true rope_theta=50 causal=true use_bias=false",
            &[&[5, 6]],
            2,
            Values::default(),
        );
        // Cross-attention with a rotary embedding: each sequence turned by its own positions.
        check_gradients_with(
            "multi_head_attention 2 2 kv_heads=1 rotary=true",
            &[&[3, 4], &[5, 2]],
            2,
            Values::default(),
        );
    }
}
