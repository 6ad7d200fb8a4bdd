//! Expanding a grid into the configurations a sweep trains: every configuration is
//! instantiated, built and analysed (and its training settings resolved) before anything trains.
//! One that fails any of these is listed with the reason and skipped; `--max-params` and
//! `--max-macs` then remove those above the limits; `--samples N` finally draws N of the rest
//! (random search), without replacement, with the sweep's seed.

use crate::error::Error;
use crate::report::Grid as Table;
use crate::report::OutputFormat;
use crate::report::numbers::thousands;
use crate::sweep::spec::{Selected, Selection};
use crate::sweep::template::{Refusal, Template};
use crate::train::options::{TrainOptions, TrainOverrides};
use std::num::NonZeroUsize;

/// The configurations a grid may hold unless `--max-configs` says otherwise.
pub const DEFAULT_MAX_CONFIGS: usize = 10_000;

/// What prunes the grid.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Filters {
    /// Keep configurations of at most this many parameters.
    pub max_params: Option<u64>,
    /// Keep configurations of at most this many multiply-accumulates per example.
    pub max_macs: Option<u64>,
    /// Draw this many of those left (random search).
    pub samples: Option<usize>,
    /// The seed of the draw.
    pub seed: u64,
}

/// What becomes of a configuration.
#[derive(Debug, Clone, PartialEq)]
pub enum Status {
    /// It is trained.
    Train,
    /// It fails analysis or its training settings; the reason.
    Skipped(String),
    /// A filter removes it; which and why.
    Filtered(String),
    /// Random search did not draw it.
    NotDrawn,
}

impl Status {
    /// The status as the expand table shows it.
    pub fn text(&self) -> String {
        match self {
            Status::Train => "train".to_string(),
            Status::Skipped(reason) => format!("skipped: {reason}"),
            Status::Filtered(reason) => format!("filtered: {reason}"),
            Status::NotDrawn => "not drawn".to_string(),
        }
    }
}

/// One configuration of the grid and its fate.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// Its index in the grid's order.
    pub index: usize,
    /// The swept parameters' values as DSL text.
    pub values: Vec<String>,
    /// Parameters and MACs per example, when it analyses.
    pub sizes: Option<(u64, u64)>,
    /// What becomes of it.
    pub status: Status,
}

/// Every configuration of a grid and what becomes of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Expansion {
    /// The network's name.
    pub name: String,
    /// The swept parameters, in the grid's order.
    pub parameters: Vec<String>,
    /// The configurations in the grid's order.
    pub candidates: Vec<Candidate>,
    /// The filters applied.
    pub filters: Filters,
}

/// Instantiates, builds and analyses every configuration of the grid (refusing a grid of more
/// than `limit`), resolves its training settings under `overrides`, and applies the filters.
pub fn expand(
    template: &Template,
    filters: Filters,
    overrides: &TrainOverrides,
    limit: usize,
) -> Result<Expansion, Error> {
    let count = template.count(limit)?;
    let mut candidates = Vec::with_capacity(count);
    let mut name = None;
    for index in 0..count {
        let (values, analysed) = match template.instance(index) {
            Ok(instance) => {
                let analysed = template.analyse(&instance).and_then(|(network, analysis)| {
                    TrainOptions::resolve(&network.train, overrides, NonZeroUsize::MIN)
                        .map_err(|error| Error::new(&network.source, error))?;
                    Ok((network, analysis))
                });
                (instance.values, analysed)
            }
            Err(Refusal::Configuration(error)) => (template.values(index), Err(error)),
            Err(Refusal::Description(error)) => return Err(error),
        };
        let (sizes, status) = match analysed {
            Ok((network, analysis)) => {
                name.get_or_insert(network.name);
                let sizes = (analysis.totals.parameters(), analysis.totals.macs);
                (Some(sizes), filter(sizes, &filters))
            }
            Err(error) => (None, Status::Skipped(reason(&error))),
        };
        candidates.push(Candidate {
            index,
            values,
            sizes,
            status,
        });
    }
    if let Some(samples) = filters.samples {
        draw(&mut candidates, samples, filters.seed);
    }
    Ok(Expansion {
        name: name.unwrap_or_else(|| template.source.name.clone()),
        parameters: template.parameters(),
        candidates,
        filters,
    })
}

/// An error as one line: its message and where it points (`file:line:column`).
fn reason(error: &Error) -> String {
    match (&error.source, error.line_column()) {
        (Some(source), Some((line, column))) if error.kind.span().length > 0 => {
            format!("{error} ({}:{line}:{column})", source.name)
        }
        _ => error.to_string(),
    }
}

fn filter((parameters, macs): (u64, u64), filters: &Filters) -> Status {
    if let Some(limit) = filters.max_params
        && parameters > limit
    {
        return Status::Filtered(format!(
            "{} parameters > --max-params {}",
            thousands(parameters),
            thousands(limit)
        ));
    }
    if let Some(limit) = filters.max_macs
        && macs > limit
    {
        return Status::Filtered(format!(
            "{} MACs > --max-macs {}",
            thousands(macs),
            thousands(limit)
        ));
    }
    Status::Train
}

/// Keeps `samples` of the configurations still to train, drawn with the seed: the first
/// `samples` of a seeded shuffle of them (crate::data::batch's Fisher–Yates on ChaCha8).
fn draw(candidates: &mut [Candidate], samples: usize, seed: u64) {
    let eligible: Vec<usize> = candidates
        .iter()
        .enumerate()
        .filter(|(_, candidate)| candidate.status == Status::Train)
        .map(|(position, _)| position)
        .collect();
    let order = crate::data::batch::Shuffler::new(seed).permutation(eligible.len());
    for &drawn in order.iter().skip(samples) {
        candidates[eligible[drawn]].status = Status::NotDrawn;
    }
}

impl Expansion {
    /// Configurations to train.
    pub fn selected(&self) -> Vec<Selected> {
        self.candidates
            .iter()
            .filter(|candidate| candidate.status == Status::Train)
            .filter_map(|candidate| {
                let (parameters, macs) = candidate.sizes?;
                Some(Selected {
                    index: candidate.index,
                    values: candidate.values.clone(),
                    parameters,
                    macs,
                })
            })
            .collect()
    }

    fn count(&self, wanted: fn(&Status) -> bool) -> usize {
        self.candidates
            .iter()
            .filter(|candidate| wanted(&candidate.status))
            .count()
    }

    /// How the configurations were chosen.
    pub fn selection(&self) -> Selection {
        Selection {
            grid: self.candidates.len(),
            skipped: self.count(|status| matches!(status, Status::Skipped(_))),
            max_params: self.filters.max_params,
            max_macs: self.filters.max_macs,
            filtered: self.count(|status| matches!(status, Status::Filtered(_))),
            samples: self.filters.samples,
        }
    }

    /// What the expansion did, in sentences: skipped, filtered, drawn, left.
    pub fn notes(&self) -> Vec<String> {
        let selection = self.selection();
        let mut notes = vec![format!(
            "{} configurations in the grid; {} fail analysis and are skipped",
            selection.grid, selection.skipped
        )];
        if selection.max_params.is_some() || selection.max_macs.is_some() {
            let mut limits = Vec::new();
            if let Some(limit) = selection.max_params {
                limits.push(format!("--max-params {}", thousands(limit)));
            }
            if let Some(limit) = selection.max_macs {
                limits.push(format!("--max-macs {}", thousands(limit)));
            }
            notes.push(format!(
                "{} removes {}",
                limits.join(" and "),
                selection.filtered
            ));
        }
        if let Some(samples) = selection.samples {
            let eligible = selection.grid - selection.skipped - selection.filtered;
            notes.push(if samples >= eligible {
                format!(
                    "--samples {samples}: only {eligible} configurations are left, so all are \
                     taken"
                )
            } else {
                format!(
                    "--samples {samples} --seed {} draws {samples} of the {eligible} left",
                    self.filters.seed
                )
            });
        }
        notes.push(format!("{} to train", self.count(|s| *s == Status::Train)));
        notes
    }

    /// The list as a table, CSV, Markdown or JSON.
    pub fn render(&self, format: OutputFormat) -> String {
        if format == OutputFormat::Json {
            return self.json();
        }
        let mut header = vec!["#".to_string()];
        header.extend(self.parameters.iter().cloned());
        header.extend(["Parameters", "MACs", "Status"].map(String::from));
        let sizes = self.parameters.len() + 1;
        // CSV is for programs: plain numbers, an empty field where there is none.
        let number = |value: u64| {
            if format == OutputFormat::Csv {
                value.to_string()
            } else {
                thousands(value)
            }
        };
        let none = if format == OutputFormat::Csv {
            ""
        } else {
            "–"
        };
        let rows = self
            .candidates
            .iter()
            .map(|candidate| {
                let mut row = vec![candidate.index.to_string()];
                row.extend(candidate.values.iter().cloned());
                let (parameters, macs) = match candidate.sizes {
                    Some((parameters, macs)) => (number(parameters), number(macs)),
                    None => (none.to_string(), none.to_string()),
                };
                row.extend([parameters, macs, candidate.status.text()]);
                row
            })
            .collect();
        Table {
            title: format!("{}: the grid's configurations", self.name),
            header,
            right_aligned: vec![0, sizes, sizes + 1],
            rows,
            notes: self.notes(),
        }
        .render(format)
    }

    fn json(&self) -> String {
        let configurations: Vec<serde_json::Value> = self
            .candidates
            .iter()
            .map(|candidate| {
                let values: serde_json::Map<String, serde_json::Value> = self
                    .parameters
                    .iter()
                    .cloned()
                    .zip(candidate.values.iter().map(|v| v.clone().into()))
                    .collect();
                let (status, reason) = match &candidate.status {
                    Status::Train => ("train", None),
                    Status::Skipped(reason) => ("skipped", Some(reason.clone())),
                    Status::Filtered(reason) => ("filtered", Some(reason.clone())),
                    Status::NotDrawn => ("not drawn", None),
                };
                serde_json::json!({
                    "index": candidate.index,
                    "values": values,
                    "parameters": candidate.sizes.map(|(parameters, _)| parameters),
                    "macs": candidate.sizes.map(|(_, macs)| macs),
                    "status": status,
                    "reason": reason,
                })
            })
            .collect();
        let mut text = serde_json::to_string_pretty(&serde_json::json!({
            "schema": "netcalc.sweep.expand.v1",
            "network": self.name,
            "parameters": self.parameters,
            "configurations": configurations,
            "notes": self.notes(),
        }))
        .unwrap_or_default();
        text.push('\n');
        text
    }
}
