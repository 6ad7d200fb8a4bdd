//! The executor's [`Model`] as the training loop sees it ([`Trainable`]): trainable tensors with
//! their gradients (connection weights decay under L2; biases, batch-norm scales and shifts and
//! subsampling coefficients do not), and named parameters for weights files.

use crate::layers::{Pass, Role};
use crate::tensor::{Compute, Tensor, TensorError};
use crate::train::error::TrainError;
use crate::train::executor::{Initialization, Model};
use crate::train::options::InitializationKind;
use crate::train::run::{Trainable, TrainableTensor};

/// The executor's scheme for an initialisation option.
pub fn initialization(kind: InitializationKind) -> Initialization {
    match kind {
        InitializationKind::Glorot => Initialization::GlorotUniform,
        InitializationKind::He => Initialization::He,
        InitializationKind::Nielsen => Initialization::Nielsen,
        InitializationKind::NielsenLarge => Initialization::NielsenLarge,
    }
}

impl Trainable for Model<'_> {
    fn forward(&mut self, inputs: &[Tensor], pass: &mut Pass) -> Result<Tensor, TensorError> {
        Model::forward(self, inputs, pass)
    }

    fn backward(&mut self, output_gradient: &Tensor, compute: Compute) -> Result<(), TensorError> {
        Model::backward(self, output_gradient, compute)
    }

    fn zero_gradients(&mut self) {
        Model::zero_gradients(self);
    }

    fn visit_trainable(&mut self, visit: &mut dyn FnMut(TrainableTensor<'_>)) {
        for (_, values, gradient, spec) in self.parameters_mut() {
            if !spec.trainable {
                continue;
            }
            visit(TrainableTensor {
                values: values.data_mut(),
                gradient: gradient.data(),
                decays: matches!(spec.role, Role::Weights { .. }),
            });
        }
    }

    fn named_parameters(&self) -> Vec<(String, &Tensor)> {
        Model::named_parameters(self)
    }

    fn load_parameters(&mut self, parameters: Vec<(String, Tensor)>) -> Result<(), TrainError> {
        Ok(Model::load_parameters(self, parameters)?)
    }
}
