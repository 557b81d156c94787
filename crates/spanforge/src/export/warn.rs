//! Rate-limited warnings: the first problem is reported at once, repeats at most once a minute.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

const INTERVAL: Duration = Duration::from_secs(60);

#[derive(Debug)]
pub(crate) struct WarnLimiter {
    origin: Instant,
    /// Milliseconds since `origin` of the last warning, plus one (0 = never warned).
    last: AtomicU64,
}

impl WarnLimiter {
    pub(crate) fn new() -> Self {
        WarnLimiter {
            origin: Instant::now(),
            last: AtomicU64::new(0),
        }
    }

    /// True when a warning may be emitted now; at most one caller wins per interval.
    pub(crate) fn allow(&self) -> bool {
        let now = self.origin.elapsed().as_millis() as u64 + 1;
        let last = self.last.load(Ordering::Relaxed);
        if last != 0 && now.saturating_sub(last) < INTERVAL.as_millis() as u64 {
            return false;
        }
        self.last
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
    }
}
