//! Placeholder: the OTLP decoding moves here from the test kit.
