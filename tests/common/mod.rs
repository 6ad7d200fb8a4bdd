//! Helpers the training test binaries share (`training.rs` on MNIST, `fashion.rs` on
//! Fashion-MNIST): a built-in network, options from flags, and a run to its end.

use netcalc::data::mnist::Dataset;
use netcalc::train::History;
use netcalc::train::options::{TrainOptions, TrainOverrides};
use netcalc::train::run::{self, Data, Ending};
use netcalc::train::session;
use netcalc::{Format, Network, Source};
use std::num::NonZeroUsize;
use std::sync::atomic::AtomicBool;

/// A built-in architecture, read from its YAML.
pub fn builtin(name: &str) -> Network {
    let builtin = netcalc::builtin::find(name).unwrap();
    netcalc::load(&Source::new(builtin.file, builtin.text), Format::Yaml).unwrap()
}

/// Options from flags alone (no `train` section), on two threads.
pub fn options(flags: TrainOverrides) -> TrainOptions {
    TrainOptions::resolve(&[], &flags, NonZeroUsize::new(2).unwrap()).unwrap()
}

/// Trains a network on 28×28 images to its last epoch and returns the history and the test
/// accuracy.
pub fn train(
    network: &Network,
    options: &TrainOptions,
    data: &Data,
    test: &Dataset,
) -> (History, f64) {
    let analysis = netcalc::analyse(network).unwrap();
    let layout = session::input_layout(&analysis, 28, 28).unwrap();
    let mut model = session::build_model(network, &analysis, options).unwrap();
    let outcome = run::train(
        &mut model,
        netcalc::train::optimizer::from_options(options).as_mut(),
        data,
        &layout,
        options,
        History::default(),
        0,
        &AtomicBool::new(false),
        &mut |_| {},
        &mut |_, _, _| Ok(()),
    );
    assert!(
        matches!(outcome.ending, Ending::Finished),
        "{:?}",
        outcome.ending
    );
    let evaluation = run::evaluate(&mut model, test, &layout, options, 0.0).unwrap();
    (outcome.history, evaluation.accuracy)
}
