//! The IDX file format of the MNIST files: a big-endian header (magic number, then one 32-bit size
//! per dimension) followed by unsigned bytes. Reads gzipped or plain files and checks every size
//! in the header against the data actually there, before allocating for it.

use crate::data::error::DataError;
use flate2::read::MultiGzDecoder;
use std::fs::File;
use std::io::{self, Cursor, Read};
use std::path::Path;

/// Magic number of an IDX file of unsigned-byte images: `[count, rows, columns]`.
pub const IMAGES_MAGIC: u32 = 0x0000_0803;
/// Magic number of an IDX file of unsigned-byte labels: `[count]`.
pub const LABELS_MAGIC: u32 = 0x0000_0801;
/// The most data bytes (after the header) a file may announce; MNIST's largest holds 47 MB.
pub const MAX_DATA_BYTES: u64 = 1 << 30;
/// The first two bytes of every gzip file.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
/// Up to this many bytes are reserved ahead of reading; beyond it the buffer grows as data arrives,
/// so a header that lies about its size costs no large allocation.
const RESERVE_LIMIT: u64 = 64 << 20;

/// The contents of an IDX image file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Images {
    /// Number of images.
    pub count: usize,
    /// Rows per image.
    pub rows: usize,
    /// Columns per image.
    pub cols: usize,
    /// `count × rows × cols` pixels, image after image, row after row.
    pub pixels: Vec<u8>,
}

/// Whether a file's bytes pass through a gzip decoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Compression {
    Plain,
    Gzip,
}

/// Reads an image file, gzipped or not (told apart by the gzip magic bytes `1f 8b`).
pub fn read_images(path: &Path) -> Result<Images, DataError> {
    parse_images(open(path)?, path)
}

/// Reads a label file, gzipped or not (told apart by the gzip magic bytes `1f 8b`).
pub fn read_labels(path: &Path) -> Result<Vec<u8>, DataError> {
    parse_labels(open(path)?, path)
}

/// Parses IDX image bytes, gzipped or not; `path` only names the data in errors.
pub fn parse_images(reader: impl Read, path: &Path) -> Result<Images, DataError> {
    let (reader, compression) = decompressing(reader, path)?;
    let (count, [rows, cols], pixels) = parse::<2>(reader, path, compression, IMAGES_MAGIC)?;
    Ok(Images {
        count,
        rows,
        cols,
        pixels,
    })
}

/// Parses IDX label bytes, gzipped or not; `path` only names the data in errors.
pub fn parse_labels(reader: impl Read, path: &Path) -> Result<Vec<u8>, DataError> {
    let (reader, compression) = decompressing(reader, path)?;
    let (_, [], labels) = parse::<0>(reader, path, compression, LABELS_MAGIC)?;
    Ok(labels)
}

fn open(path: &Path) -> Result<File, DataError> {
    File::open(path).map_err(|source| DataError::Read {
        path: path.to_path_buf(),
        source,
    })
}

/// Puts a gzip decoder in front of `reader` when its bytes start with the gzip magic.
fn decompressing<'r>(
    mut reader: impl Read + 'r,
    path: &Path,
) -> Result<(Box<dyn Read + 'r>, Compression), DataError> {
    let mut prefix = [0u8; 2];
    let got = read_full(&mut reader, &mut prefix).map_err(|source| DataError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let is_gzip = got == prefix.len() && prefix == GZIP_MAGIC;
    let whole = Cursor::new(prefix)
        .take(u64::try_from(got).unwrap_or(0))
        .chain(reader);
    if is_gzip {
        Ok((Box::new(MultiGzDecoder::new(whole)), Compression::Gzip))
    } else {
        Ok((Box::new(whole), Compression::Plain))
    }
}

/// Reads the header (magic, item count, `EXTRA` further dimensions) and exactly the data it
/// announces. Returns the item count, the further dimensions and the data.
fn parse<const EXTRA: usize>(
    mut reader: impl Read,
    path: &Path,
    compression: Compression,
    magic: u32,
) -> Result<(usize, [usize; EXTRA], Vec<u8>), DataError> {
    let failure = |source| read_failure(path, compression, source);
    let header_bytes = 4 * (2 + EXTRA);
    let mut words = [0u32; 2];
    let mut extra = [0u32; EXTRA];
    let mut header_read = 0;
    for word in words.iter_mut().chain(extra.iter_mut()) {
        let mut bytes = [0u8; 4];
        let got = read_full(&mut reader, &mut bytes).map_err(failure)?;
        header_read += got;
        if got < bytes.len() {
            return Err(DataError::HeaderCut {
                path: path.to_path_buf(),
                needed: header_bytes,
                found: header_read,
            });
        }
        *word = u32::from_be_bytes(bytes);
        // Check the magic as soon as it is read, so a wrong file is named as such even when it
        // is shorter than the header we expected.
        if header_read == 4 && *word != magic {
            return Err(DataError::WrongMagic {
                path: path.to_path_buf(),
                expected: magic,
                found: *word,
            });
        }
    }
    let [_, count] = words;

    let too_large = || DataError::HeaderTooLarge {
        path: path.to_path_buf(),
        dimensions: std::iter::once(count).chain(extra).collect(),
        limit: MAX_DATA_BYTES,
    };
    let item_bytes = extra
        .iter()
        .try_fold(1u64, |product, &size| product.checked_mul(u64::from(size)))
        .filter(|&bytes| bytes <= MAX_DATA_BYTES)
        .ok_or_else(too_large)?;
    let data_bytes = item_bytes
        .checked_mul(u64::from(count))
        .filter(|&bytes| bytes <= MAX_DATA_BYTES)
        .ok_or_else(too_large)?;
    let as_size = |value: u64| usize::try_from(value).map_err(|_| too_large());
    let count = as_size(u64::from(count))?;
    let item_size = as_size(item_bytes)?;
    let mut dimensions = [0usize; EXTRA];
    for (dimension, size) in dimensions.iter_mut().zip(extra) {
        *dimension = as_size(u64::from(size))?;
    }

    // Read one byte more than announced to notice trailing data.
    let mut data = Vec::with_capacity(as_size(data_bytes.min(RESERVE_LIMIT))?);
    (&mut reader)
        .take(data_bytes + 1)
        .read_to_end(&mut data)
        .map_err(failure)?;
    let held = u64::try_from(data.len()).unwrap_or(u64::MAX);
    if held != data_bytes {
        let (held_bytes, held_is_lower_bound) = if held > data_bytes {
            let rest = io::copy(&mut (&mut reader).take(MAX_DATA_BYTES), &mut io::sink())
                .map_err(failure)?;
            (held.saturating_add(rest), rest == MAX_DATA_BYTES)
        } else {
            (held, false)
        };
        return Err(DataError::CountMismatch {
            path: path.to_path_buf(),
            items: count,
            item_bytes: item_size,
            held_bytes,
            held_is_lower_bound,
        });
    }
    Ok((count, dimensions, data))
}

/// Names a read error: damaged compressed data, or a failure of the reader itself.
fn read_failure(path: &Path, compression: Compression, source: io::Error) -> DataError {
    let damaged = matches!(
        source.kind(),
        io::ErrorKind::InvalidInput | io::ErrorKind::InvalidData | io::ErrorKind::UnexpectedEof
    );
    if compression == Compression::Gzip && damaged {
        DataError::Decompress {
            path: path.to_path_buf(),
            source,
        }
    } else {
        DataError::Read {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Fills `buffer` unless the reader ends first; returns how many bytes were read.
fn read_full(reader: &mut impl Read, buffer: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while let Some(rest) = buffer.get_mut(filled..) {
        if rest.is_empty() {
            break;
        }
        match reader.read(rest) {
            Ok(0) => break,
            Ok(read) => filled += read,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::Compression as Level;
    use flate2::write::GzEncoder;
    use std::io::Write;
    use std::path::PathBuf;

    /// IDX bytes with the given magic, header sizes and data.
    fn idx_bytes(magic: u32, sizes: &[u32], data: &[u8]) -> Vec<u8> {
        let mut bytes = magic.to_be_bytes().to_vec();
        for size in sizes {
            bytes.extend(size.to_be_bytes());
        }
        bytes.extend(data);
        bytes
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Level::default());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    fn write(folder: &tempfile::TempDir, name: &str, bytes: &[u8]) -> PathBuf {
        let path = folder.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    fn two_images() -> Vec<u8> {
        idx_bytes(
            IMAGES_MAGIC,
            &[2, 2, 3],
            &[0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255],
        )
    }

    #[test]
    fn reads_plain_and_gzipped_images_alike() {
        let folder = tempfile::tempdir().unwrap();
        let plain = write(&folder, "images", &two_images());
        let gzipped = write(&folder, "images.gz", &gzip(&two_images()));
        let expected = Images {
            count: 2,
            rows: 2,
            cols: 3,
            pixels: vec![0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255],
        };
        assert_eq!(read_images(&plain).unwrap(), expected);
        assert_eq!(read_images(&gzipped).unwrap(), expected);
    }

    #[test]
    fn reads_plain_and_gzipped_labels_alike() {
        let folder = tempfile::tempdir().unwrap();
        let bytes = idx_bytes(LABELS_MAGIC, &[4], &[5, 0, 4, 1]);
        let plain = write(&folder, "labels", &bytes);
        let gzipped = write(&folder, "labels.gz", &gzip(&bytes));
        assert_eq!(read_labels(&plain).unwrap(), vec![5, 0, 4, 1]);
        assert_eq!(read_labels(&gzipped).unwrap(), vec![5, 0, 4, 1]);
    }

    #[test]
    fn parses_gzipped_bytes_as_files_are_read() {
        let gzipped = gzip(&two_images());
        let images = parse_images(gzipped.as_slice(), Path::new("images.gz")).unwrap();
        assert_eq!(
            images,
            parse_images(two_images().as_slice(), Path::new("x")).unwrap()
        );
        let labels = gzip(&idx_bytes(LABELS_MAGIC, &[2], &[7, 3]));
        assert_eq!(
            parse_labels(labels.as_slice(), Path::new("labels.gz")).unwrap(),
            vec![7, 3]
        );
    }

    #[test]
    fn reads_an_empty_label_file() {
        let bytes = idx_bytes(LABELS_MAGIC, &[0], &[]);
        let labels = parse_labels(bytes.as_slice(), Path::new("empty")).unwrap();
        assert!(labels.is_empty());
    }

    #[test]
    fn wrong_magic_names_both_numbers() {
        let folder = tempfile::tempdir().unwrap();
        let labels = write(&folder, "labels", &idx_bytes(LABELS_MAGIC, &[1], &[3]));
        let error = read_images(&labels).unwrap_err();
        assert!(matches!(
            error,
            DataError::WrongMagic {
                expected: IMAGES_MAGIC,
                found: LABELS_MAGIC,
                ..
            }
        ));
        assert_eq!(
            error.to_string(),
            format!(
                "{}: magic number 0x00000801 is not 0x00000803 (unsigned-byte images with 3 dimensions)",
                labels.display()
            )
        );
    }

    #[test]
    fn text_is_not_an_idx_file() {
        let error = parse_labels(&b"hello, world"[..], Path::new("notes.txt")).unwrap_err();
        assert_eq!(
            error.to_string(),
            "notes.txt: magic number 0x68656c6c is not 0x00000801 (unsigned-byte labels with 1 dimension)"
        );
    }

    #[test]
    fn empty_and_cut_headers_are_reported_with_their_length() {
        let folder = tempfile::tempdir().unwrap();
        let empty = write(&folder, "empty", &[]);
        assert_eq!(
            read_labels(&empty).unwrap_err().to_string(),
            format!(
                "{}: the file holds 0 bytes, fewer than the 8-byte IDX header",
                empty.display()
            )
        );
        let cut = two_images();
        let error = parse_images(&cut[..10], Path::new("cut")).unwrap_err();
        assert!(matches!(
            error,
            DataError::HeaderCut {
                needed: 16,
                found: 10,
                ..
            }
        ));
    }

    #[test]
    fn missing_items_are_counted() {
        let bytes = idx_bytes(LABELS_MAGIC, &[10000], &[1; 9999]);
        let error =
            parse_labels(bytes.as_slice(), Path::new("t10k-labels-idx1-ubyte.gz")).unwrap_err();
        assert_eq!(
            error.to_string(),
            "t10k-labels-idx1-ubyte.gz: header says 10000 items but the file holds 9999"
        );
    }

    #[test]
    fn trailing_bytes_are_counted() {
        let bytes = idx_bytes(LABELS_MAGIC, &[3], &[1, 2, 3, 4, 5]);
        let error = parse_labels(bytes.as_slice(), Path::new("labels")).unwrap_err();
        assert_eq!(
            error.to_string(),
            "labels: header says 3 items but the file holds 5"
        );
    }

    #[test]
    fn partial_images_are_counted_in_bytes() {
        let mut bytes = two_images();
        bytes.truncate(bytes.len() - 3);
        let error = parse_images(bytes.as_slice(), Path::new("images")).unwrap_err();
        assert_eq!(
            error.to_string(),
            "images: header says 2 items but the file holds 1 and 3 bytes more"
        );
    }

    #[test]
    fn absurd_headers_are_refused_before_reading_data() {
        let overflowing = idx_bytes(IMAGES_MAGIC, &[u32::MAX, u32::MAX, u32::MAX], &[]);
        let error = parse_images(overflowing.as_slice(), Path::new("huge")).unwrap_err();
        assert_eq!(
            error.to_string(),
            "huge: header dimensions 4294967295 × 4294967295 × 4294967295 describe more than the \
             1073741824 bytes this reader accepts"
        );
        // No overflow, but far beyond the limit.
        let large = idx_bytes(IMAGES_MAGIC, &[60000, 65536, 65536], &[0; 100]);
        assert!(matches!(
            parse_images(large.as_slice(), Path::new("large")),
            Err(DataError::HeaderTooLarge { .. })
        ));
        // Zero images of an absurd size are refused too.
        let empty_but_huge = idx_bytes(IMAGES_MAGIC, &[0, u32::MAX, u32::MAX], &[]);
        assert!(matches!(
            parse_images(empty_but_huge.as_slice(), Path::new("empty")),
            Err(DataError::HeaderTooLarge { .. })
        ));
        // Exactly at the limit is accepted as a header and then found short.
        let at_limit = idx_bytes(LABELS_MAGIC, &[1 << 30], &[7; 3]);
        assert!(matches!(
            parse_labels(at_limit.as_slice(), Path::new("limit")),
            Err(DataError::CountMismatch { held_bytes: 3, .. })
        ));
    }

    #[test]
    fn cut_gzip_data_is_a_decompress_error() {
        let folder = tempfile::tempdir().unwrap();
        let compressed = gzip(&two_images());
        let cut = write(&folder, "cut.gz", &compressed[..compressed.len() / 2]);
        let error = read_images(&cut).unwrap_err();
        assert!(matches!(error, DataError::Decompress { .. }), "{error}");
        assert!(error.to_string().starts_with(&format!(
            "{}: the gzip data is damaged or cut short",
            cut.display()
        )));
    }

    #[test]
    fn a_wrong_gzip_checksum_is_a_decompress_error() {
        let folder = tempfile::tempdir().unwrap();
        let mut compressed = gzip(&two_images());
        // The CRC-32 of the uncompressed data sits 8 bytes before the end.
        let crc = compressed.len() - 8;
        compressed[crc] ^= 0xff;
        let damaged = write(&folder, "damaged.gz", &compressed);
        let error = read_images(&damaged).unwrap_err();
        assert!(matches!(error, DataError::Decompress { .. }), "{error}");
    }

    #[test]
    fn a_missing_file_is_a_read_error_naming_it() {
        let folder = tempfile::tempdir().unwrap();
        let missing = folder.path().join("nothing-here");
        let error = read_labels(&missing).unwrap_err();
        assert!(matches!(error, DataError::Read { .. }));
        assert!(
            error
                .to_string()
                .starts_with(&format!("{}: cannot read the file", missing.display()))
        );
    }

    #[test]
    fn a_one_byte_file_is_not_mistaken_for_gzip() {
        let folder = tempfile::tempdir().unwrap();
        let tiny = write(&folder, "tiny", &[0x1f]);
        assert!(matches!(
            read_labels(&tiny),
            Err(DataError::HeaderCut { found: 1, .. })
        ));
    }
}
