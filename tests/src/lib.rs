//! End-to-end suites for spanforge live in `tests/`.
