//! Weights files: a network's parameter tensors in the safetensors format (f32, little-endian,
//! named `LAYER.PARAMETER`, e.g. `CONV1.weights`), with string metadata (network name, epochs
//! done). Written atomically, so a run stopped at any point leaves the previous file intact.

use crate::tensor::Tensor;
use crate::train::files::write_atomically;
use safetensors::tensor::{Dtype, SafeTensors};
use std::collections::BTreeMap;
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

/// The safetensors bytes of named tensors: an 8-byte little-endian header length, the JSON
/// header (`__metadata__`, then each tensor's dtype, shape and byte range, keys sorted, padded
/// with spaces to a multiple of 8 bytes) and the tensors' little-endian f32 values in name order.
/// Written here rather than by the `safetensors` crate, whose metadata map comes out in a random
/// order: these bytes depend only on the tensors and metadata. [`from_bytes`] reads them with
/// the crate.
pub fn to_bytes(
    tensors: &[(String, &Tensor)],
    metadata: &BTreeMap<String, String>,
) -> Result<Vec<u8>, String> {
    let mut ordered: Vec<&(String, &Tensor)> = tensors.iter().collect();
    ordered.sort_by(|a, b| a.0.cmp(&b.0));
    let mut header = serde_json::Map::new();
    if !metadata.is_empty() {
        header.insert("__metadata__".to_string(), serde_json::json!(metadata));
    }
    let mut offset = 0usize;
    for (name, tensor) in &ordered {
        if name == "__metadata__" || header.contains_key(name.as_str()) {
            return Err(format!("tensor name `{name}` is reserved or given twice"));
        }
        let end = offset + tensor.len() * 4;
        header.insert(
            name.clone(),
            serde_json::json!({
                "dtype": "F32",
                "shape": tensor.shape(),
                "data_offsets": [offset, end],
            }),
        );
        offset = end;
    }
    let mut header_text =
        serde_json::to_string(&serde_json::Value::Object(header)).map_err(|e| e.to_string())?;
    while header_text.len() % 8 != 0 {
        header_text.push(' ');
    }
    let mut bytes = Vec::with_capacity(8 + header_text.len() + offset);
    bytes.extend((header_text.len() as u64).to_le_bytes());
    bytes.extend(header_text.as_bytes());
    for (_, tensor) in ordered {
        for value in tensor.data() {
            bytes.extend(value.to_le_bytes());
        }
    }
    Ok(bytes)
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
