//! SHA-256 digests in hex: of bytes, of files (read in pieces), and of JSON values in a fixed
//! form (serde_json's compact text with object keys sorted), which is how a fold records what
//! determined it and checks it later.

use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::Path;

/// The lower-case hex SHA-256 of some bytes.
pub fn of_bytes(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// The digest of a JSON value in its fixed form: compact, object keys sorted at every level
/// (sorted here, so that a dependency turning on serde_json's `preserve_order` changes nothing).
pub fn of_json(value: &serde_json::Value) -> String {
    of_bytes(sorted(value).to_string().as_bytes())
}

fn sorted(value: &serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            serde_json::Value::Object(
                entries
                    .into_iter()
                    .map(|(key, value)| (key.clone(), sorted(value)))
                    .collect(),
            )
        }
        serde_json::Value::Array(items) => {
            serde_json::Value::Array(items.iter().map(sorted).collect())
        }
        other => other.clone(),
    }
}

/// The digest of a file's bytes, or `None` when it cannot be read.
pub fn of_file(path: &Path) -> Option<String> {
    let mut file = std::fs::File::open(path).ok()?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    loop {
        let read = file.read(&mut buffer).ok()?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
    }
    Some(hex(&hasher.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_match_sha256sum() {
        // `printf abc | sha256sum` (FIPS 180-2's example).
        assert_eq!(
            of_bytes(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("file");
        std::fs::write(&path, b"abc").unwrap();
        assert_eq!(of_file(&path), Some(of_bytes(b"abc")));
        assert_eq!(of_file(&folder.path().join("missing")), None);
    }

    #[test]
    fn json_keys_are_sorted_before_hashing() {
        let one: serde_json::Value = serde_json::from_str(r#"{"b": 1, "a": [2, 3]}"#).unwrap();
        let two: serde_json::Value = serde_json::from_str(r#"{"a": [2, 3], "b": 1}"#).unwrap();
        assert_eq!(sorted(&one).to_string(), r#"{"a":[2,3],"b":1}"#);
        assert_eq!(of_json(&one), of_json(&two));
        assert_eq!(of_json(&one), of_bytes(br#"{"a":[2,3],"b":1}"#));
    }
}
