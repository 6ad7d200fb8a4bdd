//! Tensor shapes of one example (no batch axis), channels (features) last, as Keras writes them:
//! `[H, W, C]` maps, `[L, D]` sequences (L steps of D features), `[N]` vectors, and any other rank
//! (reshape, permute); plus sequences of token ids, `[L]` integers below a vocabulary. The sheet's
//! notations print unchanged (`[227×227×3]`, `4096`); a sequence prints `[28×128]` and token ids
//! `28 tokens`.
//!
//! A layer states its rule over a shape by matching [`Shape::form`] (vector, sequence, maps,
//! tokens, or another rank) or by reading the axes directly: [`Shape::positions`] are the axes
//! a window slides over and receptive fields are measured on (height and width of maps, the steps
//! of a sequence), [`Shape::features`] is the last axis of values.

use std::fmt;

/// The shape of one layer output for one example.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Shape {
    dims: Vec<u64>,
    element: Element,
}

/// What the values of a shape are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Element {
    /// Real values (activations), the last axis their features.
    #[default]
    Values,
    /// Token ids: integers `0 … vocabulary-1`, one per position, with no feature axis.
    Tokens {
        /// How many different ids there are.
        vocabulary: u64,
    },
}

/// A shape read by what its axes mean, for layers' shape rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form<'a> {
    /// `[N]`: a vector of N values.
    Vector {
        /// Its length.
        units: u64,
    },
    /// `[L, D]`: L steps of D features.
    Sequence {
        /// Steps (positions).
        steps: u64,
        /// Features per step.
        features: u64,
    },
    /// `[H, W, C]`: feature maps.
    Maps {
        /// Rows.
        height: u64,
        /// Columns.
        width: u64,
        /// Maps (channels).
        channels: u64,
    },
    /// `[L]` token ids below `vocabulary`.
    Tokens {
        /// Positions.
        length: u64,
        /// How many different ids there are.
        vocabulary: u64,
    },
    /// Values of another rank (4 and more, or none).
    Other(&'a [u64]),
}

impl Shape {
    /// A shape of real values with these axes.
    pub fn new(dims: Vec<u64>) -> Shape {
        Shape {
            dims,
            element: Element::Values,
        }
    }

    /// `length` token ids below `vocabulary`.
    pub fn tokens(length: u64, vocabulary: u64) -> Shape {
        Shape {
            dims: vec![length],
            element: Element::Tokens { vocabulary },
        }
    }

    /// The axes.
    pub fn dims(&self) -> &[u64] {
        &self.dims
    }

    /// What the values are.
    pub fn element(&self) -> Element {
        self.element
    }

    /// The vocabulary of token ids (`None` for real values).
    pub fn vocabulary(&self) -> Option<u64> {
        match self.element {
            Element::Tokens { vocabulary } => Some(vocabulary),
            Element::Values => None,
        }
    }

    /// The shape read by what its axes mean.
    pub fn form(&self) -> Form<'_> {
        match (self.element, &self.dims[..]) {
            (Element::Tokens { vocabulary }, [length]) => Form::Tokens {
                length: *length,
                vocabulary,
            },
            (Element::Values, [units]) => Form::Vector { units: *units },
            (Element::Values, [steps, features]) => Form::Sequence {
                steps: *steps,
                features: *features,
            },
            (Element::Values, [height, width, channels]) => Form::Maps {
                height: *height,
                width: *width,
                channels: *channels,
            },
            (_, other) => Form::Other(other),
        }
    }

    /// Height, width and channels of feature maps.
    pub fn maps(&self) -> Option<(u64, u64, u64)> {
        match self.form() {
            Form::Maps {
                height,
                width,
                channels,
            } => Some((height, width, channels)),
            _ => None,
        }
    }

    /// Steps and features of a sequence of values.
    pub fn sequence(&self) -> Option<(u64, u64)> {
        match self.form() {
            Form::Sequence { steps, features } => Some((steps, features)),
            _ => None,
        }
    }

    /// Number of values, or `None` when it does not fit in 64 bits.
    pub fn units(&self) -> Option<u64> {
        self.dims
            .iter()
            .try_fold(1u64, |acc, &d| acc.checked_mul(d))
    }

    /// The last axis (channels for maps, features for sequences, the length for vectors).
    pub fn channels(&self) -> u64 {
        self.dims.last().copied().unwrap_or(1)
    }

    /// The last axis of values (the features a dense layer or a convolution mixes); `None` for
    /// token ids, which have no feature axis.
    pub fn features(&self) -> Option<u64> {
        match self.element {
            Element::Values => self.dims.last().copied(),
            Element::Tokens { .. } => None,
        }
    }

    /// The axes positions run along: every axis of values but the last (height and width of
    /// maps, the steps of a sequence, none for a vector), every axis of token ids.
    pub fn positions(&self) -> &[u64] {
        match self.element {
            Element::Values => &self.dims[..self.dims.len().saturating_sub(1)],
            Element::Tokens { .. } => &self.dims,
        }
    }

    /// The same positions with `features` values each (dense on the last axis, a convolution's
    /// filters); token ids become values.
    pub fn with_features(&self, features: u64) -> Shape {
        let mut dims = self.positions().to_vec();
        dims.push(features);
        Shape::new(dims)
    }

    /// The rank (number of axes).
    pub fn rank(&self) -> usize {
        self.dims.len()
    }
}

impl fmt::Display for Shape {
    /// `[55×55×96]` for maps, `4096` for vectors, like the sheet; `[28×128]` for a sequence;
    /// `28 tokens` for token ids.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.element, &self.dims[..]) {
            (Element::Tokens { .. }, [length]) => write!(f, "{length} tokens"),
            (Element::Values, [length]) => write!(f, "{length}"),
            (element, dims) => {
                let dims: Vec<String> = dims.iter().map(u64::to_string).collect();
                write!(f, "[{}]", dims.join("×"))?;
                if let Element::Tokens { .. } = element {
                    f.write_str(" tokens")?;
                }
                Ok(())
            }
        }
    }
}

/// The most position axes a window or a receptive field has (depth, height, width).
pub const MAX_POSITION_AXES: usize = 3;

/// One value per position axis of a shape (see [`Shape::positions`]): a window's kernel, stride
/// or padding, a receptive field's size. Two axes (height, width) for maps, one (steps) for
/// sequences. Reads as a slice; copied by value like the `[u64; 2]` it generalises.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Axes<T> {
    length: u8,
    values: [T; MAX_POSITION_AXES],
}

impl<T: Copy + Default> Axes<T> {
    /// The values of `values`, or `None` for more than [`MAX_POSITION_AXES`] of them.
    pub fn from_slice(values: &[T]) -> Option<Axes<T>> {
        if values.len() > MAX_POSITION_AXES {
            return None;
        }
        let mut all = [T::default(); MAX_POSITION_AXES];
        all[..values.len()].copy_from_slice(values);
        Some(Axes {
            length: values.len() as u8,
            values: all,
        })
    }

    /// `count` axes (at most [`MAX_POSITION_AXES`]) holding `value`.
    pub fn filled(count: usize, value: T) -> Axes<T> {
        let count = count.min(MAX_POSITION_AXES);
        let mut all = [T::default(); MAX_POSITION_AXES];
        all[..count].fill(value);
        Axes {
            length: count as u8,
            values: all,
        }
    }

    /// Each value through `f`.
    pub fn map<U: Copy + Default>(self, f: impl Fn(T) -> U) -> Axes<U> {
        let mut all = [U::default(); MAX_POSITION_AXES];
        for (to, &from) in all.iter_mut().zip(self.iter()) {
            *to = f(from);
        }
        Axes {
            length: self.length,
            values: all,
        }
    }
}

impl Axes<u64> {
    /// A window or field as people write it: `5×5` over maps, `3 steps` (`1 step`) over a
    /// sequence.
    pub fn described(&self) -> String {
        match **self {
            [1] => "1 step".to_string(),
            [steps] => format!("{steps} steps"),
            _ => self.to_string(),
        }
    }
}

impl<T: Copy + Default> Default for Axes<T> {
    /// No axes.
    fn default() -> Axes<T> {
        Axes::filled(0, T::default())
    }
}

impl<T: Copy + Default, const N: usize> From<[T; N]> for Axes<T> {
    /// At most [`MAX_POSITION_AXES`] values; further ones are dropped.
    fn from(values: [T; N]) -> Axes<T> {
        let count = N.min(MAX_POSITION_AXES);
        let mut axes = Axes::filled(count, T::default());
        axes.copy_from_slice(&values[..count]);
        axes
    }
}

impl<T> std::ops::Deref for Axes<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        &self.values[..usize::from(self.length)]
    }
}

impl<T> std::ops::DerefMut for Axes<T> {
    fn deref_mut(&mut self) -> &mut [T] {
        &mut self.values[..usize::from(self.length)]
    }
}

impl<T: PartialEq, const N: usize> PartialEq<[T; N]> for Axes<T> {
    fn eq(&self, other: &[T; N]) -> bool {
        **self == other[..]
    }
}

impl<T: fmt::Display> fmt::Display for Axes<T> {
    /// The values joined by `×`: `5×5` on maps, `5` on a sequence.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, value) in self.iter().enumerate() {
            if index > 0 {
                f.write_str("×")?;
            }
            write!(f, "{value}")?;
        }
        Ok(())
    }
}

impl<T: fmt::Debug> fmt::Debug for Axes<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// How a non-integer output size is handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Rounding {
    /// A non-integer size is an error (the default: the sheet's formulas assume sizes fit).
    #[default]
    Exact,
    /// Round down, as Keras and PyTorch do.
    Floor,
    /// Round up, as Caffe does for pooling.
    Ceil,
}

impl Rounding {
    /// The names accepted in descriptions and on the command line.
    pub const NAMES: [&'static str; 3] = ["exact", "floor", "ceil"];

    /// Reads `exact`, `floor` or `ceil`.
    pub fn from_name(name: &str) -> Option<Rounding> {
        match name {
            "exact" => Some(Rounding::Exact),
            "floor" => Some(Rounding::Floor),
            "ceil" => Some(Rounding::Ceil),
            _ => None,
        }
    }

    /// The name as written.
    pub fn name(self) -> &'static str {
        match self {
            Rounding::Exact => "exact",
            Rounding::Floor => "floor",
            Rounding::Ceil => "ceil",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_print_like_the_sheet_and_keras() {
        assert_eq!(Shape::new(vec![55, 55, 96]).to_string(), "[55×55×96]");
        assert_eq!(Shape::new(vec![4096]).to_string(), "4096");
        assert_eq!(Shape::new(vec![28, 128]).to_string(), "[28×128]");
        assert_eq!(Shape::new(vec![2, 3, 4, 5]).to_string(), "[2×3×4×5]");
        assert_eq!(Shape::tokens(28, 10000).to_string(), "28 tokens");
        assert_eq!(Shape::new(vec![u64::MAX, 2]).units(), None);
    }

    #[test]
    fn forms_name_the_axes() {
        assert_eq!(
            Shape::new(vec![28, 128]).form(),
            Form::Sequence {
                steps: 28,
                features: 128
            }
        );
        assert_eq!(Shape::new(vec![28, 128]).sequence(), Some((28, 128)));
        assert_eq!(Shape::new(vec![28, 128]).maps(), None);
        assert_eq!(Shape::new(vec![6, 6, 256]).maps(), Some((6, 6, 256)));
        assert_eq!(
            Shape::tokens(7, 100).form(),
            Form::Tokens {
                length: 7,
                vocabulary: 100
            }
        );
        assert_eq!(
            Shape::new(vec![1, 2, 3, 4]).form(),
            Form::Other(&[1, 2, 3, 4])
        );
    }

    #[test]
    fn axes_read_as_slices_and_compare_with_arrays() {
        let two = Axes::from([3u64, 5]);
        assert_eq!(two.len(), 2);
        assert_eq!(two, [3, 5]);
        assert_eq!(two[1], 5);
        assert_eq!(two.map(|v| v * 2), [6, 10]);
        let one = Axes::filled(1, 7u64);
        assert_eq!(&*one, &[7]);
        assert_ne!(Axes::from([7u64]), Axes::from([7u64, 7]));
        assert_eq!(Axes::<u64>::from_slice(&[1, 2, 3, 4]), None);
        assert_eq!(format!("{two:?}"), "[3, 5]");
        assert_eq!(two.described(), "3×5");
        assert_eq!(one.described(), "7 steps");
        assert_eq!(Axes::from([1u64]).described(), "1 step");
    }

    #[test]
    fn positions_are_the_axes_before_the_features() {
        assert_eq!(Shape::new(vec![28, 28, 1]).positions(), &[28, 28]);
        assert_eq!(Shape::new(vec![28, 128]).positions(), &[28]);
        assert!(Shape::new(vec![784]).positions().is_empty());
        assert_eq!(Shape::tokens(28, 50).positions(), &[28]);
        assert_eq!(Shape::tokens(28, 50).features(), None);
        assert_eq!(
            Shape::tokens(28, 50).with_features(64),
            Shape::new(vec![28, 64])
        );
        assert_eq!(
            Shape::new(vec![5, 5, 16]).with_features(8),
            Shape::new(vec![5, 5, 8])
        );
    }
}
