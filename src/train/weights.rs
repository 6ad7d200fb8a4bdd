//! Weights files: a network's parameter tensors in the safetensors format (f32, little-endian,
//! named `LAYER.PARAMETER`, e.g. `CONV1.weights`), with string metadata (network name, epochs
//! done). Written atomically, so a run stopped at any point leaves the previous file intact.

use crate::tensor::Tensor;
use crate::train::files::write_atomically;
use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// The metadata key for the network's name.
pub const NETWORK_KEY: &str = "network";
/// The metadata key for the number of epochs the weights have been trained for.
pub const EPOCHS_KEY: &str = "epochs";

/// A weights file that cannot be written or read.
#[derive(Debug, thiserror::Error)]
pub enum WeightsError {
    /// The file system refused.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        /// `read` or `write`.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The bytes are not a safetensors file (or not one netcalc can use).
    #[error("{} is not a usable safetensors file: {reason}", path.display())]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

/// What a weights file holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Weights {
    /// Tensors by name, in name order.
    pub tensors: Vec<(String, Tensor)>,
    /// The string metadata.
    pub metadata: BTreeMap<String, String>,
}

impl Weights {
    /// The epochs recorded in the metadata (0 when absent or unreadable).
    pub fn epochs(&self) -> usize {
        self.metadata
            .get(EPOCHS_KEY)
            .and_then(|epochs| epochs.parse().ok())
            .unwrap_or(0)
    }
}

/// Writes named tensors and metadata to `path` atomically.
pub fn write(
    path: &Path,
    tensors: &[(String, &Tensor)],
    metadata: &BTreeMap<String, String>,
) -> Result<(), WeightsError> {
    let bytes = to_bytes(tensors, metadata).map_err(|reason| WeightsError::Format {
        path: path.to_path_buf(),
        reason,
    })?;
    write_atomically(path, &bytes).map_err(|source| WeightsError::Io {
        action: "write",
        path: path.to_path_buf(),
        source,
    })
}

/// The safetensors bytes of named tensors.
pub fn to_bytes(
    tensors: &[(String, &Tensor)],
    metadata: &BTreeMap<String, String>,
) -> Result<Vec<u8>, String> {
    let buffers: Vec<(String, Vec<usize>, Vec<u8>)> = tensors
        .iter()
        .map(|(name, tensor)| {
            let bytes = tensor
                .data()
                .iter()
                .flat_map(|value| value.to_le_bytes())
                .collect();
            (name.clone(), tensor.shape().to_vec(), bytes)
        })
        .collect();
    let views = buffers
        .iter()
        .map(|(name, shape, bytes)| {
            TensorView::new(Dtype::F32, shape.clone(), bytes)
                .map(|view| (name.as_str(), view))
                .map_err(|error| format!("tensor `{name}`: {error}"))
        })
        .collect::<Result<Vec<_>, String>>()?;
    let metadata: HashMap<String, String> = metadata.clone().into_iter().collect();
    safetensors::tensor::serialize(views, Some(metadata)).map_err(|error| error.to_string())
}

/// Reads a weights file.
pub fn read(path: &Path) -> Result<Weights, WeightsError> {
    let bytes = std::fs::read(path).map_err(|source| WeightsError::Io {
        action: "read",
        path: path.to_path_buf(),
        source,
    })?;
    from_bytes(&bytes).map_err(|reason| WeightsError::Format {
        path: path.to_path_buf(),
        reason,
    })
}

/// Reads safetensors bytes; every tensor must be f32.
pub fn from_bytes(bytes: &[u8]) -> Result<Weights, String> {
    let (_, header) = SafeTensors::read_metadata(bytes).map_err(|error| error.to_string())?;
    let metadata: BTreeMap<String, String> = header
        .metadata()
        .clone()
        .unwrap_or_default()
        .into_iter()
        .collect();
    let file = SafeTensors::deserialize(bytes).map_err(|error| error.to_string())?;
    let mut tensors = Vec::new();
    for (name, view) in file.tensors() {
        if view.dtype() != Dtype::F32 {
            return Err(format!(
                "tensor `{name}` holds {:?} values; netcalc reads F32 only",
                view.dtype()
            ));
        }
        let values: Vec<f32> = view
            .data()
            .chunks_exact(4)
            .map(|chunk| f32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]))
            .collect();
        let tensor = Tensor::from_vec(view.shape(), values)
            .map_err(|error| format!("tensor `{name}`: {error}"))?;
        tensors.push((name, tensor));
    }
    tensors.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(Weights { tensors, metadata })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> (Tensor, Tensor, BTreeMap<String, String>) {
        let weights = Tensor::from_vec(&[2, 3], vec![1.0, -2.5, 3.25, 0.0, f32::MIN, 7.0]).unwrap();
        let bias = Tensor::from_vec(&[3], vec![0.5, 0.25, -0.125]).unwrap();
        let metadata = BTreeMap::from([
            (NETWORK_KEY.to_string(), "mlp".to_string()),
            (EPOCHS_KEY.to_string(), "3".to_string()),
        ]);
        (weights, bias, metadata)
    }

    #[test]
    fn tensors_and_metadata_read_back() {
        let (weights, bias, metadata) = sample();
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("weights.safetensors");
        write(
            &path,
            &[
                ("hidden.weights".to_string(), &weights),
                ("hidden.bias".to_string(), &bias),
            ],
            &metadata,
        )
        .unwrap();
        let read_back = read(&path).unwrap();
        assert_eq!(
            read_back.tensors,
            vec![
                ("hidden.bias".to_string(), bias),
                ("hidden.weights".to_string(), weights),
            ]
        );
        assert_eq!(read_back.metadata, metadata);
        assert_eq!(read_back.epochs(), 3);
    }

    #[test]
    fn the_layout_is_standard_safetensors() {
        let (weights, _, _) = sample();
        let bytes = to_bytes(&[("w".to_string(), &weights)], &BTreeMap::new()).unwrap();
        let header_length = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
        let header: serde_json::Value =
            serde_json::from_slice(&bytes[8..8 + header_length]).unwrap();
        assert_eq!(header["w"]["dtype"], "F32");
        assert_eq!(header["w"]["shape"], serde_json::json!([2, 3]));
        assert_eq!(header["w"]["data_offsets"], serde_json::json!([0, 24]));
        assert_eq!(
            &bytes[8 + header_length..8 + header_length + 4],
            &1.0f32.to_le_bytes()
        );
    }

    #[test]
    fn damaged_files_are_clear_errors() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("weights.safetensors");
        std::fs::write(&path, b"not a weights file").unwrap();
        let error = read(&path).unwrap_err();
        assert!(
            error.to_string().starts_with(&format!(
                "{} is not a usable safetensors file: ",
                path.display()
            )),
            "{error}"
        );
        let (weights, _, _) = sample();
        let bytes = to_bytes(&[("w".to_string(), &weights)], &BTreeMap::new()).unwrap();
        assert!(from_bytes(&bytes[..bytes.len() - 4]).is_err(), "truncated");
        let missing = folder.path().join("missing.safetensors");
        assert!(matches!(read(&missing), Err(WeightsError::Io { .. })));
    }
}
