//! Retention: by age, then by size.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use libsql::Connection;

use super::StoreError;

/// How much the store keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Data older than this is deleted.
    pub max_age: Option<Duration>,
    /// When the data takes more than this many bytes, the oldest traces are deleted.
    pub max_bytes: Option<u64>,
}

impl Default for Retention {
    /// Seven days and 1 GiB.
    fn default() -> Retention {
        Retention {
            max_age: Some(Duration::from_secs(7 * 86_400)),
            max_bytes: Some(1 << 30),
        }
    }
}

/// What one retention pass deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RetentionReport {
    /// Traces deleted (their spans and logs with them).
    pub traces: u64,
    /// Spans deleted.
    pub spans: u64,
    /// Log records deleted.
    pub logs: u64,
    /// Metric points deleted.
    pub points: u64,
    /// Bytes in use after the pass.
    pub bytes_in_use: u64,
}

/// Size passes at most; each deletes a tenth of the traces.
const MAX_SIZE_PASSES: usize = 20;

pub(super) async fn enforce(
    conn: &Connection,
    retention: Retention,
) -> Result<RetentionReport, StoreError> {
    let mut report = RetentionReport::default();
    if let Some(max_age) = retention.max_age {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let cutoff = i64::try_from(now.saturating_sub(max_age).as_nanos()).unwrap_or(i64::MAX);
        delete_before(conn, cutoff, &mut report).await?;
    }
    if let Some(max_bytes) = retention.max_bytes {
        for _ in 0..MAX_SIZE_PASSES {
            if bytes_in_use(conn).await? <= max_bytes {
                break;
            }
            // The start of the trace a tenth of the way in: everything before it goes.
            let mut rows = conn
                .query(
                    "SELECT start_ns FROM traces ORDER BY start_ns
                     LIMIT 1 OFFSET (SELECT COUNT(*) / 10 FROM traces)",
                    (),
                )
                .await?;
            let Some(row) = rows.next().await? else { break };
            let cutoff: i64 = row.get(0)?;
            let before = report;
            delete_before(conn, cutoff.saturating_add(1), &mut report).await?;
            if report == before {
                break;
            }
        }
    }
    report.bytes_in_use = bytes_in_use(conn).await?;
    Ok(report)
}

/// Deletes traces that started before `cutoff_ns` (with all their spans and logs), and logs
/// and points older than it.
async fn delete_before(
    conn: &Connection,
    cutoff_ns: i64,
    report: &mut RetentionReport,
) -> Result<(), StoreError> {
    conn.execute("BEGIN IMMEDIATE", ()).await?;
    let result = async {
        let old_traces = "SELECT trace_id FROM traces WHERE start_ns < ?1";
        let spans = conn
            .execute(
                &format!("DELETE FROM spans WHERE trace_id IN ({old_traces})"),
                [cutoff_ns],
            )
            .await?;
        let logs = conn
            .execute(
                &format!("DELETE FROM logs WHERE time_ns < ?1 OR trace_id IN ({old_traces})"),
                [cutoff_ns],
            )
            .await?;
        let traces = conn
            .execute("DELETE FROM traces WHERE start_ns < ?1", [cutoff_ns])
            .await?;
        let points = conn
            .execute("DELETE FROM metric_points WHERE time_ns < ?1", [cutoff_ns])
            .await?;
        Ok::<_, libsql::Error>((traces, spans, logs, points))
    }
    .await;
    match result {
        Ok((traces, spans, logs, points)) => {
            conn.execute("COMMIT", ()).await?;
            report.traces += traces;
            report.spans += spans;
            report.logs += logs;
            report.points += points;
            if traces + spans + logs + points > 0 {
                conn.execute_batch("PRAGMA incremental_vacuum;").await?;
            }
            Ok(())
        }
        Err(error) => {
            let _ = conn.execute("ROLLBACK", ()).await;
            Err(error.into())
        }
    }
}

async fn bytes_in_use(conn: &Connection) -> Result<u64, StoreError> {
    let mut rows = conn
        .query(
            "SELECT (SELECT page_count FROM pragma_page_count())
                  - (SELECT freelist_count FROM pragma_freelist_count()),
                    (SELECT page_size FROM pragma_page_size())",
            (),
        )
        .await?;
    let row = rows.next().await?.ok_or(StoreError::Corrupt {
        column: "pragma_page_count",
        reason: "no row".into(),
    })?;
    let pages: i64 = row.get(0)?;
    let page_size: i64 = row.get(1)?;
    Ok(u64::try_from(pages.saturating_mul(page_size)).unwrap_or(0))
}
