//! `error.type` and `db.response.status_code` for libSQL errors.

use crate::db::DbSpan;

/// The name of an SQLite primary result code (the low byte of an extended code).
fn sqlite_code_name(code: i32) -> Option<&'static str> {
    Some(match code & 0xff {
        1 => "SQLITE_ERROR",
        2 => "SQLITE_INTERNAL",
        3 => "SQLITE_PERM",
        4 => "SQLITE_ABORT",
        5 => "SQLITE_BUSY",
        6 => "SQLITE_LOCKED",
        7 => "SQLITE_NOMEM",
        8 => "SQLITE_READONLY",
        9 => "SQLITE_INTERRUPT",
        10 => "SQLITE_IOERR",
        11 => "SQLITE_CORRUPT",
        12 => "SQLITE_NOTFOUND",
        13 => "SQLITE_FULL",
        14 => "SQLITE_CANTOPEN",
        15 => "SQLITE_PROTOCOL",
        16 => "SQLITE_EMPTY",
        17 => "SQLITE_SCHEMA",
        18 => "SQLITE_TOOBIG",
        19 => "SQLITE_CONSTRAINT",
        20 => "SQLITE_MISMATCH",
        21 => "SQLITE_MISUSE",
        22 => "SQLITE_NOLFS",
        23 => "SQLITE_AUTH",
        24 => "SQLITE_FORMAT",
        25 => "SQLITE_RANGE",
        26 => "SQLITE_NOTADB",
        27 => "SQLITE_NOTICE",
        28 => "SQLITE_WARNING",
        _ => return None,
    })
}

/// `(error.type, db.response.status_code)` for a libSQL error.
///
/// SQLite failures give the primary result code's name (`SQLITE_CONSTRAINT`) as
/// `error.type` and the extended code as a number (`2067` for a UNIQUE violation) as
/// `db.response.status_code`; other failures a snake-case name of the libSQL error kind.
pub(crate) fn classify(error: &libsql::Error) -> (&'static str, Option<String>) {
    use libsql::Error as E;
    match error {
        E::SqliteFailure(code, _) | E::RemoteSqliteFailure(_, code, _) => (
            sqlite_code_name(*code).unwrap_or("_OTHER"),
            Some(code.to_string()),
        ),
        E::ConnectionFailed(_) => ("connection_failed", None),
        E::NullValue => ("null_value", None),
        E::Misuse(_) => ("misuse", None),
        E::ExecuteReturnedRows => ("execute_returned_rows", None),
        E::QueryReturnedNoRows => ("query_returned_no_rows", None),
        E::InvalidColumnName(_) | E::InvalidColumnIndex | E::ColumnNotFound(_) => {
            ("invalid_column", None)
        }
        E::InvalidColumnType => ("invalid_column_type", None),
        E::ToSqlConversionFailure(_) => ("to_sql_conversion_failure", None),
        E::Sqlite3SyntaxError(..) | E::Sqlite3ParserError(_) => ("syntax_error", None),
        E::Sqlite3UnsupportedStatement => ("unsupported_statement", None),
        E::Hrana(_) => ("hrana", None),
        E::TransactionalBatchError(_) => ("transactional_batch_error", None),
        _ => ("_OTHER", None),
    }
}

/// End `span` as failed with `error`.
pub(crate) fn fail(mut span: DbSpan, error: &libsql::Error) {
    let (error_type, status) = classify(error);
    if let Some(status) = status {
        span.set_response_status_code(status);
    }
    span.end_with_error(error_type, error);
}
