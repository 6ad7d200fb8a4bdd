//! The optimizer file, `optimizer.safetensors`, kept beside the weights so that a resumed run
//! continues exactly: an optimizer's state ([`OptimizerState`]) as flat f32 tensors named like
//! its vectors (`velocity.3`, `first_moment.0`, …), with string metadata: the optimizer, its
//! learning rate (and SGD's momentum), the epochs the state has seen (the weights' `epochs`), the
//! network's name, and the optimizer's counters (Adam's `steps`). The bytes are laid out as the
//! weights file's ([`crate::train::weights::to_bytes`]), written atomically.

use crate::tensor::Tensor;
use crate::train::error::TrainError;
use crate::train::files::write_atomically;
use crate::train::optimizer::{self, OptimizerState};
use crate::train::options::OptimizerKind;
use crate::train::weights::{self, EPOCHS_KEY, NETWORK_KEY, WeightsError};
use std::collections::BTreeMap;
use std::path::Path;

/// The file's name in a run folder (and beside any weights file a run resumes from).
pub const FILE_NAME: &str = "optimizer.safetensors";
/// The metadata key for the optimizer's name (`sgd`, `adadelta`, `adam`, `rmsprop`).
pub const OPTIMIZER_KEY: &str = "optimizer";
/// The metadata key for the learning rate the state was reached with.
pub const LEARNING_RATE_KEY: &str = "learning_rate";
/// The metadata key for SGD's momentum.
pub const MOMENTUM_KEY: &str = "momentum";

/// Metadata keys that are not counters.
const RESERVED: [&str; 5] = [
    OPTIMIZER_KEY,
    LEARNING_RATE_KEY,
    MOMENTUM_KEY,
    EPOCHS_KEY,
    NETWORK_KEY,
];

/// What an optimizer file holds.
#[derive(Debug, Clone, PartialEq)]
pub struct OptimizerFile {
    /// The optimizer's state.
    pub state: OptimizerState,
    /// The learning rate it was trained with.
    pub learning_rate: f64,
    /// SGD's momentum (0 for plain SGD and the other optimizers).
    pub momentum: f64,
    /// The epochs the state has seen; the weights saved with it record the same.
    pub epochs: usize,
    /// The network's name.
    pub network: String,
}

impl OptimizerFile {
    /// The optimizer as messages call it (`adam`, `sgd with momentum`).
    pub fn label(&self) -> String {
        optimizer::label(self.state.optimizer, self.momentum)
    }
}

/// The file's bytes: a standard safetensors file, the same for the same state.
pub fn to_bytes(file: &OptimizerFile) -> Result<Vec<u8>, String> {
    let mut metadata = BTreeMap::from([
        (
            OPTIMIZER_KEY.to_string(),
            file.state.optimizer.name().to_string(),
        ),
        (
            LEARNING_RATE_KEY.to_string(),
            file.learning_rate.to_string(),
        ),
        (EPOCHS_KEY.to_string(), file.epochs.to_string()),
        (NETWORK_KEY.to_string(), file.network.clone()),
    ]);
    if file.state.optimizer == OptimizerKind::Sgd {
        metadata.insert(MOMENTUM_KEY.to_string(), file.momentum.to_string());
    }
    for (name, count) in &file.state.counters {
        if RESERVED.contains(&name.as_str()) {
            return Err(format!("the counter `{name}` has a reserved name"));
        }
        metadata.insert(name.clone(), count.to_string());
    }
    let tensors = file
        .state
        .vectors
        .iter()
        .map(|(name, values)| {
            Tensor::from_vec(&[values.len()], values.clone())
                .map(|tensor| (name.clone(), tensor))
                .map_err(|error| format!("`{name}`: {error}"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let named: Vec<(String, &Tensor)> = tensors
        .iter()
        .map(|(name, tensor)| (name.clone(), tensor))
        .collect();
    weights::to_bytes(&named, &metadata)
}

/// Reads the bytes back; anything missing, unreadable or not flat is an error.
pub fn from_bytes(bytes: &[u8]) -> Result<OptimizerFile, String> {
    let file = weights::from_bytes(bytes)?;
    interpret(file)
}

fn interpret(file: weights::Weights) -> Result<OptimizerFile, String> {
    let metadata = &file.metadata;
    let text = |key: &str| {
        metadata
            .get(key)
            .ok_or_else(|| format!("its metadata has no `{key}`"))
    };
    let number = |key: &str| -> Result<f64, String> {
        let value = text(key)?;
        value
            .parse::<f64>()
            .ok()
            .filter(|number| number.is_finite())
            .ok_or_else(|| format!("its `{key}` is `{value}`, not a number"))
    };
    let name = text(OPTIMIZER_KEY)?;
    let kind = OptimizerKind::from_name(name).ok_or_else(|| {
        format!(
            "its `{OPTIMIZER_KEY}` is `{name}`, not one of {}",
            OptimizerKind::NAMES.join(", ")
        )
    })?;
    let epochs_text = text(EPOCHS_KEY)?;
    let epochs = epochs_text
        .parse()
        .map_err(|_| format!("its `{EPOCHS_KEY}` is `{epochs_text}`, not a count"))?;
    let momentum = if kind == OptimizerKind::Sgd {
        number(MOMENTUM_KEY)?
    } else {
        0.0
    };
    let mut counters = BTreeMap::new();
    for (key, value) in metadata {
        if RESERVED.contains(&key.as_str()) {
            continue;
        }
        let count = value
            .parse()
            .map_err(|_| format!("its counter `{key}` is `{value}`, not a count"))?;
        counters.insert(key.clone(), count);
    }
    let mut vectors = BTreeMap::new();
    for (name, tensor) in file.tensors {
        if tensor.shape().len() != 1 {
            return Err(format!(
                "tensor `{name}` has shape {:?}; an optimizer's state is flat vectors",
                tensor.shape()
            ));
        }
        vectors.insert(name, tensor.into_data());
    }
    Ok(OptimizerFile {
        state: OptimizerState {
            optimizer: kind,
            vectors,
            counters,
        },
        learning_rate: number(LEARNING_RATE_KEY)?,
        momentum,
        epochs,
        network: text(NETWORK_KEY)?.clone(),
    })
}

/// Writes the file atomically.
pub fn write(path: &Path, file: &OptimizerFile) -> Result<(), TrainError> {
    let bytes = to_bytes(file).map_err(|reason| TrainError::OptimizerState {
        path: path.to_path_buf(),
        reason,
    })?;
    write_atomically(path, &bytes).map_err(|source| TrainError::Write {
        path: path.to_path_buf(),
        source,
    })
}

/// Reads the file: `None` when there is none; a file that is not an optimizer's state is an
/// error naming it.
pub fn read(path: &Path) -> Result<Option<OptimizerFile>, TrainError> {
    let damaged = |reason: String| TrainError::OptimizerState {
        path: path.to_path_buf(),
        reason,
    };
    match weights::read(path) {
        Ok(file) => interpret(file).map(Some).map_err(damaged),
        Err(WeightsError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            Ok(None)
        }
        Err(WeightsError::Format { reason, .. }) => Err(damaged(format!(
            "it is not a usable safetensors file: {reason}"
        ))),
        Err(error) => Err(error.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::optimizer::{Adam, Optimizer, Sgd};

    fn adam_file() -> OptimizerFile {
        let mut adam = Adam::new(0.01, 0.9, 0.999, 1e-7);
        let mut values = [vec![1.0f32, -2.0], vec![0.5]];
        for _ in 0..3 {
            adam.begin_step();
            adam.update(0, &mut values[0], &[0.25, -1.5]);
            adam.update(1, &mut values[1], &[3.0]);
        }
        OptimizerFile {
            state: adam.state(),
            learning_rate: 0.01,
            momentum: 0.0,
            epochs: 2,
            network: "mlp".to_string(),
        }
    }

    #[test]
    fn the_state_reads_back_bit_for_bit() {
        let file = adam_file();
        let bytes = to_bytes(&file).unwrap();
        assert_eq!(from_bytes(&bytes).unwrap(), file);
        assert_eq!(to_bytes(&file).unwrap(), bytes, "the same bytes every time");
        let header = String::from_utf8_lossy(&bytes[8..]);
        for expected in [
            r#""__metadata__":{"epochs":"2","learning_rate":"0.01","network":"mlp","optimizer":"adam","steps":"3"}"#,
            r#""first_moment.0":{"data_offsets":[0,8],"dtype":"F32","shape":[2]}"#,
        ] {
            assert!(header.contains(expected), "{header}");
        }
        let mut momentum = Sgd::new(0.1, 0.9);
        momentum.begin_step();
        momentum.update(0, &mut [1.0], &[2.0]);
        let sgd = OptimizerFile {
            state: momentum.state(),
            learning_rate: 0.1,
            momentum: 0.9,
            epochs: 1,
            network: "mlp".to_string(),
        };
        let read_back = from_bytes(&to_bytes(&sgd).unwrap()).unwrap();
        assert_eq!(read_back, sgd);
        assert_eq!(read_back.label(), "sgd with momentum");
    }

    #[test]
    fn a_missing_file_is_none_and_a_damaged_one_an_error_naming_it() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join(FILE_NAME);
        assert!(read(&path).unwrap().is_none());
        std::fs::write(&path, b"not an optimizer").unwrap();
        let error = read(&path).unwrap_err().to_string();
        assert!(
            error.starts_with(&format!(
                "cannot resume the optimizer from {}: it is not a usable safetensors file: ",
                path.display()
            )),
            "{error}"
        );
        write(&path, &adam_file()).unwrap();
        assert_eq!(read(&path).unwrap(), Some(adam_file()));
    }

    #[test]
    fn metadata_and_tensors_that_make_no_sense_are_refused() {
        let spoiled = |spoil: &dyn Fn(&mut weights::Weights)| {
            let mut file = weights::from_bytes(&to_bytes(&adam_file()).unwrap()).unwrap();
            spoil(&mut file);
            let named: Vec<(String, &Tensor)> = file
                .tensors
                .iter()
                .map(|(name, tensor)| (name.clone(), tensor))
                .collect();
            from_bytes(&weights::to_bytes(&named, &file.metadata).unwrap()).unwrap_err()
        };
        assert_eq!(
            spoiled(&|file| {
                file.metadata.remove(OPTIMIZER_KEY);
            }),
            "its metadata has no `optimizer`"
        );
        assert_eq!(
            spoiled(&|file| {
                file.metadata.insert(OPTIMIZER_KEY.into(), "lbfgs".into());
            }),
            "its `optimizer` is `lbfgs`, not one of sgd, adadelta, adam, rmsprop"
        );
        assert_eq!(
            spoiled(&|file| {
                file.metadata.insert(EPOCHS_KEY.into(), "two".into());
            }),
            "its `epochs` is `two`, not a count"
        );
        assert_eq!(
            spoiled(&|file| {
                file.metadata.insert("steps".into(), "-1".into());
            }),
            "its counter `steps` is `-1`, not a count"
        );
        assert_eq!(
            spoiled(&|file| {
                file.metadata.insert(LEARNING_RATE_KEY.into(), "NaN".into());
            }),
            "its `learning_rate` is `NaN`, not a number"
        );
        assert_eq!(
            spoiled(&|file| {
                file.tensors[0].1 = Tensor::zeros(&[1, 2]).unwrap();
            }),
            "tensor `first_moment.0` has shape [1, 2]; an optimizer's state is flat vectors"
        );
    }
}
