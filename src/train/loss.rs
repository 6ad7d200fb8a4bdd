//! Losses on what the network outputs (probabilities after its softmax or sigmoid, or plain
//! values), their gradients with respect to that output, and accuracy. The network's last layer
//! applies its own activation and undoes it in its backward pass, so these gradients are
//! ∂loss/∂output; the trainer hands them to the model's backward pass.
//!
//! - `cross_entropy` (Keras' `categorical_crossentropy` on probabilities): per example
//!   −Σ t·ln(clip(p)), with p clipped to [1e-7, 1 − 1e-7] as Keras does; like TensorFlow's clip,
//!   the gradient −t/p flows only where p lies inside that range. Through the softmax's backward
//!   pass it becomes p − t. This is how Keras 2's TensorFlow backend computed it (normalise,
//!   clip, log), which is what the sheet's runs used; later tf.keras versions take the softmax's
//!   logits when they can, so an example whose correct class has p < 1e-7 still learns there
//!   and not here. We keep the sheet's behaviour, which every figure in EXPERIMENTS.md was
//!   produced with.
//! - `sigmoid_cross_entropy` (Nielsen's `CrossEntropyCost`): per example
//!   −Σ [t·ln a + (1 − t)·ln(1 − a)] over the output units, a clipped to [1e-7, 1 − 1e-7] in the
//!   value so a saturated unit costs ln(1e-7) instead of infinity; the gradient
//!   (a − t)/(a(1 − a)) becomes a − t through the sigmoid's backward pass. (An output that is
//!   exactly 0 or 1 in f32, |z| > 16.6, passes no gradient back, where Nielsen's fused delta
//!   a − t in f64 still would.)
//! - `mse`: the mean over all output values of (p − t)², as Keras' `mse` (kernel in
//!   `crate::tensor::elementwise`).
//! - `rbf_penalty` (LeCun et al. 1998, eq. 8, their maximum-likelihood criterion): the output of
//!   the correct class's unit, for a network whose outputs are penalties, such as LeNet-5's
//!   Euclidean RBF units (squared distances to fixed ±1 codes). Its gradient is 1 at the correct
//!   unit and 0 elsewhere. The paper's MAP criterion (eq. 9) adds a term that pushes the other
//!   penalties up; with fixed codes, as here, eq. 8 cannot collapse and is what we offer. The
//!   predicted class is the one with the smallest penalty.
//!
//! Every loss is the mean over the batch's examples, and so is its gradient.

use crate::tensor::TensorError;
use crate::tensor::elementwise;
use crate::train::options::LossKind;

/// Keras' clipping bound for probabilities.
pub const CLIP: f32 = 1e-7;

/// A batch's loss and its gradient.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchLoss {
    /// The mean loss per example (NaN or infinite when the output was).
    pub loss: f64,
    /// ∂loss/∂output, shaped like the output.
    pub gradient: Vec<f32>,
}

/// An output a loss cannot be applied to.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LossError {
    /// Outputs per example and classes disagree.
    #[error("the network outputs {units} values per image, but there are {classes} classes")]
    Units {
        /// Output values per example.
        units: usize,
        /// Classes of the data.
        classes: usize,
    },
    /// A value outside [0, 1] for a loss on probabilities.
    #[error(
        "`{loss}` needs probabilities, but the network output {value} (image {example} of the batch); `rbf_penalty` reads penalties such as RBF distances, `mse` any values"
    )]
    NotProbability {
        /// The loss's name.
        loss: &'static str,
        /// The value.
        value: f32,
        /// Its example in the batch.
        example: usize,
    },
    /// A negative value for a loss on penalties.
    #[error(
        "`rbf_penalty` needs penalties (distances, 0 or more), but the network output {value} (image {example} of the batch)"
    )]
    NotPenalty {
        /// The value.
        value: f32,
        /// Its example in the batch.
        example: usize,
    },
    /// Every row sums to 1: the outputs look like probabilities, not penalties.
    #[error(
        "`rbf_penalty` needs penalties (distances, the smallest wins), but every output row sums to 1 like a softmax's probabilities: use `cross_entropy`"
    )]
    ProbabilitiesNotPenalties,
    /// Softmax rows must sum to 1.
    #[error(
        "`cross_entropy` needs a softmax output, but image {example}'s outputs sum to {sum} instead of 1"
    )]
    NotDistribution {
        /// The example in the batch.
        example: usize,
        /// Its sum.
        sum: f32,
    },
    /// A kernel refused its input.
    #[error(transparent)]
    Tensor(#[from] TensorError),
}

/// The loss of `outputs` (`labels.len()` rows of `classes` values) against one-hot targets.
pub fn batch_loss(
    kind: LossKind,
    outputs: &[f32],
    labels: &[u8],
    classes: usize,
) -> Result<BatchLoss, LossError> {
    let rows = labels.len();
    if classes == 0 || outputs.len() != rows.saturating_mul(classes) {
        return Err(LossError::Units {
            units: outputs.len().checked_div(rows).unwrap_or(0),
            classes,
        });
    }
    if outputs.iter().any(|value| !value.is_finite()) {
        return Ok(BatchLoss {
            loss: f64::NAN,
            gradient: vec![0.0; outputs.len()],
        });
    }
    let indices: Vec<usize> = labels.iter().map(|&label| usize::from(label)).collect();
    let targets = elementwise::one_hot(&indices, classes)?;
    match kind {
        LossKind::CrossEntropy => cross_entropy(outputs, &targets, classes),
        LossKind::SigmoidCrossEntropy => sigmoid_cross_entropy(outputs, &targets, classes),
        LossKind::RbfPenalty => rbf_penalty(outputs, labels, classes),
        LossKind::MeanSquaredError => {
            let mut gradient = vec![0.0; outputs.len()];
            let loss = elementwise::mean_squared_error(outputs, &targets, &mut gradient)?;
            Ok(BatchLoss {
                loss: f64::from(loss),
                gradient,
            })
        }
    }
}

fn check_probabilities(
    loss: &'static str,
    outputs: &[f32],
    classes: usize,
) -> Result<(), LossError> {
    match outputs
        .iter()
        .position(|value| !(0.0..=1.0).contains(value))
    {
        Some(position) => Err(LossError::NotProbability {
            loss,
            value: outputs[position],
            example: position / classes,
        }),
        None => Ok(()),
    }
}

fn cross_entropy(outputs: &[f32], targets: &[f32], classes: usize) -> Result<BatchLoss, LossError> {
    check_probabilities("cross_entropy", outputs, classes)?;
    let rows = outputs.len() / classes;
    let scale = 1.0 / rows as f32;
    let mut gradient = vec![0.0; outputs.len()];
    let mut total = 0.0f64;
    for (example, ((row, target), result)) in outputs
        .chunks_exact(classes)
        .zip(targets.chunks_exact(classes))
        .zip(gradient.chunks_exact_mut(classes))
        .enumerate()
    {
        let sum: f32 = row.iter().sum();
        if (sum - 1.0).abs() > 1e-3 {
            return Err(LossError::NotDistribution { example, sum });
        }
        for ((result, &probability), &wanted) in result.iter_mut().zip(row).zip(target) {
            if wanted == 0.0 {
                continue;
            }
            let clipped = probability.clamp(CLIP, 1.0 - CLIP);
            total -= f64::from(wanted) * f64::from(clipped).ln();
            if clipped == probability {
                *result = -wanted / probability * scale;
            }
        }
    }
    Ok(BatchLoss {
        loss: total / rows as f64,
        gradient,
    })
}

fn sigmoid_cross_entropy(
    outputs: &[f32],
    targets: &[f32],
    classes: usize,
) -> Result<BatchLoss, LossError> {
    check_probabilities("sigmoid_cross_entropy", outputs, classes)?;
    let rows = outputs.len() / classes;
    let scale = 1.0 / rows as f32;
    let mut gradient = vec![0.0; outputs.len()];
    let mut total = 0.0f64;
    for ((result, &activation), &wanted) in gradient.iter_mut().zip(outputs).zip(targets) {
        let clipped = f64::from(activation.clamp(CLIP, 1.0 - CLIP));
        let wanted_wide = f64::from(wanted);
        total -= wanted_wide * clipped.ln() + (1.0 - wanted_wide) * (1.0 - clipped).ln();
        let slope = clipped * (1.0 - clipped);
        *result = ((f64::from(activation) - wanted_wide) / slope) as f32 * scale;
    }
    Ok(BatchLoss {
        loss: total / rows as f64,
        gradient,
    })
}

fn rbf_penalty(outputs: &[f32], labels: &[u8], classes: usize) -> Result<BatchLoss, LossError> {
    if let Some(position) = outputs.iter().position(|&value| value < 0.0) {
        return Err(LossError::NotPenalty {
            value: outputs[position],
            example: position / classes,
        });
    }
    // Minimising the correct class's probability would train a softmax network to be wrong.
    if classes > 1
        && outputs
            .chunks_exact(classes)
            .all(|row| (row.iter().sum::<f32>() - 1.0).abs() <= 1e-3)
    {
        return Err(LossError::ProbabilitiesNotPenalties);
    }
    let rows = labels.len();
    let scale = 1.0 / rows as f32;
    let mut gradient = vec![0.0; outputs.len()];
    let mut total = 0.0f64;
    for (example, &label) in labels.iter().enumerate() {
        let index = example * classes + usize::from(label);
        total += f64::from(outputs[index]);
        gradient[index] = scale;
    }
    Ok(BatchLoss {
        loss: total / rows as f64,
        gradient,
    })
}

/// How many rows of `outputs` predict their label (see [`predicted`]).
pub fn correct(kind: LossKind, outputs: &[f32], labels: &[u8], classes: usize) -> usize {
    if classes == 0 {
        return 0;
    }
    outputs
        .chunks_exact(classes)
        .zip(labels)
        .filter(|(row, label)| predicted(kind, row) == Some(usize::from(**label)))
        .count()
}

/// The predicted class of one output row: the index of the largest value, or of the smallest
/// when the loss reads outputs as penalties (the first on ties); `None` for an empty row.
pub fn predicted(kind: LossKind, row: &[f32]) -> Option<usize> {
    let smallest = kind.smallest_wins();
    let mut best: Option<(usize, f32)> = None;
    for (index, &value) in row.iter().enumerate() {
        let better = |kept: f32| if smallest { value < kept } else { value > kept };
        if best.is_none_or(|(_, kept)| better(kept)) {
            best = Some((index, value));
        }
    }
    best.map(|(index, _)| index)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn softmax(logits: &[f32]) -> Vec<f32> {
        let mut out = vec![0.0; logits.len()];
        elementwise::softmax_forward(logits, logits.len(), &mut out).unwrap();
        out
    }

    #[test]
    fn cross_entropy_value_and_gradient_through_softmax() {
        let probabilities = [softmax(&[1.0, 2.0, 0.5]), softmax(&[0.0, 0.0, 3.0])].concat();
        let labels = [1u8, 0];
        let result = batch_loss(LossKind::CrossEntropy, &probabilities, &labels, 3).unwrap();
        let expected = -(f64::from(probabilities[1]).ln() + f64::from(probabilities[3]).ln()) / 2.0;
        assert!((result.loss - expected).abs() < 1e-6);
        // Through the softmax's backward pass the gradient is (p − t)/N.
        let mut through = [0.0; 6];
        for row in 0..2 {
            let range = row * 3..row * 3 + 3;
            elementwise::softmax_backward_from_output(
                &probabilities[range.clone()],
                &result.gradient[range.clone()],
                3,
                &mut through[range],
            )
            .unwrap();
        }
        let targets = [0.0, 1.0, 0.0, 1.0, 0.0, 0.0];
        for ((found, &p), t) in through.iter().zip(&probabilities).zip(targets) {
            assert!((found - (p - t) / 2.0).abs() < 1e-6, "{found}");
        }
    }

    #[test]
    fn cross_entropy_clips_like_keras() {
        let outputs = [0.0, 1.0];
        let result = batch_loss(LossKind::CrossEntropy, &outputs, &[0], 2).unwrap();
        assert!(
            (result.loss - -(1e-7f64).ln()).abs() < 1e-3,
            "{}",
            result.loss
        );
        assert_eq!(
            result.gradient,
            vec![0.0, 0.0],
            "no gradient outside the clip range"
        );
    }

    #[test]
    fn cross_entropy_refuses_outputs_that_are_not_a_distribution() {
        let error = batch_loss(LossKind::CrossEntropy, &[0.9, 0.8], &[0], 2).unwrap_err();
        assert_eq!(
            error.to_string(),
            "`cross_entropy` needs a softmax output, but image 0's outputs sum to 1.7 instead of 1"
        );
        let error = batch_loss(LossKind::CrossEntropy, &[1.5, -0.5], &[0], 2).unwrap_err();
        assert!(matches!(
            error,
            LossError::NotProbability { example: 0, .. }
        ));
    }

    #[test]
    fn sigmoid_cross_entropy_is_nielsens_cost() {
        let outputs = [0.8f32, 0.3, 0.1, 0.6];
        let labels = [0u8, 1];
        let result = batch_loss(LossKind::SigmoidCrossEntropy, &outputs, &labels, 2).unwrap();
        let cost = |a: f64, y: f64| -(y * a.ln() + (1.0 - y) * (1.0 - a).ln());
        let expected = (cost(0.8, 1.0) + cost(0.3, 0.0) + cost(0.1, 0.0) + cost(0.6, 1.0)) / 2.0;
        assert!((result.loss - expected).abs() < 1e-6);
        // Times the sigmoid's slope a(1 − a) it is (a − t)/N.
        for ((g, &a), t) in result
            .gradient
            .iter()
            .zip(&outputs)
            .zip([1.0, 0.0, 0.0, 1.0])
        {
            assert!((g * a * (1.0 - a) - (a - t) / 2.0).abs() < 1e-6);
        }
        let saturated = batch_loss(LossKind::SigmoidCrossEntropy, &[1.0, 0.0], &[1], 2).unwrap();
        assert!(saturated.loss.is_finite() && saturated.loss > 15.0);
        assert!(saturated.gradient.iter().all(|g| g.is_finite()));
    }

    #[test]
    fn mse_is_the_mean_over_all_values() {
        let result = batch_loss(
            LossKind::MeanSquaredError,
            &[0.5, 0.5, 2.0, 0.0],
            &[0, 0],
            2,
        )
        .unwrap();
        // (0.25 + 0.25 + 1 + 0) / 4.
        assert!((result.loss - 0.375).abs() < 1e-7);
        assert_eq!(result.gradient, vec![-0.25, 0.25, 0.5, 0.0]);
    }

    #[test]
    fn a_non_finite_output_gives_a_non_finite_loss() {
        let result = batch_loss(LossKind::CrossEntropy, &[f32::NAN, 0.5], &[0], 2).unwrap();
        assert!(result.loss.is_nan());
        assert!(batch_loss(LossKind::CrossEntropy, &[0.5, 0.5, 0.5], &[0], 2).is_err());
    }

    #[test]
    fn accuracy_counts_argmax_hits() {
        let outputs = [0.1, 0.7, 0.2, 0.5, 0.5, 0.0, 0.0, 0.0, 1.0];
        let kind = LossKind::CrossEntropy;
        assert_eq!(
            correct(kind, &outputs, &[1, 1, 2], 3),
            2,
            "ties go to the first"
        );
        assert_eq!(predicted(kind, &[]), None);
    }

    #[test]
    fn penalties_predict_the_smallest() {
        let outputs = [3.0, 0.5, 2.0, 1.0, 1.0, 4.0];
        let kind = LossKind::RbfPenalty;
        assert_eq!(predicted(kind, &outputs[..3]), Some(1));
        assert_eq!(
            predicted(kind, &outputs[3..]),
            Some(0),
            "ties go to the first"
        );
        assert_eq!(correct(kind, &outputs, &[1, 1], 3), 1);
    }

    /// Eq. (8) of LeCun et al. 1998: the mean over examples of the correct unit's penalty; its
    /// gradient, checked against central differences of the loss itself.
    #[test]
    fn rbf_penalty_value_and_gradient() {
        let outputs = [4.0f32, 1.5, 0.25, 7.0, 2.0, 3.0];
        let labels = [2u8, 0];
        let result = batch_loss(LossKind::RbfPenalty, &outputs, &labels, 3).unwrap();
        assert_eq!(result.loss, (0.25 + 7.0) / 2.0);
        let epsilon = 1e-2f32;
        for index in 0..outputs.len() {
            let mut plus = outputs;
            plus[index] += epsilon;
            let mut minus = outputs;
            minus[index] -= epsilon;
            let numeric = (batch_loss(LossKind::RbfPenalty, &plus, &labels, 3)
                .unwrap()
                .loss
                - batch_loss(LossKind::RbfPenalty, &minus, &labels, 3)
                    .unwrap()
                    .loss)
                / (2.0 * f64::from(epsilon));
            assert!((f64::from(result.gradient[index]) - numeric).abs() < 1e-4);
        }
        let error = batch_loss(LossKind::RbfPenalty, &[0.5, -0.25], &[0], 2).unwrap_err();
        assert_eq!(
            error.to_string(),
            "`rbf_penalty` needs penalties (distances, 0 or more), but the network output -0.25 (image 0 of the batch)"
        );
        let probabilities = [0.25, 0.75, 0.5, 0.5];
        let refused = batch_loss(LossKind::RbfPenalty, &probabilities, &[0, 1], 2);
        assert_eq!(refused, Err(LossError::ProbabilitiesNotPenalties));
    }
}
