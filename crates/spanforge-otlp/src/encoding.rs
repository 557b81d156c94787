//! The payload encoding of OTLP/HTTP: choosing it from `Content-Type`, and writing answers in it.

use std::fmt;

use prost::Message;

/// The payload encoding of an OTLP request and of its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Encoding {
    /// Binary protobuf (`application/x-protobuf`; always the case for gRPC).
    Protobuf,
    /// OTLP/JSON (`application/json`).
    Json,
}

impl Encoding {
    /// Chooses the encoding from a request's `Content-Type` header value.
    ///
    /// `application/x-protobuf` (or `application/protobuf`) and `application/json` are
    /// accepted, ignoring parameters (`; charset=utf-8`) and case. Pass `None` when the header
    /// is missing or is not valid UTF-8.
    ///
    /// ```
    /// use spanforge_otlp::Encoding;
    ///
    /// assert_eq!(Encoding::from_content_type(Some("application/x-protobuf")), Ok(Encoding::Protobuf));
    /// assert_eq!(Encoding::from_content_type(Some("Application/JSON; charset=utf-8")), Ok(Encoding::Json));
    /// let error = Encoding::from_content_type(Some("text/plain")).unwrap_err();
    /// assert_eq!(error.http_status(), 415);
    /// ```
    ///
    /// # Errors
    ///
    /// [`UnsupportedContentType`] for any other value, or none; OTLP/HTTP answers it with
    /// `415 Unsupported Media Type`.
    pub fn from_content_type(
        content_type: Option<&str>,
    ) -> Result<Encoding, UnsupportedContentType> {
        let essence = content_type
            .and_then(|value| value.split(';').next())
            .map(|essence| essence.trim().to_ascii_lowercase());
        match essence.as_deref() {
            Some("application/x-protobuf" | "application/protobuf") => Ok(Encoding::Protobuf),
            Some("application/json") => Ok(Encoding::Json),
            _ => Err(UnsupportedContentType {
                content_type: content_type.map(str::to_owned),
            }),
        }
    }

    /// The HTTP content type of this encoding, for the `Content-Type` of an answer.
    pub fn content_type(self) -> &'static str {
        match self {
            Encoding::Protobuf => "application/x-protobuf",
            Encoding::Json => "application/json",
        }
    }

    /// Encodes an `Export*ServiceResponse` (from
    /// [`ExportRequest::success`](crate::ExportRequest::success) or
    /// [`partial_success`](crate::ExportRequest::partial_success)) as the body of a `200`
    /// answer.
    ///
    /// In JSON a full success is `{}`. The rejected count of a partial success is a JSON
    /// number, which is what opentelemetry-proto's serde (and so the opentelemetry-otlp
    /// HTTP/JSON exporter) parses; protojson-based clients (Go, Java) accept numbers for int64
    /// too.
    pub fn encode_response<R>(self, response: &R) -> Vec<u8>
    where
        R: Message + serde::Serialize,
    {
        match self {
            Encoding::Protobuf => response.encode_to_vec(),
            Encoding::Json => json_response(response),
        }
    }

    /// Encodes a `google.rpc.Status` with `code` and `message`, the body OTLP/HTTP asks for
    /// in an error answer (`4xx`, `5xx`).
    ///
    /// `code` is a `google.rpc.Code` number: 3 (`INVALID_ARGUMENT`) for a `400`, 8
    /// (`RESOURCE_EXHAUSTED`) for a `429`, 14 (`UNAVAILABLE`) for a `503`.
    ///
    /// ```
    /// use spanforge_otlp::Encoding;
    ///
    /// let body = Encoding::Json.encode_status(3, "invalid JSON: EOF while parsing");
    /// assert_eq!(body, br#"{"code":3,"message":"invalid JSON: EOF while parsing"}"#);
    /// ```
    pub fn encode_status(self, code: i32, message: &str) -> Vec<u8> {
        match self {
            Encoding::Protobuf => RpcStatus {
                code,
                message: message.to_owned(),
            }
            .encode_to_vec(),
            Encoding::Json => serde_json::json!({ "code": code, "message": message })
                .to_string()
                .into_bytes(),
        }
    }
}

/// `protobuf` or `JSON`.
impl fmt::Display for Encoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Encoding::Protobuf => "protobuf",
            Encoding::Json => "JSON",
        })
    }
}

/// A `Content-Type` that is not an OTLP/HTTP encoding (or no `Content-Type` at all).
///
/// Answer it with `415 Unsupported Media Type` ([`http_status`](Self::http_status)); the
/// message names the value and the accepted ones:
/// `unsupported content type "text/plain"; OTLP/HTTP accepts application/x-protobuf and application/json`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unsupported content type {}; OTLP/HTTP accepts application/x-protobuf and application/json",
    describe_content_type(.content_type.as_deref())
)]
pub struct UnsupportedContentType {
    content_type: Option<String>,
}

impl UnsupportedContentType {
    /// The refused `Content-Type`, or `None` when there was none.
    pub fn content_type(&self) -> Option<&str> {
        self.content_type.as_deref()
    }

    /// The HTTP status to answer with: `415`.
    pub fn http_status(&self) -> u16 {
        415
    }
}

fn describe_content_type(content_type: Option<&str>) -> String {
    content_type.map_or_else(|| "(none)".to_owned(), |c| format!("{c:?}"))
}

/// `google.rpc.Status` without `details`, which OTLP error answers leave empty.
#[derive(Clone, PartialEq, Message)]
struct RpcStatus {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    message: String,
}

fn json_response<R: serde::Serialize>(response: &R) -> Vec<u8> {
    let empty = serde_json::to_value(response)
        .ok()
        .and_then(|v| {
            v.as_object()
                .map(|m| m.values().all(serde_json::Value::is_null))
        })
        .unwrap_or(true);
    if empty {
        return b"{}".to_vec();
    }
    serde_json::to_vec(response).unwrap_or_else(|_| b"{}".to_vec())
}
