//! Database instrumentation: the driver-agnostic span API and the SQL sanitizer.
