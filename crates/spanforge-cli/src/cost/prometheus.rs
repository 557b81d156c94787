//! Cost rows from Prometheus: the production view of `spanforge cost`.
