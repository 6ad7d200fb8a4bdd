//! Tests of the executor: whole-network gradients against finite differences, determinism, and
//! the checks on what it is handed.

use super::{Initialization, Model};
use crate::graph::Network;
use crate::layers::Pass;
use crate::source::Source;
use crate::syntax::Format;
use crate::tensor::{Compute, Tensor};
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};

fn network(text: &str) -> Network {
    crate::load(&Source::new("test.nn", text), Format::Dsl).expect("network builds")
}

fn model<'n>(network: &'n Network, seed: u64) -> Model<'n> {
    let analysis = crate::analysis::compute(network).expect("analysis");
    let mut random = ChaCha8Rng::seed_from_u64(seed);
    Model::new(network, &analysis, Initialization::Nielsen, &mut random).expect("model")
}

/// A tensor of values in [-1, 1) from a seed.
fn random_tensor(shape: &[usize], seed: u64) -> Tensor {
    let mut random = ChaCha8Rng::seed_from_u64(seed);
    let count = shape.iter().product();
    let values = (0..count)
        .map(|_| (random.next_u32() >> 8) as f32 / (1u32 << 23) as f32 - 1.0)
        .collect();
    Tensor::from_vec(shape, values).unwrap()
}

/// A training forward pass whose dropout masks come from `seed`.
fn run(model: &mut Model, inputs: &[Tensor], seed: u64, compute: Compute) -> Tensor {
    let mut random = ChaCha8Rng::seed_from_u64(seed);
    let mut pass = Pass {
        compute,
        training: true,
        random: &mut random,
    };
    model.forward(inputs, &mut pass).expect("forward")
}

/// Checks every parameter gradient of `model` (up to 24 entries per tensor) against central
/// differences of the loss Σ r ⊙ output, with random weights r.
fn check_whole_network(model: &mut Model, inputs: &[Tensor]) {
    let compute = Compute::single();
    let output = run(model, inputs, 5, compute);
    let weights = random_tensor(output.shape(), 99);
    let loss = |model: &mut Model| -> f64 {
        let output = run(model, inputs, 5, compute);
        output
            .data()
            .iter()
            .zip(weights.data())
            .map(|(&y, &r)| f64::from(y) * f64::from(r))
            .sum()
    };
    model.zero_gradients();
    run(model, inputs, 5, compute);
    model.backward(&weights, compute).expect("backward");
    let analytic: Vec<(String, Vec<f32>)> = model
        .parameters_mut()
        .map(|(name, _, gradient, _)| (name.to_string(), gradient.data().to_vec()))
        .collect();
    let epsilon = 1e-3f32;
    let mut checked = 0;
    for (which, (name, gradient)) in analytic.iter().enumerate() {
        let step = gradient.len().div_ceil(24).max(1);
        for index in (0..gradient.len()).step_by(step) {
            let nudge = |model: &mut Model, by: f32| {
                let (_, parameter, _, _) = model.parameters_mut().nth(which).unwrap();
                parameter.data_mut()[index] += by;
            };
            nudge(model, epsilon);
            let plus = loss(model);
            nudge(model, -2.0 * epsilon);
            let minus = loss(model);
            nudge(model, epsilon);
            let numeric = (plus - minus) / (2.0 * f64::from(epsilon));
            let error = (f64::from(gradient[index]) - numeric).abs();
            assert!(
                error <= 2e-3 + 1e-2 * numeric.abs(),
                "{name}[{index}]: backward gives {}, finite differences {numeric}",
                gradient[index]
            );
            checked += 1;
        }
    }
    assert!(checked > 0, "no parameter was checked");
}

const CHAIN: &str = "network chain
rounding floor
input 6x6x2
C1: conv2d 3 3 padding=same activation=tanh
C2: conv2d 2 3 stride=2 activation=sigmoid
flatten
dropout 0.3
F1: dense 5 activation=tanh
F2: dense 3 activation=softmax
";

#[test]
fn a_chain_matches_finite_differences() {
    let network = network(CHAIN);
    let mut model = model(&network, 1);
    let names: Vec<String> = model
        .named_parameters()
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(
        names,
        [
            "C1.weights",
            "C1.bias",
            "C2.weights",
            "C2.bias",
            "F1.weights",
            "F1.bias",
            "F2.weights",
            "F2.bias"
        ]
    );
    check_whole_network(&mut model, &[random_tensor(&[3, 6, 6, 2], 2)]);
}

/// A layer read by two later layers, one of which is a dead end: only the path to the output
/// (the last layer) contributes to the gradient.
#[test]
fn a_dead_end_branch_adds_nothing() {
    let text = "network dead-end
input 4
shared: dense 3 activation=tanh
unused: dense 2 <- shared
out: dense 2 activation=sigmoid <- shared
";
    let network = network(text);
    let mut model = model(&network, 3);
    let inputs = [random_tensor(&[2, 4], 4)];
    check_whole_network(&mut model, &inputs);
    let unused: Vec<f32> = model
        .parameters_mut()
        .filter(|(name, ..)| name.starts_with("unused."))
        .flat_map(|(_, _, gradient, _)| gradient.data().to_vec())
        .collect();
    assert!(unused.iter().all(|&g| g == 0.0));
}

/// Two branches that read the input and join again: the input-side layer receives the sum of
/// both branches' gradients.
#[test]
fn branches_that_join_match_finite_differences() {
    let text = "network branches
input 5x5x2
stem: conv2d 3 3 padding=same activation=tanh
left: conv2d 2 1 <- stem
right: conv2d 2 3 padding=same activation=sigmoid <- stem
joined: concat <- left, right
twice: add <- stem, stem
both: conv2d 4 1 <- twice
sum: add <- joined, both
flatten
dense 3 activation=softmax
";
    let network = network(text);
    let mut model = model(&network, 5);
    check_whole_network(&mut model, &[random_tensor(&[2, 5, 5, 2], 6)]);
}

#[test]
fn the_same_seed_gives_bit_identical_numbers() {
    let network = network(CHAIN);
    let input = [random_tensor(&[4, 6, 6, 2], 7)];
    let outcome = |seed: u64, threads: usize| {
        let mut model = model(&network, seed);
        let compute = Compute::new(threads).unwrap();
        let output = run(&mut model, &input, 8, compute);
        model
            .backward(&random_tensor(output.shape(), 9), compute)
            .unwrap();
        let gradients: Vec<Vec<f32>> = model
            .parameters_mut()
            .map(|(_, _, gradient, _)| gradient.data().to_vec())
            .collect();
        let bits = |values: &[f32]| values.iter().map(|v| v.to_bits()).collect::<Vec<u32>>();
        (
            bits(output.data()),
            gradients.iter().map(|g| bits(g)).collect::<Vec<_>>(),
        )
    };
    for threads in [1, 2] {
        assert_eq!(outcome(11, threads), outcome(11, threads));
    }
    assert_ne!(outcome(11, 1).0, outcome(12, 1).0);
}

#[test]
fn parameters_start_as_the_scheme_says() {
    let network =
        network("network mlp\ninput 784\nhidden: dense 30 activation=sigmoid\nout: dense 10\n");
    let analysis = crate::analysis::compute(&network).unwrap();
    let mut random = ChaCha8Rng::seed_from_u64(1);
    let model = Model::new(
        &network,
        &analysis,
        Initialization::GlorotUniform,
        &mut random,
    )
    .unwrap();
    let named = model.named_parameters();
    let total: usize = named.iter().map(|(_, tensor)| tensor.len()).sum();
    assert_eq!(total as u64, analysis.totals.parameters());
    let (name, weights) = &named[0];
    assert_eq!(
        (name.as_str(), weights.shape()),
        ("hidden.weights", &[784, 30][..])
    );
    let limit = (6.0f32 / (784.0 + 30.0)).sqrt();
    assert!(weights.data().iter().all(|&w| w.abs() <= limit));
    assert!(weights.data().iter().any(|&w| w.abs() > limit / 2.0));
    assert!(named[1].1.data().iter().all(|&b| b == 0.0));
}

#[test]
fn inference_gives_the_training_output_without_dropout_and_frees_it() {
    let text = "network plain\ninput 3x3x1\nc: conv2d 2 2 activation=relu\nflatten\nd: dense 2\n";
    let network = network(text);
    let mut model = model(&network, 2);
    let input = [random_tensor(&[2, 3, 3, 1], 3)];
    let trained = run(&mut model, &input, 0, Compute::single());
    let mut random = ChaCha8Rng::seed_from_u64(0);
    let mut pass = Pass {
        compute: Compute::single(),
        training: false,
        random: &mut random,
    };
    let inferred = model.forward(&input, &mut pass).unwrap();
    assert_eq!(trained, inferred);
    let error = model.backward(&inferred, Compute::single()).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("backward needs a training forward pass")
    );
}

#[test]
fn saved_parameters_load_into_another_model() {
    let network = network(CHAIN);
    let input = [random_tensor(&[2, 6, 6, 2], 1)];
    let mut first = model(&network, 21);
    let mut second = model(&network, 22);
    assert_ne!(
        run(&mut first, &input, 0, Compute::single()),
        run(&mut second, &input, 0, Compute::single())
    );
    let saved: Vec<(String, Tensor)> = first
        .named_parameters()
        .into_iter()
        .map(|(name, tensor)| (name, tensor.clone()))
        .collect();
    second.load_parameters(saved.clone()).unwrap();
    assert_eq!(
        run(&mut first, &input, 0, Compute::single()),
        run(&mut second, &input, 0, Compute::single())
    );

    let mut missing = saved.clone();
    missing.remove(1);
    let error = second.load_parameters(missing).unwrap_err().to_string();
    assert_eq!(
        error,
        "invalid geometry: the parameter `C1.bias` is missing"
    );
    let mut reshaped = saved.clone();
    reshaped[0].1 = Tensor::zeros(&[3, 3, 2, 2]).unwrap();
    let error = second.load_parameters(reshaped).unwrap_err().to_string();
    assert_eq!(
        error,
        "invalid geometry: the parameter `C1.weights` has the shape [3, 3, 2, 2], the network needs [3, 3, 2, 3]"
    );
    let mut extra = saved;
    extra.push(("C9.weights".to_string(), Tensor::zeros(&[1]).unwrap()));
    let error = second.load_parameters(extra).unwrap_err().to_string();
    assert_eq!(
        error,
        "invalid geometry: the network has no parameter `C9.weights`"
    );
}

#[test]
fn wrong_batches_are_errors_naming_the_layer() {
    let network = network(CHAIN);
    let mut model = model(&network, 1);
    let mut random = ChaCha8Rng::seed_from_u64(0);
    let mut pass = Pass {
        compute: Compute::single(),
        training: true,
        random: &mut random,
    };
    let error = model.forward(&[], &mut pass).unwrap_err().to_string();
    assert_eq!(
        error,
        "invalid geometry: the network has 1 input layers but was given 0 batches"
    );
    let wrong = Tensor::zeros(&[2, 6, 6, 3]).unwrap();
    let error = model.forward(&[wrong], &mut pass).unwrap_err().to_string();
    assert_eq!(
        error,
        "invalid geometry: layer `input_1`: the input batch has examples of shape [6, 6, 3], the network expects [6×6×2]"
    );
}

/// The network's `rounding ceil` reaches the layers when they run: the executor produces the
/// sizes the analysis computes ((6-3)/2+1 = 2.5 → 3), with the last window padded after.
#[test]
fn network_wide_ceil_rounding_runs_at_the_analysis_sizes() {
    let text = "network ceil\nrounding ceil\ninput 6x6x1\nc: conv2d 1 3 stride=2\n";
    let network = network(text);
    let mut model = model(&network, 1);
    let mut random = ChaCha8Rng::seed_from_u64(0);
    let mut pass = Pass {
        compute: Compute::single(),
        training: true,
        random: &mut random,
    };
    let output = model
        .forward(&[Tensor::zeros(&[1, 6, 6, 1]).unwrap()], &mut pass)
        .unwrap();
    assert_eq!(output.shape(), &[1, 3, 3, 1]);
}

/// Every built-in MNIST architecture gets its parameters and runs on a batch of two images.
#[test]
fn the_mnist_builtins_run() {
    for name in [
        "lenet-5",
        "lenet-5-table",
        "lenet-5-1998",
        "keras-mnist-cnn",
        "keras-mnist-cnn-deeper",
        "keras-mnist-cnn-small",
        "keras-mnist-cnn-gap",
        "keras-mnist-grid-best",
        "mlp-784-400-10",
        "mlp-784-100-100-10",
        "mlp-784-30-10",
    ] {
        let builtin = crate::builtin::find(name).expect("a built-in");
        let source = Source::new(format!("builtin:{name}"), builtin.text);
        let network = crate::load(&source, Format::Yaml).expect("loads");
        let analysis = crate::analysis::compute(&network).expect("analysis");
        let mut random = ChaCha8Rng::seed_from_u64(1);
        let mut model = Model::new(
            &network,
            &analysis,
            Initialization::GlorotUniform,
            &mut random,
        )
        .unwrap();
        // Weights a connection table leaves out are allocated but not counted.
        let active: usize = model
            .parameters_mut()
            .map(|(_, _, _, spec)| spec.active)
            .sum();
        assert_eq!(active as u64, analysis.totals.parameters(), "{name}");
        let input = &analysis.layers[0].output.dims();
        let shape: Vec<usize> = std::iter::once(2)
            .chain(input.iter().map(|&d| d as usize))
            .collect();
        let mut pass = Pass {
            compute: Compute::single(),
            training: true,
            random: &mut random,
        };
        let output = model
            .forward(&[random_tensor(&shape, 3)], &mut pass)
            .unwrap_or_else(|error| panic!("{name}: {error}"));
        assert_eq!(output.shape(), &[2, 10], "{name}");
        assert!(output.data().iter().all(|v| v.is_finite()), "{name}");
        model
            .backward(&random_tensor(&[2, 10], 4), Compute::single())
            .unwrap_or_else(|error| panic!("{name}: {error}"));
    }
}
