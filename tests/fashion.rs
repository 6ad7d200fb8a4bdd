//! Fashion-MNIST from the Debian package `dataset-fashion-mnist` (gzipped IDX files in
//! `/usr/share/datasets/fashion-mnist`), in the folder `NETCALC_FASHION_MNIST` names. Ignored by
//! a plain `cargo test`, since a fresh machine does not have the package; `.ci/run` installs it
//! and runs `cargo test --test fashion -- --ignored`. Both tests fail, never skip, when the
//! variable is unset.

mod common;

use common::{builtin, options, train};
use netcalc::data::mnist::Dataset;
use netcalc::train::options::{OptimizerKind, TrainOverrides};
use netcalc::train::run::Data;
use std::num::NonZeroUsize;
use std::path::PathBuf;

fn folder() -> PathBuf {
    PathBuf::from(std::env::var_os("NETCALC_FASHION_MNIST").expect(
        "set NETCALC_FASHION_MNIST to the Fashion-MNIST folder \
         (/usr/share/datasets/fashion-mnist from the Debian package dataset-fashion-mnist)",
    ))
}

/// Zalando's description of the data set: 60,000 training and 10,000 test images of 28×28
/// grey levels in 10 classes, 6,000 and 1,000 of each class.
#[test]
#[ignore = "needs NETCALC_FASHION_MNIST (Debian package dataset-fashion-mnist); run by .ci/run"]
fn the_debian_files_read_as_the_data_set_is_described() {
    let training = Dataset::load_training(&folder()).unwrap();
    let test = Dataset::load_test(&folder()).unwrap();
    for (split, count) in [(&training, 60_000), (&test, 10_000)] {
        assert_eq!((split.len(), split.rows, split.cols), (count, 28, 28));
        let mut per_class = [0usize; 10];
        for &label in &split.labels {
            per_class[usize::from(label)] += 1;
        }
        assert_eq!(per_class, [count / 10; 10]);
    }
    // Not MNIST in disguise: MNIST's first training label is 5, Fashion-MNIST's is 9 (ankle boot).
    assert_eq!(training.labels[0], 9);
}

/// The Keras MNIST CNN learns clothes too: 3,000 images, one epoch, Adadelta.
#[test]
#[ignore = "needs NETCALC_FASHION_MNIST (Debian package dataset-fashion-mnist); run by .ci/run"]
fn the_keras_cnn_learns_fashion_mnist_in_one_epoch() {
    let options = options(TrainOverrides {
        epochs: Some(1),
        batch_size: NonZeroUsize::new(32),
        optimizer: Some(OptimizerKind::Adadelta),
        ..TrainOverrides::default()
    });
    let data = Data {
        training: Dataset::load_training(&folder())
            .unwrap()
            .first(3_000)
            .unwrap(),
        validation: None,
    };
    let test = Dataset::load_test(&folder()).unwrap().first(1_000).unwrap();
    let (history, accuracy) = train(&builtin("keras-mnist-cnn"), &options, &data, &test);
    assert!(accuracy > 0.70, "test accuracy {accuracy}: {history:?}");
}
