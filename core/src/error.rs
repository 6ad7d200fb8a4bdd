//! The one public error type: a phase's error plus the source it points into. Each phase owns its
//! own error enum; this file only joins them and renders them through miette.

use crate::source::{Source, Span};
use std::fmt;

/// What every phase error can say about itself besides its message.
pub trait Locate {
    /// Where in the description the problem is.
    fn span(&self) -> Span;
    /// The text under the caret.
    fn label(&self) -> String {
        "here".to_string()
    }
    /// A hint on how to fix it.
    fn help(&self) -> Option<String> {
        None
    }
    /// A stable code, `netcalc::phase::kind`.
    fn code(&self) -> &'static str;
    /// Whether this is a warning (the work goes on) rather than an error.
    fn is_warning(&self) -> bool {
        false
    }
}

/// An error from any phase, with the source text its span points into.
#[derive(Debug)]
pub struct Error {
    /// The description it happened in, when there is one.
    pub source: Option<Source>,
    /// The phase's error.
    pub kind: Box<dyn LocatedError>,
    named: Option<miette::NamedSource<std::sync::Arc<str>>>,
}

/// A phase error usable behind [`Error`].
pub trait LocatedError: std::error::Error + Locate + Send + Sync + 'static {}
impl<T: std::error::Error + Locate + Send + Sync + 'static> LocatedError for T {}

impl Error {
    /// Attaches a phase error to its source.
    pub fn new(source: &Source, kind: impl LocatedError) -> Error {
        Error {
            source: Some(source.clone()),
            kind: Box::new(kind),
            named: Some(source.named()),
        }
    }

    /// A phase error that points into no description (e.g. an unreadable file).
    pub fn unplaced(kind: impl LocatedError) -> Error {
        Error {
            source: None,
            kind: Box::new(kind),
            named: None,
        }
    }

    /// The 1-based line and column the error points at, when it points into a source.
    pub fn line_column(&self) -> Option<(usize, usize)> {
        self.source
            .as_ref()
            .map(|source| source.line_column(self.kind.span().offset))
    }
}

/// An error as text, the same bytes on a terminal, in a pipe and in the browser page: no colour,
/// 100 columns, no links (`netcalc` prints exactly this on stderr).
pub fn render(error: &Error) -> String {
    let handler =
        miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
            .with_width(100)
            .with_links(false);
    let mut text = String::new();
    if handler.render_report(&mut text, error).is_err() {
        text = format!("error: {error}\n");
    }
    text
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.kind)
    }
}

impl std::error::Error for Error {}

impl miette::Diagnostic for Error {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.kind.code()))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.kind
            .help()
            .map(|help| Box::new(help) as Box<dyn fmt::Display>)
    }

    fn severity(&self) -> Option<miette::Severity> {
        self.kind.is_warning().then_some(miette::Severity::Warning)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.named
            .as_ref()
            .map(|named| named as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        self.source.as_ref()?;
        let span = self.kind.span();
        Some(Box::new(std::iter::once(miette::LabeledSpan::new(
            Some(self.kind.label()),
            span.offset,
            span.length,
        ))))
    }
}

/// Results of the public API.
pub type Result<T> = std::result::Result<T, Error>;
