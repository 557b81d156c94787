//! Statement results: [`Rows`] (with their [`Row`]s and [`Column`]s) and [`ExecuteResult`].

use std::sync::Arc;

use super::proto::StmtResult;
use super::value::{ColumnError, FromValue, Value};

/// A result column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// Its name (`AS` alias or column name); `None` when the server does not say.
    pub name: Option<String>,
    /// The declared type of the table column it comes from (`TEXT`, `INTEGER`, ...).
    pub decltype: Option<String>,
}

/// One row of a result.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    values: Vec<Value>,
    columns: Arc<[Column]>,
}

impl Row {
    /// The value at `index` converted to `T` (see [`FromValue`]).
    ///
    /// # Errors
    ///
    /// [`ColumnError::IndexOutOfRange`], or [`ColumnError::InvalidType`] when the value
    /// does not convert (NULL into a non-`Option`, text into an integer, ...).
    pub fn get<T: FromValue>(&self, index: usize) -> Result<T, ColumnError> {
        let value = self.values.get(index).ok_or(ColumnError::IndexOutOfRange {
            index,
            count: self.values.len(),
        })?;
        T::from_value(value).map_err(|found| ColumnError::InvalidType {
            index,
            expected: std::any::type_name::<T>(),
            found,
        })
    }

    /// The value of the column called `name`, converted to `T`.
    ///
    /// # Errors
    ///
    /// [`ColumnError::NoSuchName`], or a conversion error as for [`get`](Self::get).
    pub fn get_by_name<T: FromValue>(&self, name: &str) -> Result<T, ColumnError> {
        let index = self
            .columns
            .iter()
            .position(|c| c.name.as_deref() == Some(name))
            .ok_or_else(|| ColumnError::NoSuchName(name.to_owned()))?;
        self.get(index)
    }

    /// The raw value at `index`.
    pub fn value(&self, index: usize) -> Option<&Value> {
        self.values.get(index)
    }

    /// All values, in column order.
    pub fn values(&self) -> &[Value] {
        &self.values
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether the row has no values.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The row's values, owned.
    pub fn into_values(self) -> Vec<Value> {
        self.values
    }
}

/// The result of a query: columns and every row (Hrana over HTTP answers with the whole
/// result), plus what the server reported about the statement.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Rows {
    columns: Arc<[Column]>,
    rows: Vec<Row>,
    rows_affected: u64,
    last_insert_rowid: Option<i64>,
    rows_read: Option<u64>,
    rows_written: Option<u64>,
}

impl Rows {
    pub(super) fn from_result(result: StmtResult) -> Rows {
        let columns: Arc<[Column]> = result
            .cols
            .into_iter()
            .map(|c| Column {
                name: c.name,
                decltype: c.decltype,
            })
            .collect();
        let rows = result
            .rows
            .into_iter()
            .map(|values| Row {
                values: values.into_iter().map(|v| v.0).collect(),
                columns: columns.clone(),
            })
            .collect();
        Rows {
            columns,
            rows,
            rows_affected: result.affected_row_count,
            last_insert_rowid: result.last_insert_rowid,
            rows_read: result.rows_read,
            rows_written: result.rows_written,
        }
    }

    /// The result's columns.
    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    /// The name of the column at `index`.
    pub fn column_name(&self, index: usize) -> Option<&str> {
        self.columns.get(index)?.name.as_deref()
    }

    /// The rows.
    pub fn rows(&self) -> &[Row] {
        &self.rows
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The first row, if any.
    pub fn first(&self) -> Option<&Row> {
        self.rows.first()
    }

    /// Iterate over the rows.
    pub fn iter(&self) -> std::slice::Iter<'_, Row> {
        self.rows.iter()
    }

    /// Rows changed, for INSERT, UPDATE and DELETE (… RETURNING).
    pub fn rows_affected(&self) -> u64 {
        self.rows_affected
    }

    /// The rowid of the last row inserted by this statement.
    pub fn last_insert_rowid(&self) -> Option<i64> {
        self.last_insert_rowid
    }

    /// Rows the database read to answer, as Turso reports (and bills) them; `None` when the
    /// server does not report it.
    pub fn rows_read(&self) -> Option<u64> {
        self.rows_read
    }

    /// Rows the database wrote, as Turso reports them.
    pub fn rows_written(&self) -> Option<u64> {
        self.rows_written
    }
}

impl IntoIterator for Rows {
    type Item = Row;
    type IntoIter = std::vec::IntoIter<Row>;

    fn into_iter(self) -> Self::IntoIter {
        self.rows.into_iter()
    }
}

impl<'a> IntoIterator for &'a Rows {
    type Item = &'a Row;
    type IntoIter = std::slice::Iter<'a, Row>;

    fn into_iter(self) -> Self::IntoIter {
        self.rows.iter()
    }
}

/// What [`execute`](super::Database::execute) reports about a statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct ExecuteResult {
    /// Rows changed (INSERT, UPDATE, DELETE); undefined for other statements.
    pub rows_affected: u64,
    /// The rowid of the last inserted row, for an INSERT into a rowid table.
    pub last_insert_rowid: Option<i64>,
    /// Rows read, as Turso reports (and bills) them; `None` when the server does not say.
    pub rows_read: Option<u64>,
    /// Rows written, as Turso reports them.
    pub rows_written: Option<u64>,
}

impl From<&Rows> for ExecuteResult {
    fn from(rows: &Rows) -> ExecuteResult {
        ExecuteResult {
            rows_affected: rows.rows_affected,
            last_insert_rowid: rows.last_insert_rowid,
            rows_read: rows.rows_read,
            rows_written: rows.rows_written,
        }
    }
}
