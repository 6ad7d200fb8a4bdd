//! Reading other frameworks' model files into ordinary descriptions (`netcalc import`): Keras
//! (`model.to_json()` and `.keras` archives), Hugging Face `config.json` and ONNX (`.onnx`). Each importer
//! takes the file's bytes (or text) and returns a [`Description`] or an error pointing into the
//! text; it uses the core as any description does and changes nothing in it. Reading files is the
//! command line's.

mod builder;
pub mod error;
pub mod hugging_face;
mod json;
pub mod keras;
pub mod onnx;

pub use error::ImportError;

use crate::error::Error;
use crate::source::Source;
use crate::syntax::Description;

/// The kinds of file netcalc imports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Importer {
    /// The JSON of a Keras model (`model.to_json()`, or the `config.json` of a `.keras` archive).
    KerasJson,
    /// A `.keras` archive: a zip holding `config.json`.
    KerasArchive,
    /// A Hugging Face `config.json` (GPT-2, BERT).
    HuggingFace,
    /// An ONNX model (`.onnx`, protobuf).
    Onnx,
}

impl Importer {
    /// The importer for a file, chosen by its extension and, for JSON, by its content: `None`
    /// for a file that is not a model file of another framework (a description).
    pub fn detect(name: &str, bytes: &[u8]) -> Option<Importer> {
        if crate::syntax::Format::from_path(name).is_some() {
            return None;
        }
        let lower = name.to_ascii_lowercase();
        if lower.ends_with(".onnx") {
            return Some(Importer::Onnx);
        }
        if lower.ends_with(".keras") || bytes.starts_with(b"PK\x03\x04") {
            return Some(Importer::KerasArchive);
        }
        if lower.ends_with(".json") || first_meaningful_byte(bytes) == Some(b'{') {
            return Some(if hugging_face::looks_like(bytes) {
                Importer::HuggingFace
            } else {
                Importer::KerasJson
            });
        }
        None
    }

    /// What the file is, in words, for messages.
    pub fn describe(self) -> &'static str {
        match self {
            Importer::KerasJson => "a Keras model's JSON",
            Importer::KerasArchive => "a Keras archive",
            Importer::HuggingFace => "a Hugging Face config",
            Importer::Onnx => "an ONNX model",
        }
    }
}

fn first_meaningful_byte(bytes: &[u8]) -> Option<u8> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    bytes
        .iter()
        .copied()
        .find(|byte| !byte.is_ascii_whitespace())
}

/// Imports a file of another framework, read by the caller: `name` is what errors are reported
/// under (the path). The error carries the text it points into (for an archive, the text of the
/// member it read, named `ARCHIVE/MEMBER`).
pub fn import(importer: Importer, name: &str, bytes: &[u8]) -> Result<Description, Error> {
    match importer {
        Importer::KerasArchive => keras::read_archive(name, bytes),
        Importer::Onnx => onnx::read(name, bytes),
        Importer::KerasJson | Importer::HuggingFace => {
            let source = text_source(name, bytes)?;
            let read = if importer == Importer::KerasJson {
                keras::read
            } else {
                hugging_face::read
            };
            read(&source).map_err(|error| Error::new(&source, error))
        }
    }
}

/// The bytes as the text of a [`Source`], or the error for bytes that are not UTF-8.
pub(crate) fn text_source(name: &str, bytes: &[u8]) -> Result<Source, Error> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok(Source::new(name, text)),
        Err(_) => Err(Error::new(
            &Source::new(name, ""),
            crate::syntax::SyntaxError::NotText,
        )),
    }
}
