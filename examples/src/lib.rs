//! Shared pieces of the spanforge examples.
//!
//! The `llm_service` example's application lives here as a library module so the
//! end-to-end suites can start it in-process as well as run the example binary.

pub mod llm_service;
