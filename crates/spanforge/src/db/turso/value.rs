//! [`Value`]: an SQLite value as Hrana carries it, conversions to and from Rust types, and
//! statement parameters ([`Params`]).

use std::fmt;

/// An SQLite value. Hrana's JSON encoding sends integers as strings (64-bit integers do
/// not survive JSON numbers) and blobs as base64; this type is what they decode to.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// SQL NULL.
    Null,
    /// A 64-bit signed integer.
    Integer(i64),
    /// A 64-bit float.
    Float(f64),
    /// UTF-8 text.
    Text(String),
    /// A binary blob.
    Blob(Vec<u8>),
}

impl Value {
    /// The SQLite type name: `null`, `integer`, `float`, `text` or `blob`.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Integer(_) => "integer",
            Value::Float(_) => "float",
            Value::Text(_) => "text",
            Value::Blob(_) => "blob",
        }
    }

    /// Whether this is SQL NULL.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("NULL"),
            Value::Integer(i) => write!(f, "{i}"),
            Value::Float(x) => write!(f, "{x}"),
            Value::Text(s) => f.write_str(s),
            Value::Blob(b) => write!(f, "<{} bytes>", b.len()),
        }
    }
}

macro_rules! from_int {
    ($($t:ty),*) => {$(
        impl From<$t> for Value {
            fn from(v: $t) -> Value {
                Value::Integer(i64::from(v))
            }
        }
    )*};
}
from_int!(i8, i16, i32, i64, u8, u16, u32, bool);

impl From<f32> for Value {
    fn from(v: f32) -> Value {
        Value::Float(f64::from(v))
    }
}

impl From<f64> for Value {
    fn from(v: f64) -> Value {
        Value::Float(v)
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Value {
        Value::Text(v.to_owned())
    }
}

impl From<String> for Value {
    fn from(v: String) -> Value {
        Value::Text(v)
    }
}

impl From<&String> for Value {
    fn from(v: &String) -> Value {
        Value::Text(v.clone())
    }
}

impl From<Vec<u8>> for Value {
    fn from(v: Vec<u8>) -> Value {
        Value::Blob(v)
    }
}

impl From<&[u8]> for Value {
    fn from(v: &[u8]) -> Value {
        Value::Blob(v.to_vec())
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Value {
        v.map_or(Value::Null, Into::into)
    }
}

/// Reading a column of a [`Row`](super::Row) failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ColumnError {
    /// The row has no column at this index.
    #[error("no column at index {index} (the row has {count})")]
    IndexOutOfRange {
        /// The index asked for.
        index: usize,
        /// The number of columns.
        count: usize,
    },
    /// The result has no column of this name.
    #[error("no column named {0:?}")]
    NoSuchName(String),
    /// The value's type does not convert to the type asked for.
    #[error("column {index}: cannot read {found} as {expected}")]
    InvalidType {
        /// The column index.
        index: usize,
        /// The Rust type asked for.
        expected: &'static str,
        /// The SQLite type found (`null`, `integer`, `float`, `text`, `blob`), or `integer
        /// out of range`.
        found: &'static str,
    },
}

/// A Rust type a column value converts to: integers (range-checked), `f64` (integers
/// widen), `bool` (an integer, 0 is false), `String`, `Vec<u8>`, [`Value`], and `Option`
/// of any of them (NULL is `None`).
pub trait FromValue: Sized {
    /// Convert, or say which SQLite type was found instead (`Err(type name)`).
    fn from_value(value: &Value) -> Result<Self, &'static str>;
}

impl FromValue for Value {
    fn from_value(value: &Value) -> Result<Self, &'static str> {
        Ok(value.clone())
    }
}

macro_rules! from_value_int {
    ($($t:ty),*) => {$(
        impl FromValue for $t {
            fn from_value(value: &Value) -> Result<Self, &'static str> {
                match value {
                    Value::Integer(i) => <$t>::try_from(*i).map_err(|_| "integer out of range"),
                    other => Err(other.type_name()),
                }
            }
        }
    )*};
}
from_value_int!(i8, i16, i32, i64, u8, u16, u32, u64, usize);

impl FromValue for bool {
    fn from_value(value: &Value) -> Result<Self, &'static str> {
        match value {
            Value::Integer(i) => Ok(*i != 0),
            other => Err(other.type_name()),
        }
    }
}

impl FromValue for f64 {
    fn from_value(value: &Value) -> Result<Self, &'static str> {
        match value {
            Value::Float(x) => Ok(*x),
            Value::Integer(i) => Ok(*i as f64),
            other => Err(other.type_name()),
        }
    }
}

impl FromValue for String {
    fn from_value(value: &Value) -> Result<Self, &'static str> {
        match value {
            Value::Text(s) => Ok(s.clone()),
            other => Err(other.type_name()),
        }
    }
}

impl FromValue for Vec<u8> {
    fn from_value(value: &Value) -> Result<Self, &'static str> {
        match value {
            Value::Blob(b) => Ok(b.clone()),
            other => Err(other.type_name()),
        }
    }
}

impl<T: FromValue> FromValue for Option<T> {
    fn from_value(value: &Value) -> Result<Self, &'static str> {
        match value {
            Value::Null => Ok(None),
            other => T::from_value(other).map(Some),
        }
    }
}

/// The arguments of a statement: by position (`?`, `?1`) or by name (`:name`, `@name`,
/// `$name`).
///
/// Most calls take anything that is [`IntoParams`]: `()`, an array or `Vec` of values, a
/// tuple of up to eight values of different types, or [`Params::named`].
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Params {
    /// No arguments.
    #[default]
    None,
    /// Bound by position.
    Positional(Vec<Value>),
    /// Bound by name; the name includes its prefix (`:name`), or the server guesses it.
    Named(Vec<(String, Value)>),
}

impl Params {
    /// Named arguments: `Params::named([(":name", "greet".into()), (":v", 3.into())])`.
    pub fn named<K, V>(pairs: impl IntoIterator<Item = (K, V)>) -> Params
    where
        K: Into<String>,
        V: Into<Value>,
    {
        Params::Named(
            pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }
}

/// Anything that can be a statement's arguments; see [`Params`].
pub trait IntoParams {
    /// The arguments.
    fn into_params(self) -> Params;
}

impl IntoParams for Params {
    fn into_params(self) -> Params {
        self
    }
}

impl IntoParams for () {
    fn into_params(self) -> Params {
        Params::None
    }
}

impl<T: Into<Value>> IntoParams for Vec<T> {
    fn into_params(self) -> Params {
        Params::Positional(self.into_iter().map(Into::into).collect())
    }
}

impl<T: Into<Value>, const N: usize> IntoParams for [T; N] {
    fn into_params(self) -> Params {
        Params::Positional(self.into_iter().map(Into::into).collect())
    }
}

impl IntoParams for &[Value] {
    fn into_params(self) -> Params {
        Params::Positional(self.to_vec())
    }
}

macro_rules! tuple_params {
    ($($name:ident)+) => {
        impl<$($name: Into<Value>),+> IntoParams for ($($name,)+) {
            #[allow(non_snake_case)]
            fn into_params(self) -> Params {
                let ($($name,)+) = self;
                Params::Positional(vec![$($name.into()),+])
            }
        }
    };
}
tuple_params!(A);
tuple_params!(A B);
tuple_params!(A B C);
tuple_params!(A B C D);
tuple_params!(A B C D E);
tuple_params!(A B C D E F);
tuple_params!(A B C D E F G);
tuple_params!(A B C D E F G H);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions() {
        assert_eq!(Value::from(3u32), Value::Integer(3));
        assert_eq!(Value::from(true), Value::Integer(1));
        assert_eq!(Value::from(None::<i64>), Value::Null);
        assert_eq!(Value::from("a"), Value::Text("a".into()));
        assert_eq!(
            u32::from_value(&Value::Integer(-1)),
            Err("integer out of range")
        );
        assert_eq!(f64::from_value(&Value::Integer(2)), Ok(2.0));
        assert_eq!(Option::<String>::from_value(&Value::Null), Ok(None));
        assert_eq!(String::from_value(&Value::Integer(1)), Err("integer"));
        assert_eq!(
            ("a", 1, None::<f64>).into_params(),
            Params::Positional(vec![
                Value::Text("a".into()),
                Value::Integer(1),
                Value::Null
            ])
        );
        assert_eq!(
            Params::named([(":n", 1)]),
            Params::Named(vec![(":n".into(), Value::Integer(1))])
        );
    }
}
