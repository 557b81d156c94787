//! Query parameters of the JSON API, parsed with errors that name the parameter.

use std::collections::HashMap;
use std::time::Duration;

use crate::duration::parse_duration;
use crate::store::{LlmGroup, TraceFilter};

/// Traces listed when `limit` is absent.
pub const DEFAULT_LIMIT: u32 = 50;
/// The largest `limit` accepted.
pub const MAX_LIMIT: u32 = 1_000;

/// A query parameter with a value the API does not accept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("query parameter {name}={value:?}: {reason}")]
pub struct ParamError {
    /// The parameter.
    pub name: &'static str,
    /// What was sent.
    pub value: String,
    /// What was expected.
    pub reason: String,
}

fn error(name: &'static str, value: &str, reason: impl Into<String>) -> ParamError {
    ParamError {
        name,
        value: value.to_owned(),
        reason: reason.into(),
    }
}

/// `since` (a duration such as `15m`, `24h`, `7d`); absent or empty means all time.
pub fn since(params: &HashMap<String, String>) -> Result<Option<Duration>, ParamError> {
    match non_empty(params, "since") {
        None => Ok(None),
        Some(value) => parse_duration(value)
            .map(Some)
            .map_err(|e| error("since", value, e.to_string())),
    }
}

/// The filters of `GET /api/traces`.
pub fn trace_filter(params: &HashMap<String, String>) -> Result<TraceFilter, ParamError> {
    Ok(TraceFilter {
        service: non_empty(params, "service").map(str::to_owned),
        route: non_empty(params, "route").map(str::to_owned),
        errors: match non_empty(params, "status") {
            None => None,
            Some("error") => Some(true),
            Some("ok") => Some(false),
            Some(other) => return Err(error("status", other, "expected ok or error")),
        },
        min_ms: milliseconds(params, "min_ms")?,
        max_ms: milliseconds(params, "max_ms")?,
        llm: match non_empty(params, "llm") {
            None => None,
            Some("true") => Some(true),
            Some("false") => Some(false),
            Some(other) => return Err(error("llm", other, "expected true or false")),
        },
        since: since(params)?,
        limit: match non_empty(params, "limit") {
            None => DEFAULT_LIMIT,
            Some(value) => match value.parse::<u32>() {
                Ok(limit @ 1..=MAX_LIMIT) => limit,
                _ => {
                    return Err(error(
                        "limit",
                        value,
                        format!("expected a whole number from 1 to {MAX_LIMIT}"),
                    ));
                }
            },
        },
    })
}

/// `group` of `GET /api/llm`: `prompt` (the default), `model`, `provider` or `route`.
pub fn llm_group(params: &HashMap<String, String>) -> Result<LlmGroup, ParamError> {
    match non_empty(params, "group") {
        None | Some("prompt") => Ok(LlmGroup::Prompt),
        Some("model") => Ok(LlmGroup::Model),
        Some("provider") => Ok(LlmGroup::Provider),
        Some("route") => Ok(LlmGroup::Route),
        Some(other) => Err(error(
            "group",
            other,
            "expected prompt, model, provider or route",
        )),
    }
}

/// A trace id: 32 hex digits (any case); returned in lowercase.
pub fn trace_id(value: &str) -> Result<String, ParamError> {
    if value.len() == 32 && value.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(value.to_ascii_lowercase())
    } else {
        Err(error("trace_id", value, "expected 32 hexadecimal digits"))
    }
}

fn milliseconds(
    params: &HashMap<String, String>,
    name: &'static str,
) -> Result<Option<f64>, ParamError> {
    match non_empty(params, name) {
        None => Ok(None),
        Some(value) => match value.parse::<f64>() {
            Ok(ms) if ms.is_finite() && ms >= 0.0 => Ok(Some(ms)),
            _ => Err(error(
                name,
                value,
                "expected a non-negative number of milliseconds",
            )),
        },
    }
}

fn non_empty<'a>(params: &'a HashMap<String, String>, name: &str) -> Option<&'a str> {
    params
        .get(name)
        .map(|value| value.trim())
        .filter(|value| !value.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn params(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn trace_filters_parse() {
        let filter = trace_filter(&params(&[
            ("service", "api"),
            ("status", "error"),
            ("min_ms", "12.5"),
            ("llm", "true"),
            ("since", "1h"),
            ("limit", "10"),
        ]))
        .unwrap();
        assert_eq!(filter.service.as_deref(), Some("api"));
        assert_eq!(filter.errors, Some(true));
        assert_eq!(filter.min_ms, Some(12.5));
        assert_eq!(filter.llm, Some(true));
        assert_eq!(filter.since, Some(Duration::from_secs(3600)));
        assert_eq!(filter.limit, 10);
        assert_eq!(trace_filter(&params(&[])).unwrap().limit, DEFAULT_LIMIT);
    }

    #[test]
    fn bad_values_name_the_parameter() {
        for (name, value) in [
            ("status", "broken"),
            ("min_ms", "-1"),
            ("max_ms", "NaN"),
            ("llm", "yes"),
            ("since", "forever"),
            ("limit", "0"),
            ("limit", "1001"),
        ] {
            let error = trace_filter(&params(&[(name, value)])).unwrap_err();
            assert_eq!(error.name, name);
            assert!(error.to_string().contains(name), "{error}");
        }
        assert_eq!(
            llm_group(&params(&[("group", "team")])).unwrap_err().name,
            "group"
        );
        assert!(trace_id("xyz").is_err());
        assert_eq!(trace_id(&"AB".repeat(16)).unwrap(), "ab".repeat(16));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn any_parameters_parse_or_fail_cleanly(
            pairs in proptest::collection::vec(
                (
                    prop_oneof![
                        Just("service"), Just("route"), Just("status"), Just("min_ms"),
                        Just("max_ms"), Just("llm"), Just("since"), Just("limit"), Just("group"),
                    ],
                    any::<String>(),
                ),
                0..6,
            )
        ) {
            let map: HashMap<String, String> =
                pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
            if let Ok(filter) = trace_filter(&map) {
                prop_assert!((1..=MAX_LIMIT).contains(&filter.limit));
                prop_assert!(filter.min_ms.is_none_or(|ms| ms.is_finite() && ms >= 0.0));
            }
            let _ = llm_group(&map);
            let _ = since(&map);
        }

        #[test]
        fn any_trace_id_is_accepted_only_as_32_hex_digits(id in any::<String>()) {
            match trace_id(&id) {
                Ok(normalised) => {
                    prop_assert_eq!(normalised.len(), 32);
                    prop_assert!(normalised.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
                }
                Err(error) => prop_assert_eq!(error.name, "trace_id"),
            }
        }
    }
}
