//! A count of the values held by live tensors, and its peak since the last reset, kept by the
//! tensors themselves (creation, clone and drop), so that a test can compare an estimate of
//! training memory with what the executor really holds. Process-wide: a measurement is only
//! meaningful where no other thread makes tensors at the same time (a test binary of its own).
//! Buffers outside tensors (a kernel's workspace, an optimizer's state vectors) are not counted.

use std::sync::atomic::{AtomicU64, Ordering};

static LIVE: AtomicU64 = AtomicU64::new(0);
static PEAK: AtomicU64 = AtomicU64::new(0);

/// Values (f32) held by live tensors now.
pub fn live() -> u64 {
    LIVE.load(Ordering::Relaxed)
}

/// The most values held at once since the last [`reset_peak`].
pub fn peak() -> u64 {
    PEAK.load(Ordering::Relaxed)
}

/// Starts a new peak from the values held now.
pub fn reset_peak() {
    PEAK.store(live(), Ordering::Relaxed);
}

/// Values of `count` f32 made.
pub(super) fn made(count: usize) {
    let now = LIVE.fetch_add(count as u64, Ordering::Relaxed) + count as u64;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

/// Values of `count` f32 freed.
pub(super) fn freed(count: usize) {
    LIVE.fetch_sub(count as u64, Ordering::Relaxed);
}

/// A tensor's values, counted while they live.
#[derive(Debug, PartialEq)]
pub(super) struct Values(Vec<f32>);

impl Values {
    /// Takes the values into the count.
    pub(super) fn new(values: Vec<f32>) -> Values {
        made(values.len());
        Values(values)
    }

    /// Gives the values up, out of the count.
    pub(super) fn into_vec(mut self) -> Vec<f32> {
        let values = std::mem::take(&mut self.0);
        freed(values.len());
        values
    }
}

impl Clone for Values {
    fn clone(&self) -> Values {
        Values::new(self.0.clone())
    }
}

impl Drop for Values {
    fn drop(&mut self) {
        freed(self.0.len());
    }
}

impl std::ops::Deref for Values {
    type Target = Vec<f32>;
    fn deref(&self) -> &Vec<f32> {
        &self.0
    }
}

impl std::ops::DerefMut for Values {
    fn deref_mut(&mut self) -> &mut Vec<f32> {
        &mut self.0
    }
}
