//! Short training runs on the real MNIST files (the folder `NETCALC_MNIST` names): a few thousand
//! images for an epoch or two, with accuracy thresholds a broken forward or backward pass cannot
//! reach; determinism; the NaN stop; resuming; and the closed-form fit against gradient descent
//! through the executor. The full reproductions are in EXPERIMENTS.md, not here.

mod common;

use common::{builtin, options, train};
use netcalc::data::mnist::Dataset;
use netcalc::layers::Pass;
use netcalc::tensor::{Compute, Tensor, elementwise};
use netcalc::train::History;
use netcalc::train::executor::{Initialization, Model};
use netcalc::train::optimizer::{Optimizer, Sgd};
use netcalc::train::options::{
    InitializationKind, LossKind, OptimizerKind, TrainOptions, TrainOverrides, Validation,
};
use netcalc::train::run::{Data, Trainable};
use netcalc::train::session;
use netcalc::{Format, Network, Source};
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The MNIST folder, absolute: the command-line tests run netcalc in temporary folders, where a
/// relative `NETCALC_MNIST` (the README's `../shared/datasets/mnist`, meant from the repository
/// root, where `cargo test` runs the tests) would point nowhere.
fn mnist() -> PathBuf {
    let folder = std::env::var_os("NETCALC_MNIST")
        .expect("set NETCALC_MNIST to the MNIST folder (../shared/datasets/mnist)");
    std::path::absolute(folder).unwrap()
}

fn network(text: &str) -> Network {
    let source = Source::new("test.nn", text);
    netcalc::load(&source, Format::Dsl).unwrap()
}

/// The first `training` training images and the first `test` test images.
fn data(training: usize, test: usize) -> (Data, Dataset) {
    let folder = mnist();
    let all = Dataset::load_training(&folder).unwrap();
    let test_set = Dataset::load_test(&folder).unwrap().first(test).unwrap();
    (
        Data {
            training: all.first(training).unwrap(),
            validation: Some(test_set.clone()),
        },
        test_set,
    )
}

#[test]
fn nielsens_mlp_learns_in_three_epochs() {
    // 784-30-10 sigmoid, per-unit cross-entropy, η = 0.5, mini-batches of 10 (exercise 1's
    // settings) on 3,000 images for 3 epochs.
    let options = options(TrainOverrides {
        epochs: Some(3),
        batch_size: NonZeroUsize::new(10),
        optimizer: Some(OptimizerKind::Sgd),
        learning_rate: Some(0.5),
        loss: Some(LossKind::SigmoidCrossEntropy),
        initialization: Some(InitializationKind::Nielsen),
        ..TrainOverrides::default()
    });
    let (data, test) = data(3_000, 1_000);
    let (history, accuracy) = train(&builtin("mlp-784-30-10"), &options, &data, &test);
    assert!(accuracy > 0.85, "test accuracy {accuracy}: {history:?}");
    assert!(history.epochs[2].loss < history.epochs[0].loss);
}

#[test]
fn the_keras_cnn_learns_in_one_epoch() {
    // The Keras MNIST CNN of exercise 3b (1,199,882 parameters) with Adadelta (lr 1.0) on 3,000
    // images for one epoch, in mini-batches of 32.
    let options = options(TrainOverrides {
        epochs: Some(1),
        batch_size: NonZeroUsize::new(32),
        optimizer: Some(OptimizerKind::Adadelta),
        ..TrainOverrides::default()
    });
    let (data, test) = data(3_000, 1_000);
    let (history, accuracy) = train(&builtin("keras-mnist-cnn"), &options, &data, &test);
    // The bound leaves room for the seed: this run through the CLI (3,000 images, batch 32,
    // 2 threads, the default seed and seeds 2-4) scored 0.917 / 0.904 / 0.905 / 0.905 on the
    // 10,000 test images with the ChaCha8 dropout masks of before 448ec6c and 0.908 / 0.900 /
    // 0.908 / 0.903 with the counter-based ones; one seed on these 1,000 test images
    // (standard error ~0.01) gave 0.89, under the 0.90 this test had. Untrained: ~0.1.
    assert!(accuracy > 0.87, "test accuracy {accuracy}: {history:?}");
}

#[test]
fn the_row_by_row_lstm_learns_in_two_epochs() {
    // The built-in mnist-lstm (LSTM(128) over 28 rows of 28 pixels) with Adam on 3,000 images for
    // two epochs in mini-batches of 32; backpropagation through time must work for this.
    let options = options(TrainOverrides {
        epochs: Some(2),
        batch_size: NonZeroUsize::new(32),
        optimizer: Some(OptimizerKind::Adam),
        learning_rate: Some(0.003),
        ..TrainOverrides::default()
    });
    let (data, test) = data(3_000, 1_000);
    let (history, accuracy) = train(&builtin("mnist-lstm"), &options, &data, &test);
    assert!(accuracy > 0.7, "test accuracy {accuracy}: {history:?}");
    assert!(history.epochs[1].loss < history.epochs[0].loss);
}

#[test]
fn the_vision_transformer_learns_in_two_epochs() {
    // The two-block transformer of EXPERIMENTS.md (patches, positions, attention, layernorm,
    // gelu) with Adam on 3,000 images for two epochs in mini-batches of 32.
    let options = options(TrainOverrides {
        epochs: Some(2),
        batch_size: NonZeroUsize::new(32),
        optimizer: Some(OptimizerKind::Adam),
        learning_rate: Some(0.003),
        ..TrainOverrides::default()
    });
    let (data, test) = data(3_000, 1_000);
    let transformer = network(include_str!("fixtures/sequences/vit-mnist.nn"));
    let (history, accuracy) = train(&transformer, &options, &data, &test);
    assert!(accuracy > 0.7, "test accuracy {accuracy}: {history:?}");
    assert!(history.epochs[1].loss < history.epochs[0].loss);
}

#[test]
fn the_llama_block_learns_in_two_epochs() {
    // RMSNorm, grouped-query attention with the rotary embedding and SwiGLU's multiply
    // (fixtures/sequences/llama-mnist.nn), with Adam on 3,000 images for two epochs.
    let options = options(TrainOverrides {
        epochs: Some(2),
        batch_size: NonZeroUsize::new(32),
        optimizer: Some(OptimizerKind::Adam),
        learning_rate: Some(0.003),
        ..TrainOverrides::default()
    });
    let (data, test) = data(3_000, 1_000);
    let llama = network(include_str!("fixtures/sequences/llama-mnist.nn"));
    let (history, accuracy) = train(&llama, &options, &data, &test);
    assert!(accuracy > 0.7, "test accuracy {accuracy}: {history:?}");
    assert!(history.epochs[1].loss < history.epochs[0].loss);
}

#[test]
fn lenet_5_of_1998_learns_with_its_rbf_penalty() {
    // LeNet-5 as in the paper (scaled tanh, trainable subsampling, the C3 table, fixed RBF codes),
    // trained on eq. (8) of the paper with Adam (lr 0.001) in mini-batches of 32: 6,000 images,
    // 2 epochs, on MNIST padded to 32×32. Accuracy counts the smallest penalty as the prediction.
    let options = options(TrainOverrides {
        epochs: Some(2),
        batch_size: NonZeroUsize::new(32),
        optimizer: Some(OptimizerKind::Adam),
        learning_rate: Some(0.001),
        loss: Some(LossKind::RbfPenalty),
        ..TrainOverrides::default()
    });
    let (data, test) = data(6_000, 1_000);
    let (history, accuracy) = train(&builtin("lenet-5-1998"), &options, &data, &test);
    assert!(accuracy > 0.85, "test accuracy {accuracy}: {history:?}");
    assert!(history.epochs[1].loss < history.epochs[0].loss);
}

#[test]
fn the_same_seed_and_threads_give_the_same_history() {
    // Dropout draws from the seeded stream too.
    let network = network(
        "input 784\ndense 64 activation=relu\ndropout rate=0.5\ndense 10 activation=softmax\n",
    );
    let options = options(TrainOverrides {
        epochs: Some(2),
        optimizer: Some(OptimizerKind::Adam),
        seed: Some(7),
        ..TrainOverrides::default()
    });
    let (data, test) = data(1_000, 300);
    let times_out = |history: History| -> Vec<(f64, f64, Option<f64>)> {
        history
            .epochs
            .into_iter()
            .map(|record| (record.loss, record.accuracy, record.validation_loss))
            .collect()
    };
    let (first, first_accuracy) = train(&network, &options, &data, &test);
    let (second, second_accuracy) = train(&network, &options, &data, &test);
    assert_eq!(times_out(first.clone()), times_out(second));
    assert_eq!(first_accuracy, second_accuracy);
    let other = TrainOptions { seed: 8, ..options };
    let (third, _) = train(&network, &other, &data, &test);
    assert_ne!(times_out(first), times_out(third));
}

/// y = x·W + b + noise for 5 inputs and 2 outputs.
fn regression(rows: usize) -> (Vec<f32>, Vec<f32>) {
    let mut random = ChaCha8Rng::seed_from_u64(3);
    let mut uniform = move || (random.next_u32() >> 8) as f32 / (1u32 << 24) as f32 * 2.0 - 1.0;
    let weights: Vec<f32> = (0..10).map(|_| uniform()).collect();
    let mut features = Vec::with_capacity(rows * 5);
    let mut targets = Vec::with_capacity(rows * 2);
    for _ in 0..rows {
        let x: Vec<f32> = (0..5).map(|_| uniform()).collect();
        for output in 0..2 {
            let mut y = 0.3 - 0.6 * output as f32 + 0.05 * uniform();
            for (input, value) in x.iter().enumerate() {
                y += value * weights[input * 2 + output];
            }
            targets.push(y);
        }
        features.extend(x);
    }
    (features, targets)
}

#[test]
fn the_normal_equations_match_gradient_descent_through_the_executor() {
    let rows = 200;
    let (features, targets) = regression(rows);
    let fit =
        netcalc::train::normal_equations::fit_linear(&features, &targets, rows, 5, 2).unwrap();
    // The same problem as a network: one linear dense layer, trained by full-batch gradient
    // descent on the mean squared error until it stops moving.
    let network = network("input 5\ndense 2 activation=linear\n");
    let analysis = netcalc::analyse(&network).unwrap();
    let mut random = ChaCha8Rng::seed_from_u64(1);
    let mut model = Model::new(
        &network,
        &analysis,
        Initialization::GlorotUniform,
        &mut random,
    )
    .unwrap();
    let inputs = Tensor::from_vec(&[rows, 5], features).unwrap();
    let mut optimizer = Sgd::new(0.5, 0.0);
    let compute = Compute::single();
    for _ in 0..5_000 {
        let mut pass = Pass {
            compute,
            training: true,
            random: &mut random,
        };
        let output = model
            .forward(std::slice::from_ref(&inputs), &mut pass)
            .unwrap();
        let mut gradient = vec![0.0; output.len()];
        elementwise::mean_squared_error(output.data(), &targets, &mut gradient).unwrap();
        model.zero_gradients();
        model
            .backward(
                &Tensor::from_vec(output.shape(), gradient).unwrap(),
                compute,
            )
            .unwrap();
        optimizer.begin_step();
        let mut index = 0;
        Trainable::visit_trainable(&mut model, &mut |tensor| {
            optimizer.update(index, tensor.values, tensor.gradient);
            index += 1;
        });
    }
    let parameters = model.named_parameters();
    let weights = &parameters
        .iter()
        .find(|(name, _)| name.ends_with(".weights"))
        .unwrap()
        .1;
    let bias = &parameters
        .iter()
        .find(|(name, _)| name.ends_with(".bias"))
        .unwrap()
        .1;
    for (found, expected) in weights.data().iter().zip(&fit.weights) {
        assert!(
            (f64::from(*found) - expected).abs() < 1e-4,
            "{found} vs {expected}"
        );
    }
    for (found, expected) in bias.data().iter().zip(&fit.bias) {
        assert!(
            (f64::from(*found) - expected).abs() < 1e-4,
            "{found} vs {expected}"
        );
    }
}

// The command line, end to end.

fn netcalc(arguments: &[&str], folder: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_netcalc"))
        .args(arguments)
        .current_dir(folder)
        .env("NETCALC_MNIST", mnist())
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn records(path: &Path) -> Vec<(usize, f64, f64)> {
    let history = History::from_json(&std::fs::read_to_string(path).unwrap()).unwrap();
    history
        .epochs
        .iter()
        .map(|record| (record.epoch, record.loss, record.accuracy))
        .collect()
}

#[test]
fn a_nan_loss_stops_the_run_and_keeps_history_and_weights() {
    let folder = tempfile::tempdir().unwrap();
    std::fs::write(
        folder.path().join("relu.nn"),
        "input 784\ndense 32 activation=relu\ndense 10 activation=linear\n",
    )
    .unwrap();
    let common = [
        "train",
        "relu.nn",
        "--subset",
        "500",
        "--loss",
        "mse",
        "--threads",
        "1",
        "--quiet",
        "--out",
        "run",
    ];
    // One sane epoch, then a learning rate that blows the weights up.
    let first = netcalc(
        &[&common[..], &["--learning-rate", "0.01"]].concat(),
        folder.path(),
    );
    assert!(first.status.success(), "{}", text(&first.stderr));
    let weights = folder.path().join("run/weights.safetensors");
    let good = std::fs::read(&weights).unwrap();
    let second = netcalc(
        &[
            &common[..],
            &[
                "--learning-rate",
                "1e12",
                "--epochs",
                "2",
                "--resume",
                "run/weights.safetensors",
            ],
        ]
        .concat(),
        folder.path(),
    );
    assert_eq!(second.status.code(), Some(2), "{}", text(&second.stdout));
    let message = text(&second.stderr);
    assert!(message.contains("the loss became"), "{message}");
    assert!(message.contains("in epoch 2"), "{message}");
    assert_eq!(
        std::fs::read(&weights).unwrap(),
        good,
        "the last good weights"
    );
    assert_eq!(records(&folder.path().join("run/history.json")).len(), 1);
}

#[test]
fn a_resumed_run_continues_where_it_stopped() {
    let folder = tempfile::tempdir().unwrap();
    let common = [
        "train",
        "mlp-784-30-10",
        "--subset",
        "600",
        "--optimizer",
        "sgd",
        "--learning-rate",
        "0.5",
        "--loss",
        "sigmoid_cross_entropy",
        "--batch-size",
        "10",
        "--threads",
        "1",
        "--quiet",
    ];
    let whole = netcalc(
        &[&common[..], &["--epochs", "2", "--out", "whole"]].concat(),
        folder.path(),
    );
    assert!(whole.status.success(), "{}", text(&whole.stderr));
    let first = netcalc(
        &[&common[..], &["--epochs", "1", "--out", "parts"]].concat(),
        folder.path(),
    );
    assert!(first.status.success(), "{}", text(&first.stderr));
    let second = netcalc(
        &[
            &common[..],
            &[
                "--epochs",
                "1",
                "--out",
                "parts",
                "--resume",
                "parts/weights.safetensors",
            ],
        ]
        .concat(),
        folder.path(),
    );
    assert!(second.status.success(), "{}", text(&second.stderr));
    let whole = records(&folder.path().join("whole/history.json"));
    let parts = records(&folder.path().join("parts/history.json"));
    assert_eq!(parts.iter().map(|r| r.0).collect::<Vec<_>>(), vec![1, 2]);
    assert_eq!(whole, parts, "plain SGD resumes exactly");
    assert_eq!(
        std::fs::read(folder.path().join("whole/weights.safetensors")).unwrap(),
        std::fs::read(folder.path().join("parts/weights.safetensors")).unwrap()
    );
    // eval reads the weights back and agrees with the run's own test figure.
    let trained = text(&second.stdout);
    let evaluated = netcalc(
        &[
            "eval",
            "mlp-784-30-10",
            "--weights",
            "parts/weights.safetensors",
            "--loss",
            "sigmoid_cross_entropy",
            "--threads",
            "1",
        ],
        folder.path(),
    );
    assert!(evaluated.status.success(), "{}", text(&evaluated.stderr));
    let accuracy = |line: &str, marker: &str| -> String {
        line.split(marker)
            .nth(1)
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap()
            .to_string()
    };
    assert_eq!(
        accuracy(&trained, "Test accuracy: "),
        accuracy(&text(&evaluated.stdout), "accuracy "),
        "{trained}\n{}",
        text(&evaluated.stdout)
    );
}

#[test]
fn an_adadelta_run_resumed_with_its_optimizer_state_continues_exactly() {
    let folder = tempfile::tempdir().unwrap();
    let common = [
        "train",
        "mlp-784-30-10",
        "--subset",
        "600",
        "--optimizer",
        "adadelta",
        "--loss",
        "sigmoid_cross_entropy",
        "--batch-size",
        "20",
        "--threads",
        "1",
        "--quiet",
    ];
    let run = |more: &[&str]| {
        let output = netcalc(&[&common[..], more].concat(), folder.path());
        assert!(output.status.success(), "{}", text(&output.stderr));
        output
    };
    let whole = run(&["--epochs", "2", "--out", "whole"]);
    run(&["--epochs", "1", "--out", "parts"]);
    let resumed = run(&[
        "--epochs",
        "1",
        "--out",
        "parts",
        "--resume",
        "parts/weights.safetensors",
    ]);
    assert_eq!(text(&resumed.stderr), "", "nothing to note");
    let read = |path: &str| std::fs::read(folder.path().join(path)).unwrap();
    assert_eq!(
        records(&folder.path().join("whole/history.json")),
        records(&folder.path().join("parts/history.json"))
    );
    assert_eq!(
        read("whole/weights.safetensors"),
        read("parts/weights.safetensors")
    );
    assert_eq!(
        read("whole/optimizer.safetensors"),
        read("parts/optimizer.safetensors")
    );
    let accuracy =
        |output: &std::process::Output| text(&output.stdout).lines().next().unwrap().to_string();
    assert_eq!(accuracy(&whole), accuracy(&resumed));
    let state =
        netcalc::train::optimizer_file::read(&folder.path().join("parts/optimizer.safetensors"))
            .unwrap()
            .unwrap();
    assert_eq!(state.epochs, 2);
    assert_eq!(state.label(), "adadelta");

    // Without the optimizer file (weights saved by an older netcalc, a plain file alone in its
    // folder) the run resumes with a fresh optimizer, says so, and ends elsewhere.
    run(&["--epochs", "1", "--out", "old"]);
    std::fs::create_dir(folder.path().join("older")).unwrap();
    std::fs::copy(
        folder.path().join("old/weights.safetensors"),
        folder.path().join("older/weights.safetensors"),
    )
    .unwrap();
    let fresh = run(&[
        "--epochs",
        "1",
        "--out",
        "old",
        "--resume",
        "older/weights.safetensors",
    ]);
    assert_eq!(
        text(&fresh.stderr),
        "note: there is no older/optimizer.safetensors beside the weights (closed-form fits and \
         runs saved before netcalc kept the optimizer's state have none): the optimizer \
         (adadelta) starts fresh\n"
    );
    assert_ne!(
        read("whole/weights.safetensors"),
        read("old/weights.safetensors")
    );

    // Another optimizer's state is not used, and that is said too.
    let with_adam: Vec<&str> = common
        .iter()
        .map(|&argument| {
            if argument == "adadelta" {
                "adam"
            } else {
                argument
            }
        })
        .collect();
    let other = netcalc(
        &[
            &with_adam[..],
            &[
                "--epochs",
                "1",
                "--out",
                "other",
                "--resume",
                "parts/weights.safetensors",
            ],
        ]
        .concat(),
        folder.path(),
    );
    assert!(other.status.success(), "{}", text(&other.stderr));
    assert_eq!(
        text(&other.stderr),
        "note: parts/checkpoints/epoch-2/optimizer.safetensors holds the state of adadelta, and \
         this run uses adam: the optimizer starts fresh\n"
    );

    // A damaged file is an error naming it; nothing is written.
    std::fs::write(folder.path().join("old/optimizer.safetensors"), b"damaged").unwrap();
    let history = read("old/history.json");
    let refused = netcalc(
        &[
            &common[..],
            &[
                "--epochs",
                "1",
                "--out",
                "old",
                "--resume",
                "old/weights.safetensors",
            ],
        ]
        .concat(),
        folder.path(),
    );
    assert_eq!(refused.status.code(), Some(2));
    // The message is wrapped at the pinned width.
    let message = text(&refused.stderr)
        .split_whitespace()
        .filter(|&word| word != "│")
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        message.contains(
            "× cannot resume the optimizer from old/checkpoints/epoch-2/optimizer.safetensors: it \
             is not a usable safetensors file: "
        ),
        "{message}"
    );
    assert!(
        message.contains(
            "help: remove old/checkpoints/epoch-2/optimizer.safetensors to resume with a fresh \
             optimizer (the run then does not continue exactly)"
        ),
        "{message}"
    );
    assert_eq!(read("old/history.json"), history);
}

#[test]
fn the_cli_fits_a_linear_network_in_closed_form() {
    let folder = tempfile::tempdir().unwrap();
    let linear =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/train/linear-784-10.nn");
    let output = netcalc(
        &[
            "train",
            linear.to_str().unwrap(),
            "--solver",
            "normal-equations",
            "--loss",
            "mse",
            "--subset",
            "5000",
            "--out",
            "run",
            "--threads",
            "2",
        ],
        folder.path(),
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert!(stdout.contains("Normal equations: rank "), "{stdout}");
    // A linear least-squares classifier gets about 85% of MNIST right.
    let accuracy: f64 = stdout
        .split("Test accuracy: ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|number| number.parse().ok())
        .unwrap();
    assert!(accuracy > 0.8, "{stdout}");
    // A network that is not linear is refused.
    let refused = netcalc(
        &[
            "train",
            "mlp-784-30-10",
            "--solver",
            "normal-equations",
            "--loss",
            "mse",
            "--subset",
            "100",
            "--out",
            "other",
        ],
        folder.path(),
    );
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        text(&refused.stderr).contains("x·W + b"),
        "{}",
        text(&refused.stderr)
    );
}

#[test]
fn predict_classifies_a_test_digit() {
    let folder = tempfile::tempdir().unwrap();
    let trained = netcalc(
        &[
            "train",
            "mlp-784-400-10",
            "--subset",
            "3000",
            "--optimizer",
            "adam",
            "--epochs",
            "2",
            "--out",
            "run",
            "--quiet",
        ],
        folder.path(),
    );
    assert!(trained.status.success(), "{}", text(&trained.stderr));
    let images = mnist().join("t10k-images-idx3-ubyte.gz");
    let images = images.to_str().unwrap();
    // The first test digits are 7, 2, 1.
    for (index, digit) in [("0", "7"), ("1", "2"), ("2", "1")] {
        let output = netcalc(
            &[
                "predict",
                "mlp-784-400-10",
                images,
                "--weights",
                "run/weights.safetensors",
                "--index",
                index,
            ],
            folder.path(),
        );
        assert!(output.status.success(), "{}", text(&output.stderr));
        assert!(
            text(&output.stdout).contains(&format!(": class {digit} (")),
            "{}",
            text(&output.stdout)
        );
    }
}

#[test]
fn without_a_data_folder_the_error_says_what_to_do() {
    let folder = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_netcalc"))
        .args(["train", "mlp-784-30-10"])
        .current_dir(folder.path())
        .env_remove("NETCALC_MNIST")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let message = text(&output.stderr);
    assert!(
        message.contains("no data folder: pass --data DIR or set NETCALC_MNIST"),
        "{message}"
    );
    assert!(
        message.contains("netcalc data fetch mnist --to DIR"),
        "{message}"
    );
}

#[test]
fn validation_splits_follow_nielsen() {
    let options = options(TrainOverrides {
        subset: Some(1_000),
        validation: Some(Validation::Split(10_000)),
        ..TrainOverrides::default()
    });
    let (data, test) = session::load_data(&mnist(), &options).unwrap();
    let all = Dataset::load_training(&mnist()).unwrap();
    assert_eq!(data.training.len(), 1_000);
    assert_eq!(data.training.labels[..], all.labels[..1_000]);
    let validation = data.validation.unwrap();
    assert_eq!(validation.len(), 10_000);
    assert_eq!(validation.labels[..], all.labels[50_000..]);
    assert_eq!(test.len(), 10_000);
}

#[test]
fn fetching_into_a_folder_that_has_the_files_verifies_them_without_downloading() {
    let folder = tempfile::tempdir().unwrap();
    let mnist = mnist();
    let output = netcalc(
        &["data", "fetch", "mnist", "--to", mnist.to_str().unwrap()],
        folder.path(),
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    let progress = text(&output.stderr);
    assert_eq!(
        progress.matches("already there, verified").count(),
        4,
        "{progress}"
    );
    assert!(!progress.contains("downloading"), "{progress}");
    assert!(
        text(&output.stdout).contains("mnist in "),
        "{}",
        text(&output.stdout)
    );
    let refused = netcalc(&["data", "fetch", "cifar", "--to", "x"], folder.path());
    assert_eq!(refused.status.code(), Some(2));
    assert!(text(&refused.stderr).contains("expected mnist or fashion-mnist"));
}

#[test]
fn ctrl_c_stops_between_batches_and_keeps_the_finished_epochs() {
    use std::io::{BufRead, BufReader};
    let folder = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_netcalc"))
        .args([
            "train",
            "mlp-784-400-10",
            "--subset",
            "2000",
            "--epochs",
            "1000",
            "--threads",
            "1",
            "--out",
            "run",
        ])
        .current_dir(folder.path())
        .env("NETCALC_MNIST", mnist())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    assert!(first.starts_with("Epoch 1/1000 - "), "{first}");
    let signal = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(signal.success());
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("Interrupted in epoch "), "{stderr}");
    let history = records(&folder.path().join("run/history.json"));
    assert!(!history.is_empty() && history.len() < 1000);
    let weights =
        netcalc::train::weights::read(&folder.path().join("run/weights.safetensors")).unwrap();
    assert_eq!(weights.epochs(), history.len(), "weights and history agree");
    let optimizer =
        netcalc::train::optimizer_file::read(&folder.path().join("run/optimizer.safetensors"))
            .unwrap()
            .unwrap();
    assert_eq!(
        optimizer.epochs,
        history.len(),
        "so does the optimizer's state"
    );
}
