//! Typed OTLP attribute values and attribute lists.

use std::fmt;

use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};

/// An OTLP `AnyValue`, as a plain Rust enum.
///
/// Attribute values, log bodies and nested array/map values all use this type.
/// Typed accessors (`as_str`, `as_i64`, ...) are strict: an `Int` is not an `f64`,
/// so a test catches a value recorded with the wrong type.
#[derive(Debug, Clone, PartialEq)]
pub enum AttrValue {
    /// `stringValue`.
    String(String),
    /// `boolValue`.
    Bool(bool),
    /// `intValue` (int64; a string in OTLP/JSON).
    Int(i64),
    /// `doubleValue`.
    Double(f64),
    /// `bytesValue` (base64 in OTLP/JSON).
    Bytes(Vec<u8>),
    /// `arrayValue`.
    Array(Vec<AttrValue>),
    /// `kvlistValue`.
    Map(Attributes),
    /// An `AnyValue` with no value set.
    Empty,
}

impl AttrValue {
    /// The string, if this is [`AttrValue::String`].
    pub fn as_str(&self) -> Option<&str> {
        match self {
            AttrValue::String(s) => Some(s),
            _ => None,
        }
    }

    /// The integer, if this is [`AttrValue::Int`].
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            AttrValue::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// The float, if this is [`AttrValue::Double`]. An `Int` is not converted.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            AttrValue::Double(d) => Some(*d),
            _ => None,
        }
    }

    /// The boolean, if this is [`AttrValue::Bool`].
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            AttrValue::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The bytes, if this is [`AttrValue::Bytes`].
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            AttrValue::Bytes(b) => Some(b),
            _ => None,
        }
    }

    /// The elements, if this is [`AttrValue::Array`].
    pub fn as_array(&self) -> Option<&[AttrValue]> {
        match self {
            AttrValue::Array(a) => Some(a),
            _ => None,
        }
    }

    /// The entries, if this is [`AttrValue::Map`].
    pub fn as_map(&self) -> Option<&Attributes> {
        match self {
            AttrValue::Map(m) => Some(m),
            _ => None,
        }
    }

    pub(crate) fn from_proto(value: Option<&AnyValue>) -> AttrValue {
        let Some(value) = value.and_then(|v| v.value.as_ref()) else {
            return AttrValue::Empty;
        };
        match value {
            any_value::Value::StringValue(s) => AttrValue::String(s.clone()),
            any_value::Value::BoolValue(b) => AttrValue::Bool(*b),
            any_value::Value::IntValue(i) => AttrValue::Int(*i),
            any_value::Value::DoubleValue(d) => AttrValue::Double(*d),
            any_value::Value::BytesValue(b) => AttrValue::Bytes(b.clone()),
            any_value::Value::ArrayValue(a) => AttrValue::Array(
                a.values
                    .iter()
                    .map(|v| AttrValue::from_proto(Some(v)))
                    .collect(),
            ),
            any_value::Value::KvlistValue(kv) => AttrValue::Map(Attributes::from_proto(&kv.values)),
            // Only used by the profiles signal's string table; not meaningful here.
            any_value::Value::StringValueStrindex(_) => AttrValue::Empty,
        }
    }

    fn write_json(&self, out: &mut String) {
        use std::fmt::Write as _;
        match self {
            AttrValue::String(s) => out.push_str(&serde_json::Value::from(s.as_str()).to_string()),
            AttrValue::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            AttrValue::Int(i) => {
                let _ = write!(out, "{i}");
            }
            AttrValue::Double(d) => match serde_json::Number::from_f64(*d) {
                Some(n) => out.push_str(&n.to_string()),
                None => out.push_str(&serde_json::Value::from(d.to_string()).to_string()),
            },
            AttrValue::Bytes(b) => {
                out.push('"');
                for byte in b {
                    let _ = write!(out, "{byte:02x}");
                }
                out.push('"');
            }
            AttrValue::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.write_json(out);
                }
                out.push(']');
            }
            AttrValue::Map(map) => {
                out.push('{');
                for (i, (k, v)) in map.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&serde_json::Value::from(k).to_string());
                    out.push(':');
                    v.write_json(out);
                }
                out.push('}');
            }
            AttrValue::Empty => out.push_str("null"),
        }
    }
}

/// Strings print as they are; numbers and booleans in their usual form; arrays and maps
/// as compact JSON (bytes as a hex string); an empty value prints nothing.
impl fmt::Display for AttrValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AttrValue::String(s) => f.write_str(s),
            AttrValue::Bool(b) => write!(f, "{b}"),
            AttrValue::Int(i) => write!(f, "{i}"),
            AttrValue::Double(d) => write!(f, "{d}"),
            AttrValue::Empty => Ok(()),
            other => {
                let mut out = String::new();
                other.write_json(&mut out);
                f.write_str(&out)
            }
        }
    }
}

impl From<&str> for AttrValue {
    fn from(value: &str) -> Self {
        AttrValue::String(value.to_owned())
    }
}

impl From<String> for AttrValue {
    fn from(value: String) -> Self {
        AttrValue::String(value)
    }
}

impl From<i64> for AttrValue {
    fn from(value: i64) -> Self {
        AttrValue::Int(value)
    }
}

impl From<f64> for AttrValue {
    fn from(value: f64) -> Self {
        AttrValue::Double(value)
    }
}

impl From<bool> for AttrValue {
    fn from(value: bool) -> Self {
        AttrValue::Bool(value)
    }
}

/// An ordered list of key/value attributes, as received.
///
/// Lookups return the first entry with the key (OTLP requires keys to be unique).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Attributes {
    entries: Vec<(String, AttrValue)>,
}

impl Attributes {
    /// The value under `key`.
    pub fn get(&self, key: &str) -> Option<&AttrValue> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// The string under `key`; `None` if absent or not a string.
    pub fn get_str(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(AttrValue::as_str)
    }

    /// The integer under `key`; `None` if absent or not an integer.
    pub fn get_i64(&self, key: &str) -> Option<i64> {
        self.get(key).and_then(AttrValue::as_i64)
    }

    /// The float under `key`; `None` if absent or not a double (integers are not converted).
    pub fn get_f64(&self, key: &str) -> Option<f64> {
        self.get(key).and_then(AttrValue::as_f64)
    }

    /// The boolean under `key`; `None` if absent or not a boolean.
    pub fn get_bool(&self, key: &str) -> Option<bool> {
        self.get(key).and_then(AttrValue::as_bool)
    }

    /// Whether an entry with `key` exists.
    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// The keys, in received order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(k, _)| k.as_str())
    }

    /// The entries, in received order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &AttrValue)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub(crate) fn from_proto(kvs: &[KeyValue]) -> Attributes {
        Attributes {
            entries: kvs
                .iter()
                .map(|kv| (kv.key.clone(), AttrValue::from_proto(kv.value.as_ref())))
                .collect(),
        }
    }
}

impl FromIterator<(String, AttrValue)> for Attributes {
    fn from_iter<I: IntoIterator<Item = (String, AttrValue)>>(iter: I) -> Self {
        Attributes {
            entries: iter.into_iter().collect(),
        }
    }
}

impl<'a> IntoIterator for &'a Attributes {
    type Item = &'a (String, AttrValue);
    type IntoIter = std::slice::Iter<'a, (String, AttrValue)>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter()
    }
}

/// Adds `attr`, `str_attr`, `int_attr`, `f64_attr` and `bool_attr` to a record type with an
/// `attributes: Attributes` field.
macro_rules! attribute_accessors {
    ($ty:ty) => {
        impl $ty {
            /// The attribute value under `key`.
            pub fn attr(&self, key: &str) -> Option<&$crate::otlp::AttrValue> {
                self.attributes.get(key)
            }

            /// The string attribute under `key`; `None` if absent or not a string.
            pub fn str_attr(&self, key: &str) -> Option<&str> {
                self.attributes.get_str(key)
            }

            /// The integer attribute under `key`; `None` if absent or not an integer.
            pub fn int_attr(&self, key: &str) -> Option<i64> {
                self.attributes.get_i64(key)
            }

            /// The float attribute under `key`; `None` if absent or not a double
            /// (an integer attribute is not converted).
            pub fn f64_attr(&self, key: &str) -> Option<f64> {
                self.attributes.get_f64(key)
            }

            /// The boolean attribute under `key`; `None` if absent or not a boolean.
            pub fn bool_attr(&self, key: &str) -> Option<bool> {
                self.attributes.get_bool(key)
            }
        }
    };
}

pub(crate) use attribute_accessors;
