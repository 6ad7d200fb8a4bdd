//! The built-in architectures: the files of `architectures/`, compiled into the binary so the
//! main job works without any file.

/// A built-in architecture.
#[derive(Debug, Clone, Copy)]
pub struct Builtin {
    /// The name used on the command line, e.g. `lenet-5`.
    pub name: &'static str,
    /// Its file in `architectures/`.
    pub file: &'static str,
    /// The description's text.
    pub text: &'static str,
}

macro_rules! builtin {
    ($name:literal, $file:literal) => {
        Builtin {
            name: $name,
            file: $file,
            text: include_str!(concat!("../../architectures/", $file)),
        }
    };
}

/// Every built-in architecture, in the order `netcalc list` shows them.
pub static BUILTINS: &[Builtin] = &[
    builtin!("lenet-5", "lenet-5.yaml"),
    builtin!("lenet-5-table", "lenet-5-table.yaml"),
    builtin!("lenet-5-1998", "lenet-5-1998.yaml"),
    builtin!("alexnet", "alexnet.yaml"),
    builtin!("alexnet-2012", "alexnet-2012.yaml"),
    builtin!("zfnet", "zfnet.yaml"),
    builtin!("vgg-16", "vgg-16.yaml"),
    builtin!("keras-mnist-cnn", "keras-mnist-cnn.yaml"),
    builtin!("keras-mnist-cnn-deeper", "keras-mnist-cnn-deeper.yaml"),
    builtin!("keras-mnist-cnn-small", "keras-mnist-cnn-small.yaml"),
    builtin!("keras-mnist-cnn-gap", "keras-mnist-cnn-gap.yaml"),
    builtin!("keras-mnist-grid-best", "keras-mnist-grid-best.yaml"),
    builtin!("keras-mnist-grid", "keras-mnist-grid.yaml"),
    builtin!("mlp-784-400-10", "mlp-784-400-10.yaml"),
    builtin!("mlp-784-100-100-10", "mlp-784-100-100-10.yaml"),
    builtin!("mlp-784-30-10", "mlp-784-30-10.yaml"),
    builtin!("mnist-lstm", "mnist-lstm.yaml"),
    builtin!("resnet-18", "resnet-18.yaml"),
    builtin!("resnet-50", "resnet-50.yaml"),
    builtin!("mobilenet-v2", "mobilenet-v2.yaml"),
    builtin!("vit-b-16", "vit-b-16.yaml"),
    builtin!("gpt-2", "gpt-2.yaml"),
    builtin!("gpt-2-medium", "gpt-2-medium.yaml"),
    builtin!("bert-base", "bert-base.yaml"),
    builtin!("zaremba-lstm-medium", "zaremba-lstm-medium.yaml"),
];

/// The built-in with this name (case-insensitive).
pub fn find(name: &str) -> Option<&'static Builtin> {
    BUILTINS
        .iter()
        .find(|builtin| builtin.name.eq_ignore_ascii_case(name))
}
