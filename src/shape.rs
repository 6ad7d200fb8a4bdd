//! Tensor shapes of one example (no batch axis), channels last: `[H, W, C]` for maps, `[N]` for
//! vectors, as the exercise sheet writes them (`[227×227×3]`, `4096`).

use std::fmt;

/// The shape of one layer output for one example.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Shape(pub Vec<u64>);

impl Shape {
    /// Height, width and channels of a rank-3 shape.
    pub fn maps(&self) -> Option<(u64, u64, u64)> {
        match self.0[..] {
            [height, width, channels] => Some((height, width, channels)),
            _ => None,
        }
    }

    /// Number of values, or `None` when it does not fit in 64 bits.
    pub fn units(&self) -> Option<u64> {
        self.0.iter().try_fold(1u64, |acc, &d| acc.checked_mul(d))
    }

    /// The last axis (channels for maps, the length for vectors).
    pub fn channels(&self) -> u64 {
        self.0.last().copied().unwrap_or(1)
    }

    /// The rank (number of axes).
    pub fn rank(&self) -> usize {
        self.0.len()
    }
}

impl fmt::Display for Shape {
    /// `[55×55×96]` for maps, `4096` for vectors, like the sheet.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0[..] {
            [length] => write!(f, "{length}"),
            _ => {
                let dims: Vec<String> = self.0.iter().map(u64::to_string).collect();
                write!(f, "[{}]", dims.join("×"))
            }
        }
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
    fn shapes_print_like_the_sheet() {
        assert_eq!(Shape(vec![55, 55, 96]).to_string(), "[55×55×96]");
        assert_eq!(Shape(vec![4096]).to_string(), "4096");
        assert_eq!(Shape(vec![u64::MAX, 2]).units(), None);
    }
}
