//! Unknown models: a process-wide counter and a once-per-model warning.
//!
//! The set of models already warned about is a fixed array of 64-bit fingerprints updated
//! with compare-and-swap, so the common case (a model already warned about) costs one
//! hash and a few atomic loads, without a lock or an allocation. Memory is bounded: once
//! [`WARNED_SLOTS`] distinct unknown models have been warned about, one last warning says
//! that further ones are only counted.

use std::hash::BuildHasher;

use super::hash::FxBuildHasher;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// The `name` of the warning event emitted the first time a model is not found.
pub const UNKNOWN_MODEL_EVENT: &str = "spanforge.cost.unknown_model";

/// The `name` of the warning event emitted once when too many distinct unknown models
/// were seen to warn about each.
pub const UNKNOWN_MODEL_SUPPRESSED_EVENT: &str = "spanforge.cost.unknown_model_warnings_suppressed";

/// How many distinct unknown models get their own warning.
const WARNED_SLOTS: usize = 512;

static LOOKUPS: AtomicU64 = AtomicU64::new(0);
static WARNED: [AtomicU64; WARNED_SLOTS] = [const { AtomicU64::new(0) }; WARNED_SLOTS];
static SUPPRESSED: AtomicBool = AtomicBool::new(false);

/// How many lookups of a model missing from the pricing table this process has made.
///
/// Every miss counts, not only the first per model; the warning, by contrast, is logged
/// once per model (event name [`UNKNOWN_MODEL_EVENT`]).
pub fn unknown_model_count() -> u64 {
    LOOKUPS.load(Ordering::Relaxed)
}

/// Counts a miss for `name` and warns the first time this model is seen.
pub(crate) fn record(name: &str) {
    LOOKUPS.fetch_add(1, Ordering::Relaxed);
    let fingerprint = fingerprint(name);
    let start = ((fingerprint >> 40) as usize) % WARNED_SLOTS;
    for i in 0..WARNED_SLOTS {
        let slot = &WARNED[(start + i) % WARNED_SLOTS];
        match slot.load(Ordering::Acquire) {
            f if f == fingerprint => return,
            0 => match slot.compare_exchange(0, fingerprint, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => {
                    warn_unknown(name);
                    return;
                }
                Err(f) if f == fingerprint => return,
                Err(_) => {}
            },
            _ => {}
        }
    }
    if !SUPPRESSED.swap(true, Ordering::AcqRel) {
        tracing::warn!(
            name: UNKNOWN_MODEL_SUPPRESSED_EVENT,
            distinct_models = WARNED_SLOTS,
            "more than {WARNED_SLOTS} distinct unknown models; further ones are counted \
             (spanforge::cost::unknown_model_count) but not logged"
        );
    }
}

fn warn_unknown(name: &str) {
    tracing::warn!(
        name: UNKNOWN_MODEL_EVENT,
        model = name,
        "unknown model `{name}`: its calls get no cost attribute; add its price with \
         SPANFORGE_PRICING_FILE or Pricing::insert (this warning is logged once per model)"
    );
}

/// A non-zero 64-bit hash of the name.
fn fingerprint(name: &str) -> u64 {
    match FxBuildHasher::default().hash_one(name) {
        0 => 1,
        f => f,
    }
}
