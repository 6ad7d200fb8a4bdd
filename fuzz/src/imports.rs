//! Other frameworks' model files, as `netcalc import` and every command read them: the bytes go
//! to one importer, whose errors must point inside the text they carry and render.

use netcalc::cli;
use netcalc::import::{self, Importer};

/// Imports the bytes with `importer` under a name of that kind; the result (a description or an
/// error) is rendered, as the command line would.
fn import_bytes(importer: Importer, name: &str, bytes: &[u8]) {
    match import::import(importer, name, bytes) {
        Ok(description) => {
            let _ = netcalc::syntax::yaml::print(&description);
        }
        Err(error) => {
            if let (Some(source), Some(_)) = (&error.source, error.line_column()) {
                let span = netcalc::error::Locate::span(error.kind.as_ref());
                assert!(
                    span.offset + span.length <= source.text.len(),
                    "the error `{error}` points past its text"
                );
            }
            let _ = cli::render_error(&error);
        }
    }
}

/// A Keras model: a `.keras` archive when the bytes start as a zip does, else its JSON.
pub fn keras(bytes: &[u8]) {
    if bytes.starts_with(b"PK") {
        import_bytes(Importer::KerasArchive, "fuzz.keras", bytes);
    } else {
        crate::descriptions::lean(bytes, import::keras::read);
        import_bytes(Importer::KerasJson, "fuzz.json", bytes);
    }
}

/// A Hugging Face `config.json`.
pub fn hugging_face(bytes: &[u8]) {
    crate::descriptions::lean(bytes, import::hugging_face::read);
    import_bytes(Importer::HuggingFace, "config.json", bytes);
}

/// An ONNX model (protobuf).
pub fn onnx(bytes: &[u8]) {
    import_bytes(Importer::Onnx, "fuzz.onnx", bytes);
}
