//! The training loop: per epoch a seeded shuffle of the training images (crate::data::batch),
//! mini-batches through forward, loss, backward and the optimizer step (with the L2 term added to
//! the weights' gradients), then evaluation and one history record, reported through a callback.
//! Between batches the loop looks at a stop flag (the CLI sets it on Ctrl-C); a NaN or infinite
//! loss stops it too. Either way the model is put back to the weights it had at the start of the
//! unfinished epoch, so the weights and the history agree.
//!
//! Determinism: the initial weights come from the model's generator (seeded by the caller), the
//! order of epoch `e` is the `e`-th permutation of a [`Shuffler`] seeded with the seed, and the
//! dropout masks of epoch `e` come from ChaCha8 seeded with the seed on stream `e`. A resumed run
//! (weights trained for `k` epochs) continues with epoch `k + 1` and the same orders and masks an
//! uninterrupted run would have used. The optimizer comes from the caller with its state: the
//! CLI restores the state saved beside the weights (`optimizer.safetensors`, see
//! crate::train::optimizer_file: momentum's velocity, Adadelta's two accumulators, Adam's moments
//! and step count, RMSprop's average), so a resumed run gives the same weights and history, bit
//! for bit, as an uninterrupted one with every optimizer. A stopped epoch puts the optimizer's
//! state back with the weights, so the two saved together always belong to the same epoch.

use crate::data::batch::{Shuffler, batch_count, batches};
use crate::data::mnist::Dataset;
use crate::layers::Pass;
use crate::tensor::{Compute, Tensor, TensorError};
use crate::train::error::TrainError;
use crate::train::history::{EpochRecord, History};
use crate::train::images::InputLayout;
use crate::train::loss::{self, batch_loss};
use crate::train::optimizer::Optimizer;
use crate::train::options::TrainOptions;
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::SeedableRng;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// What the loop needs of a model: the executor's model implements it.
pub trait Trainable {
    /// The output for a batch of inputs (one tensor per input layer).
    fn forward(&mut self, inputs: &[Tensor], pass: &mut Pass) -> Result<Tensor, TensorError>;

    /// Back-propagates ∂loss/∂output of the last forward pass, adding to the gradients.
    fn backward(&mut self, output_gradient: &Tensor, compute: Compute) -> Result<(), TensorError>;

    /// Sets every gradient to zero.
    fn zero_gradients(&mut self);

    /// Visits every trainable tensor in a fixed order with its gradient; `decays` is true for
    /// connection weights (which L2 regularisation penalises) and false for biases and the like.
    fn visit_trainable(&mut self, visit: &mut dyn FnMut(TrainableTensor<'_>));

    /// Every parameter tensor (trainable or not) by its name, `LAYER.PARAMETER`.
    fn named_parameters(&self) -> Vec<(String, &Tensor)>;

    /// Replaces parameters by name; every tensor of the model must be given, with its shape.
    fn load_parameters(&mut self, parameters: Vec<(String, Tensor)>) -> Result<(), TrainError>;
}

/// One trainable tensor as the optimizer sees it.
pub struct TrainableTensor<'a> {
    /// Its values, updated in place.
    pub values: &'a mut [f32],
    /// ∂loss/∂values.
    pub gradient: &'a [f32],
    /// Whether L2 regularisation applies (connection weights).
    pub decays: bool,
}

/// The images a run uses.
#[derive(Debug, Clone)]
pub struct Data {
    /// What the model is trained on.
    pub training: Dataset,
    /// What it is evaluated on after each epoch, if anything.
    pub validation: Option<Dataset>,
}

/// Where the loop is, for progress bars and per-epoch lines.
#[derive(Debug, Clone, Copy)]
pub enum Progress<'a> {
    /// An epoch begins.
    EpochStarted {
        /// 1-based, counted over resumed runs.
        epoch: usize,
        /// The last epoch this run will reach.
        last: usize,
        /// Mini-batches in it.
        batches: usize,
    },
    /// A mini-batch is done.
    Batch {
        /// 1-based.
        batch: usize,
        /// Its loss.
        loss: f64,
    },
    /// The epoch's training is done; evaluation follows.
    Evaluating,
    /// The epoch is recorded.
    EpochFinished {
        /// Its record.
        record: &'a EpochRecord,
        /// The last epoch this run will reach.
        last: usize,
        /// The history so far, this epoch included.
        history: &'a History,
    },
}

/// Why the loop returned.
#[derive(Debug)]
pub enum Ending {
    /// Every epoch ran.
    Finished,
    /// The stop flag was raised (Ctrl-C) during this epoch, which is not recorded.
    Interrupted {
        /// The unfinished epoch.
        epoch: usize,
    },
    /// The loss stopped being finite, or something failed; the epoch is not recorded.
    Failed(TrainError),
}

/// What a run leaves.
#[derive(Debug)]
pub struct Outcome {
    /// Every finished epoch, those of the run it resumed included.
    pub history: History,
    /// How it ended.
    pub ending: Ending,
}

/// The loss and accuracy of a model on a data set.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Evaluation {
    /// Mean loss per image, plus the L2 penalty.
    pub loss: f64,
    /// Correct over all.
    pub accuracy: f64,
    /// Correctly classified images.
    pub correct: usize,
    /// Images.
    pub count: usize,
}

/// Runs `options.epochs` epochs after the `done` epochs the model's weights have already had
/// (0 for a new run), appending to `history` (what was recorded of those, possibly nothing).
/// The model must hold its starting weights and `optimizer` its starting state (fresh from
/// [`crate::train::optimizer::from_options`], or restored from the run resumed); `stop` is checked between
/// batches; `checkpoint` is called after every recorded epoch with the history, the model and the
/// optimizer (to save them) and may fail the run. When the run stops in an epoch, the model and
/// the optimizer are put back as they were at its start.
#[allow(clippy::too_many_arguments)]
pub fn train<M: Trainable>(
    model: &mut M,
    optimizer: &mut dyn Optimizer,
    data: &Data,
    layout: &InputLayout,
    options: &TrainOptions,
    history: History,
    done: usize,
    stop: &AtomicBool,
    progress: &mut dyn FnMut(Progress<'_>),
    checkpoint: &mut Checkpoint<'_, M>,
) -> Outcome {
    let mut history = history;
    let ending = match run_epochs(
        model,
        optimizer,
        data,
        layout,
        options,
        &mut history,
        done,
        stop,
        progress,
        checkpoint,
    ) {
        Ok(ending) => ending,
        Err(error) => Ending::Failed(error),
    };
    Outcome { history, ending }
}

/// What [`train`] calls after every recorded epoch.
pub type Checkpoint<'a, M> = dyn FnMut(&History, &M, &dyn Optimizer) -> Result<(), TrainError> + 'a;

/// The lengths of the model's trainable tensors, in the order the optimizer sees them.
pub fn trainable_lengths<M: Trainable>(model: &mut M) -> Vec<usize> {
    let mut lengths = Vec::new();
    model.visit_trainable(&mut |tensor| lengths.push(tensor.values.len()));
    lengths
}

#[allow(clippy::too_many_arguments)]
fn run_epochs<M: Trainable>(
    model: &mut M,
    optimizer: &mut dyn Optimizer,
    data: &Data,
    layout: &InputLayout,
    options: &TrainOptions,
    history: &mut History,
    done: usize,
    stop: &AtomicBool,
    progress: &mut dyn FnMut(Progress<'_>),
    checkpoint: &mut Checkpoint<'_, M>,
) -> Result<Ending, TrainError> {
    let compute = Compute::new(options.threads.get())?;
    let training = &data.training;
    if training.is_empty() {
        return Err(TrainError::Network(
            "there are no training images".to_string(),
        ));
    }
    let last = done + options.epochs;
    let mut shuffler = Shuffler::new(options.seed);
    for _ in 0..done {
        shuffler.permutation(training.len());
    }
    let lengths = trainable_lengths(model);
    let decay = options
        .l2_convention
        .coefficient(options.l2, training.len()) as f32;
    let batch_total = batch_count(training.len(), options.batch_size);
    for epoch in done + 1..=last {
        let started = Instant::now();
        let kept: Vec<(String, Tensor)> = model
            .named_parameters()
            .into_iter()
            .map(|(name, tensor)| (name, tensor.clone()))
            .collect();
        let kept_state = optimizer.state();
        let restore = |model: &mut M, optimizer: &mut dyn Optimizer| {
            model.load_parameters(kept.clone())?;
            optimizer.restore(&kept_state, &lengths).map_err(|error| {
                TrainError::Network(format!("the optimizer's state cannot be put back: {error}"))
            })
        };
        progress(Progress::EpochStarted {
            epoch,
            last,
            batches: batch_total,
        });
        let mut random = ChaCha8Rng::seed_from_u64(options.seed);
        random.set_stream(epoch as u64);
        let order = shuffler.permutation(training.len());
        let mut loss_sum = 0.0f64;
        let mut correct = 0usize;
        for (number, indices) in batches(&order, options.batch_size).enumerate() {
            if stop.load(Ordering::Relaxed) {
                restore(model, optimizer)?;
                return Ok(Ending::Interrupted { epoch });
            }
            let labels: Vec<u8> = indices
                .iter()
                .map(|&index| training.labels.get(index).copied().unwrap_or(0))
                .collect();
            let inputs = layout.batch(training, indices)?;
            let mut pass = Pass {
                compute,
                training: true,
                random: &mut random,
            };
            let output = model.forward(&[inputs], &mut pass)?;
            let result = batch_loss(options.loss, output.data(), &labels, classes(&output)?)?;
            if !result.loss.is_finite() {
                restore(model, optimizer)?;
                return Err(TrainError::NonFinite {
                    value: format!("{}", result.loss),
                    epoch,
                    batch: number + 1,
                });
            }
            loss_sum += result.loss * indices.len() as f64;
            correct += loss::correct(options.loss, output.data(), &labels, classes(&output)?);
            let gradient = Tensor::from_vec(output.shape(), result.gradient)?;
            model.zero_gradients();
            model.backward(&gradient, compute)?;
            step(model, optimizer, decay);
            progress(Progress::Batch {
                batch: number + 1,
                loss: result.loss,
            });
        }
        progress(Progress::Evaluating);
        let penalty = penalty(model, decay);
        let (loss, accuracy) = if options.evaluate_training {
            let evaluation = evaluate(model, training, layout, options, decay)?;
            (evaluation.loss, evaluation.accuracy)
        } else {
            (
                loss_sum / training.len() as f64 + penalty,
                correct as f64 / training.len() as f64,
            )
        };
        let validation = match &data.validation {
            Some(validation) => Some(evaluate(model, validation, layout, options, decay)?),
            None => None,
        };
        if !loss.is_finite() {
            restore(model, optimizer)?;
            return Err(TrainError::NonFinite {
                value: format!("{loss}"),
                epoch,
                batch: batch_total,
            });
        }
        history.epochs.push(EpochRecord {
            epoch,
            loss,
            accuracy,
            validation_loss: validation.map(|evaluation| evaluation.loss),
            validation_accuracy: validation.map(|evaluation| evaluation.accuracy),
            seconds: started.elapsed().as_secs_f64(),
        });
        if let Some(record) = history.epochs.last() {
            progress(Progress::EpochFinished {
                record,
                last,
                history,
            });
        }
        checkpoint(history, model, optimizer)?;
    }
    Ok(Ending::Finished)
}

/// One optimizer step over every trainable tensor, the L2 term c·w added to weight gradients.
fn step<M: Trainable>(model: &mut M, optimizer: &mut dyn Optimizer, decay: f32) {
    optimizer.begin_step();
    let mut index = 0;
    let mut regularised: Vec<f32> = Vec::new();
    model.visit_trainable(&mut |tensor| {
        if tensor.decays && decay != 0.0 {
            regularised.clear();
            regularised.extend(
                tensor
                    .gradient
                    .iter()
                    .zip(tensor.values.iter())
                    .map(|(&g, &w)| g + decay * w),
            );
            optimizer.update(index, tensor.values, &regularised);
        } else {
            optimizer.update(index, tensor.values, tensor.gradient);
        }
        index += 1;
    });
}

/// The L2 penalty (c/2)·Σw² over the weights.
fn penalty<M: Trainable>(model: &mut M, decay: f32) -> f64 {
    if decay == 0.0 {
        return 0.0;
    }
    let mut sum = 0.0f64;
    model.visit_trainable(&mut |tensor| {
        if tensor.decays {
            sum += tensor
                .values
                .iter()
                .map(|&w| f64::from(w) * f64::from(w))
                .sum::<f64>();
        }
    });
    f64::from(decay) / 2.0 * sum
}

/// Classes the output has per example (its last axis).
fn classes(output: &Tensor) -> Result<usize, TrainError> {
    match output.shape() {
        [_, classes] => Ok(*classes),
        shape => Err(TrainError::Network(format!(
            "the network's output has shape {shape:?} per batch; a classifier outputs one vector \
             of class scores per image"
        ))),
    }
}

/// Loss (with the L2 penalty for `decay` ≠ 0) and accuracy of the model on a data set, in
/// inference mode, in batches of at least 128 images.
pub fn evaluate<M: Trainable>(
    model: &mut M,
    dataset: &Dataset,
    layout: &InputLayout,
    options: &TrainOptions,
    decay: f32,
) -> Result<Evaluation, TrainError> {
    let compute = Compute::new(options.threads.get())?;
    let size = options
        .batch_size
        .max(std::num::NonZeroUsize::new(128).unwrap_or(std::num::NonZeroUsize::MIN));
    let order: Vec<usize> = (0..dataset.len()).collect();
    let mut random = ChaCha8Rng::seed_from_u64(options.seed);
    let mut loss_sum = 0.0f64;
    let mut correct = 0usize;
    for indices in batches(&order, size) {
        let labels: Vec<u8> = indices
            .iter()
            .map(|&index| dataset.labels.get(index).copied().unwrap_or(0))
            .collect();
        let inputs = layout.batch(dataset, indices)?;
        let mut pass = Pass {
            compute,
            training: false,
            random: &mut random,
        };
        let output = model.forward(&[inputs], &mut pass)?;
        let classes = classes(&output)?;
        let result = batch_loss(options.loss, output.data(), &labels, classes)?;
        loss_sum += result.loss * indices.len() as f64;
        correct += loss::correct(options.loss, output.data(), &labels, classes);
    }
    let count = dataset.len().max(1);
    Ok(Evaluation {
        loss: loss_sum / count as f64 + penalty(model, decay),
        accuracy: correct as f64 / count as f64,
        correct,
        count: dataset.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensor::elementwise;
    use crate::train::optimizer;
    use crate::train::options::{OptimizerKind, TrainOverrides, Validation};
    use rand_chacha::rand_core::Rng;
    use std::num::NonZeroUsize;

    /// Softmax regression written out by hand: a stand-in for the executor's model, so the loop
    /// is tested on its own.
    struct SoftmaxRegression {
        parameters: Vec<(String, Tensor)>,
        gradients: Vec<Vec<f32>>,
        inputs: Option<Tensor>,
        output: Option<Tensor>,
    }

    impl SoftmaxRegression {
        fn new(inputs: usize, classes: usize) -> SoftmaxRegression {
            let mut random = ChaCha8Rng::seed_from_u64(9);
            let weights: Vec<f32> = (0..inputs * classes)
                .map(|_| (random.next_u32() % 1000) as f32 / 10_000.0 - 0.05)
                .collect();
            SoftmaxRegression {
                parameters: vec![
                    (
                        "dense.weights".to_string(),
                        Tensor::from_vec(&[inputs, classes], weights).unwrap(),
                    ),
                    ("dense.bias".to_string(), Tensor::zeros(&[classes]).unwrap()),
                ],
                gradients: vec![vec![0.0; inputs * classes], vec![0.0; classes]],
                inputs: None,
                output: None,
            }
        }
    }

    impl Trainable for SoftmaxRegression {
        fn forward(&mut self, inputs: &[Tensor], _: &mut Pass) -> Result<Tensor, TensorError> {
            let x = &inputs[0];
            let (rows, width) = (x.shape()[0], x.shape()[1]);
            let weights = &self.parameters[0].1;
            let classes = weights.shape()[1];
            let mut logits = vec![0.0f32; rows * classes];
            for row in 0..rows {
                for class in 0..classes {
                    let mut sum = self.parameters[1].1.data()[class];
                    for input in 0..width {
                        sum +=
                            x.data()[row * width + input] * weights.data()[input * classes + class];
                    }
                    logits[row * classes + class] = sum;
                }
            }
            let mut probabilities = vec![0.0; logits.len()];
            elementwise::softmax_forward(&logits, classes, &mut probabilities)?;
            let output = Tensor::from_vec(&[rows, classes], probabilities)?;
            self.inputs = Some(x.clone());
            self.output = Some(output.clone());
            Ok(output)
        }

        fn backward(&mut self, gradient: &Tensor, _: Compute) -> Result<(), TensorError> {
            let (Some(x), Some(output)) = (&self.inputs, &self.output) else {
                panic!("backward before forward");
            };
            let (rows, classes) = (output.shape()[0], output.shape()[1]);
            let width = x.shape()[1];
            let mut logits_gradient = vec![0.0; output.len()];
            elementwise::softmax_backward_from_output(
                output.data(),
                gradient.data(),
                classes,
                &mut logits_gradient,
            )?;
            for row in 0..rows {
                for class in 0..classes {
                    let g = logits_gradient[row * classes + class];
                    self.gradients[1][class] += g;
                    for input in 0..width {
                        self.gradients[0][input * classes + class] +=
                            x.data()[row * width + input] * g;
                    }
                }
            }
            Ok(())
        }

        fn zero_gradients(&mut self) {
            for gradient in &mut self.gradients {
                gradient.fill(0.0);
            }
        }

        fn visit_trainable(&mut self, visit: &mut dyn FnMut(TrainableTensor<'_>)) {
            for (index, ((_, tensor), gradient)) in
                self.parameters.iter_mut().zip(&self.gradients).enumerate()
            {
                visit(TrainableTensor {
                    values: tensor.data_mut(),
                    gradient,
                    decays: index == 0,
                });
            }
        }

        fn named_parameters(&self) -> Vec<(String, &Tensor)> {
            self.parameters
                .iter()
                .map(|(name, tensor)| (name.clone(), tensor))
                .collect()
        }

        fn load_parameters(&mut self, parameters: Vec<(String, Tensor)>) -> Result<(), TrainError> {
            for (name, tensor) in parameters {
                let slot = self
                    .parameters
                    .iter_mut()
                    .find(|(own, _)| *own == name)
                    .ok_or_else(|| TrainError::Network(format!("no tensor {name}")))?;
                slot.1 = tensor;
            }
            Ok(())
        }
    }

    /// 4×4 images: class c lights pixel c (and pixel c + 6, fainter), plus noise.
    fn dataset(count: usize, seed: u64) -> Dataset {
        let mut random = ChaCha8Rng::seed_from_u64(seed);
        let mut images = Vec::with_capacity(count * 16);
        let mut labels = Vec::with_capacity(count);
        for _ in 0..count {
            let label = (random.next_u32() % 10) as u8;
            let mut image: Vec<f32> = (0..16)
                .map(|_| (random.next_u32() % 100) as f32 / 400.0)
                .collect();
            image[usize::from(label)] += 0.8;
            image[usize::from(label) + 6] += 0.4;
            images.extend(image);
            labels.push(label);
        }
        Dataset {
            images,
            labels,
            rows: 4,
            cols: 4,
        }
    }

    fn options(flags: TrainOverrides) -> TrainOptions {
        TrainOptions::resolve(&[], &flags, NonZeroUsize::new(1).unwrap()).unwrap()
    }

    fn sgd(epochs: usize, rate: f64) -> TrainOptions {
        options(TrainOverrides {
            epochs: Some(epochs),
            batch_size: NonZeroUsize::new(10),
            optimizer: Some(OptimizerKind::Sgd),
            learning_rate: Some(rate),
            validation: Some(Validation::Test),
            ..TrainOverrides::default()
        })
    }

    fn data() -> Data {
        Data {
            training: dataset(500, 1),
            validation: Some(dataset(200, 2)),
        }
    }

    const LAYOUT: InputLayout = InputLayout::Flat { rows: 4, cols: 4 };

    fn run(
        model: &mut SoftmaxRegression,
        options: &TrainOptions,
        history: History,
        stop: &AtomicBool,
    ) -> (Outcome, Vec<String>) {
        let mut optimizer = optimizer::from_options(options);
        run_with(model, optimizer.as_mut(), options, history, stop)
    }

    fn run_with(
        model: &mut SoftmaxRegression,
        optimizer: &mut dyn Optimizer,
        options: &TrainOptions,
        history: History,
        stop: &AtomicBool,
    ) -> (Outcome, Vec<String>) {
        let mut lines = Vec::new();
        let done = history.last_epoch();
        let outcome = train(
            model,
            optimizer,
            &data(),
            &LAYOUT,
            options,
            history,
            done,
            stop,
            &mut |progress| {
                if let Progress::EpochFinished { record, last, .. } = progress {
                    lines.push(record.line(last));
                }
            },
            &mut |_, _, _| Ok(()),
        );
        (outcome, lines)
    }

    fn without_times(history: &History) -> Vec<EpochRecord> {
        history
            .epochs
            .iter()
            .map(|record| EpochRecord {
                seconds: 0.0,
                ..record.clone()
            })
            .collect()
    }

    #[test]
    fn the_loop_learns_and_reports_each_epoch() {
        let mut model = SoftmaxRegression::new(16, 10);
        let (outcome, lines) = run(
            &mut model,
            &sgd(5, 0.5),
            History::default(),
            &AtomicBool::new(false),
        );
        assert!(
            matches!(outcome.ending, Ending::Finished),
            "{:?}",
            outcome.ending
        );
        assert_eq!(outcome.history.epochs.len(), 5);
        assert_eq!(lines.len(), 5);
        assert!(lines[4].starts_with("Epoch 5/5 - "), "{}", lines[4]);
        let first = &outcome.history.epochs[0];
        let last = &outcome.history.epochs[4];
        assert!(last.loss < first.loss);
        assert!(last.validation_accuracy.unwrap() > 0.9, "{last:?}");
    }

    #[test]
    fn the_same_seed_gives_the_same_history() {
        let options = sgd(3, 0.5);
        let stop = AtomicBool::new(false);
        let (first, _) = run(
            &mut SoftmaxRegression::new(16, 10),
            &options,
            History::default(),
            &stop,
        );
        let (second, _) = run(
            &mut SoftmaxRegression::new(16, 10),
            &options,
            History::default(),
            &stop,
        );
        assert_eq!(
            without_times(&first.history),
            without_times(&second.history)
        );
        let other_seed = TrainOptions { seed: 2, ..options };
        let (third, _) = run(
            &mut SoftmaxRegression::new(16, 10),
            &other_seed,
            History::default(),
            &stop,
        );
        assert_ne!(without_times(&first.history), without_times(&third.history));
    }

    /// Plain SGD, SGD with momentum, Adadelta, Adam and RMSprop for `epochs` epochs.
    fn every_optimizer(epochs: usize) -> Vec<TrainOptions> {
        let with = |optimizer, rate| TrainOptions {
            optimizer,
            learning_rate: rate,
            ..sgd(epochs, rate)
        };
        vec![
            sgd(epochs, 0.5),
            TrainOptions {
                momentum: 0.9,
                ..sgd(epochs, 0.1)
            },
            with(OptimizerKind::Adadelta, 1.0),
            with(OptimizerKind::Adam, 0.01),
            with(OptimizerKind::RmsProp, 0.01),
        ]
    }

    #[test]
    fn a_resumed_run_continues_exactly_with_every_optimizer() {
        let stop = AtomicBool::new(false);
        for (three, (two, one)) in every_optimizer(3)
            .iter()
            .zip(every_optimizer(2).iter().zip(every_optimizer(1)))
        {
            let name = optimizer::label(three.optimizer, three.momentum);
            let mut whole = SoftmaxRegression::new(16, 10);
            let (uninterrupted, _) = run(&mut whole, three, History::default(), &stop);
            // Two epochs, then the weights, the history and the optimizer's state go to a new
            // run of one epoch, as `--resume` carries them over.
            let mut resumed = SoftmaxRegression::new(16, 10);
            let mut first = optimizer::from_options(two);
            let (first_part, _) =
                run_with(&mut resumed, first.as_mut(), two, History::default(), &stop);
            let state = first.state();
            let mut second = optimizer::from_options(&one);
            second
                .restore(&state, &trainable_lengths(&mut resumed))
                .unwrap();
            let (second_part, lines) = run_with(
                &mut resumed,
                second.as_mut(),
                &one,
                first_part.history,
                &stop,
            );
            assert!(lines[0].starts_with("Epoch 3/3"), "{name}: {}", lines[0]);
            assert_eq!(
                without_times(&uninterrupted.history),
                without_times(&second_part.history),
                "{name}"
            );
            assert_eq!(whole.parameters, resumed.parameters, "{name}");
            // Without the state the third epoch goes elsewhere (plain SGD keeps none).
            let mut forgetful = SoftmaxRegression::new(16, 10);
            let (first_part, _) = run(&mut forgetful, two, History::default(), &stop);
            run(&mut forgetful, &one, first_part.history, &stop);
            assert_eq!(
                whole.parameters == forgetful.parameters,
                state.vectors.is_empty(),
                "{name}"
            );
        }
    }

    #[test]
    fn a_stopped_epoch_puts_the_optimizer_back_too() {
        for options in every_optimizer(2) {
            let name = optimizer::label(options.optimizer, options.momentum);
            let mut model = SoftmaxRegression::new(16, 10);
            let mut optimizer = optimizer::from_options(&options);
            let stop = AtomicBool::new(false);
            let after_first = std::cell::RefCell::new(None);
            let outcome = train(
                &mut model,
                optimizer.as_mut(),
                &data(),
                &LAYOUT,
                &options,
                History::default(),
                0,
                &stop,
                &mut |progress| {
                    // Ctrl-C in the middle of epoch 2.
                    if let Progress::Batch { batch: 20, .. } = progress
                        && after_first.borrow().is_some()
                    {
                        stop.store(true, Ordering::Relaxed);
                    }
                },
                &mut |_, model, optimizer| {
                    *after_first.borrow_mut() = Some((model.parameters.clone(), optimizer.state()));
                    Ok(())
                },
            );
            assert!(
                matches!(outcome.ending, Ending::Interrupted { epoch: 2 }),
                "{name}: {:?}",
                outcome.ending
            );
            let (parameters, state) = after_first.into_inner().unwrap();
            assert_eq!(model.parameters, parameters, "{name}");
            assert_eq!(optimizer.state(), state, "{name}");
        }
    }

    #[test]
    fn a_non_finite_loss_stops_with_the_last_good_weights() {
        let mut model = SoftmaxRegression::new(16, 10);
        let stop = AtomicBool::new(false);
        let (outcome, _) = run(&mut model, &sgd(2, 0.5), History::default(), &stop);
        let good = model.parameters.clone();
        // Epoch 3 meets an image with a NaN pixel: its loss is NaN, the run stops, and the
        // weights go back to those recorded after epoch 2 (the steps before the NaN batch are
        // undone too).
        let mut poisoned = data();
        poisoned.training.images[16 * 123] = f32::NAN;
        let outcome = train(
            &mut model,
            optimizer::from_options(&sgd(3, 0.5)).as_mut(),
            &poisoned,
            &LAYOUT,
            &sgd(3, 0.5),
            outcome.history,
            2,
            &stop,
            &mut |_| {},
            &mut |_, _, _| Ok(()),
        );
        match outcome.ending {
            Ending::Failed(TrainError::NonFinite { epoch, batch, .. }) => {
                assert_eq!(epoch, 3);
                assert!(batch > 1, "some steps were taken first ({batch})");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(outcome.history.epochs.len(), 2);
        assert_eq!(model.parameters, good);
    }

    #[test]
    fn the_stop_flag_ends_the_run_and_keeps_the_epoch_start_weights() {
        let mut model = SoftmaxRegression::new(16, 10);
        let before = model.parameters.clone();
        let (outcome, _) = run(
            &mut model,
            &sgd(2, 0.5),
            History::default(),
            &AtomicBool::new(true),
        );
        assert!(matches!(outcome.ending, Ending::Interrupted { epoch: 1 }));
        assert!(outcome.history.epochs.is_empty());
        assert_eq!(model.parameters, before);
    }

    #[test]
    fn l2_shrinks_the_weights_but_not_the_bias_penalty_free() {
        let stop = AtomicBool::new(false);
        let mut plain = SoftmaxRegression::new(16, 10);
        run(&mut plain, &sgd(3, 0.5), History::default(), &stop);
        let mut regularised = SoftmaxRegression::new(16, 10);
        let options = TrainOptions {
            l2: 0.01,
            ..sgd(3, 0.5)
        };
        let (outcome, _) = run(&mut regularised, &options, History::default(), &stop);
        let norm = |model: &SoftmaxRegression| -> f64 {
            model.parameters[0]
                .1
                .data()
                .iter()
                .map(|&w| f64::from(w) * f64::from(w))
                .sum()
        };
        assert!(norm(&regularised) < norm(&plain) * 0.8);
        // The reported cost includes λ·Σw² (Keras): it is at least the penalty.
        let record = outcome.history.epochs.last().unwrap();
        assert!(record.loss > 0.01 * norm(&regularised));
    }

    #[test]
    fn evaluation_counts_every_image() {
        let mut model = SoftmaxRegression::new(16, 10);
        let options = sgd(1, 0.5);
        let evaluation = evaluate(&mut model, &dataset(300, 3), &LAYOUT, &options, 0.0).unwrap();
        assert_eq!(evaluation.count, 300);
        assert!((evaluation.accuracy - evaluation.correct as f64 / 300.0).abs() < 1e-12);
        assert!(evaluation.loss > 2.0, "an untrained model is near ln 10");
    }
}
