//! The description a sweep trains and its grid: read once (the description, and the grid file
//! when `--grid` names one), then instantiated configuration by configuration with
//! crate::syntax's instantiation, and each instance built and analysed by the ordinary pipeline.
//! Errors point into the text they come from: the description, or the grid file.

use crate::analysis::{self, Analysis};
use crate::error::Error;
use crate::graph::Network;
use crate::source::{Source, Span};
use crate::sweep::SweepError;
use crate::syntax::{self, Configuration, Description, Format, Grid, ParameterError};

/// A description with parameters and the grid of values they take.
#[derive(Debug, Clone)]
pub struct Template {
    /// The description's text.
    pub source: Source,
    /// Its format.
    pub format: Format,
    /// The description as read (with its parameters, references and repeats).
    pub description: Description,
    /// The grid file's text and format, when the grid comes from one.
    pub grid_source: Option<(Source, Format)>,
    /// The grid.
    pub grid: Grid,
}

/// One configuration of the grid, instantiated.
#[derive(Debug, Clone)]
pub struct Instance {
    /// Its index in the grid's order.
    pub index: usize,
    /// The swept parameters' values as DSL text, in the grid's order.
    pub values: Vec<String>,
    /// The plain description it makes.
    pub description: Description,
}

impl Template {
    /// Reads a description and its grid: the grid file's `sweep` section if one is given, else
    /// the description's own. A description without a grid is a sweep of one configuration.
    pub fn read(
        source: Source,
        format: Format,
        grid_source: Option<(Source, Format)>,
    ) -> Result<Template, Error> {
        let description = syntax::read(&source, format).map_err(|e| Error::new(&source, e))?;
        let grid = match &grid_source {
            None => Grid::of(&description).map_err(|e| Error::new(&source, e))?,
            Some((grid_text, grid_format)) => {
                let section = syntax::read_grid(grid_text, *grid_format)
                    .map_err(|e| Error::new(grid_text, e))?;
                Grid::new(&description, &section).map_err(|e| Error::new(grid_text, e))?
            }
        };
        Ok(Template {
            source,
            format,
            description,
            grid_source,
            grid,
        })
    }

    /// The source that holds the grid (the grid file, or the description).
    fn grid_text(&self) -> &Source {
        self.grid_source
            .as_ref()
            .map_or(&self.source, |(source, _)| source)
    }

    /// The swept parameters, in the grid's order.
    pub fn parameters(&self) -> Vec<String> {
        self.grid
            .axes()
            .iter()
            .map(|axis| axis.parameter.clone())
            .collect()
    }

    /// The number of configurations, refused when it is above `limit` (the error points at the
    /// grid's first key).
    pub fn count(&self, limit: usize) -> Result<usize, Error> {
        let span = self
            .grid
            .axes()
            .first()
            .map_or(Span::default(), |axis| axis.span);
        let count = self
            .grid
            .count()
            .map_err(|e| Error::new(self.grid_text(), e))?;
        match usize::try_from(count) {
            Ok(count) if count <= limit => Ok(count),
            _ => Err(Error::new(
                self.grid_text(),
                SweepError::TooManyConfigurations {
                    count: u128::from(count),
                    limit,
                    span,
                },
            )),
        }
    }

    /// Configuration `index` of the grid, instantiated. An error that no configuration could
    /// escape (an unknown reference, an unused parameter, …) is [`Refusal::Description`]; one of
    /// this configuration's values (a repeat count of 2.5) is [`Refusal::Configuration`].
    pub fn instance(&self, index: usize) -> Result<Instance, Refusal> {
        let configuration = u64::try_from(index)
            .ok()
            .and_then(|index| self.grid.configuration(index))
            .ok_or_else(|| {
                Refusal::Description(Error::unplaced(SweepError::Configuration {
                    index,
                    message: "the grid has no such configuration".to_string(),
                }))
            })?;
        let mut description =
            syntax::instantiate(&self.description, &configuration).map_err(|error| {
                let of_configuration = depends_on_configuration(&error);
                let error = Error::new(&self.source, error);
                if of_configuration {
                    Refusal::Configuration(error)
                } else {
                    Refusal::Description(error)
                }
            })?;
        // Positional values (DSL) become keyed attributes, so that the description prints the
        // same whichever format it was written in (YAML has no positionals). A layer whose
        // values cannot be named is left as it is: building the network reports it.
        for layer in description.all_layers_mut() {
            let mut named = layer.clone();
            if crate::layers::name_positionals(&mut named).is_ok() {
                *layer = named;
            }
        }
        Ok(Instance {
            index,
            values: values(&configuration),
            description,
        })
    }

    /// The swept parameters' values of configuration `index` as DSL text (none past the end).
    pub fn values(&self, index: usize) -> Vec<String> {
        u64::try_from(index)
            .ok()
            .and_then(|index| self.grid.configuration(index))
            .map(|configuration| values(&configuration))
            .unwrap_or_default()
    }

    /// The network of an instance and its analysis (with the description's `expect` checked).
    pub fn analyse(&self, instance: &Instance) -> Result<(Network, Analysis), Error> {
        let stem = std::path::Path::new(self.source.name.trim_start_matches("builtin:"))
            .file_stem()
            .and_then(|stem| stem.to_str())
            .unwrap_or("network");
        let network = Network::build(
            &self.source,
            instance.description.clone(),
            stem,
            crate::graph::Overrides::default(),
        )?;
        let analysis = analysis::analyse(&network)?;
        Ok((network, analysis))
    }
}

/// Why a configuration cannot be instantiated.
#[derive(Debug)]
pub enum Refusal {
    /// The description itself is wrong, whatever the configuration: the sweep cannot start.
    Description(Error),
    /// This configuration's values do not work: it is skipped.
    Configuration(Error),
}

impl Refusal {
    /// The error, whichever it is.
    pub fn into_error(self) -> Error {
        match self {
            Refusal::Description(error) | Refusal::Configuration(error) => error,
        }
    }
}

/// Whether an instantiation error comes from the values of the configuration (and another
/// configuration may well instantiate), rather than from the description as written. The checks
/// crate::syntax::instantiate makes before expanding (references, unused parameters, names in
/// repeats) hold or fail for every configuration alike.
fn depends_on_configuration(error: &ParameterError) -> bool {
    matches!(
        error,
        ParameterError::RepeatCount { .. }
            | ParameterError::RepeatOver { .. }
            | ParameterError::DuplicateName { .. }
            | ParameterError::TooManyLayers { .. }
    )
}

/// A configuration's values as DSL text, in the grid's order.
fn values(configuration: &Configuration) -> Vec<String> {
    configuration
        .values()
        .iter()
        .map(|(_, value)| syntax::dsl::value_text(value))
        .collect()
}
