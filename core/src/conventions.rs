//! Counting conventions that differ between frameworks, named so that a description can say
//! which one it follows. The layers read them where the frameworks differ: how many bias vectors
//! a recurrent layer has per gate unit (Keras one; PyTorch, cuDNN and ONNX two), whether
//! BatchNorm's moving statistics are parameters or buffers, PyTorch's rule for a last pooling
//! window in the padding under ceil rounding, and defaults (layernorm's epsilon, leaky_relu's
//! slope). The network-wide switch (`conventions: keras | pytorch`) sets it for every layer
//! that has no `conventions=` of its own.

/// Whose counting rules a layer follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Conventions {
    /// Keras (the default, as the exercise sheet counts).
    #[default]
    Keras,
    /// PyTorch (and cuDNN, ONNX for recurrent layers).
    Pytorch,
}

impl Conventions {
    /// The names accepted in descriptions.
    pub const NAMES: [&'static str; 2] = ["keras", "pytorch"];

    /// Reads `keras` or `pytorch`.
    pub fn from_name(name: &str) -> Option<Conventions> {
        match name {
            "keras" => Some(Conventions::Keras),
            "pytorch" => Some(Conventions::Pytorch),
            _ => None,
        }
    }

    /// The name as written.
    pub fn name(self) -> &'static str {
        match self {
            Conventions::Keras => "keras",
            Conventions::Pytorch => "pytorch",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Conventions;

    #[test]
    fn names_read_back() {
        for name in Conventions::NAMES {
            assert_eq!(
                Conventions::from_name(name).map(Conventions::name),
                Some(name)
            );
        }
        assert_eq!(Conventions::from_name("caffe"), None);
        assert_eq!(Conventions::default(), Conventions::Keras);
    }
}
