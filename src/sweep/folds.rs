//! How a sweep scores a configuration: k-fold cross-validation on the training images, or one
//! validation split.
//!
//! The fold rule is scikit-learn's `KFold(n_splits=k)` without shuffling, which is what
//! `GridSearchCV(cv=k)` used for the sheet's script: its `KerasClassifier` does not say it is a
//! classifier (`_estimator_type`), and Keras' `mnist_sklearn_wrapper.py` passes one-hot labels,
//! whose target type is `multilabel-indicator`; either one makes `check_cv` choose `KFold`
//! rather than `StratifiedKFold`. So the pool of n images (all training images, or the first
//! `--subset`) is cut into k consecutive blocks, the first `n mod k` of them one image longer
//! (⌊n/k⌋ + 1, then ⌊n/k⌋); fold f holds out block f and trains on the others in their order.
//!
//! A validation split holds out the last N of the 60,000 training images and trains on the rest
//! (or on the first `--subset` of them): `netcalc train --validation split:N`, exactly.

use crate::data::DataError;
use crate::data::mnist::Dataset;
use crate::train::run::Data;
use serde::{Deserialize, Serialize};
use std::ops::Range;

/// How each configuration is scored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Evaluation {
    /// k-fold cross-validation on the pool (k ≥ 2).
    Folds(usize),
    /// The last N training images held out, as `netcalc train --validation split:N`.
    Split(usize),
}

impl Evaluation {
    /// Scikit-learn's default before version 0.22, and the sheet's: 3 folds.
    pub const DEFAULT: Evaluation = Evaluation::Folds(3);

    /// Trainings per configuration: k, or 1 for a split.
    pub fn parts(self) -> usize {
        match self {
            Evaluation::Folds(folds) => folds,
            Evaluation::Split(_) => 1,
        }
    }

    /// `3-fold cross-validation` or `validation on the last 10000 training images`.
    pub fn describe(self) -> String {
        match self {
            Evaluation::Folds(folds) => format!("{folds}-fold cross-validation"),
            Evaluation::Split(count) => {
                format!("validation on the last {count} training images")
            }
        }
    }

    /// The folder of part `part` (0-based) inside a configuration's folder: `fold-1`, `fold-2`,
    /// … or `split`.
    pub fn part_name(self, part: usize) -> String {
        match self {
            Evaluation::Folds(_) => format!("fold-{}", part + 1),
            Evaluation::Split(_) => "split".to_string(),
        }
    }
}

/// The images fold `fold` (0-based) of `folds` holds out of a pool of `count`: scikit-learn's
/// `KFold` block.
pub fn held_out(count: usize, folds: usize, fold: usize) -> Range<usize> {
    let folds = folds.max(1);
    let (size, longer) = (count / folds, count % folds);
    let start = fold * size + fold.min(longer);
    let length = size + usize::from(fold < longer);
    start.min(count)..(start + length).min(count)
}

/// The pool the folds are cut from, and the refit's training images: the first `subset` of
/// `training` (the 60,000), or all of them.
pub fn pool(training: &Dataset, subset: Option<usize>) -> Result<Dataset, DataError> {
    match subset {
        Some(count) => training.first(count),
        None => Ok(training.clone()),
    }
}

/// The training and held-out images of part `part` (0-based) of an evaluation, from the full
/// training split.
pub fn part_data(
    training: &Dataset,
    evaluation: Evaluation,
    subset: Option<usize>,
    part: usize,
) -> Result<Data, DataError> {
    match evaluation {
        Evaluation::Folds(folds) => {
            let pool = pool(training, subset)?;
            let range = held_out(pool.len(), folds, part);
            Ok(Data {
                training: pool.without_range(range.start, range.len())?,
                validation: Some(pool.range(range.start, range.len())?),
            })
        }
        Evaluation::Split(count) => {
            let (rest, held) = training.split_validation(count)?;
            Ok(Data {
                training: pool(&rest, subset)?,
                validation: Some(held),
            })
        }
    }
}

/// What part `part` trains on and holds out, in words, for its `fold.json`: image ranges of the
/// training split.
pub fn part_ranges(
    total: usize,
    evaluation: Evaluation,
    subset: Option<usize>,
    part: usize,
) -> (Vec<Range<usize>>, Range<usize>) {
    match evaluation {
        Evaluation::Folds(folds) => {
            let pool = subset.map_or(total, |subset| subset.min(total));
            let range = held_out(pool, folds, part);
            (vec![0..range.start, range.end..pool], range)
        }
        Evaluation::Split(count) => {
            let rest = total.saturating_sub(count);
            let trained = subset.map_or(rest, |subset| subset.min(rest));
            (std::iter::once(0..trained).collect(), rest..total)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_follow_scikit_learns_kfold() {
        // KFold(n_splits=3) on 10 samples: test folds [0..4), [4..7), [7..10) (sizes 4, 3, 3).
        let blocks: Vec<_> = (0..3).map(|fold| held_out(10, 3, fold)).collect();
        assert_eq!(blocks, vec![0..4, 4..7, 7..10]);
        // 60,000 MNIST images in 3 folds: 20,000 each.
        assert_eq!(held_out(60_000, 3, 1), 20_000..40_000);
        // n = 11, k = 4: sizes 3, 3, 3, 2.
        let sizes: Vec<_> = (0..4).map(|fold| held_out(11, 4, fold).len()).collect();
        assert_eq!(sizes, vec![3, 3, 3, 2]);
        // Every image is held out exactly once.
        for (count, folds) in [(7, 2), (100, 7), (5, 5)] {
            let mut seen = vec![0; count];
            for fold in 0..folds {
                for image in held_out(count, folds, fold) {
                    seen[image] += 1;
                }
            }
            assert!(seen.iter().all(|&times| times == 1), "{count} in {folds}");
        }
    }

    fn images(count: usize) -> Dataset {
        Dataset {
            images: (0..count).map(|index| index as f32).collect(),
            labels: (0..count).map(|index| (index % 10) as u8).collect(),
            rows: 1,
            cols: 1,
        }
    }

    #[test]
    fn a_fold_trains_on_the_other_blocks_in_order() {
        let data = part_data(&images(20), Evaluation::Folds(3), Some(10), 1).unwrap();
        assert_eq!(data.training.images, vec![0., 1., 2., 3., 7., 8., 9.]);
        assert_eq!(data.validation.unwrap().images, vec![4., 5., 6.]);
        assert_eq!(
            part_ranges(20, Evaluation::Folds(3), Some(10), 1),
            (vec![0..4, 7..10], 4..7)
        );
    }

    #[test]
    fn a_split_holds_out_the_last_images_before_the_subset() {
        let data = part_data(&images(20), Evaluation::Split(5), Some(4), 0).unwrap();
        assert_eq!(data.training.images, vec![0., 1., 2., 3.]);
        assert_eq!(
            data.validation.unwrap().images,
            vec![15., 16., 17., 18., 19.]
        );
        assert_eq!(
            part_ranges(20, Evaluation::Split(5), Some(4), 0),
            (std::iter::once(0..4).collect(), 15..20)
        );
        assert!(part_data(&images(20), Evaluation::Split(21), None, 0).is_err());
    }

    #[test]
    fn names_and_counts() {
        assert_eq!(Evaluation::Folds(3).parts(), 3);
        assert_eq!(Evaluation::Split(100).parts(), 1);
        assert_eq!(Evaluation::Folds(3).part_name(0), "fold-1");
        assert_eq!(Evaluation::Split(100).part_name(0), "split");
        assert_eq!(Evaluation::DEFAULT.describe(), "3-fold cross-validation");
    }
}
