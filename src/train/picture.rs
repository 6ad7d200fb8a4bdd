//! One grey-scale image to classify, read from an IDX image file (MNIST's format, gzipped or
//! not: the image at an index), a binary PGM (`P5`, 8 or 16 bits) or a PNG (grey, grey+alpha,
//! RGB or RGBA, 8 or 16 bits; colours become their mean, alpha is ignored). Pixels are scaled to
//! [0, 1] as the training images are: MNIST digits are white on black, so a dark digit on a white
//! page must be inverted (`invert`).

use crate::data::idx;
use crate::train::error::TrainError;
use std::path::Path;

/// Pixels of one image, row by row, in [0, 1].
#[derive(Debug, Clone, PartialEq)]
pub struct Picture {
    /// `rows × cols` values.
    pub pixels: Vec<f32>,
    /// Height.
    pub rows: usize,
    /// Width.
    pub cols: usize,
}

fn unreadable(path: &Path, reason: impl std::fmt::Display) -> TrainError {
    TrainError::Network(format!("{}: {reason}", path.display()))
}

/// Reads image `index` of an IDX file, or the one image of a PGM or PNG file (where `index` must
/// be 0).
pub fn read(path: &Path, index: usize, invert: bool) -> Result<Picture, TrainError> {
    let bytes = std::fs::read(path).map_err(|error| unreadable(path, error))?;
    let mut picture = if bytes.starts_with(b"\x89PNG") {
        only_first(path, index)?;
        png_picture(path, &bytes)?
    } else if bytes.starts_with(b"P5") {
        only_first(path, index)?;
        pgm_picture(path, &bytes)?
    } else if bytes.starts_with(&[0x1f, 0x8b]) || bytes.starts_with(&[0, 0, 8, 3]) {
        let images = idx::read_images(path)?;
        let size = images.rows * images.cols;
        let start = index.checked_mul(size);
        let pixels = start
            .and_then(|start| images.pixels.get(start..start.checked_add(size)?))
            .ok_or_else(|| {
                unreadable(
                    path,
                    format!(
                        "there is no image {index}: the file holds {} (0 to {})",
                        images.count,
                        images.count.saturating_sub(1)
                    ),
                )
            })?;
        Picture {
            pixels: pixels.iter().map(|&byte| f32::from(byte) / 255.0).collect(),
            rows: images.rows,
            cols: images.cols,
        }
    } else {
        return Err(unreadable(
            path,
            "not an IDX image file, a binary PGM (P5) or a PNG",
        ));
    };
    if invert {
        for pixel in &mut picture.pixels {
            *pixel = 1.0 - *pixel;
        }
    }
    Ok(picture)
}

fn only_first(path: &Path, index: usize) -> Result<(), TrainError> {
    if index == 0 {
        Ok(())
    } else {
        Err(unreadable(
            path,
            format!("the file holds one image, there is no image {index}"),
        ))
    }
}

/// `P5 WIDTH HEIGHT MAXVAL` (whitespace and `#` comments between), one whitespace byte, then
/// the pixels (two bytes each, big-endian, when MAXVAL > 255).
fn pgm_picture(path: &Path, bytes: &[u8]) -> Result<Picture, TrainError> {
    let mut position = 2;
    let mut fields = [0usize; 3];
    for field in &mut fields {
        loop {
            match bytes.get(position) {
                Some(b'#') => {
                    while bytes.get(position).is_some_and(|&b| b != b'\n') {
                        position += 1;
                    }
                }
                Some(b) if b.is_ascii_whitespace() => position += 1,
                _ => break,
            }
        }
        let start = position;
        while bytes.get(position).is_some_and(u8::is_ascii_digit) {
            position += 1;
        }
        *field = std::str::from_utf8(&bytes[start..position])
            .ok()
            .and_then(|digits| digits.parse().ok())
            .filter(|&value| value > 0)
            .ok_or_else(|| unreadable(path, "malformed PGM header"))?;
    }
    let [cols, rows, maximum] = fields;
    if maximum > 65_535 {
        return Err(unreadable(path, "PGM maximum value above 65535"));
    }
    if !bytes.get(position).is_some_and(u8::is_ascii_whitespace) {
        return Err(unreadable(path, "malformed PGM header"));
    }
    let data = &bytes[position + 1..];
    let width = if maximum > 255 { 2 } else { 1 };
    let count = rows
        .checked_mul(cols)
        .ok_or_else(|| unreadable(path, "PGM size overflows"))?;
    let needed = count.saturating_mul(width);
    if data.len() < needed {
        return Err(unreadable(
            path,
            format!(
                "truncated PGM: {needed} bytes of pixels expected, {} found",
                data.len()
            ),
        ));
    }
    let pixels = data[..needed]
        .chunks_exact(width)
        .map(|value| {
            let level = match value {
                [high, low] => u16::from_be_bytes([*high, *low]),
                [byte] => u16::from(*byte),
                _ => 0,
            };
            (f32::from(level) / maximum as f32).min(1.0)
        })
        .collect();
    Ok(Picture { pixels, rows, cols })
}

fn png_picture(path: &Path, bytes: &[u8]) -> Result<Picture, TrainError> {
    let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder
        .read_info()
        .map_err(|error| unreadable(path, error))?;
    let size = reader
        .output_buffer_size()
        .ok_or_else(|| unreadable(path, "PNG too large"))?;
    let mut buffer = vec![0u8; size];
    let frame = reader
        .next_frame(&mut buffer)
        .map_err(|error| unreadable(path, error))?;
    let channels = match frame.color_type {
        png::ColorType::Grayscale => 1,
        png::ColorType::GrayscaleAlpha => 2,
        png::ColorType::Rgb => 3,
        png::ColorType::Rgba => 4,
        png::ColorType::Indexed => {
            return Err(unreadable(path, "indexed PNG colours were not expanded"));
        }
    };
    let colours = if channels >= 3 { 3 } else { 1 };
    let pixels = buffer[..frame.buffer_size()]
        .chunks_exact(channels)
        .map(|pixel| {
            let sum: u32 = pixel[..colours].iter().map(|&c| u32::from(c)).sum();
            sum as f32 / (255.0 * colours as f32)
        })
        .collect();
    Ok(Picture {
        pixels,
        rows: frame.height as usize,
        cols: frame.width as usize,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pgm_with_a_comment() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("digit.pgm");
        let mut bytes = b"P5\n# a comment\n3 2\n255\n".to_vec();
        bytes.extend([0, 51, 255, 102, 0, 0]);
        std::fs::write(&path, &bytes).unwrap();
        let picture = read(&path, 0, false).unwrap();
        assert_eq!((picture.rows, picture.cols), (2, 3));
        assert_eq!(picture.pixels, vec![0.0, 0.2, 1.0, 0.4, 0.0, 0.0]);
        let inverted = read(&path, 0, true).unwrap();
        assert_eq!(inverted.pixels[2], 0.0);
        assert!(read(&path, 1, false).is_err());
        std::fs::write(&path, &bytes[..bytes.len() - 1]).unwrap();
        assert!(
            read(&path, 0, false)
                .unwrap_err()
                .to_string()
                .contains("truncated PGM")
        );
    }

    #[test]
    fn png_in_colour_becomes_grey() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("digit.png");
        let mut bytes = Vec::new();
        {
            let mut encoder = png::Encoder::new(&mut bytes, 2, 1);
            encoder.set_color(png::ColorType::Rgb);
            encoder.set_depth(png::BitDepth::Eight);
            let mut writer = encoder.write_header().unwrap();
            writer
                .write_image_data(&[255, 255, 255, 255, 0, 0])
                .unwrap();
        }
        std::fs::write(&path, &bytes).unwrap();
        let picture = read(&path, 0, false).unwrap();
        assert_eq!((picture.rows, picture.cols), (1, 2));
        assert_eq!(picture.pixels[0], 1.0);
        assert!((picture.pixels[1] - 1.0 / 3.0).abs() < 1e-6);
    }

    #[test]
    fn idx_images_by_index() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("images-idx3-ubyte");
        let mut bytes = vec![0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2];
        bytes.extend([0, 255, 255, 0]);
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(read(&path, 1, false).unwrap().pixels, vec![1.0, 0.0]);
        let error = read(&path, 2, false).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("there is no image 2: the file holds 2 (0 to 1)")
        );
        let other = folder.path().join("notes.txt");
        std::fs::write(&other, b"hello").unwrap();
        assert!(read(&other, 0, false).is_err());
    }
}
