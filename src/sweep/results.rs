//! The results of a sweep, so far or in full: per configuration each fold's accuracy, their mean
//! and standard deviation, parameters, MACs and seconds; the ranking and the best
//! configuration; the files `results.csv` and `results.json`; the `report` and `status` tables.
//!
//! The standard deviation is the population's (divided by the number of folds, ddof = 0), as
//! scikit-learn's `std_test_score`; the mean is the plain mean of the folds (scikit-learn since
//! 0.22; before, `iid=True` weighted folds by their size, which differs only when the folds'
//! sizes do). The ranking puts first the configurations with every fold done and none
//! diverged, by mean accuracy (higher first), then fewer parameters, then the lower index; then
//! those with a diverged fold (scikit-learn's `error_score=nan` ranks them last), then those still
//! missing folds, both in index order.

use crate::report::Grid as Table;
use crate::report::OutputFormat;
use crate::report::numbers::thousands;
use crate::sweep::folder::{SweepFolder, TaskState};
use crate::sweep::record::FoldRecord;
use crate::sweep::spec::Selected;
use std::cmp::Ordering;

/// One configuration's folds so far.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigurationResult {
    /// The configuration.
    pub configuration: Selected,
    /// Each fold's state, in order.
    pub folds: Vec<TaskState>,
}

impl ConfigurationResult {
    /// The records of the folds done.
    pub fn records(&self) -> impl Iterator<Item = &FoldRecord> {
        self.folds.iter().filter_map(|state| match state {
            TaskState::Done(record) => Some(record),
            _ => None,
        })
    }

    /// Folds done.
    pub fn done(&self) -> usize {
        self.records().count()
    }

    /// Whether every fold is done.
    pub fn complete(&self) -> bool {
        self.done() == self.folds.len()
    }

    /// Whether a fold diverged.
    pub fn diverged(&self) -> bool {
        self.records().any(|record| record.accuracy.is_none())
    }

    /// The accuracies of the folds done (without the diverged ones).
    pub fn accuracies(&self) -> Vec<f64> {
        self.records()
            .filter_map(|record| record.accuracy)
            .collect()
    }

    /// The mean of the fold accuracies done, if any (none when a fold diverged).
    pub fn mean(&self) -> Option<f64> {
        let accuracies = self.accuracies();
        (!accuracies.is_empty() && !self.diverged())
            .then(|| accuracies.iter().sum::<f64>() / accuracies.len() as f64)
    }

    /// Their population standard deviation (ddof = 0).
    pub fn std(&self) -> Option<f64> {
        let mean = self.mean()?;
        let accuracies = self.accuracies();
        let variance = accuracies
            .iter()
            .map(|accuracy| (accuracy - mean).powi(2))
            .sum::<f64>()
            / accuracies.len() as f64;
        Some(variance.sqrt())
    }

    /// Seconds of the folds done.
    pub fn seconds(&self) -> f64 {
        self.records().map(|record| record.seconds).sum()
    }

    /// `0.9712 ± 0.0031`, `failed`, or `–`.
    fn mean_text(&self) -> String {
        match (self.mean(), self.std()) {
            (Some(mean), Some(std)) => format!("{mean:.4} ± {std:.4}"),
            _ if self.diverged() => "diverged".to_string(),
            _ => "–".to_string(),
        }
    }

    fn fold_text(state: &TaskState) -> String {
        match state {
            TaskState::Done(record) => match record.accuracy {
                Some(accuracy) => format!("{accuracy:.4}"),
                None => "diverged".to_string(),
            },
            TaskState::Running(_) => "running".to_string(),
            TaskState::Missing(_) => "–".to_string(),
        }
    }
}

/// `Refit on the training images: test accuracy 0.9912 (9912 of 10000)`, or why there is none.
pub fn refit_line(refit: &FoldRecord) -> String {
    match refit.accuracy {
        Some(accuracy) => format!(
            "Refit on the training images: test accuracy {accuracy:.4} ({} of {})",
            refit.correct.unwrap_or(0),
            refit.count
        ),
        None => format!(
            "Refit on the training images diverged: {}",
            refit.failure.as_deref().unwrap_or("")
        ),
    }
}

/// A sweep's results so far.
#[derive(Debug, Clone)]
pub struct SweepResults {
    /// The network's name.
    pub name: String,
    /// The swept parameters.
    pub parameters: Vec<String>,
    /// The folds per configuration.
    pub parts: usize,
    /// Per configuration selected, in the grid's order.
    pub configurations: Vec<ConfigurationResult>,
    /// How they are scored, in words.
    pub evaluation: String,
    /// The refit of the best configuration, when it is done.
    pub refit: Option<FoldRecord>,
}

impl SweepResults {
    /// Reads every task's state (and the refit's, when the sweep is finished).
    pub fn collect(sweep: &SweepFolder) -> Result<SweepResults, crate::Error> {
        let parts = sweep.spec.evaluation.parts();
        let mut configurations: Vec<ConfigurationResult> = sweep
            .spec
            .configurations
            .iter()
            .map(|configuration| ConfigurationResult {
                configuration: configuration.clone(),
                folds: Vec::with_capacity(parts),
            })
            .collect();
        for (task, state) in sweep.states()? {
            configurations[task.position].folds.push(state);
        }
        let mut results = SweepResults {
            name: sweep.template.description.name.as_ref().map_or_else(
                || sweep.spec.description.name.clone(),
                |name| name.value.clone(),
            ),
            parameters: sweep.spec.parameters.clone(),
            parts,
            configurations,
            evaluation: sweep.spec.evaluation.describe(),
            refit: None,
        };
        results.refit = crate::sweep::finish::refit_record(sweep, &results)?;
        Ok(results)
    }

    /// Positions of the configurations, best first (see the module's ranking).
    pub fn ranking(&self) -> Vec<usize> {
        let mut positions: Vec<usize> = (0..self.configurations.len()).collect();
        let class = |result: &ConfigurationResult| match (result.complete(), result.mean()) {
            (true, Some(_)) => 0,
            (true, None) => 1,
            (false, _) => 2,
        };
        positions.sort_by(|&a, &b| {
            let (first, second) = (&self.configurations[a], &self.configurations[b]);
            class(first).cmp(&class(second)).then_with(|| {
                let by_mean = match (first.mean(), second.mean()) {
                    (Some(x), Some(y)) if class(first) == 0 => {
                        y.partial_cmp(&x).unwrap_or(Ordering::Equal)
                    }
                    _ => Ordering::Equal,
                };
                let by_size = if class(first) == 0 {
                    first
                        .configuration
                        .parameters
                        .cmp(&second.configuration.parameters)
                } else {
                    Ordering::Equal
                };
                by_mean
                    .then(by_size)
                    .then_with(|| first.configuration.index.cmp(&second.configuration.index))
            })
        });
        positions
    }

    /// The best configuration, once every fold of every configuration is done and one has a
    /// mean.
    pub fn best(&self) -> Option<&ConfigurationResult> {
        if !self
            .configurations
            .iter()
            .all(ConfigurationResult::complete)
        {
            return None;
        }
        let first = &self.configurations[*self.ranking().first()?];
        first.mean().is_some().then_some(first)
    }

    /// Folds done, of all.
    pub fn folds_done(&self) -> (usize, usize) {
        let done = self.configurations.iter().map(|result| result.done()).sum();
        (done, self.configurations.len() * self.parts)
    }

    fn rank_of(&self) -> Vec<Option<usize>> {
        let mut ranks = vec![None; self.configurations.len()];
        for (rank, position) in self.ranking().into_iter().enumerate() {
            if self.configurations[position].complete() {
                ranks[position] = Some(rank + 1);
            }
        }
        ranks
    }

    /// The report: best first, with the folds' accuracies, as a table, Markdown, CSV or JSON.
    pub fn render(&self, format: OutputFormat) -> String {
        let ranks = self.rank_of();
        match format {
            OutputFormat::Json => return self.json(),
            OutputFormat::Csv => return self.csv_in(self.ranking(), &ranks),
            OutputFormat::Table | OutputFormat::Markdown => {}
        }
        let rows = self
            .ranking()
            .into_iter()
            .map(|position| self.row(position, ranks[position], true))
            .collect();
        let (done, total) = self.folds_done();
        let mut notes = Vec::new();
        if let Some(best) = self.best() {
            notes.push(format!(
                "Best: configuration {} ({}), mean accuracy {}",
                best.configuration.index,
                self.values_text(&best.configuration),
                best.mean_text()
            ));
        }
        if let Some(refit) = &self.refit {
            notes.push(refit_line(refit));
        }
        notes.push(
            "Std is the population standard deviation of the fold accuracies (ddof = 0, as \
             scikit-learn's std_test_score)"
                .to_string(),
        );
        Table {
            title: format!(
                "{}: {} configurations, {}; {done} of {total} folds done",
                self.name,
                self.configurations.len(),
                self.evaluation
            ),
            header: self.header(true),
            right_aligned: self.right_aligned(true),
            rows,
            notes,
        }
        .render(format)
    }

    fn values_text(&self, configuration: &Selected) -> String {
        self.parameters
            .iter()
            .zip(&configuration.values)
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn header(&self, display: bool) -> Vec<String> {
        let mut header = vec!["Rank".to_string(), "#".to_string()];
        header.extend(self.parameters.iter().cloned());
        if display {
            header.push("Mean ± std".to_string());
        } else {
            header.extend(["mean_accuracy", "std_accuracy"].map(String::from));
        }
        header.extend((1..=self.parts).map(|fold| {
            if display {
                format!("Fold {fold}")
            } else {
                format!("fold_{fold}")
            }
        }));
        header.extend(if display {
            ["Parameters", "MACs", "Seconds"].map(String::from)
        } else {
            ["parameters", "macs", "seconds"].map(String::from)
        });
        header
    }

    fn right_aligned(&self, display: bool) -> Vec<usize> {
        let values = 2 + self.parameters.len();
        let numbers = usize::from(display) + 2 * usize::from(!display) + self.parts + 3;
        let mut columns = vec![0, 1];
        columns.extend(values..values + numbers);
        columns
    }

    fn row(&self, position: usize, rank: Option<usize>, display: bool) -> Vec<String> {
        let result = &self.configurations[position];
        let mut row = vec![
            rank.map_or_else(String::new, |rank| rank.to_string()),
            result.configuration.index.to_string(),
        ];
        row.extend(result.configuration.values.iter().cloned());
        if display {
            row.push(result.mean_text());
        } else {
            let number = |value: Option<f64>| value.map_or_else(String::new, |v| v.to_string());
            row.extend([number(result.mean()), number(result.std())]);
        }
        row.extend(result.folds.iter().map(|state| {
            if display {
                ConfigurationResult::fold_text(state)
            } else {
                match state {
                    TaskState::Done(FoldRecord {
                        accuracy: Some(accuracy),
                        ..
                    }) => accuracy.to_string(),
                    TaskState::Done(_) => "diverged".to_string(),
                    _ => String::new(),
                }
            }
        }));
        let parameters = result.configuration.parameters;
        let macs = result.configuration.macs;
        if display {
            row.extend([
                thousands(parameters),
                thousands(macs),
                format!("{:.1}", result.seconds()),
            ]);
        } else {
            row.extend([
                parameters.to_string(),
                macs.to_string(),
                format!("{:.3}", result.seconds()),
            ]);
        }
        row
    }

    /// `results.csv`: one row per configuration in the grid's order, full precision.
    pub fn csv(&self) -> String {
        self.csv_in((0..self.configurations.len()).collect(), &self.rank_of())
    }

    fn csv_in(&self, order: Vec<usize>, ranks: &[Option<usize>]) -> String {
        Table {
            header: self.header(false),
            rows: order
                .into_iter()
                .map(|position| self.row(position, ranks[position], false))
                .collect(),
            ..Table::default()
        }
        .render(OutputFormat::Csv)
    }

    /// `results.json` (and `report --format json`): the same, with the refit.
    pub fn json(&self) -> String {
        let ranks = self.rank_of();
        let configurations: Vec<serde_json::Value> = self
            .configurations
            .iter()
            .zip(&ranks)
            .map(|(result, rank)| {
                let values: serde_json::Map<String, serde_json::Value> = self
                    .parameters
                    .iter()
                    .cloned()
                    .zip(result.configuration.values.iter().map(|v| v.clone().into()))
                    .collect();
                let folds: Vec<serde_json::Value> = result
                    .folds
                    .iter()
                    .map(|state| match state {
                        TaskState::Done(record) => serde_json::json!({
                            "state": "done",
                            "accuracy": record.accuracy,
                            "correct": record.correct,
                            "count": record.count,
                            "failure": record.failure,
                            "seconds": record.seconds,
                        }),
                        TaskState::Running(_) => serde_json::json!({"state": "running"}),
                        TaskState::Missing(_) => serde_json::json!({"state": "missing"}),
                    })
                    .collect();
                serde_json::json!({
                    "rank": rank,
                    "index": result.configuration.index,
                    "values": values,
                    "mean_accuracy": result.mean(),
                    "std_accuracy": result.std(),
                    "folds": folds,
                    "parameters": result.configuration.parameters,
                    "macs": result.configuration.macs,
                    "seconds": result.seconds(),
                })
            })
            .collect();
        let best = self.best().map(|best| best.configuration.index);
        let refit = self.refit.as_ref().map(|refit| {
            serde_json::json!({
                "configuration": refit.configuration,
                "test_accuracy": refit.accuracy,
                "correct": refit.correct,
                "count": refit.count,
                "failure": refit.failure,
                "seconds": refit.seconds,
                "folder": "refit",
            })
        });
        let (done, total) = self.folds_done();
        let mut text = serde_json::to_string_pretty(&serde_json::json!({
            "schema": "netcalc.sweep.results.v1",
            "network": self.name,
            "evaluation": self.evaluation,
            "std": "population (ddof = 0)",
            "parameters": self.parameters,
            "folds_done": done,
            "folds": total,
            "configurations": configurations,
            "best": best,
            "refit": refit,
        }))
        .unwrap_or_default();
        text.push('\n');
        text
    }

    /// `sweep status`: per configuration the state of each fold, and the counts.
    pub fn status(&self, format: OutputFormat) -> String {
        if format == OutputFormat::Json {
            return self.status_json();
        }
        let mut counts = [0usize; 3];
        let rows = self
            .configurations
            .iter()
            .map(|result| {
                let mut row = vec![result.configuration.index.to_string()];
                row.extend(result.configuration.values.iter().cloned());
                row.extend(result.folds.iter().map(|state| match state {
                    TaskState::Done(_) => {
                        counts[0] += 1;
                        "done".to_string()
                    }
                    TaskState::Running(holder) => {
                        counts[1] += 1;
                        format!("running ({holder})")
                    }
                    TaskState::Missing(note) => {
                        counts[2] += 1;
                        note.as_ref()
                            .map_or_else(|| "missing".to_string(), |n| format!("missing: {n}"))
                    }
                }));
                row
            })
            .collect();
        let mut header = vec!["#".to_string()];
        header.extend(self.parameters.iter().cloned());
        header.extend((1..=self.parts).map(|fold| format!("Fold {fold}")));
        let [done, running, missing] = counts;
        let mut notes = vec![format!(
            "{} tasks: {done} done, {running} running, {missing} missing",
            done + running + missing
        )];
        if let Some(refit) = &self.refit {
            notes.push(format!(
                "Finished: configuration {} refit (refit/)",
                refit.configuration
            ));
        }
        Table {
            title: format!(
                "{}: {} configurations, {}",
                self.name,
                self.configurations.len(),
                self.evaluation
            ),
            header,
            right_aligned: vec![0],
            rows,
            notes,
        }
        .render(format)
    }

    fn status_json(&self) -> String {
        let mut counts = serde_json::Map::new();
        for name in ["done", "running", "missing"] {
            counts.insert(name.to_string(), 0.into());
        }
        let configurations: Vec<serde_json::Value> = self
            .configurations
            .iter()
            .map(|result| {
                let folds: Vec<serde_json::Value> = result
                    .folds
                    .iter()
                    .map(|state| {
                        let (name, note) = match state {
                            TaskState::Done(_) => ("done", None),
                            TaskState::Running(holder) => ("running", Some(holder.clone())),
                            TaskState::Missing(note) => ("missing", note.clone()),
                        };
                        if let Some(count) = counts.get_mut(name) {
                            *count = (count.as_u64().unwrap_or(0) + 1).into();
                        }
                        serde_json::json!({"state": name, "note": note})
                    })
                    .collect();
                serde_json::json!({
                    "index": result.configuration.index,
                    "values": result.configuration.values,
                    "folds": folds,
                })
            })
            .collect();
        let mut text = serde_json::to_string_pretty(&serde_json::json!({
            "schema": "netcalc.sweep.status.v1",
            "network": self.name,
            "evaluation": self.evaluation,
            "parameters": self.parameters,
            "tasks": counts,
            "configurations": configurations,
            "refit": self.refit.as_ref().map(|refit| refit.configuration),
        }))
        .unwrap_or_default();
        text.push('\n');
        text
    }
}
