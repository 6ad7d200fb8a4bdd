//! What a training run is asked to do: epochs, batch size, optimizer, loss, regularisation,
//! initialisation, seed, data subset and validation data, threads and solver. They come from the
//! description's `train:` section (typed like layer attributes: an unknown key is an error with
//! "did you mean", located at the key) with flags laid over them; what neither sets has a
//! documented default.

use crate::error::Locate;
use crate::layers::{AttributeReader, DeclarationError};
use crate::source::{Span, Spanned};
use crate::syntax::{Attribute, LayerDecl, Value};
use std::num::NonZeroUsize;

/// How parameters are moved along their gradients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptimizerKind {
    /// Stochastic gradient descent, with momentum when `momentum` > 0 (Keras' form).
    Sgd,
    /// Adadelta with Keras' defaults (learning rate 1.0, ρ = 0.95, ε = 1e-7).
    Adadelta,
    /// Adam with Keras' defaults (learning rate 0.001, β₁ = 0.9, β₂ = 0.999, ε = 1e-7).
    Adam,
    /// RMSprop with Keras' defaults (learning rate 0.001, ρ = 0.9, ε = 1e-7).
    RmsProp,
}

impl OptimizerKind {
    /// The names written in descriptions and flags.
    pub const NAMES: [&'static str; 4] = ["sgd", "adadelta", "adam", "rmsprop"];

    /// The optimizer with this name.
    pub fn from_name(name: &str) -> Option<OptimizerKind> {
        match name {
            "sgd" => Some(OptimizerKind::Sgd),
            "adadelta" => Some(OptimizerKind::Adadelta),
            "adam" => Some(OptimizerKind::Adam),
            "rmsprop" => Some(OptimizerKind::RmsProp),
            _ => None,
        }
    }

    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            OptimizerKind::Sgd => "sgd",
            OptimizerKind::Adadelta => "adadelta",
            OptimizerKind::Adam => "adam",
            OptimizerKind::RmsProp => "rmsprop",
        }
    }

    /// The learning rate used when none is given (Keras' defaults).
    pub fn default_learning_rate(self) -> f64 {
        match self {
            OptimizerKind::Sgd => 0.01,
            OptimizerKind::Adadelta => 1.0,
            OptimizerKind::Adam | OptimizerKind::RmsProp => 0.001,
        }
    }
}

/// What is minimised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LossKind {
    /// Categorical cross-entropy of softmax probabilities, with Keras' clipping of the
    /// probabilities to [1e-7, 1 − 1e-7]; mean over examples.
    CrossEntropy,
    /// Nielsen's cross-entropy for sigmoid outputs: per-unit binary cross-entropy summed over the
    /// outputs, mean over examples.
    SigmoidCrossEntropy,
    /// Mean squared error over every output value (Keras' `mse`).
    MeanSquaredError,
    /// LeCun et al. (1998), eq. (8): the output of the correct class's unit, for networks whose
    /// outputs are penalties (Euclidean RBF distances to fixed class codes); mean over examples.
    /// The predicted class is the one with the smallest penalty.
    RbfPenalty,
}

impl LossKind {
    /// The names written in descriptions and flags.
    pub const NAMES: [&'static str; 4] = [
        "cross_entropy",
        "sigmoid_cross_entropy",
        "mse",
        "rbf_penalty",
    ];

    /// The loss with this name.
    pub fn from_name(name: &str) -> Option<LossKind> {
        match name {
            "cross_entropy" => Some(LossKind::CrossEntropy),
            "sigmoid_cross_entropy" => Some(LossKind::SigmoidCrossEntropy),
            "mse" => Some(LossKind::MeanSquaredError),
            "rbf_penalty" => Some(LossKind::RbfPenalty),
            _ => None,
        }
    }

    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            LossKind::CrossEntropy => "cross_entropy",
            LossKind::SigmoidCrossEntropy => "sigmoid_cross_entropy",
            LossKind::MeanSquaredError => "mse",
            LossKind::RbfPenalty => "rbf_penalty",
        }
    }

    /// Whether the network's outputs are penalties, so that the predicted class is the one with
    /// the smallest output rather than the largest.
    pub fn smallest_wins(self) -> bool {
        self == LossKind::RbfPenalty
    }
}

/// How the L2 coefficient λ is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum L2Convention {
    /// Keras' `kernel_regularizer=l2(λ)`: λ·Σw² is added to the loss for every weight tensor.
    Keras,
    /// Nielsen's: (λ/2n)·Σw² with n the number of training images, i.e. the weight decay
    /// w ← (1 − ηλ/n)·w under plain SGD.
    Nielsen,
}

impl L2Convention {
    /// The names written in descriptions and flags.
    pub const NAMES: [&'static str; 2] = ["keras", "nielsen"];

    /// The convention with this name.
    pub fn from_name(name: &str) -> Option<L2Convention> {
        match name {
            "keras" => Some(L2Convention::Keras),
            "nielsen" => Some(L2Convention::Nielsen),
            _ => None,
        }
    }

    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            L2Convention::Keras => "keras",
            L2Convention::Nielsen => "nielsen",
        }
    }

    /// The factor c of the penalty (c/2)·Σw², whose gradient is c·w: 2λ for Keras, λ/n for
    /// Nielsen.
    pub fn coefficient(self, lambda: f64, training_images: usize) -> f64 {
        match self {
            L2Convention::Keras => 2.0 * lambda,
            L2Convention::Nielsen => lambda / training_images.max(1) as f64,
        }
    }
}

/// How weights start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InitializationKind {
    /// Glorot (Xavier) uniform, Keras' default: U(±√(6/(fan_in + fan_out))), biases 0.
    Glorot,
    /// He normal: N(0, 2/fan_in), biases 0.
    He,
    /// Nielsen's: weights N(0, 1/fan_in), biases N(0, 1).
    Nielsen,
    /// Nielsen's `large_weight_initializer`: weights and biases N(0, 1) (his chapter 1 and
    /// chapter 3 overfitting experiments).
    NielsenLarge,
}

impl InitializationKind {
    /// The names written in descriptions and flags.
    pub const NAMES: [&'static str; 4] = ["glorot", "he", "nielsen", "nielsen-large"];

    /// The scheme with this name.
    pub fn from_name(name: &str) -> Option<InitializationKind> {
        match name {
            "glorot" => Some(InitializationKind::Glorot),
            "he" => Some(InitializationKind::He),
            "nielsen" => Some(InitializationKind::Nielsen),
            "nielsen-large" => Some(InitializationKind::NielsenLarge),
            _ => None,
        }
    }

    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            InitializationKind::Glorot => "glorot",
            InitializationKind::He => "he",
            InitializationKind::Nielsen => "nielsen",
            InitializationKind::NielsenLarge => "nielsen-large",
        }
    }
}

/// What the network is evaluated on after each epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validation {
    /// Nothing: only training figures.
    None,
    /// The last K of the training images, held out from training (Nielsen: K = 10,000).
    Split(usize),
    /// The test images (as Keras' examples do with `validation_data`).
    Test,
}

impl Validation {
    /// Reads `none`, `test` or `split:K`.
    pub fn parse(text: &str) -> Option<Validation> {
        match text {
            "none" => Some(Validation::None),
            "test" => Some(Validation::Test),
            _ => {
                let count = text.strip_prefix("split:")?;
                if !count.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                count
                    .parse::<usize>()
                    .ok()
                    .filter(|&count| count > 0)
                    .map(Validation::Split)
            }
        }
    }

    /// The form [`Validation::parse`] reads.
    pub fn text(self) -> String {
        match self {
            Validation::None => "none".to_string(),
            Validation::Test => "test".to_string(),
            Validation::Split(count) => format!("split:{count}"),
        }
    }
}

/// How the weights are found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Solver {
    /// Mini-batch gradient descent with the optimizer.
    GradientDescent,
    /// The closed form (XᵀX)w = Xᵀy for a network of one linear dense layer with MSE.
    NormalEquations,
}

impl Solver {
    /// The names written in descriptions and flags.
    pub const NAMES: [&'static str; 2] = ["gradient-descent", "normal-equations"];

    /// The solver with this name.
    pub fn from_name(name: &str) -> Option<Solver> {
        match name {
            "gradient-descent" => Some(Solver::GradientDescent),
            "normal-equations" => Some(Solver::NormalEquations),
            _ => None,
        }
    }

    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            Solver::GradientDescent => "gradient-descent",
            Solver::NormalEquations => "normal-equations",
        }
    }
}

/// Every setting of a training run, resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainOptions {
    /// Passes over the training images (default 1, as Keras' `fit`).
    pub epochs: usize,
    /// Images per mini-batch (default 32, as Keras).
    pub batch_size: NonZeroUsize,
    /// Default `sgd`.
    pub optimizer: OptimizerKind,
    /// The step size (default: the optimizer's Keras default).
    pub learning_rate: f64,
    /// SGD momentum μ in [0, 1) (default 0: plain SGD); other optimizers ignore it.
    pub momentum: f64,
    /// Default `cross_entropy`.
    pub loss: LossKind,
    /// The L2 coefficient λ (default 0).
    pub l2: f64,
    /// How λ is read (default `keras`).
    pub l2_convention: L2Convention,
    /// Default `glorot`.
    pub initialization: InitializationKind,
    /// Seeds initialisation, shuffling and dropout (default 1).
    pub seed: u64,
    /// Train on the first N training images only (before any validation split is taken from
    /// the rest of the 60,000).
    pub subset: Option<usize>,
    /// Default `none`.
    pub validation: Validation,
    /// Threads for the kernels; the same seed and thread count give the same numbers.
    pub threads: NonZeroUsize,
    /// Default `gradient-descent`.
    pub solver: Solver,
    /// Evaluate the training images after each epoch (Nielsen's `monitor_training_cost`) instead
    /// of averaging the mini-batch figures during the epoch (Keras). Default false.
    pub evaluate_training: bool,
}

/// Settings given on the command line; each one that is set wins over the description.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TrainOverrides {
    /// `--epochs`.
    pub epochs: Option<usize>,
    /// `--batch-size`.
    pub batch_size: Option<NonZeroUsize>,
    /// `--optimizer`.
    pub optimizer: Option<OptimizerKind>,
    /// `--learning-rate`.
    pub learning_rate: Option<f64>,
    /// `--momentum`.
    pub momentum: Option<f64>,
    /// `--loss`.
    pub loss: Option<LossKind>,
    /// `--l2`.
    pub l2: Option<f64>,
    /// `--l2-convention`.
    pub l2_convention: Option<L2Convention>,
    /// `--init`.
    pub initialization: Option<InitializationKind>,
    /// `--seed`.
    pub seed: Option<u64>,
    /// `--subset`.
    pub subset: Option<usize>,
    /// `--validation`.
    pub validation: Option<Validation>,
    /// `--threads`.
    pub threads: Option<NonZeroUsize>,
    /// `--solver`.
    pub solver: Option<Solver>,
    /// `--evaluate-training`.
    pub evaluate_training: Option<bool>,
}

/// A `train:` section that cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum OptionsError {
    /// An unknown key or a bad value, as for layer attributes.
    #[error("{0}")]
    Attribute(DeclarationError),
    /// A value that is well-typed but out of range.
    #[error("`{key}` {expected}, got {found}")]
    Invalid {
        /// The key.
        key: &'static str,
        /// What it must be.
        expected: &'static str,
        /// What was given.
        found: String,
        /// Where (empty for a flag).
        span: Span,
    },
}

impl Locate for OptionsError {
    fn span(&self) -> Span {
        match self {
            OptionsError::Attribute(error) => error.span(),
            OptionsError::Invalid { span, .. } => *span,
        }
    }

    fn label(&self) -> String {
        match self {
            OptionsError::Attribute(error) => error.label(),
            OptionsError::Invalid { .. } => "invalid value".to_string(),
        }
    }

    fn help(&self) -> Option<String> {
        match self {
            OptionsError::Attribute(error) => error.help(),
            OptionsError::Invalid { .. } => None,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            OptionsError::Attribute(_) => "netcalc::train::option",
            OptionsError::Invalid { .. } => "netcalc::train::invalid_option",
        }
    }
}

/// The settings a `train:` section wrote, each still optional.
fn read_section(section: &[Attribute]) -> Result<TrainOverrides, DeclarationError> {
    let mut decl = LayerDecl::new("train");
    decl.attributes = section.to_vec();
    if let Some(first) = section.first() {
        decl.kind = Spanned::new("train".to_string(), first.key.span);
    }
    let mut reader = AttributeReader::new(&decl, "train");
    let positive = |x: f64| x > 0.0 && x.is_finite();
    let non_negative = |x: f64| x >= 0.0 && x.is_finite();
    let fraction = |x: f64| (0.0..1.0).contains(&x);
    let to_usize = |value: u64| usize::try_from(value).unwrap_or(usize::MAX);
    let overrides = TrainOverrides {
        epochs: reader.count("epochs")?.map(to_usize),
        batch_size: reader
            .count("batch_size")?
            .and_then(|size| NonZeroUsize::new(to_usize(size))),
        optimizer: reader
            .choice("optimizer", &OptimizerKind::NAMES)?
            .and_then(OptimizerKind::from_name),
        learning_rate: reader.number_where("learning_rate", "must be a number > 0", positive)?,
        momentum: reader.number_where("momentum", "must be a number in [0, 1)", fraction)?,
        loss: reader
            .choice("loss", &LossKind::NAMES)?
            .and_then(LossKind::from_name),
        l2: reader.number_where("l2", "must be a number ≥ 0", non_negative)?,
        l2_convention: reader
            .choice("l2_convention", &L2Convention::NAMES)?
            .and_then(L2Convention::from_name),
        initialization: reader
            .choice("init", &InitializationKind::NAMES)?
            .and_then(InitializationKind::from_name),
        seed: reader.non_negative("seed")?,
        subset: reader.count("subset")?.map(to_usize),
        validation: match reader.value("validation") {
            None => None,
            Some(value) => Some(
                match &value.value {
                    Value::Text(text) => Validation::parse(text),
                    _ => None,
                }
                .ok_or_else(|| {
                    reader.invalid(
                        "validation",
                        value,
                        "must be none, test or split:K (the last K training images)",
                    )
                })?,
            ),
        },
        threads: reader
            .count("threads")?
            .and_then(|threads| NonZeroUsize::new(to_usize(threads))),
        solver: reader
            .choice("solver", &Solver::NAMES)?
            .and_then(Solver::from_name),
        evaluate_training: reader.boolean("evaluate_training")?,
    };
    reader.finish()?;
    Ok(overrides)
}

impl TrainOptions {
    /// The settings of a description's `train:` section with `flags` laid over them; `threads`
    /// is the thread count when neither sets one.
    pub fn resolve(
        section: &[Attribute],
        flags: &TrainOverrides,
        threads: NonZeroUsize,
    ) -> Result<TrainOptions, OptionsError> {
        let written = read_section(section).map_err(OptionsError::Attribute)?;
        let optimizer = flags
            .optimizer
            .or(written.optimizer)
            .unwrap_or(OptimizerKind::Sgd);
        let learning_rate = flags
            .learning_rate
            .or(written.learning_rate)
            .unwrap_or_else(|| optimizer.default_learning_rate());
        let momentum = flags.momentum.or(written.momentum).unwrap_or(0.0);
        let l2 = flags.l2.or(written.l2).unwrap_or(0.0);
        let flag = |key, expected, found: f64| OptionsError::Invalid {
            key,
            expected,
            found: found.to_string(),
            span: Span::default(),
        };
        if !(learning_rate > 0.0 && learning_rate.is_finite()) {
            return Err(flag("learning_rate", "must be a number > 0", learning_rate));
        }
        if !(0.0..1.0).contains(&momentum) {
            return Err(flag("momentum", "must be a number in [0, 1)", momentum));
        }
        if !(l2 >= 0.0 && l2.is_finite()) {
            return Err(flag("l2", "must be a number ≥ 0", l2));
        }
        let epochs = flags.epochs.or(written.epochs).unwrap_or(1);
        if epochs == 0 {
            return Err(flag("epochs", "must be a positive integer", 0.0));
        }
        if flags.subset == Some(0) {
            return Err(flag("subset", "must be a positive integer", 0.0));
        }
        Ok(TrainOptions {
            epochs,
            batch_size: flags
                .batch_size
                .or(written.batch_size)
                .unwrap_or(NonZeroUsize::new(32).unwrap_or(NonZeroUsize::MIN)),
            optimizer,
            learning_rate,
            momentum,
            loss: flags
                .loss
                .or(written.loss)
                .unwrap_or(LossKind::CrossEntropy),
            l2,
            l2_convention: flags
                .l2_convention
                .or(written.l2_convention)
                .unwrap_or(L2Convention::Keras),
            initialization: flags
                .initialization
                .or(written.initialization)
                .unwrap_or(InitializationKind::Glorot),
            seed: flags.seed.or(written.seed).unwrap_or(1),
            subset: flags.subset.or(written.subset),
            validation: flags
                .validation
                .or(written.validation)
                .unwrap_or(Validation::None),
            threads: flags.threads.or(written.threads).unwrap_or(threads),
            solver: flags
                .solver
                .or(written.solver)
                .unwrap_or(Solver::GradientDescent),
            evaluate_training: flags
                .evaluate_training
                .or(written.evaluate_training)
                .unwrap_or(false),
        })
    }

    /// The settings as JSON (the run folder's `options.json`), keys as in the `train:` section.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "epochs": self.epochs,
            "batch_size": self.batch_size.get(),
            "optimizer": self.optimizer.name(),
            "learning_rate": self.learning_rate,
            "momentum": self.momentum,
            "loss": self.loss.name(),
            "l2": self.l2,
            "l2_convention": self.l2_convention.name(),
            "init": self.initialization.name(),
            "seed": self.seed,
            "subset": self.subset,
            "validation": self.validation.text(),
            "threads": self.threads.get(),
            "solver": self.solver.name(),
            "evaluate_training": self.evaluate_training,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::{Format, read};

    fn two() -> NonZeroUsize {
        NonZeroUsize::new(2).unwrap()
    }

    fn section(text: &str) -> (crate::Source, Vec<Attribute>) {
        let source = crate::Source::new("net.yaml", text);
        let description = read(&source, Format::Yaml).unwrap();
        (source, description.train)
    }

    const NET: &str = "name: n\ninput: 4\nlayers:\n  - {kind: dense, units: 2}\n";

    #[test]
    fn defaults_when_nothing_is_written() {
        let options = TrainOptions::resolve(&[], &TrainOverrides::default(), two()).unwrap();
        assert_eq!(options.epochs, 1);
        assert_eq!(options.batch_size.get(), 32);
        assert_eq!(options.optimizer, OptimizerKind::Sgd);
        assert_eq!(options.learning_rate, 0.01);
        assert_eq!(options.loss, LossKind::CrossEntropy);
        assert_eq!(options.validation, Validation::None);
        assert_eq!(options.threads, two());
        assert_eq!(options.seed, 1);
    }

    #[test]
    fn the_section_sets_and_flags_override() {
        let (_, attributes) = section(&format!(
            "{NET}train:\n  optimizer: adadelta\n  batch_size: 128\n  epochs: 12\n  \
             validation: split:10000\n  l2: 0.5\n  l2_convention: nielsen\n  init: nielsen\n"
        ));
        let options =
            TrainOptions::resolve(&attributes, &TrainOverrides::default(), two()).unwrap();
        assert_eq!(options.optimizer, OptimizerKind::Adadelta);
        assert_eq!(options.learning_rate, 1.0, "Adadelta's Keras default");
        assert_eq!(options.batch_size.get(), 128);
        assert_eq!(options.epochs, 12);
        assert_eq!(options.validation, Validation::Split(10_000));
        assert_eq!(options.l2_convention, L2Convention::Nielsen);
        assert_eq!(options.initialization, InitializationKind::Nielsen);
        let flags = TrainOverrides {
            epochs: Some(2),
            optimizer: Some(OptimizerKind::Adam),
            validation: Some(Validation::Test),
            ..TrainOverrides::default()
        };
        let options = TrainOptions::resolve(&attributes, &flags, two()).unwrap();
        assert_eq!(options.epochs, 2);
        assert_eq!(options.optimizer, OptimizerKind::Adam);
        assert_eq!(options.learning_rate, 0.001);
        assert_eq!(options.batch_size.get(), 128);
        assert_eq!(options.validation, Validation::Test);
    }

    #[test]
    fn a_misspelt_key_is_located_with_a_suggestion() {
        let text = format!("{NET}train:\n  epocs: 3\n");
        let (source, attributes) = section(&text);
        let error =
            TrainOptions::resolve(&attributes, &TrainOverrides::default(), two()).unwrap_err();
        assert_eq!(error.to_string(), "`train` has no attribute `epocs`");
        assert_eq!(error.help().as_deref(), Some("did you mean `epochs`?"));
        let span = error.span();
        assert_eq!(
            &source.text[span.offset..span.offset + span.length],
            "epocs"
        );
    }

    #[test]
    fn bad_values_are_refused_at_the_value() {
        for (line, message) in [
            (
                "optimizer: sgdd",
                "`optimizer` must be one of sgd, adadelta, adam, rmsprop, got `sgdd`",
            ),
            (
                "learning_rate: 0",
                "`learning_rate` must be a number > 0, got 0",
            ),
            (
                "momentum: 1.0",
                "`momentum` must be a number in [0, 1), got 1",
            ),
            (
                "batch_size: 0",
                "`batch_size` must be a positive integer, got 0",
            ),
            (
                "validation: split:0",
                "`validation` must be none, test or split:K (the last K training images), got `split:0`",
            ),
            ("l2: -1", "`l2` must be a number ≥ 0, got -1"),
        ] {
            let text = format!("{NET}train:\n  {line}\n");
            let (source, attributes) = section(&text);
            let error =
                TrainOptions::resolve(&attributes, &TrainOverrides::default(), two()).unwrap_err();
            assert_eq!(error.to_string(), message);
            let span = error.span();
            let value = line.split_once(": ").unwrap().1;
            assert_eq!(&source.text[span.offset..span.offset + span.length], value);
        }
    }

    #[test]
    fn bad_flags_are_refused() {
        let flags = TrainOverrides {
            learning_rate: Some(f64::NAN),
            ..TrainOverrides::default()
        };
        assert!(TrainOptions::resolve(&[], &flags, two()).is_err());
        let flags = TrainOverrides {
            epochs: Some(0),
            ..TrainOverrides::default()
        };
        assert!(TrainOptions::resolve(&[], &flags, two()).is_err());
    }

    #[test]
    fn validation_texts_read_back() {
        for validation in [
            Validation::None,
            Validation::Test,
            Validation::Split(10_000),
        ] {
            assert_eq!(Validation::parse(&validation.text()), Some(validation));
        }
        assert_eq!(Validation::parse("split:"), None);
        assert_eq!(Validation::parse("split:+5"), None);
        assert_eq!(Validation::parse("validation"), None);
    }

    #[test]
    fn l2_coefficients_follow_each_convention() {
        assert_eq!(L2Convention::Keras.coefficient(0.5, 1000), 1.0);
        assert_eq!(L2Convention::Nielsen.coefficient(0.5, 1000), 0.0005);
    }

    #[test]
    fn names_read_back() {
        for name in OptimizerKind::NAMES {
            assert_eq!(
                OptimizerKind::from_name(name).map(|kind| kind.name()),
                Some(name)
            );
        }
        for name in LossKind::NAMES {
            assert_eq!(
                LossKind::from_name(name).map(|kind| kind.name()),
                Some(name)
            );
        }
        for name in Solver::NAMES {
            assert_eq!(Solver::from_name(name).map(|kind| kind.name()), Some(name));
        }
        for name in InitializationKind::NAMES {
            assert_eq!(
                InitializationKind::from_name(name).map(|kind| kind.name()),
                Some(name)
            );
        }
    }
}
