//! Reading settings from a set of variables (the process environment or a map).

use std::collections::HashMap;
use std::time::Duration;

use crate::InitError;

/// Where settings come from: the process environment, or a map given by the caller.
#[derive(Debug, Clone)]
pub(crate) enum EnvSource {
    Process,
    Map(HashMap<String, String>),
}

impl EnvSource {
    /// The value of `key`, treating an empty or all-blank value as unset (as the
    /// OpenTelemetry specification asks).
    pub(crate) fn get(&self, key: &str) -> Option<String> {
        let value = match self {
            EnvSource::Process => std::env::var(key).ok(),
            EnvSource::Map(map) => map.get(key).cloned(),
        }?;
        let trimmed = value.trim();
        (!trimmed.is_empty()).then(|| trimmed.to_owned())
    }

    /// A boolean: `true`/`false` in any case; anything else is an error.
    pub(crate) fn bool(&self, key: &str) -> Result<Option<bool>, InitError> {
        self.get(key)
            .map(|v| match v.to_ascii_lowercase().as_str() {
                "true" => Ok(true),
                "false" => Ok(false),
                _ => Err(InitError::invalid(key, &v, "expected `true` or `false`")),
            })
            .transpose()
    }

    /// A duration given in whole milliseconds.
    pub(crate) fn millis(&self, key: &str) -> Result<Option<Duration>, InitError> {
        self.get(key)
            .map(|v| {
                v.parse::<u64>().map(Duration::from_millis).map_err(|_| {
                    InitError::invalid(key, &v, "expected a whole number of milliseconds")
                })
            })
            .transpose()
    }

    /// A positive count.
    pub(crate) fn count(&self, key: &str) -> Result<Option<usize>, InitError> {
        self.get(key)
            .map(|v| match v.parse::<usize>() {
                Ok(n) if n > 0 => Ok(n),
                _ => Err(InitError::invalid(
                    key,
                    &v,
                    "expected a positive whole number",
                )),
            })
            .transpose()
    }
}
