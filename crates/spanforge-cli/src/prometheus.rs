//! A small client for Prometheus' HTTP query API.
