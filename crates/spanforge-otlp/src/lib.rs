#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

mod compression;
mod decode;
mod encoding;
mod request;
mod signal;

pub use compression::{DecompressError, decompress};
pub use decode::{DecodeError, decode, decode_json, decode_protobuf};
pub use encoding::{Encoding, UnsupportedContentType};
pub use request::{ExportRequest, ValidationError};
pub use signal::Signal;
