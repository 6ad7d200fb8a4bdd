//! `DataError`: everything that can go wrong while reading, splitting or downloading data. Each
//! message about a file starts with that file's path.

use crate::data::fetch::MirrorFailure;
use crate::error::Locate;
use crate::source::Span;
use std::io;
use std::path::PathBuf;

/// An error of the data layer.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// A file could not be opened or read.
    #[error("{}: cannot read the file: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: io::Error,
    },
    /// A gzip file's compressed data is damaged or ends early.
    #[error("{}: the gzip data is damaged or cut short: {source}", path.display())]
    Decompress {
        /// The file.
        path: PathBuf,
        /// What the decoder said.
        source: io::Error,
    },
    /// The file ends inside the IDX header.
    #[error("{}: the file holds {found} bytes, fewer than the {needed}-byte IDX header", path.display())]
    HeaderCut {
        /// The file.
        path: PathBuf,
        /// Bytes the header needs.
        needed: usize,
        /// Bytes the file holds.
        found: usize,
    },
    /// The magic number is not the one the reader expects.
    #[error(
        "{}: magic number 0x{found:08x} is not 0x{expected:08x} ({})",
        path.display(),
        describe_magic(*expected)
    )]
    WrongMagic {
        /// The file.
        path: PathBuf,
        /// The magic number wanted.
        expected: u32,
        /// The magic number found.
        found: u32,
    },
    /// The header's dimensions describe more data than the reader accepts (or than fits in 64 bits).
    #[error(
        "{}: header dimensions {} describe more than the {limit} bytes this reader accepts",
        path.display(),
        join_dimensions(dimensions)
    )]
    HeaderTooLarge {
        /// The file.
        path: PathBuf,
        /// The dimensions in the header.
        dimensions: Vec<u32>,
        /// The most data bytes accepted.
        limit: u64,
    },
    /// The data after the header is not as long as the header says.
    #[error(
        "{}: header says {items} items but the file holds {}",
        path.display(),
        describe_held(*held_bytes, *item_bytes, *held_is_lower_bound)
    )]
    CountMismatch {
        /// The file.
        path: PathBuf,
        /// Items the header announces.
        items: usize,
        /// Bytes per item (rows × columns for images, 1 for labels).
        item_bytes: usize,
        /// Data bytes found after the header.
        held_bytes: u64,
        /// Whether the file was so long that counting stopped: it holds at least `held_bytes`.
        held_is_lower_bound: bool,
    },
    /// A label is not one of the ten classes.
    #[error("{}: label {label} at index {index} is not a class from 0 to 9", path.display())]
    LabelOutOfRange {
        /// The label file.
        path: PathBuf,
        /// Index of the offending label.
        index: usize,
        /// Its value.
        label: u8,
    },
    /// The image and label files hold different numbers of items.
    #[error(
        "{} holds {images} images but {} holds {labels} labels",
        images_path.display(),
        labels_path.display()
    )]
    CountsDiffer {
        /// The image file.
        images_path: PathBuf,
        /// Images it holds.
        images: usize,
        /// The label file.
        labels_path: PathBuf,
        /// Labels it holds.
        labels: usize,
    },
    /// A data folder lacks one of the four files, gzipped or not.
    #[error("{}: neither {name}.gz nor {name} is there", folder.display())]
    MissingFile {
        /// The folder searched.
        folder: PathBuf,
        /// The file's name without `.gz`.
        name: String,
    },
    /// A subset or split asks for more images than the set holds.
    #[error("asked for {requested} images but the set holds only {available}")]
    NotEnoughImages {
        /// Images asked for.
        requested: usize,
        /// Images there.
        available: usize,
    },
    /// A download could not be written to its folder.
    #[error("{}: cannot write the download: {source}", path.display())]
    Write {
        /// The file being written.
        path: PathBuf,
        /// What the operating system said.
        source: io::Error,
    },
    /// A file that is already in the target folder is not a known copy.
    #[error("{}: already there, but its SHA-256 {found} is not a known digest of this file", path.display())]
    UnknownExistingFile {
        /// The existing file.
        path: PathBuf,
        /// Its SHA-256, lowercase hex.
        found: String,
    },
    /// Every mirror failed for one file.
    #[error("{}: no mirror gave a good copy: {}", path.display(), join_failures(attempts))]
    Download {
        /// The file that was to be written.
        path: PathBuf,
        /// What went wrong at each mirror, in the order tried.
        attempts: Vec<MirrorFailure>,
    },
    /// A download was asked for with an empty mirror list.
    #[error("{}: no mirror to download from", path.display())]
    NoMirrors {
        /// The file that was to be written.
        path: PathBuf,
    },
}

fn describe_magic(magic: u32) -> &'static str {
    match magic {
        crate::data::idx::IMAGES_MAGIC => "unsigned-byte images with 3 dimensions",
        crate::data::idx::LABELS_MAGIC => "unsigned-byte labels with 1 dimension",
        _ => "an IDX file",
    }
}

fn join_dimensions(dimensions: &[u32]) -> String {
    dimensions
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(" × ")
}

fn describe_held(held_bytes: u64, item_bytes: usize, lower_bound: bool) -> String {
    let prefix = if lower_bound { "at least " } else { "" };
    let item_bytes = u64::try_from(item_bytes).unwrap_or(u64::MAX);
    match (
        held_bytes.checked_div(item_bytes),
        held_bytes.checked_rem(item_bytes),
    ) {
        (Some(items), Some(0)) => format!("{prefix}{items}"),
        (Some(items), Some(rest)) => format!("{prefix}{items} and {rest} bytes more"),
        _ => format!("{prefix}{held_bytes} bytes"),
    }
}

fn join_failures(attempts: &[MirrorFailure]) -> String {
    attempts
        .iter()
        .map(MirrorFailure::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

impl Locate for DataError {
    fn span(&self) -> Span {
        Span::default()
    }

    fn label(&self) -> String {
        "data".to_string()
    }

    fn help(&self) -> Option<String> {
        match self {
            DataError::MissingFile { .. } => {
                Some("check the folder's path, or download the data set into it first".to_string())
            }
            DataError::UnknownExistingFile { .. } => {
                Some("remove the file to download a fresh copy".to_string())
            }
            DataError::Decompress { .. }
            | DataError::HeaderCut { .. }
            | DataError::CountMismatch { .. } => {
                Some("the file looks damaged or incomplete: download it again".to_string())
            }
            _ => None,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            DataError::Read { .. } => "netcalc::data::read",
            DataError::Decompress { .. } => "netcalc::data::decompress",
            DataError::HeaderCut { .. } => "netcalc::data::header_cut",
            DataError::WrongMagic { .. } => "netcalc::data::wrong_magic",
            DataError::HeaderTooLarge { .. } => "netcalc::data::header_too_large",
            DataError::CountMismatch { .. } => "netcalc::data::count_mismatch",
            DataError::LabelOutOfRange { .. } => "netcalc::data::label_out_of_range",
            DataError::CountsDiffer { .. } => "netcalc::data::counts_differ",
            DataError::MissingFile { .. } => "netcalc::data::missing_file",
            DataError::NotEnoughImages { .. } => "netcalc::data::not_enough_images",
            DataError::Write { .. } => "netcalc::data::write",
            DataError::UnknownExistingFile { .. } => "netcalc::data::unknown_existing_file",
            DataError::Download { .. } => "netcalc::data::download",
            DataError::NoMirrors { .. } => "netcalc::data::no_mirrors",
        }
    }
}
