//! Hrana over HTTP, JSON encoding (versions 2 and 3): the structures of `POST v2/pipeline`.
//!
//! Only what the client sends and reads is modelled; unknown fields in answers are
//! ignored, as the protocol asks.

use serde::de::{self, Deserializer};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};

use super::base64;
use super::value::{Params, Value};

#[derive(Serialize)]
pub(super) struct PipelineRequest<'a> {
    pub(super) baton: Option<&'a str>,
    pub(super) requests: &'a [StreamRequest],
}

#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(super) enum StreamRequest {
    Execute { stmt: Stmt },
    Batch { batch: Batch },
    Sequence { sql: String },
    Close,
}

#[derive(Debug, Serialize)]
pub(super) struct Stmt {
    pub(super) sql: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(super) args: Vec<WireValue>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(super) named_args: Vec<NamedArg>,
    pub(super) want_rows: bool,
}

impl Stmt {
    pub(super) fn new(sql: impl Into<String>, params: Params, want_rows: bool) -> Stmt {
        let mut stmt = Stmt {
            sql: sql.into(),
            args: Vec::new(),
            named_args: Vec::new(),
            want_rows,
        };
        match params {
            Params::None => {}
            Params::Positional(values) => stmt.args = values.into_iter().map(WireValue).collect(),
            Params::Named(pairs) => {
                stmt.named_args = pairs
                    .into_iter()
                    .map(|(name, value)| NamedArg {
                        name,
                        value: WireValue(value),
                    })
                    .collect();
            }
        }
        stmt
    }
}

#[derive(Debug, Serialize)]
pub(super) struct NamedArg {
    name: String,
    value: WireValue,
}

#[derive(Debug, Serialize)]
pub(super) struct Batch {
    pub(super) steps: Vec<BatchStep>,
}

#[derive(Debug, Serialize)]
pub(super) struct BatchStep {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) condition: Option<BatchCond>,
    pub(super) stmt: Stmt,
}

#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(super) enum BatchCond {
    Ok { step: usize },
    Not { cond: Box<BatchCond> },
}

/// A [`Value`] in Hrana's JSON form: `{"type":"integer","value":"42"}`,
/// `{"type":"blob","base64":"..."}`.
#[derive(Debug)]
pub(super) struct WireValue(pub(super) Value);

impl Serialize for WireValue {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(2))?;
        match &self.0 {
            Value::Null => map.serialize_entry("type", "null")?,
            Value::Integer(i) => {
                map.serialize_entry("type", "integer")?;
                map.serialize_entry("value", &i.to_string())?;
            }
            Value::Float(x) if x.is_finite() => {
                map.serialize_entry("type", "float")?;
                map.serialize_entry("value", x)?;
            }
            // JSON has no NaN or infinity; SQLite stores NaN as NULL anyway. Infinities are
            // refused before serializing (see `check_args`).
            Value::Float(_) => map.serialize_entry("type", "null")?,
            Value::Text(s) => {
                map.serialize_entry("type", "text")?;
                map.serialize_entry("value", s)?;
            }
            Value::Blob(b) => {
                map.serialize_entry("type", "blob")?;
                map.serialize_entry("base64", &base64::encode(b))?;
            }
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for WireValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Raw {
            #[serde(rename = "type")]
            ty: String,
            #[serde(default)]
            value: Option<serde_json::Value>,
            #[serde(default)]
            base64: Option<String>,
        }
        let raw = Raw::deserialize(deserializer)?;
        let value = match (raw.ty.as_str(), raw.value) {
            ("null", _) => Value::Null,
            ("integer", Some(serde_json::Value::String(s))) => {
                Value::Integer(s.parse().map_err(|_| {
                    de::Error::custom(format_args!("integer value {s:?} is not a 64-bit integer"))
                })?)
            }
            // Lenient: a server that sends a JSON number.
            ("integer", Some(serde_json::Value::Number(n))) => {
                Value::Integer(n.as_i64().ok_or_else(|| {
                    de::Error::custom(format_args!("integer value {n} is not a 64-bit integer"))
                })?)
            }
            ("float", Some(serde_json::Value::Number(n))) => Value::Float(
                n.as_f64()
                    .ok_or_else(|| de::Error::custom("float value is not a number"))?,
            ),
            ("text", Some(serde_json::Value::String(s))) => Value::Text(s),
            ("blob", _) => {
                let text = raw
                    .base64
                    .ok_or_else(|| de::Error::custom("blob value without `base64`"))?;
                Value::Blob(
                    base64::decode(&text)
                        .ok_or_else(|| de::Error::custom("blob value is not valid base64"))?,
                )
            }
            (ty, value) => {
                return Err(de::Error::custom(format_args!(
                    "invalid value of type {ty:?}: {}",
                    value.map_or_else(|| "no `value`".to_owned(), |v| v.to_string())
                )));
            }
        };
        Ok(WireValue(value))
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct PipelineResponse {
    #[serde(default)]
    pub(super) baton: Option<String>,
    #[serde(default)]
    pub(super) base_url: Option<String>,
    pub(super) results: Vec<StreamResult>,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(super) enum StreamResult {
    Ok {
        response: StreamResponse,
    },
    Error {
        error: HranaError,
    },
    /// The server did not run the request (an earlier one ended the stream).
    None,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(super) enum StreamResponse {
    Execute {
        result: StmtResult,
    },
    Batch {
        result: BatchResult,
    },
    #[serde(other)]
    Other,
}

#[derive(Debug, Clone, Deserialize)]
pub(super) struct HranaError {
    #[serde(default)]
    pub(super) message: String,
    #[serde(default)]
    pub(super) code: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct Col {
    #[serde(default)]
    pub(super) name: Option<String>,
    #[serde(default)]
    pub(super) decltype: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct StmtResult {
    #[serde(default)]
    pub(super) cols: Vec<Col>,
    #[serde(default)]
    pub(super) rows: Vec<Vec<WireValue>>,
    #[serde(default)]
    pub(super) affected_row_count: u64,
    #[serde(default, deserialize_with = "rowid")]
    pub(super) last_insert_rowid: Option<i64>,
    /// Turso / sqld: rows the statement read (what Turso bills as rows read).
    #[serde(default)]
    pub(super) rows_read: Option<u64>,
    /// Turso / sqld: rows the statement wrote.
    #[serde(default)]
    pub(super) rows_written: Option<u64>,
}

fn rowid<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<i64>, D::Error> {
    match Option::<serde_json::Value>::deserialize(deserializer)? {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(s)) => s.parse().map(Some).map_err(|_| {
            de::Error::custom(format_args!("last_insert_rowid {s:?} is not an integer"))
        }),
        Some(serde_json::Value::Number(n)) => Ok(n.as_i64()),
        Some(other) => Err(de::Error::custom(format_args!(
            "last_insert_rowid {other} is not an integer"
        ))),
    }
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct BatchResult {
    #[serde(default)]
    pub(super) step_results: Vec<Option<StmtResult>>,
    #[serde(default)]
    pub(super) step_errors: Vec<Option<HranaError>>,
}

/// The message of an HTTP error answer: Hrana's `Error` (`{"message", "code"}`), sqld's
/// `{"error": "..."}`, or the text itself (cut to 300 bytes).
pub(super) fn http_error_message(body: &[u8]) -> String {
    #[derive(Deserialize)]
    struct Body {
        #[serde(default)]
        message: Option<String>,
        #[serde(default)]
        error: Option<serde_json::Value>,
    }
    if let Ok(parsed) = serde_json::from_slice::<Body>(body) {
        if let Some(message) = parsed.message {
            return message;
        }
        match parsed.error {
            Some(serde_json::Value::String(s)) => return s,
            Some(serde_json::Value::Object(o)) => {
                if let Some(serde_json::Value::String(s)) = o.get("message") {
                    return s.clone();
                }
            }
            _ => {}
        }
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    let mut cut = text.len().min(300);
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    if cut < text.len() {
        format!("{}...", &text[..cut])
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_encode_as_hrana_json() {
        let values = vec![
            WireValue(Value::Null),
            WireValue(Value::Integer(9_007_199_254_740_993)),
            WireValue(Value::Float(1.5)),
            WireValue(Value::Text("a".into())),
            WireValue(Value::Blob(vec![0, 1, 2])),
        ];
        assert_eq!(
            serde_json::to_string(&values).unwrap(),
            r#"[{"type":"null"},{"type":"integer","value":"9007199254740993"},{"type":"float","value":1.5},{"type":"text","value":"a"},{"type":"blob","base64":"AAEC"}]"#
        );
        let back: Vec<WireValue> = serde_json::from_str(
            r#"[{"type":"null"},{"type":"integer","value":"9007199254740993"},{"type":"float","value":1.5},{"type":"text","value":"a"},{"type":"blob","base64":"AAEC"}]"#,
        )
        .unwrap();
        let back: Vec<Value> = back.into_iter().map(|v| v.0).collect();
        assert_eq!(
            back,
            vec![
                Value::Null,
                Value::Integer(9_007_199_254_740_993),
                Value::Float(1.5),
                Value::Text("a".into()),
                Value::Blob(vec![0, 1, 2])
            ]
        );
        assert!(serde_json::from_str::<WireValue>(r#"{"type":"integer","value":"x"}"#).is_err());
        assert!(serde_json::from_str::<WireValue>(r#"{"type":"date","value":"x"}"#).is_err());
    }

    #[test]
    fn requests_encode_as_hrana_json() {
        let requests = [
            StreamRequest::Execute {
                stmt: Stmt::new(
                    "SELECT ?",
                    Params::Positional(vec![Value::Integer(1)]),
                    true,
                ),
            },
            StreamRequest::Execute {
                stmt: Stmt::new(
                    "SELECT :a",
                    Params::Named(vec![(":a".into(), Value::Text("x".into()))]),
                    false,
                ),
            },
            StreamRequest::Batch {
                batch: Batch {
                    steps: vec![
                        BatchStep {
                            condition: None,
                            stmt: Stmt::new("BEGIN", Params::None, false),
                        },
                        BatchStep {
                            condition: Some(BatchCond::Not {
                                cond: Box::new(BatchCond::Ok { step: 0 }),
                            }),
                            stmt: Stmt::new("ROLLBACK", Params::None, false),
                        },
                    ],
                },
            },
            StreamRequest::Close,
        ];
        let body = PipelineRequest {
            baton: Some("b"),
            requests: &requests,
        };
        assert_eq!(
            serde_json::to_string(&body).unwrap(),
            concat!(
                r#"{"baton":"b","requests":["#,
                r#"{"type":"execute","stmt":{"sql":"SELECT ?","args":[{"type":"integer","value":"1"}],"want_rows":true}},"#,
                r#"{"type":"execute","stmt":{"sql":"SELECT :a","named_args":[{"name":":a","value":{"type":"text","value":"x"}}],"want_rows":false}},"#,
                r#"{"type":"batch","batch":{"steps":[{"stmt":{"sql":"BEGIN","want_rows":false}},"#,
                r#"{"condition":{"type":"not","cond":{"type":"ok","step":0}},"stmt":{"sql":"ROLLBACK","want_rows":false}}]}},"#,
                r#"{"type":"close"}]}"#
            )
        );
    }

    #[test]
    fn http_error_bodies() {
        assert_eq!(
            http_error_message(br#"{"error":"Unauthorized: `The JWT is invalid`"}"#),
            "Unauthorized: `The JWT is invalid`"
        );
        assert_eq!(
            http_error_message(br#"{"message":"stream expired","code":"STREAM_EXPIRED"}"#),
            "stream expired"
        );
        assert_eq!(
            http_error_message(b"Received an invalid baton\n"),
            "Received an invalid baton"
        );
    }
}
