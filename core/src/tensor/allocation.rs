//! A count of the values held by live tensors, and its peak since the last reset, kept by the
//! tensors themselves (creation, clone and drop), so that a test can compare an estimate of
//! training memory with what the executor really holds. Process-wide: a measurement is only
//! meaningful where no other thread makes tensors at the same time (a test binary of its own).
//! Buffers outside tensors (a kernel's workspace, an optimizer's state vectors) are not counted.
//!
//! It also keeps the buffers of a few large dropped tensors for reuse: a tensor made for a
//! kernel that overwrites every value ([`Tensor::for_overwrite`](super::Tensor::for_overwrite))
//! takes one of the same length instead of a zero-filled new one. Training and evaluation make
//! tensors of the same few sizes batch after batch, and zero-filling them only to overwrite them
//! ran on one thread while the others waited.

use std::sync::Mutex;
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

/// Buffers of at least this many values are kept for reuse when their tensor is dropped.
const KEPT_MINIMUM: usize = 1 << 18;

/// At most this many buffers are kept; a new one pushes out the oldest.
const KEPT_BUFFERS: usize = 8;

/// Dropped tensors' buffers, oldest first.
static KEPT: Mutex<Vec<Vec<f32>>> = Mutex::new(Vec::new());

/// A buffer of `count` values whose contents are unspecified (a kept buffer of that length,
/// else zeros), for a caller that overwrites every value.
pub(super) fn for_overwrite(count: usize) -> Vec<f32> {
    if count >= KEPT_MINIMUM
        && let Ok(mut kept) = KEPT.lock()
        && let Some(position) = kept.iter().rposition(|buffer| buffer.len() == count)
    {
        return kept.remove(position);
    }
    vec![0.0; count]
}

/// Keeps `buffer` for [`for_overwrite`] when it is large enough.
fn keep(buffer: Vec<f32>) {
    if buffer.len() >= KEPT_MINIMUM
        && let Ok(mut kept) = KEPT.lock()
    {
        if kept.len() == KEPT_BUFFERS {
            kept.remove(0);
        }
        kept.push(buffer);
    }
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
        keep(std::mem::take(&mut self.0));
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
