//! IDX files (MNIST's format). [`as_file`] reads the bytes as a file's, so gzip is recognised by
//! its magic bytes and damaged gzip streams are fuzzed too; [`gzipped`] compresses the bytes
//! first, so the fuzzer explores the IDX structure behind the decoder.

use flate2::Compression;
use flate2::write::GzEncoder;
use netcalc::data::idx;
use std::io::Write;
use std::path::Path;

/// Reads the bytes as an image file and as a label file; what is read must be what the header
/// announces.
pub fn as_file(bytes: &[u8]) {
    let name = Path::new("fuzz");
    if let Ok(images) = idx::parse_images(bytes, name) {
        assert_eq!(
            Some(images.pixels.len()),
            images
                .count
                .checked_mul(images.rows)
                .and_then(|size| size.checked_mul(images.cols)),
            "{} × {} × {} images",
            images.count,
            images.rows,
            images.cols
        );
    }
    let _ = idx::parse_labels(bytes, name);
}

/// Gzips the bytes and reads them as [`as_file`] does.
pub fn gzipped(bytes: &[u8]) {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
    encoder.write_all(bytes).expect("writing to memory");
    as_file(&encoder.finish().expect("writing to memory"));
}
