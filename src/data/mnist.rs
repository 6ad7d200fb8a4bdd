//! MNIST-style data sets (MNIST, Fashion-MNIST): the four IDX files of a folder read into a
//! [`Dataset`] of pixels scaled to [0, 1] and labels 0 to 9, plus subsets and the
//! training/validation split.

use crate::data::error::DataError;
use crate::data::idx;
use std::path::{Path, PathBuf};

/// Number of classes; every label is below it.
pub const CLASS_COUNT: u8 = 10;
/// Validation images split off the end of the 60,000 training images in Nielsen's book, leaving
/// 50,000 for training.
pub const NIELSEN_VALIDATION_SIZE: usize = 10_000;

/// The two halves of an MNIST-style data set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    /// The 60,000 training images (`train-*`).
    Training,
    /// The 10,000 test images (`t10k-*`).
    Test,
}

impl Split {
    /// File name of this split's images, without `.gz`.
    pub fn images_name(self) -> &'static str {
        match self {
            Split::Training => "train-images-idx3-ubyte",
            Split::Test => "t10k-images-idx3-ubyte",
        }
    }

    /// File name of this split's labels, without `.gz`.
    pub fn labels_name(self) -> &'static str {
        match self {
            Split::Training => "train-labels-idx1-ubyte",
            Split::Test => "t10k-labels-idx1-ubyte",
        }
    }
}

/// Labelled grey-scale images, one channel.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// `len() × rows × cols × 1` pixel values in [0, 1] (byte / 255), image after image.
    pub images: Vec<f32>,
    /// One class per image, each below [`CLASS_COUNT`].
    pub labels: Vec<u8>,
    /// Rows per image.
    pub rows: usize,
    /// Columns per image.
    pub cols: usize,
}

impl Dataset {
    /// Reads a split from a folder, taking `NAME.gz` when it is there and `NAME` otherwise.
    pub fn load(folder: &Path, split: Split) -> Result<Dataset, DataError> {
        let images_path = find(folder, split.images_name())?;
        let labels_path = find(folder, split.labels_name())?;
        Dataset::from_files(&images_path, &labels_path)
    }

    /// Reads the training split (60,000 images for MNIST) from a folder.
    pub fn load_training(folder: &Path) -> Result<Dataset, DataError> {
        Dataset::load(folder, Split::Training)
    }

    /// Reads the test split (10,000 images for MNIST) from a folder.
    pub fn load_test(folder: &Path) -> Result<Dataset, DataError> {
        Dataset::load(folder, Split::Test)
    }

    /// Reads an image file and its label file and checks that they fit together.
    pub fn from_files(images_path: &Path, labels_path: &Path) -> Result<Dataset, DataError> {
        let images = idx::read_images(images_path)?;
        let labels = idx::read_labels(labels_path)?;
        if images.count != labels.len() {
            return Err(DataError::CountsDiffer {
                images_path: images_path.to_path_buf(),
                images: images.count,
                labels_path: labels_path.to_path_buf(),
                labels: labels.len(),
            });
        }
        if let Some((index, &label)) = labels
            .iter()
            .enumerate()
            .find(|(_, label)| **label >= CLASS_COUNT)
        {
            return Err(DataError::LabelOutOfRange {
                path: labels_path.to_path_buf(),
                index,
                label,
            });
        }
        Ok(Dataset {
            images: images
                .pixels
                .iter()
                .map(|&byte| f32::from(byte) / 255.0)
                .collect(),
            labels,
            rows: images.rows,
            cols: images.cols,
        })
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there are no images.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Pixels per image (`rows × cols`, one channel).
    pub fn image_size(&self) -> usize {
        self.rows.saturating_mul(self.cols)
    }

    /// The pixels of image `index`, or `None` past the end.
    pub fn image(&self, index: usize) -> Option<&[f32]> {
        let size = self.image_size();
        let start = index.checked_mul(size)?;
        self.images.get(start..start.checked_add(size)?)
    }

    /// The first `count` images with their labels.
    pub fn first(&self, count: usize) -> Result<Dataset, DataError> {
        self.range(0, count)
    }

    /// Splits off the last `validation` images: returns `(training, validation)`. With
    /// [`NIELSEN_VALIDATION_SIZE`] on MNIST's training split this gives 50,000 and 10,000.
    pub fn split_validation(&self, validation: usize) -> Result<(Dataset, Dataset), DataError> {
        let training = self
            .len()
            .checked_sub(validation)
            .ok_or(DataError::NotEnoughImages {
                requested: validation,
                available: self.len(),
            })?;
        Ok((self.range(0, training)?, self.range(training, validation)?))
    }

    /// Every image but `start .. start + count`, in order: the training part when those images
    /// are held out (a cross-validation fold).
    pub fn without_range(&self, start: usize, count: usize) -> Result<Dataset, DataError> {
        let before = self.range(0, start)?;
        let after_start = start.saturating_add(count);
        let after = self.range(
            after_start,
            self.len()
                .checked_sub(after_start)
                .ok_or(DataError::NotEnoughImages {
                    requested: after_start,
                    available: self.len(),
                })?,
        )?;
        let mut images = before.images;
        images.extend(after.images);
        let mut labels = before.labels;
        labels.extend(after.labels);
        Ok(Dataset {
            images,
            labels,
            rows: self.rows,
            cols: self.cols,
        })
    }

    /// Images `start .. start + count`.
    pub fn range(&self, start: usize, count: usize) -> Result<Dataset, DataError> {
        let not_enough = || DataError::NotEnoughImages {
            requested: start.saturating_add(count),
            available: self.len(),
        };
        let end = start.checked_add(count).ok_or_else(not_enough)?;
        let labels = self.labels.get(start..end).ok_or_else(not_enough)?;
        let size = self.image_size();
        let pixel_start = start.checked_mul(size).ok_or_else(not_enough)?;
        let pixel_end = end.checked_mul(size).ok_or_else(not_enough)?;
        let images = self
            .images
            .get(pixel_start..pixel_end)
            .ok_or_else(not_enough)?;
        Ok(Dataset {
            images: images.to_vec(),
            labels: labels.to_vec(),
            rows: self.rows,
            cols: self.cols,
        })
    }
}

/// `NAME.gz` in the folder if it is there, else `NAME`.
fn find(folder: &Path, name: &str) -> Result<PathBuf, DataError> {
    [format!("{name}.gz"), name.to_string()]
        .into_iter()
        .map(|candidate| folder.join(candidate))
        .find(|path| path.is_file())
        .ok_or_else(|| DataError::MissingFile {
            folder: folder.to_path_buf(),
            name: name.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::testing::mnist_folder;

    fn idx_bytes(magic: u32, sizes: &[u32], data: &[u8]) -> Vec<u8> {
        let mut bytes = magic.to_be_bytes().to_vec();
        for size in sizes {
            bytes.extend(size.to_be_bytes());
        }
        bytes.extend(data);
        bytes
    }

    /// Writes a test split of `labels.len()` 1×2 images whose pixels are `[index, 255]`.
    fn write_small_split(folder: &Path, labels: &[u8], label_count: u32) {
        let count = u32::try_from(labels.len()).unwrap();
        let pixels: Vec<u8> = (0..count).flat_map(|index| [index as u8, 255]).collect();
        std::fs::write(
            folder.join("t10k-images-idx3-ubyte"),
            idx_bytes(idx::IMAGES_MAGIC, &[count, 1, 2], &pixels),
        )
        .unwrap();
        std::fs::write(
            folder.join("t10k-labels-idx1-ubyte"),
            idx_bytes(idx::LABELS_MAGIC, &[label_count], labels),
        )
        .unwrap();
    }

    fn small_dataset(count: u8) -> Dataset {
        let folder = tempfile::tempdir().unwrap();
        let labels: Vec<u8> = (0..count).map(|index| index % 10).collect();
        write_small_split(folder.path(), &labels, u32::from(count));
        Dataset::load_test(folder.path()).unwrap()
    }

    #[test]
    fn loads_uncompressed_files_and_scales_pixels() {
        let dataset = small_dataset(3);
        assert_eq!(dataset.len(), 3);
        assert_eq!((dataset.rows, dataset.cols), (1, 2));
        assert_eq!(dataset.labels, vec![0, 1, 2]);
        assert_eq!(dataset.image(1), Some(&[1.0 / 255.0, 1.0][..]));
        assert_eq!(dataset.image(3), None);
    }

    #[test]
    fn a_label_of_ten_is_refused_with_its_index() {
        let folder = tempfile::tempdir().unwrap();
        write_small_split(folder.path(), &[3, 9, 10], 3);
        let error = Dataset::load_test(folder.path()).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "{}: label 10 at index 2 is not a class from 0 to 9",
                folder.path().join("t10k-labels-idx1-ubyte").display()
            )
        );
    }

    #[test]
    fn image_and_label_counts_must_agree() {
        let folder = tempfile::tempdir().unwrap();
        let images = folder.path().join("t10k-images-idx3-ubyte");
        let labels = folder.path().join("t10k-labels-idx1-ubyte");
        std::fs::write(&images, idx_bytes(idx::IMAGES_MAGIC, &[2, 1, 1], &[0, 0])).unwrap();
        std::fs::write(&labels, idx_bytes(idx::LABELS_MAGIC, &[3], &[0, 1, 2])).unwrap();
        let error = Dataset::load_test(folder.path()).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "{} holds 2 images but {} holds 3 labels",
                images.display(),
                labels.display()
            )
        );
    }

    #[test]
    fn a_missing_file_names_both_candidates() {
        let folder = tempfile::tempdir().unwrap();
        let error = Dataset::load_training(folder.path()).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!(
                "{}: neither train-images-idx3-ubyte.gz nor train-images-idx3-ubyte is there",
                folder.path().display()
            )
        );
    }

    #[test]
    fn first_and_split_keep_images_with_their_labels() {
        let dataset = small_dataset(5);
        let first = dataset.first(2).unwrap();
        assert_eq!(first.labels, vec![0, 1]);
        assert_eq!(first.images, dataset.images[..4].to_vec());
        let (training, validation) = dataset.split_validation(2).unwrap();
        assert_eq!(training.labels, vec![0, 1, 2]);
        assert_eq!(validation.labels, vec![3, 4]);
        assert_eq!(validation.image(0), dataset.image(3));
        assert_eq!(training.images.len(), 3 * 2);
        assert!(dataset.first(0).unwrap().is_empty());
    }

    #[test]
    fn a_range_held_out_leaves_the_rest_in_order() {
        let dataset = small_dataset(7);
        let held_out = dataset.range(2, 3).unwrap();
        assert_eq!(held_out.labels, vec![2, 3, 4]);
        assert_eq!(held_out.image(0), dataset.image(2));
        let rest = dataset.without_range(2, 3).unwrap();
        assert_eq!(rest.labels, vec![0, 1, 5, 6]);
        assert_eq!(rest.image(2), dataset.image(5));
        assert_eq!(rest.images.len(), 4 * 2);
        assert_eq!(dataset.without_range(0, 7).unwrap().len(), 0);
        assert_eq!(
            dataset.without_range(5, 2).unwrap().labels,
            vec![0, 1, 2, 3, 4]
        );
        assert!(dataset.without_range(5, 3).is_err());
    }

    #[test]
    fn subsets_larger_than_the_set_are_errors() {
        let dataset = small_dataset(5);
        assert_eq!(
            dataset.first(6).unwrap_err().to_string(),
            "asked for 6 images but the set holds only 5"
        );
        assert!(matches!(
            dataset.split_validation(6),
            Err(DataError::NotEnoughImages {
                requested: 6,
                available: 5
            })
        ));
        assert!(dataset.first(usize::MAX).is_err());
    }

    #[test]
    fn real_mnist_training_split() {
        let dataset = Dataset::load_training(&mnist_folder()).unwrap();
        assert_eq!(dataset.len(), 60_000);
        assert_eq!((dataset.rows, dataset.cols), (28, 28));
        assert_eq!(dataset.images.len(), 60_000 * 28 * 28);
        assert_eq!(dataset.labels.first(), Some(&5));
        assert!(
            dataset
                .images
                .iter()
                .all(|pixel| (0.0..=1.0).contains(pixel))
        );
        // Real digits use the whole range: black background, white strokes.
        let darkest = dataset.images.iter().copied().fold(f32::MAX, f32::min);
        let brightest = dataset.images.iter().copied().fold(f32::MIN, f32::max);
        assert_eq!((darkest, brightest), (0.0, 1.0));
        let (training, validation) = dataset.split_validation(NIELSEN_VALIDATION_SIZE).unwrap();
        assert_eq!((training.len(), validation.len()), (50_000, 10_000));
        assert_eq!(validation.labels.first(), dataset.labels.get(50_000));
    }

    #[test]
    fn real_mnist_test_split() {
        let dataset = Dataset::load_test(&mnist_folder()).unwrap();
        assert_eq!(dataset.len(), 10_000);
        assert_eq!((dataset.rows, dataset.cols), (28, 28));
        assert_eq!(dataset.labels.first(), Some(&7));
        // Every class occurs (about 1,000 times each).
        for class in 0..CLASS_COUNT {
            let occurrences = dataset
                .labels
                .iter()
                .filter(|&&label| label == class)
                .count();
            assert!(
                (800..1200).contains(&occurrences),
                "class {class}: {occurrences}"
            );
        }
        assert_eq!(dataset.first(100).unwrap().len(), 100);
    }
}
