//! The per-epoch record of a run: training and validation cost and accuracy and the epoch's
//! time, written as CSV and JSON (read back to continue a resumed run), and the Keras-like line
//! printed per epoch.

use serde::{Deserialize, Serialize};

/// What one epoch gave.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// 1-based, counted over resumed runs too.
    pub epoch: usize,
    /// Training cost (loss plus any L2 penalty).
    pub loss: f64,
    /// Training accuracy in [0, 1].
    pub accuracy: f64,
    /// Validation cost, when there is validation data.
    pub validation_loss: Option<f64>,
    /// Validation accuracy, when there is validation data.
    pub validation_accuracy: Option<f64>,
    /// Wall-clock seconds for the epoch (training and evaluation).
    pub seconds: f64,
}

impl EpochRecord {
    /// `Epoch 3/12 - 12.3s - loss: 0.0882 - acc: 0.9743 - val_loss: 0.0461 - val_acc: 0.9845`.
    pub fn line(&self, epochs: usize) -> String {
        let mut line = format!(
            "Epoch {}/{} - {:.1}s - loss: {:.4} - acc: {:.4}",
            self.epoch, epochs, self.seconds, self.loss, self.accuracy
        );
        if let (Some(loss), Some(accuracy)) = (self.validation_loss, self.validation_accuracy) {
            line.push_str(&format!(" - val_loss: {loss:.4} - val_acc: {accuracy:.4}"));
        }
        line
    }
}

/// Every epoch of a run, in order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct History {
    /// One record per finished epoch.
    pub epochs: Vec<EpochRecord>,
}

/// A history file that cannot be read back.
#[derive(Debug, thiserror::Error)]
#[error("the history is not valid JSON of a netcalc run: {0}")]
pub struct HistoryError(#[from] serde_json::Error);

impl History {
    /// The number of the last finished epoch (0 when none).
    pub fn last_epoch(&self) -> usize {
        self.epochs.last().map_or(0, |record| record.epoch)
    }

    /// CSV with a header; empty validation fields when there is no validation data. Numbers
    /// are written with enough digits to read back the same f64.
    pub fn to_csv(&self) -> String {
        let mut text = String::from("epoch,loss,accuracy,val_loss,val_accuracy,seconds\n");
        let optional = |value: Option<f64>| value.map_or_else(String::new, |v| v.to_string());
        for record in &self.epochs {
            text.push_str(&format!(
                "{},{},{},{},{},{:.3}\n",
                record.epoch,
                record.loss,
                record.accuracy,
                optional(record.validation_loss),
                optional(record.validation_accuracy),
                record.seconds
            ));
        }
        text
    }

    /// Pretty JSON: `{"epochs": [{"epoch": 1, "loss": …}, …]}` (null validation fields when
    /// there is no validation data; non-finite numbers are written as null by serde_json).
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }

    /// Reads what [`History::to_json`] wrote.
    pub fn from_json(text: &str) -> Result<History, HistoryError> {
        Ok(serde_json::from_str(text)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn history() -> History {
        History {
            epochs: vec![
                EpochRecord {
                    epoch: 1,
                    loss: 0.3476,
                    accuracy: 0.8944,
                    validation_loss: Some(0.0877),
                    validation_accuracy: Some(0.9728),
                    seconds: 63.04,
                },
                EpochRecord {
                    epoch: 2,
                    loss: 0.1171,
                    accuracy: 0.9655,
                    validation_loss: None,
                    validation_accuracy: None,
                    seconds: 62.0,
                },
            ],
        }
    }

    #[test]
    fn lines_look_like_keras() {
        let history = history();
        assert_eq!(
            history.epochs[0].line(12),
            "Epoch 1/12 - 63.0s - loss: 0.3476 - acc: 0.8944 - val_loss: 0.0877 - val_acc: 0.9728"
        );
        assert_eq!(
            history.epochs[1].line(12),
            "Epoch 2/12 - 62.0s - loss: 0.1171 - acc: 0.9655"
        );
    }

    #[test]
    fn csv_has_a_header_and_empty_missing_fields() {
        assert_eq!(
            history().to_csv(),
            "epoch,loss,accuracy,val_loss,val_accuracy,seconds\n\
             1,0.3476,0.8944,0.0877,0.9728,63.040\n\
             2,0.1171,0.9655,,,62.000\n"
        );
    }

    #[test]
    fn json_reads_back() {
        let history = history();
        let text = history.to_json();
        assert!(text.contains("\"validation_loss\": null"));
        assert_eq!(History::from_json(&text).unwrap(), history);
        assert_eq!(history.last_epoch(), 2);
        assert!(History::from_json("{\"epochs\": 3}").is_err());
    }
}
