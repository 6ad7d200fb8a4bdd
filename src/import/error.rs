//! What an importer reports: a file it cannot read, or a model it cannot describe, with the span
//! of the place in the text where that is known.

use crate::error::Locate;
use crate::source::Span;

/// A model file that cannot be imported.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ImportError {
    /// The text is not JSON.
    #[error("the file is not valid JSON: {message}")]
    Json {
        /// serde_json's message, without its position.
        message: String,
        /// Where the JSON breaks.
        span: Span,
    },
    /// The JSON is not a model of the expected framework.
    #[error("the file is not {expected}: {problem}")]
    NotAModel {
        /// What the importer reads, e.g. "a Keras model".
        expected: &'static str,
        /// What is wrong.
        problem: String,
        /// Where.
        span: Span,
        /// What to do about it.
        help: Option<String>,
    },
    /// A layer (or an ONNX node) of a class netcalc has no kind for.
    #[error("layer `{layer}`: {framework} `{class}` has no netcalc kind")]
    UnknownClass {
        /// What the class is, with its framework ("Keras class", "ONNX operator").
        framework: &'static str,
        /// The class (or operator) name.
        class: String,
        /// The layer's (or node's) name.
        layer: String,
        /// Where the class is written.
        span: Span,
        /// The classes this importer reads.
        known: String,
    },
    /// A layer setting netcalc cannot describe (channels-first data, a padding netcalc lacks).
    #[error("layer `{layer}`: {problem}")]
    Unsupported {
        /// The layer's name.
        layer: String,
        /// What netcalc cannot describe.
        problem: String,
        /// Where.
        span: Span,
        /// What to do about it.
        help: Option<String>,
    },
    /// A required field is missing or has the wrong type.
    #[error("`{field}` {problem}")]
    Field {
        /// The field's name (a path, e.g. `config.layers[2].config.filters`).
        field: String,
        /// "is missing", "must be an integer", …
        problem: String,
        /// Where (the object that lacks it, or the value).
        span: Span,
    },
    /// A binary container (zip, protobuf) that cannot be read.
    #[error("`{file}` is not {expected}: {problem}")]
    Container {
        /// The file's name.
        file: String,
        /// What was expected, e.g. "a Keras archive (zip)".
        expected: &'static str,
        /// The reader's message.
        problem: String,
    },
}

impl Locate for ImportError {
    fn span(&self) -> Span {
        match self {
            ImportError::Json { span, .. }
            | ImportError::NotAModel { span, .. }
            | ImportError::UnknownClass { span, .. }
            | ImportError::Unsupported { span, .. }
            | ImportError::Field { span, .. } => *span,
            ImportError::Container { .. } => Span::default(),
        }
    }

    fn label(&self) -> String {
        match self {
            ImportError::Json { .. } => "here".to_string(),
            ImportError::NotAModel { .. } => "here".to_string(),
            ImportError::UnknownClass { .. } => "no kind for this class".to_string(),
            ImportError::Unsupported { .. } => "not describable".to_string(),
            ImportError::Field { .. } => "here".to_string(),
            ImportError::Container { .. } => "unreadable".to_string(),
        }
    }

    fn help(&self) -> Option<String> {
        match self {
            ImportError::NotAModel { help, .. } | ImportError::Unsupported { help, .. } => {
                help.clone()
            }
            ImportError::UnknownClass { known, .. } => Some(format!("netcalc reads {known}")),
            _ => None,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            ImportError::Json { .. } => "netcalc::import::json",
            ImportError::NotAModel { .. } => "netcalc::import::not_a_model",
            ImportError::UnknownClass { .. } => "netcalc::import::unknown_class",
            ImportError::Unsupported { .. } => "netcalc::import::unsupported",
            ImportError::Field { .. } => "netcalc::import::field",
            ImportError::Container { .. } => "netcalc::import::container",
        }
    }
}
