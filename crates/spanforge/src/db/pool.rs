//! Connection-pool metrics any pool can report into.

use std::fmt;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, Weak};
use std::time::{Duration, Instant};

use opentelemetry::metrics::{Counter, Histogram, ObservableUpDownCounter};
use opentelemetry::{KeyValue, StringValue, Value};

use super::attributes::{
    DB_CLIENT_CONNECTION_POOL_NAME, DB_CLIENT_CONNECTION_STATE, DURATION_BUCKETS,
};
use super::metrics::meter;

/// The numbers a pool reports at each metric collection, for pools that keep their own
/// counts (see [`PoolMetrics::observe`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolSnapshot {
    /// `db.client.connection.max`: the most connections the pool will open.
    pub max: u64,
    /// Open connections waiting in the pool (`db.client.connection.count{state="idle"}`).
    pub idle: u64,
    /// Connections handed out (`db.client.connection.count{state="used"}`).
    pub used: u64,
    /// Callers waiting for a connection (`db.client.connection.pending_requests`).
    pub pending: u64,
}

type SnapshotFn = dyn Fn() -> Option<PoolSnapshot> + Send + Sync;

struct PoolState {
    name: StringValue,
    max: AtomicU64,
    open: AtomicI64,
    used: AtomicI64,
    pending: AtomicI64,
    snapshot: Option<Box<SnapshotFn>>,
}

impl PoolState {
    fn current(&self) -> Option<PoolSnapshot> {
        if let Some(snapshot) = &self.snapshot {
            return snapshot();
        }
        let used = self.used.load(Ordering::Relaxed).max(0);
        let open = self.open.load(Ordering::Relaxed).max(used);
        Some(PoolSnapshot {
            max: self.max.load(Ordering::Relaxed),
            idle: (open - used) as u64,
            used: used as u64,
            pending: self.pending.load(Ordering::Relaxed).max(0) as u64,
        })
    }

    fn name_attr(&self) -> KeyValue {
        KeyValue::new(
            DB_CLIENT_CONNECTION_POOL_NAME,
            Value::String(self.name.clone()),
        )
    }
}

struct Instruments {
    wait_time: Histogram<f64>,
    use_time: Histogram<f64>,
    timeouts: Counter<u64>,
    _observed: [ObservableUpDownCounter<i64>; 3],
}

/// Every live pool, read by the observable instruments' callbacks.
fn pools() -> &'static Mutex<Vec<Weak<PoolState>>> {
    static POOLS: OnceLock<Mutex<Vec<Weak<PoolState>>>> = OnceLock::new();
    POOLS.get_or_init(|| Mutex::new(Vec::new()))
}

fn each_pool(mut f: impl FnMut(&PoolState, PoolSnapshot)) {
    let live: Vec<Arc<PoolState>> = {
        let mut pools = pools().lock().unwrap_or_else(PoisonError::into_inner);
        pools.retain(|p| p.strong_count() > 0);
        pools.iter().filter_map(Weak::upgrade).collect()
    };
    for pool in live {
        if let Some(snapshot) = pool.current() {
            f(&pool, snapshot);
        }
    }
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn instruments() -> &'static Instruments {
    static INSTRUMENTS: OnceLock<Instruments> = OnceLock::new();
    INSTRUMENTS.get_or_init(|| {
        let meter = meter();
        let count = meter
            .i64_observable_up_down_counter("db.client.connection.count")
            .with_unit("{connection}")
            .with_description(
                "The number of connections that are currently in state described by the state attribute.",
            )
            .with_callback(|observer| {
                each_pool(|pool, s| {
                    for (state, n) in [("idle", s.idle), ("used", s.used)] {
                        observer.observe(
                            to_i64(n),
                            &[
                                pool.name_attr(),
                                KeyValue::new(DB_CLIENT_CONNECTION_STATE, state),
                            ],
                        );
                    }
                });
            })
            .build();
        let max = meter
            .i64_observable_up_down_counter("db.client.connection.max")
            .with_unit("{connection}")
            .with_description("The maximum number of open connections allowed.")
            .with_callback(|observer| {
                each_pool(|pool, s| observer.observe(to_i64(s.max), &[pool.name_attr()]));
            })
            .build();
        let pending = meter
            .i64_observable_up_down_counter("db.client.connection.pending_requests")
            .with_unit("{request}")
            .with_description(
                "The number of current pending requests for an open connection.",
            )
            .with_callback(|observer| {
                each_pool(|pool, s| observer.observe(to_i64(s.pending), &[pool.name_attr()]));
            })
            .build();
        Instruments {
            wait_time: meter
                .f64_histogram("db.client.connection.wait_time")
                .with_unit("s")
                .with_description("The time it took to obtain an open connection from the pool.")
                .with_boundaries(DURATION_BUCKETS.to_vec())
                .build(),
            use_time: meter
                .f64_histogram("db.client.connection.use_time")
                .with_unit("s")
                .with_description(
                    "The time between borrowing a connection and returning it to the pool.",
                )
                .with_boundaries(DURATION_BUCKETS.to_vec())
                .build(),
            timeouts: meter
                .u64_counter("db.client.connection.timeouts")
                .with_unit("{timeout}")
                .with_description(
                    "The number of connection timeouts that have occurred trying to obtain a connection from the pool.",
                )
                .build(),
            _observed: [count, max, pending],
        }
    })
}

/// The connection-pool metrics of the database conventions, for one pool:
///
/// | metric | type | attributes |
/// |---|---|---|
/// | `db.client.connection.count` | up-down counter `{connection}` | pool name, `db.client.connection.state` = `idle` \| `used` |
/// | `db.client.connection.max` | up-down counter `{connection}` | pool name |
/// | `db.client.connection.pending_requests` | up-down counter `{request}` | pool name |
/// | `db.client.connection.wait_time` | histogram `s` | pool name |
/// | `db.client.connection.use_time` | histogram `s` | pool name |
/// | `db.client.connection.timeouts` | counter `{timeout}` | pool name |
///
/// The pool name is `db.client.connection.pool.name`. The first three are observed at each
/// metric collection, so they cost nothing between collections; they stop being reported
/// when the last clone of the `PoolMetrics` is dropped.
///
/// Two ways to feed it:
/// - **guards**, for any pool: [`acquire_started`](Self::acquire_started) when a caller
///   asks for a connection, [`AcquireGuard::acquired`] when it gets one, and the returned
///   [`ConnectionGuard`] dropped (or [`released`](ConnectionGuard::released)) when the
///   connection goes back;
/// - **a snapshot callback**, for pools that count for themselves
///   ([`observe`](Self::observe)); the guards then only time waits and uses.
///
/// ```
/// use spanforge::db::PoolMetrics;
///
/// let metrics = PoolMetrics::new("sessions", 8);
/// let waiting = metrics.acquire_started();        // pending_requests = 1
/// // ... the pool hands out a connection ...
/// let in_use = waiting.acquired();                // pending 0, used 1, wait_time recorded
/// drop(in_use);                                   // used 0, idle 1, use_time recorded
/// ```
///
/// Create it after [`spanforge::init`](crate::init()): the instruments are registered with
/// the meter provider installed at the first `PoolMetrics`.
#[derive(Clone)]
pub struct PoolMetrics {
    state: Arc<PoolState>,
}

impl fmt::Debug for PoolMetrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PoolMetrics")
            .field("name", &self.state.name.as_str())
            .field("now", &self.state.current())
            .finish()
    }
}

impl PoolMetrics {
    /// Metrics for the pool named `pool_name` (unique within the application), which
    /// opens at most `max` connections, fed by the guards.
    pub fn new(pool_name: impl Into<StringValue>, max: u64) -> Self {
        Self::register(PoolState {
            name: pool_name.into(),
            max: AtomicU64::new(max),
            open: AtomicI64::new(0),
            used: AtomicI64::new(0),
            pending: AtomicI64::new(0),
            snapshot: None,
        })
    }

    /// Metrics for a pool that keeps its own counts: `snapshot` is called at each
    /// collection (it must be quick and must not block); returning `None` skips the pool
    /// for that collection (e.g. it was closed).
    pub fn observe(
        pool_name: impl Into<StringValue>,
        snapshot: impl Fn() -> Option<PoolSnapshot> + Send + Sync + 'static,
    ) -> Self {
        Self::register(PoolState {
            name: pool_name.into(),
            max: AtomicU64::new(0),
            open: AtomicI64::new(0),
            used: AtomicI64::new(0),
            pending: AtomicI64::new(0),
            snapshot: Some(Box::new(snapshot)),
        })
    }

    fn register(state: PoolState) -> Self {
        instruments();
        let state = Arc::new(state);
        pools()
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Arc::downgrade(&state));
        PoolMetrics { state }
    }

    /// `db.client.connection.pool.name`.
    pub fn pool_name(&self) -> &str {
        self.state.name.as_str()
    }

    /// The numbers the next collection will report.
    pub fn snapshot(&self) -> Option<PoolSnapshot> {
        self.state.current()
    }

    /// Change `db.client.connection.max` (the pool was resized).
    pub fn set_max(&self, max: u64) {
        self.state.max.store(max, Ordering::Relaxed);
    }

    /// A connection was opened and put in the pool (idle). Pools that open connections
    /// on demand need not call it: a connection acquired beyond the open count counts as
    /// opened.
    pub fn connection_opened(&self) {
        self.state.open.fetch_add(1, Ordering::Relaxed);
    }

    /// An idle connection was closed.
    pub fn connection_closed(&self) {
        self.state.open.fetch_sub(1, Ordering::Relaxed);
    }

    /// A caller asks for a connection: counted in `pending_requests` until the guard is
    /// resolved or dropped.
    pub fn acquire_started(&self) -> AcquireGuard {
        self.state.pending.fetch_add(1, Ordering::Relaxed);
        AcquireGuard {
            state: self.state.clone(),
            started: Instant::now(),
            done: false,
        }
    }

    /// Record a wait time measured elsewhere.
    pub fn record_wait_time(&self, wait: Duration) {
        instruments()
            .wait_time
            .record(wait.as_secs_f64(), &[self.state.name_attr()]);
    }
}

/// A caller waiting for a connection; see [`PoolMetrics::acquire_started`].
///
/// Dropped without [`acquired`](Self::acquired) or [`timed_out`](Self::timed_out) (the
/// pool failed, or the caller gave up), it just stops counting as pending.
#[must_use = "a dropped guard stops counting the request as pending"]
pub struct AcquireGuard {
    state: Arc<PoolState>,
    started: Instant,
    done: bool,
}

impl fmt::Debug for AcquireGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AcquireGuard")
            .field("pool", &self.state.name.as_str())
            .field("waiting", &self.started.elapsed())
            .finish()
    }
}

impl AcquireGuard {
    fn resolve(&mut self) -> Duration {
        self.done = true;
        self.state.pending.fetch_sub(1, Ordering::Relaxed);
        self.started.elapsed()
    }

    /// The caller got a connection: records `db.client.connection.wait_time` and counts the
    /// connection as used until the returned guard is dropped.
    pub fn acquired(mut self) -> ConnectionGuard {
        let waited = self.resolve();
        let used = self.state.used.fetch_add(1, Ordering::Relaxed) + 1;
        self.state.open.fetch_max(used, Ordering::Relaxed);
        instruments()
            .wait_time
            .record(waited.as_secs_f64(), &[self.state.name_attr()]);
        ConnectionGuard {
            state: self.state.clone(),
            since: Instant::now(),
            done: false,
        }
    }

    /// The pool gave up waiting: counts a `db.client.connection.timeouts` and records the
    /// wait.
    pub fn timed_out(mut self) {
        let waited = self.resolve();
        let attrs = [self.state.name_attr()];
        let instruments = instruments();
        instruments.timeouts.add(1, &attrs);
        instruments.wait_time.record(waited.as_secs_f64(), &attrs);
    }
}

impl Drop for AcquireGuard {
    fn drop(&mut self) {
        if !self.done {
            self.resolve();
        }
    }
}

/// A connection in use; returned to the pool (idle again) when dropped.
#[must_use = "a dropped guard counts the connection as returned"]
pub struct ConnectionGuard {
    state: Arc<PoolState>,
    since: Instant,
    done: bool,
}

impl fmt::Debug for ConnectionGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectionGuard")
            .field("pool", &self.state.name.as_str())
            .field("in_use", &self.since.elapsed())
            .finish()
    }
}

impl ConnectionGuard {
    fn finish(&mut self, closed: bool) {
        if self.done {
            return;
        }
        self.done = true;
        self.state.used.fetch_sub(1, Ordering::Relaxed);
        if closed {
            self.state.open.fetch_sub(1, Ordering::Relaxed);
        }
        instruments().use_time.record(
            self.since.elapsed().as_secs_f64(),
            &[self.state.name_attr()],
        );
    }

    /// The connection went back to the pool (the same as dropping the guard).
    pub fn released(mut self) {
        self.finish(false);
    }

    /// The connection was closed instead of going back to the pool.
    pub fn discarded(mut self) {
        self.finish(true);
    }
}

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        self.finish(false);
    }
}
