//! Safetensors files: weights (loaded into a small model, as `netcalc train --resume` and
//! `netcalc eval` do) and the optimizer's state (restored into the optimizer it names). What is
//! read must write back to bytes that read as the same thing.

use netcalc::Network;
use netcalc::tensor::Tensor;
use netcalc::train::executor::{Initialization, Model};
use netcalc::train::optimizer::{Adadelta, Adam, EPSILON, Optimizer, RmsProp, Sgd};
use netcalc::train::optimizer_file::{self, OptimizerFile};
use netcalc::train::options::OptimizerKind;
use netcalc::train::{session, weights};
use std::sync::{Mutex, OnceLock};

/// The network weights are loaded into: small, with weights, biases, and batch normalisation's
/// trainable and fixed parameters.
const NETWORK: &str = "\
network fuzz
input 6x6x1
conv2d 2 3x3
batchnorm
dense 3
";

/// The trainable tensor lengths an optimizer state is restored for: those of [`NETWORK`]'s model
/// (conv2d weights and bias, batchnorm's gamma and beta, dense weights and bias).
const LENGTHS: [usize; 6] = [18, 2, 2, 2, 96, 3];

/// Reads the bytes as a weights file, writes what was read and reads it again, and loads it
/// into the model of [`NETWORK`].
pub fn weights(bytes: &[u8]) {
    let Ok(read) = weights::from_bytes(bytes) else {
        return;
    };
    let written =
        weights::to_bytes(&named_of(&read), &read.metadata).expect("what was read can be written");
    let again = weights::from_bytes(&written).expect("what was written reads");
    assert_eq!(
        weights::to_bytes(&named_of(&again), &again.metadata)
            .expect("what was read can be written"),
        written,
        "writing what was read changes the bytes"
    );
    let _ = read.epochs();
    let mut model = model()
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let _ = model.load_parameters(read.tensors);
}

/// The tensors of a weights file as `weights::to_bytes` takes them.
fn named_of(file: &weights::Weights) -> Vec<(String, &Tensor)> {
    file.tensors
        .iter()
        .map(|(name, tensor)| (name.clone(), tensor))
        .collect()
}

/// The model of [`NETWORK`], built once.
fn model() -> &'static Mutex<Model<'static>> {
    static MODEL: OnceLock<Mutex<Model<'static>>> = OnceLock::new();
    MODEL.get_or_init(|| {
        let source = netcalc::Source::new("fuzz.nn", NETWORK);
        let network: &'static Network = Box::leak(Box::new(
            netcalc::load(&source, netcalc::Format::Dsl).expect("the network loads"),
        ));
        let analysis = netcalc::analyse(network).expect("the network analyses");
        let mut random = session::initial_generator(1);
        let model = Model::new(network, &analysis, Initialization::Nielsen, &mut random)
            .expect("the model builds");
        Mutex::new(model)
    })
}

/// Reads the bytes as an optimizer file, writes what was read and reads it again, and restores
/// the state into a fresh optimizer of its kind.
pub fn optimizer_state(bytes: &[u8]) {
    let Ok(file) = optimizer_file::from_bytes(bytes) else {
        return;
    };
    let _ = file.label();
    let written = optimizer_file::to_bytes(&file).expect("what was read can be written");
    let again = optimizer_file::from_bytes(&written).expect("what was written reads");
    assert_eq!(
        optimizer_file::to_bytes(&again).expect("what was read can be written"),
        written,
        "writing what was read changes the bytes"
    );
    let mut optimizer = fresh(&file);
    let _ = optimizer.restore(&file.state, &LENGTHS);
}

/// An optimizer of the file's kind, with its learning rate and momentum.
fn fresh(file: &OptimizerFile) -> Box<dyn Optimizer> {
    let rate = file.learning_rate as f32;
    match file.state.optimizer {
        OptimizerKind::Sgd => Box::new(Sgd::new(rate, file.momentum as f32)),
        OptimizerKind::Adadelta => Box::new(Adadelta::new(rate, 0.95, EPSILON)),
        OptimizerKind::Adam => Box::new(Adam::new(rate, 0.9, 0.999, EPSILON)),
        OptimizerKind::RmsProp => Box::new(RmsProp::new(rate, 0.9, EPSILON)),
    }
}
