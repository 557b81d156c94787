//! Parsing `OTEL_RESOURCE_ATTRIBUTES`.

use opentelemetry::KeyValue;

use crate::InitError;

/// Parse `key1=value1,key2=value2` with percent-encoded values, as the specification
/// defines. Any malformed entry rejects the whole variable (the specification allows
/// discarding it; an error at start-up is easier to notice).
pub(crate) fn parse(var: &str, raw: &str) -> Result<Vec<KeyValue>, InitError> {
    let mut out: Vec<KeyValue> = Vec::new();
    for entry in raw.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let Some((key, value)) = entry.split_once('=') else {
            return Err(InitError::invalid(var, entry, "expected key=value"));
        };
        let key = key.trim();
        if key.is_empty() {
            return Err(InitError::invalid(var, entry, "empty attribute key"));
        }
        let value = percent_encoding::percent_decode_str(value.trim())
            .decode_utf8()
            .map_err(|_| InitError::invalid(var, entry, "value is not UTF-8 after decoding"))?;
        out.retain(|kv| kv.key.as_str() != key);
        out.push(KeyValue::new(key.to_owned(), value.into_owned()));
    }
    Ok(out)
}
