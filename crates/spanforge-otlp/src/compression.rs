//! Undoing `Content-Encoding`, with a bound on the decompressed size.

use std::io::Read;

use bytes::Bytes;

/// Undoes the `Content-Encoding` of a request body, refusing anything that decompresses to
/// more than `limit` bytes.
///
/// `content_encoding` is the header value (`None` when absent): `identity` (or none),
/// `gzip` (also `x-gzip`; concatenated members are read as one stream) and `deflate`
/// (zlib, as HTTP defines it), in any case. The limit applies to the *decompressed* size,
/// so a small gzip bomb is refused after reading `limit + 1` bytes of output rather than
/// expanded in memory; an uncompressed body longer than `limit` is refused too. An
/// uncompressed body is returned as is, without a copy.
///
/// ```
/// use bytes::Bytes;
/// use spanforge_otlp::{DecompressError, decompress};
///
/// let body = Bytes::from_static(b"\x0a\x00");
/// assert_eq!(decompress(body.clone(), None, 1024)?, body);
/// assert!(matches!(
///     decompress(body, Some("br"), 1024),
///     Err(DecompressError::UnsupportedEncoding { .. })
/// ));
/// # Ok::<(), DecompressError>(())
/// ```
///
/// # Errors
///
/// - [`DecompressError::UnsupportedEncoding`] for another content coding (answer `415`);
/// - [`DecompressError::Corrupt`] when the body is not valid data of its coding (answer `400`);
/// - [`DecompressError::TooLarge`] when the result would exceed `limit` (answer `400`).
pub fn decompress(
    body: Bytes,
    content_encoding: Option<&str>,
    limit: usize,
) -> Result<Bytes, DecompressError> {
    let coding = content_encoding.map(|c| c.trim().to_ascii_lowercase());
    let (coding, reader): (&'static str, Box<dyn Read + '_>) = match coding.as_deref() {
        None | Some("" | "identity") => {
            if body.len() > limit {
                return Err(DecompressError::TooLarge {
                    coding: "identity",
                    limit,
                });
            }
            return Ok(body);
        }
        Some("gzip" | "x-gzip") => (
            "gzip",
            Box::new(flate2::read::MultiGzDecoder::new(&body[..])),
        ),
        Some("deflate") => (
            "deflate",
            Box::new(flate2::read::ZlibDecoder::new(&body[..])),
        ),
        Some(_) => {
            return Err(DecompressError::UnsupportedEncoding {
                content_encoding: content_encoding.unwrap_or_default().to_owned(),
            });
        }
    };
    let mut out = Vec::new();
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    reader
        .take(cap)
        .read_to_end(&mut out)
        .map_err(|e| DecompressError::Corrupt {
            coding,
            reason: e.to_string(),
        })?;
    if out.len() > limit {
        return Err(DecompressError::TooLarge { coding, limit });
    }
    Ok(Bytes::from(out))
}

/// Why a request body could not be decompressed.
///
/// The message is meant for the client, e.g. `body is not valid gzip data: invalid gzip
/// header` or `gzip body decompresses to more than 4194304 bytes`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecompressError {
    /// A `Content-Encoding` other than `gzip`, `deflate` and `identity`. Answer
    /// `415 Unsupported Media Type`; the client should send the body uncompressed or gzipped.
    #[error(
        "unsupported Content-Encoding {content_encoding:?}; this receiver accepts gzip, deflate and identity"
    )]
    UnsupportedEncoding {
        /// The header value, as received.
        content_encoding: String,
    },
    /// The body is not valid data of its coding (truncated, wrong header, bad checksum).
    /// Answer `400 Bad Request`.
    #[error("body is not valid {coding} data: {reason}")]
    Corrupt {
        /// `gzip` or `deflate`.
        coding: &'static str,
        /// What the decompressor reported.
        reason: String,
    },
    /// The body is, or decompresses to, more than the limit. Answer `400 Bad Request`.
    #[error("{}", too_large(.coding, *.limit))]
    TooLarge {
        /// `identity`, `gzip` or `deflate`.
        coding: &'static str,
        /// The limit passed to [`decompress`], in bytes.
        limit: usize,
    },
}

impl DecompressError {
    /// The HTTP status to answer with: `415` for an unsupported coding, `400` otherwise
    /// (as the OpenTelemetry Collector does for a body it cannot read).
    pub fn http_status(&self) -> u16 {
        match self {
            DecompressError::UnsupportedEncoding { .. } => 415,
            DecompressError::Corrupt { .. } | DecompressError::TooLarge { .. } => 400,
        }
    }
}

fn too_large(coding: &str, limit: usize) -> String {
    if coding == "identity" {
        format!("body is larger than {limit} bytes")
    } else {
        format!("{coding} body decompresses to more than {limit} bytes")
    }
}
