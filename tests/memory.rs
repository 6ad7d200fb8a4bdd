//! `netcalc memory`'s estimate against what netcalc's executor really holds while it trains:
//! the values of its live tensors at their peak through one training step (counted by the
//! tensors themselves, `netcalc::tensor::allocation`), plus the optimizer's state vectors after
//! the step. This file is its own test binary with one test, so no other thread makes tensors
//! while it counts.

use netcalc::memory::{Optimizer as Kind, Precision, estimate};
use netcalc::tensor::{Compute, Tensor, allocation};
use netcalc::train::executor::{Initialization, Model};
use netcalc::train::optimizer::{Adam, Optimizer};
use netcalc::{Source, builtin, layers::Pass, syntax::Format};
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::SeedableRng;

const BATCH: usize = 16;

/// (estimated values, measured values, allowance) for one Adam step of a built-in at `BATCH`.
/// The allowance is what the estimate leaves out by its convention: the executor makes a
/// layer's parameter gradients as new tensors before adding them into the model's (at most the
/// largest layer's trainable parameters at once), and while a layer's input gradient is made
/// the gradient it reads is still held (at most two of the largest layer outputs at the batch).
fn measure(name: &str) -> (u64, u64, u64) {
    let builtin = builtin::find(name).expect("a built-in");
    let network =
        netcalc::load(&Source::new(builtin.file, builtin.text), Format::Yaml).expect("loads");
    let analysis = netcalc::analyse(&network).expect("analyses");
    let estimated = estimate(&analysis, BATCH as u64, Kind::Adam, Precision::Fp32)
        .expect("fits")
        .total()
        / 4;
    let largest_layer = analysis
        .layers
        .iter()
        .map(|l| l.trainable)
        .max()
        .unwrap_or(0);
    let largest_output = analysis
        .layers
        .iter()
        .map(|l| l.activation_bytes / 4)
        .max()
        .unwrap_or(0);
    let allowance = largest_layer + 2 * largest_output * BATCH as u64;
    let before = allocation::live();
    allocation::reset_peak();
    let mut random = ChaCha8Rng::seed_from_u64(1);
    let mut model = Model::new(
        &network,
        &analysis,
        Initialization::GlorotUniform,
        &mut random,
    )
    .expect("a model");
    let input_shape: Vec<usize> = std::iter::once(BATCH)
        .chain(analysis.layers[0].output.dims().iter().map(|&d| d as usize))
        .collect();
    let count: usize = input_shape.iter().product();
    let input = Tensor::from_vec(
        &input_shape,
        (0..count).map(|i| (i % 7) as f32 / 7.0).collect(),
    )
    .expect("an input");
    let compute = Compute::single();
    let mut pass = Pass {
        compute,
        training: true,
        random: &mut random,
    };
    let output = model.forward(&[input], &mut pass).expect("forward");
    let gradient = Tensor::full(output.shape(), 0.01).expect("a gradient");
    drop(output);
    model.backward(&gradient, compute).expect("backward");
    drop(gradient);
    let mut optimizer = Adam::new(0.001, 0.9, 0.999, 1e-7);
    optimizer.begin_step();
    let mut index = 0;
    for (_, values, gradient, spec) in model.parameters_mut() {
        if spec.trainable {
            optimizer.update(index, values.data_mut(), gradient.data());
            index += 1;
        }
    }
    let state: u64 = optimizer
        .state()
        .vectors
        .values()
        .map(|vector| vector.len() as u64)
        .sum();
    let measured = allocation::peak() - before + state;
    (estimated, measured, allowance)
}

/// For the networks netcalc trains, the estimate (weights, gradients, Adam's two moments and
/// every layer's output at the batch size) is at most what the executor holds, and short of it
/// by no more than the allowance of [`measure`]. Measured at batch 16 (values): keras-mnist-cnn
/// 6,047,176 estimated, 7,591,592 held; mlp-784-100-100-10 374,344 and 468,748; lenet-5 392,712
/// and 585,156; mnist-lstm 341,448 and 436,584.
#[test]
fn the_estimate_is_close_to_the_executors_own_count() {
    for name in [
        "keras-mnist-cnn",
        "mlp-784-100-100-10",
        "lenet-5",
        "mnist-lstm",
    ] {
        let (estimated, measured, allowance) = measure(name);
        eprintln!(
            "{name}: estimated {estimated} values, measured {measured}, allowance {allowance}"
        );
        assert!(estimated <= measured, "{name}: {estimated} > {measured}");
        assert!(
            measured <= estimated + allowance,
            "{name}: {measured} held, more than {estimated} estimated + {allowance}"
        );
    }
}
