//! Attribute names from the database semantic conventions (v1.44), plus spanforge's own.

#![allow(dead_code)] // each feature uses a subset

pub(crate) const DB_SYSTEM_NAME: &str = "db.system.name";
pub(crate) const DB_NAMESPACE: &str = "db.namespace";
pub(crate) const DB_OPERATION_NAME: &str = "db.operation.name";
pub(crate) const DB_COLLECTION_NAME: &str = "db.collection.name";
pub(crate) const DB_QUERY_TEXT: &str = "db.query.text";
pub(crate) const DB_QUERY_SUMMARY: &str = "db.query.summary";
pub(crate) const DB_STORED_PROCEDURE_NAME: &str = "db.stored_procedure.name";
pub(crate) const DB_OPERATION_BATCH_SIZE: &str = "db.operation.batch.size";
pub(crate) const DB_RESPONSE_STATUS_CODE: &str = "db.response.status_code";
pub(crate) const DB_RESPONSE_RETURNED_ROWS: &str = "db.response.returned_rows";
pub(crate) const SERVER_ADDRESS: &str = "server.address";
pub(crate) const SERVER_PORT: &str = "server.port";
pub(crate) const ERROR_TYPE: &str = "error.type";
pub(crate) const DB_CLIENT_CONNECTION_POOL_NAME: &str = "db.client.connection.pool.name";
pub(crate) const DB_CLIENT_CONNECTION_STATE: &str = "db.client.connection.state";

/// Rows changed by an INSERT, UPDATE or DELETE. No released convention has a name for it.
pub(crate) const SPANFORGE_DB_ROWS_AFFECTED: &str = "spanforge.db.rows_affected";

/// Bucket boundaries the database conventions recommend for operation durations (seconds).
pub(crate) const DURATION_BUCKETS: [f64; 9] = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0];
