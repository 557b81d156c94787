//! A small client for Prometheus' HTTP query API, used by `spanforge report` and
//! `spanforge cost --prometheus`.
//!
//! ```no_run
//! # async fn example() -> Result<(), spanforge_cli::prometheus::PrometheusError> {
//! use spanforge_cli::prometheus::PrometheusClient;
//!
//! let prometheus = PrometheusClient::new("http://localhost:9090")?;
//! for sample in prometheus.query("sum by (service_name) (up)", None).await? {
//!     println!("{:?} {}", sample.label("service_name"), sample.value);
//! }
//! # Ok(())
//! # }
//! ```
//!
//! `http://` and `https://` URLs work. HTTPS needs the crate's `tls` feature (on by default):
//! the server's certificate is checked against the platform's trust store (on Linux the system
//! CA bundle, or the PEM file named by `SSL_CERT_FILE`). Built without it, an `https://` URL is
//! refused up front with [`PrometheusError::HttpsUnsupported`]. Credentials in the URL
//! (`https://user:password@host`) are sent as HTTP basic authentication and never shown:
//! errors and [`PrometheusClient::base_url`] print the URL without them.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::Url;
use serde::Deserialize;

/// Why a Prometheus request failed.
#[derive(Debug, thiserror::Error)]
pub enum PrometheusError {
    /// The base URL does not parse or is not an `http://` or `https://` URL. Fix the URL.
    #[error("invalid Prometheus URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL as given (credentials removed when it parsed).
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The URL is `https://`, and this build has no TLS backend (it was built without the
    /// `tls` feature). Use a plain-HTTP URL (a port-forward, or a reverse proxy on the
    /// Prometheus host), or a build with `tls`.
    #[error(
        "{url}: https is not supported: this build of spanforge has no TLS backend (it was \
         built without the `tls` feature); use a plain http:// URL (for example through a \
         port-forward or a local reverse proxy)"
    )]
    HttpsUnsupported {
        /// The URL, without credentials.
        url: String,
    },
    /// Nothing answered: connection refused, unknown host, connection reset. Check that
    /// Prometheus runs and the URL points at it.
    #[error("Prometheus at {url} is unreachable: {reason}")]
    Unreachable {
        /// The URL, without credentials.
        url: String,
        /// The transport error.
        reason: String,
    },
    /// No complete answer within the timeout. The query may be too expensive, or Prometheus
    /// overloaded.
    #[error("Prometheus at {url} did not answer within {} s", timeout.as_secs_f64())]
    Timeout {
        /// The URL, without credentials.
        url: String,
        /// The timeout that expired.
        timeout: Duration,
    },
    /// Prometheus answered with an error status; `message` is its own error text
    /// (for example `bad_data: parse error: ...` for a malformed query).
    #[error("Prometheus at {url} answered HTTP {status}: {message}")]
    Status {
        /// The URL, without credentials.
        url: String,
        /// The HTTP status code.
        status: u16,
        /// Prometheus' `errorType: error`, or the start of the body when it is not
        /// Prometheus' JSON.
        message: String,
    },
    /// The answer is not the JSON of Prometheus' query API: the URL may point at something
    /// else (Grafana, the collector's exporter), or a proxy in between mangled it.
    #[error("{url} did not answer like Prometheus' query API: {reason}")]
    BadResponse {
        /// The URL, without credentials.
        url: String,
        /// What was wrong with the body.
        reason: String,
    },
}

/// One sample of an instant query: the series' labels and its value.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The labels, `__name__` included when the result keeps it.
    pub labels: BTreeMap<String, String>,
    /// The value; `NaN`, `+Inf` and `-Inf` come through as such.
    pub value: f64,
}

impl Sample {
    /// The value of a label, if the sample has it.
    pub fn label(&self, name: &str) -> Option<&str> {
        self.labels.get(name).map(String::as_str)
    }
}

/// A client for one Prometheus server. Cheap to clone. `Debug` shows the URL without
/// credentials.
#[derive(Clone)]
pub struct PrometheusClient {
    base: Url,
    shown: String,
    http: reqwest::Client,
    timeout: Duration,
}

impl std::fmt::Debug for PrometheusClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrometheusClient")
            .field("base_url", &self.shown)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl PrometheusClient {
    /// The timeout of each request unless [`with_timeout`](Self::with_timeout) changes it.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

    /// A client for the Prometheus at `base_url` (`http://host:9090`, optionally with a path
    /// prefix such as `https://host/prometheus` when it runs behind one).
    ///
    /// # Errors
    ///
    /// [`PrometheusError::InvalidUrl`] when the URL does not parse or is not HTTP(S);
    /// without the `tls` feature, [`PrometheusError::HttpsUnsupported`] for `https://`.
    pub fn new(base_url: &str) -> Result<PrometheusClient, PrometheusError> {
        let base = http_url(base_url).map_err(|error| match error {
            #[cfg(not(feature = "tls"))]
            UrlError::Https(url) => PrometheusError::HttpsUnsupported { url },
            UrlError::Invalid { url, reason } => PrometheusError::InvalidUrl { url, reason },
        })?;
        let http = http_client(|builder| builder).map_err(|e| PrometheusError::InvalidUrl {
            url: redact(&base),
            reason: format!("cannot build an HTTP client: {e}"),
        })?;
        Ok(PrometheusClient {
            shown: redact(&base),
            base,
            http,
            timeout: Self::DEFAULT_TIMEOUT,
        })
    }

    /// Sets the timeout of each request (default [`DEFAULT_TIMEOUT`](Self::DEFAULT_TIMEOUT)).
    pub fn with_timeout(mut self, timeout: Duration) -> PrometheusClient {
        self.timeout = timeout;
        self
    }

    /// The base URL, without credentials.
    pub fn base_url(&self) -> &str {
        &self.shown
    }

    /// Runs an instant query (`GET /api/v1/query`), evaluated at `time` or, when `None`, at
    /// Prometheus' current time.
    ///
    /// A vector result gives one [`Sample`] per series; a scalar result gives one sample
    /// without labels; an empty vector (no series matched) gives an empty list.
    ///
    /// # Errors
    ///
    /// [`PrometheusError::Unreachable`], [`PrometheusError::Timeout`],
    /// [`PrometheusError::Status`] (with Prometheus' own message, for example for a query
    /// that does not parse) and [`PrometheusError::BadResponse`].
    pub async fn query(
        &self,
        promql: &str,
        time: Option<SystemTime>,
    ) -> Result<Vec<Sample>, PrometheusError> {
        let mut url = self.endpoint("api/v1/query");
        {
            let mut pairs = url.query_pairs_mut();
            pairs.append_pair("query", promql);
            if let Some(time) = time {
                pairs.append_pair("time", &unix_seconds(time));
            }
        }
        let (status, body) = self.get(url).await?;
        parse_query_response(&self.shown, status, &body)
    }

    /// Checks `GET /-/ready`: `Ok` when Prometheus is ready to serve queries.
    ///
    /// # Errors
    ///
    /// As [`query`](Self::query); a Prometheus still loading its data answers 503, which is
    /// a [`PrometheusError::Status`].
    pub async fn ready(&self) -> Result<(), PrometheusError> {
        let (status, body) = self.get(self.endpoint("-/ready")).await?;
        if (200..300).contains(&status) {
            Ok(())
        } else {
            Err(PrometheusError::Status {
                url: self.shown.clone(),
                status,
                message: snippet(&body),
            })
        }
    }

    /// The server's version from `GET /api/v1/status/buildinfo`.
    ///
    /// # Errors
    ///
    /// As [`query`](Self::query).
    pub async fn version(&self) -> Result<String, PrometheusError> {
        #[derive(Deserialize)]
        struct BuildInfo {
            status: String,
            data: Option<BuildData>,
        }
        #[derive(Deserialize)]
        struct BuildData {
            version: String,
        }
        let (status, body) = self.get(self.endpoint("api/v1/status/buildinfo")).await?;
        if !(200..300).contains(&status) {
            return Err(status_error(&self.shown, status, &body));
        }
        match serde_json::from_slice::<BuildInfo>(&body) {
            Ok(BuildInfo {
                status,
                data: Some(data),
            }) if status == "success" => Ok(data.version),
            Ok(_) => Err(PrometheusError::BadResponse {
                url: self.shown.clone(),
                reason: "buildinfo without data".to_owned(),
            }),
            Err(e) => Err(PrometheusError::BadResponse {
                url: self.shown.clone(),
                reason: format!("buildinfo is not JSON: {e}"),
            }),
        }
    }

    fn endpoint(&self, path: &str) -> Url {
        let mut url = self.base.clone();
        let joined = format!("{}/{path}", url.path().trim_end_matches('/'));
        url.set_path(&joined);
        url
    }

    async fn get(&self, url: Url) -> Result<(u16, Vec<u8>), PrometheusError> {
        let map = |error: reqwest::Error| transport_error(&self.shown, self.timeout, error);
        let response = self
            .http
            .get(url)
            .timeout(self.timeout)
            .send()
            .await
            .map_err(map)?;
        let status = response.status().as_u16();
        let body = response.bytes().await.map_err(map)?;
        Ok((status, body.to_vec()))
    }
}

fn transport_error(url: &str, timeout: Duration, error: reqwest::Error) -> PrometheusError {
    if error.is_timeout() {
        PrometheusError::Timeout {
            url: url.to_owned(),
            timeout,
        }
    } else {
        PrometheusError::Unreachable {
            url: url.to_owned(),
            reason: transport_cause(&error.without_url()),
        }
    }
}

fn status_error(url: &str, status: u16, body: &[u8]) -> PrometheusError {
    #[derive(Deserialize)]
    struct ErrorBody {
        #[serde(rename = "errorType")]
        error_type: Option<String>,
        error: Option<String>,
    }
    let message = match serde_json::from_slice::<ErrorBody>(body) {
        Ok(ErrorBody {
            error: Some(error),
            error_type,
        }) => match error_type {
            Some(kind) if !kind.is_empty() => format!("{kind}: {error}"),
            _ => error,
        },
        _ => snippet(body),
    };
    PrometheusError::Status {
        url: url.to_owned(),
        status,
        message,
    }
}

#[derive(Deserialize)]
struct Envelope {
    status: String,
    data: Option<serde_json::Value>,
    #[serde(rename = "errorType")]
    error_type: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize)]
#[serde(tag = "resultType", content = "result", rename_all = "lowercase")]
enum QueryData {
    Vector(Vec<VectorSample>),
    Scalar((f64, String)),
    Matrix(serde_json::Value),
    String(serde_json::Value),
}

#[derive(Deserialize)]
struct VectorSample {
    #[serde(default)]
    metric: BTreeMap<String, String>,
    value: Option<(f64, String)>,
}

fn parse_query_response(
    url: &str,
    status: u16,
    body: &[u8],
) -> Result<Vec<Sample>, PrometheusError> {
    if !(200..300).contains(&status) {
        return Err(status_error(url, status, body));
    }
    let bad = |reason: String| PrometheusError::BadResponse {
        url: url.to_owned(),
        reason,
    };
    let envelope: Envelope = serde_json::from_slice(body)
        .map_err(|e| bad(format!("{e} (body starts {:?})", snippet(body))))?;
    if envelope.status != "success" {
        let error = envelope
            .error
            .unwrap_or_else(|| "no error message".to_owned());
        return Err(PrometheusError::Status {
            url: url.to_owned(),
            status,
            message: match envelope.error_type {
                Some(kind) => format!("{kind}: {error}"),
                None => error,
            },
        });
    }
    let data = envelope
        .data
        .ok_or_else(|| bad("\"data\" is missing".to_owned()))?;
    match serde_json::from_value::<QueryData>(data).map_err(|e| bad(e.to_string()))? {
        QueryData::Vector(samples) => samples
            .into_iter()
            .map(|sample| {
                let Some((_, value)) = sample.value else {
                    return Err(bad(
                        "a sample without \"value\" (native histograms are not supported)"
                            .to_owned(),
                    ));
                };
                Ok(Sample {
                    labels: sample.metric,
                    value: parse_value(&value).ok_or_else(|| bad(format!("value {value:?}")))?,
                })
            })
            .collect(),
        QueryData::Scalar((_, value)) => Ok(vec![Sample {
            labels: BTreeMap::new(),
            value: parse_value(&value).ok_or_else(|| bad(format!("value {value:?}")))?,
        }]),
        QueryData::Matrix(series) => Err(bad(format!(
            "a range vector ({} series) from an instant query",
            series.as_array().map_or(0, Vec::len)
        ))),
        QueryData::String(value) => Err(bad(format!(
            "a string result ({value}); expected a vector or a scalar"
        ))),
    }
}

/// Prometheus writes sample values as strings: decimals, `NaN`, `+Inf`, `-Inf`.
fn parse_value(text: &str) -> Option<f64> {
    match text {
        "NaN" => Some(f64::NAN),
        "+Inf" | "Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        other => other.parse().ok(),
    }
}

/// Seconds since the Unix epoch with millisecond precision, as Prometheus' `time` parameter.
fn unix_seconds(time: SystemTime) -> String {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    format!("{}.{:03}", since.as_secs(), since.subsec_millis())
}

/// Why a URL was refused by [`http_url`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum UrlError {
    /// An `https://` URL (credentials removed), in a build without the `tls` feature.
    #[cfg(not(feature = "tls"))]
    Https(String),
    /// Not a URL, or not HTTP.
    Invalid {
        /// The URL as given, or without credentials when it parsed.
        url: String,
        /// What is wrong.
        reason: String,
    },
}

/// Parses an `http://` or `https://` URL; other schemes are refused, and so is `https://` in
/// a build without the `tls` feature.
pub(crate) fn http_url(text: &str) -> Result<Url, UrlError> {
    let url = Url::parse(text.trim()).map_err(|e| UrlError::Invalid {
        url: text.to_owned(),
        reason: e.to_string(),
    })?;
    #[cfg(not(feature = "tls"))]
    if url.scheme() == "https" {
        return Err(UrlError::Https(redact(&url)));
    }
    match url.scheme() {
        "http" | "https" if url.host().is_some() => Ok(url),
        "http" | "https" => Err(UrlError::Invalid {
            url: redact(&url),
            reason: "no host".to_owned(),
        }),
        other => Err(UrlError::Invalid {
            url: redact(&url),
            reason: format!("scheme {other:?} is not http or https"),
        }),
    }
}

/// Builds the command's HTTP client: `configure` applied to a fresh
/// [`reqwest::ClientBuilder`].
#[cfg(not(feature = "tls"))]
pub(crate) fn http_client(
    configure: impl Fn(reqwest::ClientBuilder) -> reqwest::ClientBuilder,
) -> Result<reqwest::Client, reqwest::Error> {
    configure(reqwest::Client::builder()).build()
}

/// Builds the command's HTTP client: `configure` applied to a fresh
/// [`reqwest::ClientBuilder`].
///
/// Building loads the platform's trusted CA certificates. A machine without any (a slim
/// container without a CA bundle, or `SSL_CERT_FILE` naming a missing file) must still reach
/// plain-HTTP endpoints, so the client is then built with an empty trust store: `http://`
/// works, every `https://` server is refused, and [`transport_cause`] says why.
#[cfg(feature = "tls")]
pub(crate) fn http_client(
    configure: impl Fn(reqwest::ClientBuilder) -> reqwest::ClientBuilder,
) -> Result<reqwest::Client, reqwest::Error> {
    let error = match configure(reqwest::Client::builder()).build() {
        Ok(client) => return Ok(client),
        Err(error) => error,
    };
    match configure(reqwest::Client::builder())
        .tls_certs_only(Vec::new())
        .build()
    {
        Ok(client) => {
            // The platform verifier's "No CA certificates were loaded from the system".
            let _ = NO_TRUSTED_ROOTS.set(root_cause(&error));
            Ok(client)
        }
        Err(_) => Err(error),
    }
}

/// Why no trusted CA certificate could be loaded, once [`http_client`] fell back to an empty
/// trust store.
#[cfg(feature = "tls")]
static NO_TRUSTED_ROOTS: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// The innermost cause of a transport error, as [`root_cause`]; a refused server certificate
/// also gets what to do about it.
pub(crate) fn transport_cause(error: &(dyn std::error::Error + 'static)) -> String {
    with_tls_hint(root_cause(error))
}

#[cfg(not(feature = "tls"))]
fn with_tls_hint(cause: String) -> String {
    cause
}

#[cfg(feature = "tls")]
fn with_tls_hint(cause: String) -> String {
    // rustls' `Error::InvalidCertificate`: "invalid peer certificate: UnknownIssuer", ...
    if !cause.starts_with("invalid peer certificate") {
        return cause;
    }
    match NO_TRUSTED_ROOTS.get() {
        Some(load_error) => format!(
            "TLS: {cause}: no trusted CA certificate could be loaded on this machine \
             ({load_error}); install the system's CA bundle (ca-certificates), or set \
             SSL_CERT_FILE to a PEM file of the CAs to trust"
        ),
        None if cause.contains("UnknownIssuer") => format!(
            "TLS: {cause}: the server's certificate is not signed by a CA this machine \
             trusts; add the CA to the system's trust store (on Linux, SSL_CERT_FILE may \
             name a PEM file of the CAs to trust instead)"
        ),
        None => format!("TLS: {cause}"),
    }
}

/// The URL without user name, password, query or fragment: safe to print.
pub(crate) fn redact(url: &Url) -> String {
    let mut shown = url.clone();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.set_query(None);
    shown.set_fragment(None);
    let text = shown.to_string();
    // `Url` always has a path; drop a bare trailing "/" so `http://h:9090` prints as given.
    match text.strip_suffix('/') {
        Some(stripped) if shown.path() == "/" => stripped.to_owned(),
        _ => text,
    }
}

/// The innermost source of an error: the message that says what happened
/// (`Connection refused (os error 111)`), without the layers around it.
pub(crate) fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut current = error;
    while let Some(next) = current.source() {
        current = next;
    }
    current.to_string()
}

/// The start of a body, for error messages.
pub(crate) fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        return "(empty body)".to_owned();
    }
    let mut out: String = text.chars().take(200).collect();
    if out.len() < text.len() {
        out.push('…');
    }
    out.replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const URL: &str = "http://prom:9090";

    #[test]
    fn vector_with_special_values() {
        let body = br#"{"status":"success","data":{"resultType":"vector","result":[
            {"metric":{"service_name":"api"},"value":[1717200000.5,"0.25"]},
            {"metric":{"service_name":"b"},"value":[1717200000.5,"NaN"]},
            {"metric":{},"value":[1717200000.5,"+Inf"]},
            {"metric":{},"value":[1717200000.5,"-Inf"]}]}}"#;
        let samples = parse_query_response(URL, 200, body).unwrap();
        assert_eq!(samples.len(), 4);
        assert_eq!(samples[0].label("service_name"), Some("api"));
        assert_eq!(samples[0].value, 0.25);
        assert!(samples[1].value.is_nan());
        assert_eq!(samples[2].value, f64::INFINITY);
        assert_eq!(samples[3].value, f64::NEG_INFINITY);
    }

    #[test]
    fn scalar_and_empty_vector() {
        let body =
            br#"{"status":"success","data":{"resultType":"scalar","result":[1717200000,"42"]}}"#;
        let samples = parse_query_response(URL, 200, body).unwrap();
        assert_eq!(
            samples,
            vec![Sample {
                labels: BTreeMap::new(),
                value: 42.0
            }]
        );
        let body = br#"{"status":"success","data":{"resultType":"vector","result":[]}}"#;
        assert!(parse_query_response(URL, 200, body).unwrap().is_empty());
    }

    #[test]
    fn prometheus_errors_keep_its_message() {
        let body = br#"{"status":"error","errorType":"bad_data","error":"1:5: parse error: unexpected end of input"}"#;
        let error = parse_query_response(URL, 400, body).unwrap_err();
        assert_eq!(
            error.to_string(),
            "Prometheus at http://prom:9090 answered HTTP 400: bad_data: 1:5: parse error: unexpected end of input"
        );
        let error = parse_query_response(URL, 502, b"<html>Bad gateway</html>").unwrap_err();
        assert_eq!(
            error.to_string(),
            "Prometheus at http://prom:9090 answered HTTP 502: <html>Bad gateway</html>"
        );
    }

    #[test]
    fn bad_json_and_unexpected_shapes() {
        let error = parse_query_response(URL, 200, b"not json").unwrap_err();
        assert!(
            matches!(error, PrometheusError::BadResponse { .. }),
            "{error}"
        );
        assert!(
            error
                .to_string()
                .starts_with("http://prom:9090 did not answer like Prometheus' query API")
        );
        let body = br#"{"status":"success","data":{"resultType":"matrix","result":[]}}"#;
        assert!(matches!(
            parse_query_response(URL, 200, body),
            Err(PrometheusError::BadResponse { .. })
        ));
        let body = br#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"x"]}]}}"#;
        assert!(matches!(
            parse_query_response(URL, 200, body),
            Err(PrometheusError::BadResponse { .. })
        ));
    }

    #[cfg(not(feature = "tls"))]
    #[test]
    fn https_is_refused_without_tls() {
        let error = PrometheusClient::new("https://user:secret@prom.example.com").unwrap_err();
        assert!(matches!(error, PrometheusError::HttpsUnsupported { .. }));
        let text = error.to_string();
        assert!(
            text.starts_with("https://prom.example.com: https is not supported"),
            "{text}"
        );
        assert!(!text.contains("secret"));
    }

    #[cfg(feature = "tls")]
    #[test]
    fn https_is_accepted_with_tls() {
        let client = PrometheusClient::new("https://user:secret@prom.example.com/p").unwrap();
        assert_eq!(client.base_url(), "https://prom.example.com/p");
        assert!(!format!("{client:?}").contains("secret"));
        assert_eq!(
            client.endpoint("api/v1/query").as_str(),
            "https://user:secret@prom.example.com/p/api/v1/query"
        );
    }

    #[test]
    fn urls() {
        assert!(matches!(
            PrometheusClient::new("prom:9090"),
            Err(PrometheusError::InvalidUrl { .. })
        ));
        match PrometheusClient::new("ftp://prom:9090") {
            Err(PrometheusError::InvalidUrl { reason, .. }) => {
                assert_eq!(reason, "scheme \"ftp\" is not http or https")
            }
            other => panic!("{other:?}"),
        }
        let client = PrometheusClient::new("http://u:p@prom:9090/prefix/").unwrap();
        assert_eq!(client.base_url(), "http://prom:9090/prefix/");
        assert!(!format!("{client:?}").contains(":p@"));
        assert_eq!(
            client.endpoint("api/v1/query").as_str(),
            "http://u:p@prom:9090/prefix/api/v1/query"
        );
        let client = PrometheusClient::new("http://prom:9090").unwrap();
        assert_eq!(client.base_url(), "http://prom:9090");
        assert_eq!(
            client.endpoint("-/ready").as_str(),
            "http://prom:9090/-/ready"
        );
    }

    #[test]
    fn time_parameter() {
        let time = UNIX_EPOCH + Duration::from_millis(1_717_200_000_250);
        assert_eq!(unix_seconds(time), "1717200000.250");
    }

    #[tokio::test]
    async fn unreachable_is_typed() {
        let port = spanforge_testkit::ports::unused_port();
        let client = PrometheusClient::new(&format!("http://127.0.0.1:{port}"))
            .unwrap()
            .with_timeout(Duration::from_secs(10));
        let error = client.query("up", None).await.unwrap_err();
        assert!(
            matches!(error, PrometheusError::Unreachable { .. }),
            "{error}"
        );
        let expected = format!("Prometheus at http://127.0.0.1:{port} is unreachable: ");
        assert!(error.to_string().starts_with(&expected), "{error}");
    }
}
