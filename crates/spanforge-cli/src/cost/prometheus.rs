//! Cost rows from Prometheus: the production view of `spanforge cost`.
//!
//! The rows add up the counters the collector derives from LLM spans (see docs/collector.md):
//!
//! | column | counter |
//! |---|---|
//! | calls | `spanforge_llm_calls_total` |
//! | input tokens | `spanforge_llm_input_tokens_total` |
//! | output tokens | `spanforge_llm_output_tokens_total` |
//! | cached tokens | `spanforge_llm_cache_read_tokens_total` |
//! | cost | `spanforge_llm_cost_usd_total` |
//!
//! each as `sum by (<grouping labels>) (increase(<counter>[<window>]))`, so counter resets
//! (collector restarts) are handled. Groupings: prompt = `gen_ai_prompt_name`,
//! `gen_ai_prompt_version`; model = `gen_ai_request_model` (the metrics carry the requested
//! model only); provider = `gen_ai_provider_name`; route = `http_route`, which the collector's
//! cost metrics do not carry unless a deployment adds it: otherwise
//! [`CostQueryError::RouteUnsupported`]. The collector's placeholders for a missing attribute
//! (`none` for prompt name and version, `unknown` for provider and model) become empty keys,
//! as in the local store.
//!
//! **Window.** The queries are evaluated at the newest sample of `spanforge_llm_calls_total`
//! (when one is fresh, that is within Prometheus' 5-minute lookback; otherwise at
//! Prometheus' current time), so the totals are not extrapolated past the data. `since`
//! gives the window's length; `None` ("everything") is a 3650-day window: every sample
//! Prometheus still holds (15 days by default, `--storage.tsdb.retention.time`).
//! As with any `increase()`, a window that starts after a series began is extrapolated back
//! to its start.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::{CostRow, GroupBy};
use crate::prometheus::{PrometheusClient, PrometheusError, Sample};

/// The window used when `since` is `None`: longer than any Prometheus retention in practice.
pub const EVERYTHING: &str = "3650d";

const CALLS: &str = "spanforge_llm_calls_total";
const INPUT: &str = "spanforge_llm_input_tokens_total";
const OUTPUT: &str = "spanforge_llm_output_tokens_total";
const CACHED: &str = "spanforge_llm_cache_read_tokens_total";
const COST: &str = "spanforge_llm_cost_usd_total";

/// Why cost rows could not be read from Prometheus.
#[derive(Debug, thiserror::Error)]
pub enum CostQueryError {
    /// A query failed.
    #[error(transparent)]
    Prometheus(#[from] PrometheusError),
    /// Grouping by route needs an `http_route` label on the LLM metrics, and they have none.
    #[error(
        "the LLM cost metrics in Prometheus have no http_route label, so they cannot be grouped \
         by route; group by prompt, model or provider, or use the local store (spanforge serve), \
         which knows each call's route"
    )]
    RouteUnsupported,
}

/// The cost rows for `by`, over the last `since` (everything Prometheus holds when `None`),
/// largest cost first. Groups without any call, token or cost in the window are left out.
///
/// # Errors
///
/// [`CostQueryError::Prometheus`] when a query fails; [`CostQueryError::RouteUnsupported`]
/// for [`GroupBy::Route`] when no LLM series has an `http_route` label.
pub async fn cost_rows(
    client: &PrometheusClient,
    by: GroupBy,
    since: Option<Duration>,
) -> Result<Vec<CostRow>, CostQueryError> {
    let range = match since {
        Some(since) => range_of(since),
        None => EVERYTHING.to_owned(),
    };
    let at = newest_sample(client).await?;
    let (labels, selector) = match by {
        GroupBy::Prompt => ("gen_ai_prompt_name, gen_ai_prompt_version", ""),
        GroupBy::Model => ("gen_ai_request_model", ""),
        GroupBy::Provider => ("gen_ai_provider_name", ""),
        GroupBy::Route => ("http_route", r#"{http_route!=""}"#),
    };
    if by == GroupBy::Route {
        let probe = format!("count(last_over_time({CALLS}{selector}[{range}]))");
        if client.query(&probe, at).await?.is_empty() {
            return Err(CostQueryError::RouteUnsupported);
        }
    }
    let query = |metric: &str| format!("sum by ({labels}) (increase({metric}{selector}[{range}]))");
    let queries = [CALLS, INPUT, OUTPUT, CACHED, COST].map(query);
    let [calls, input, output, cached, cost] = &queries;
    let (calls, input, output, cached, cost) = tokio::try_join!(
        client.query(calls, at),
        client.query(input, at),
        client.query(output, at),
        client.query(cached, at),
        client.query(cost, at),
    )?;

    let mut rows: BTreeMap<Key, CostRow> = BTreeMap::new();
    let mut add = |samples: Vec<Sample>, set: fn(&mut CostRow, f64)| {
        for sample in samples {
            if !sample.value.is_finite() {
                continue;
            }
            let key = Key::of(by, &sample);
            let row = rows.entry(key.clone()).or_insert_with(|| key.row(by));
            set(row, sample.value);
        }
    };
    add(calls, |row, v| row.calls = whole(v));
    add(input, |row, v| row.input_tokens = whole(v));
    add(output, |row, v| row.output_tokens = whole(v));
    add(cached, |row, v| row.cached_tokens = whole(v));
    add(cost, |row, v| row.cost_usd = v.max(0.0));

    let mut rows: Vec<CostRow> = rows
        .into_values()
        .filter(|r| {
            r.calls > 0
                || r.input_tokens > 0
                || r.output_tokens > 0
                || r.cached_tokens > 0
                || r.cost_usd > 0.0
        })
        .collect();
    rows.sort_by(|a, b| {
        b.cost_usd
            .total_cmp(&a.cost_usd)
            .then_with(|| Key::from_row(a).cmp(&Key::from_row(b)))
    });
    Ok(rows)
}

/// The time of the newest fresh sample of the calls counter, if any.
async fn newest_sample(client: &PrometheusClient) -> Result<Option<SystemTime>, PrometheusError> {
    let samples = client
        .query(&format!("max(timestamp({CALLS}))"), None)
        .await?;
    Ok(samples
        .first()
        .map(|s| s.value)
        .filter(|v| v.is_finite() && *v > 0.0)
        .and_then(|seconds| Duration::try_from_secs_f64(seconds).ok())
        .map(|d| UNIX_EPOCH + d))
}

/// A PromQL range: whole seconds when possible, else milliseconds (at least 1 ms).
fn range_of(since: Duration) -> String {
    if since.subsec_millis() == 0 && since.as_secs() > 0 {
        format!("{}s", since.as_secs())
    } else {
        format!("{}ms", since.as_millis().max(1))
    }
}

/// Counter increases are floats; counts are whole numbers.
fn whole(value: f64) -> u64 {
    if value.is_finite() && value > 0.0 {
        // Saturating cast: an increase above u64::MAX is not a real count.
        value.round() as u64
    } else {
        0
    }
}

/// The grouping key of a row; placeholders for missing attributes are `None`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Key(Option<String>, Option<String>);

impl Key {
    fn of(by: GroupBy, sample: &Sample) -> Key {
        let value = |label: &str, placeholder: &str| {
            sample
                .label(label)
                .filter(|v| !v.is_empty() && *v != placeholder)
                .map(str::to_owned)
        };
        match by {
            GroupBy::Prompt => Key(
                value("gen_ai_prompt_name", "none"),
                value("gen_ai_prompt_version", "none"),
            ),
            GroupBy::Model => Key(value("gen_ai_request_model", "unknown"), None),
            GroupBy::Provider => Key(value("gen_ai_provider_name", "unknown"), None),
            GroupBy::Route => Key(value("http_route", ""), None),
        }
    }

    fn row(&self, by: GroupBy) -> CostRow {
        let mut row = CostRow::default();
        match by {
            GroupBy::Prompt => {
                row.prompt_name = self.0.clone();
                row.prompt_version = self.1.clone();
            }
            GroupBy::Model => row.model = self.0.clone(),
            GroupBy::Provider => row.provider = self.0.clone(),
            GroupBy::Route => row.route = self.0.clone(),
        }
        row
    }

    fn from_row(row: &CostRow) -> Key {
        let first = row
            .prompt_name
            .clone()
            .or_else(|| row.model.clone())
            .or_else(|| row.provider.clone())
            .or_else(|| row.route.clone());
        Key(first, row.prompt_version.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(range_of(Duration::from_secs(7 * 86_400)), "604800s");
        assert_eq!(range_of(Duration::from_millis(1500)), "1500ms");
        assert_eq!(range_of(Duration::ZERO), "1ms");
    }

    #[test]
    fn placeholders_become_empty_keys() {
        let sample = |pairs: &[(&str, &str)]| Sample {
            labels: pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            value: 1.0,
        };
        let none = sample(&[
            ("gen_ai_prompt_name", "none"),
            ("gen_ai_prompt_version", "none"),
        ]);
        assert_eq!(Key::of(GroupBy::Prompt, &none), Key(None, None));
        let greet = sample(&[
            ("gen_ai_prompt_name", "greet"),
            ("gen_ai_prompt_version", "3"),
        ]);
        assert_eq!(
            Key::of(GroupBy::Prompt, &greet).row(GroupBy::Prompt),
            CostRow {
                prompt_name: Some("greet".into()),
                prompt_version: Some("3".into()),
                ..CostRow::default()
            }
        );
        let unknown = sample(&[("gen_ai_provider_name", "unknown")]);
        assert_eq!(Key::of(GroupBy::Provider, &unknown), Key(None, None));
    }

    #[test]
    fn whole_numbers() {
        assert_eq!(whole(41.9999999), 42);
        assert_eq!(whole(f64::NAN), 0);
        assert_eq!(whole(-3.0), 0);
    }
}
