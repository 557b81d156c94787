//! Errors of the cost engine: one small type per failure.

use std::fmt;
use std::path::PathBuf;

/// A model name that resolves to no entry of the pricing table.
///
/// Spans for such a model get no cost attribute (never a silent `$0`): add the model
/// with a pricing file (`SPANFORGE_PRICING_FILE`) or [`Pricing::insert`](super::Pricing::insert).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown model `{name}`: it is not in the pricing table")]
pub struct UnknownModel {
    name: ModelName,
}

impl UnknownModel {
    pub(crate) fn new(name: &str) -> Self {
        Self {
            name: ModelName::new(name),
        }
    }

    /// The model name as it was looked up.
    pub fn name(&self) -> &str {
        self.name.as_str()
    }
}

/// Longest name stored without an allocation.
const INLINE_NAME: usize = 46;

/// The name of an [`UnknownModel`]: most names fit inline, so a miss does not allocate.
#[derive(Clone, PartialEq, Eq)]
enum ModelName {
    Inline { len: u8, bytes: [u8; INLINE_NAME] },
    Heap(Box<str>),
}

impl ModelName {
    fn new(name: &str) -> Self {
        match u8::try_from(name.len()) {
            Ok(len) if name.len() <= INLINE_NAME => {
                let mut bytes = [0; INLINE_NAME];
                bytes[..name.len()].copy_from_slice(name.as_bytes());
                ModelName::Inline { len, bytes }
            }
            _ => ModelName::Heap(name.into()),
        }
    }

    fn as_str(&self) -> &str {
        match self {
            // Always a whole `&str` copied in `new`, so always valid.
            ModelName::Inline { len, bytes } => {
                std::str::from_utf8(&bytes[..usize::from(*len)]).unwrap_or_default()
            }
            ModelName::Heap(name) => name,
        }
    }
}

impl fmt::Display for ModelName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.as_str(), f)
    }
}

impl fmt::Debug for ModelName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

/// Malformed pricing data, with the place it was found.
///
/// `line` and `column` are 1-based; they point at the offending value or key.
/// Display reads like `pricing file `prices.toml`, line 4, column 9: <reason>`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct PricingFileError {
    /// The file the data came from, if it came from a file.
    pub path: Option<PathBuf>,
    /// 1-based line of the problem.
    pub line: usize,
    /// 1-based column (in characters) of the problem.
    pub column: usize,
    /// What is wrong, e.g. "price must be a finite number >= 0, got -1".
    pub reason: String,
}

impl fmt::Display for PricingFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.path {
            Some(path) => write!(f, "pricing file `{}`", path.display())?,
            None => f.write_str("pricing data")?,
        }
        write!(
            f,
            ", line {}, column {}: {}",
            self.line, self.column, self.reason
        )
    }
}

/// Loading a pricing table failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive] // new sources of pricing data (e.g. a URL) would add variants
pub enum PricingError {
    /// The pricing file could not be read: check the path and its permissions.
    #[error("cannot read pricing file `{}`: {source}", path.display())]
    Io {
        /// The path that was read.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file name ends in neither `.json` nor `.toml`: rename it.
    #[error("pricing file `{}` must end in .json or .toml", path.display())]
    UnsupportedFormat {
        /// The path that was given.
        path: PathBuf,
    },
    /// The file was read but its content is malformed: fix the named line.
    #[error(transparent)]
    Invalid(#[from] PricingFileError),
}

/// A price given in code was rejected by [`Pricing::insert`](super::Pricing::insert)
/// or an alias by [`Pricing::insert_alias`](super::Pricing::insert_alias).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid price for model `{model}`: {reason}")]
pub struct InvalidPrice {
    /// The model (or alias) name.
    pub model: String,
    /// What is wrong.
    pub reason: String,
}

#[cfg(test)]
mod tests {
    use super::UnknownModel;

    #[test]
    fn unknown_model_keeps_any_name() {
        let long = "x".repeat(200);
        for name in [
            "",
            "acme-model",
            "é-モデル",
            &long[..46],
            &long[..47],
            &long,
        ] {
            let error = UnknownModel::new(name);
            assert_eq!(error.name(), name);
            assert_eq!(error, UnknownModel::new(name));
            assert_eq!(
                format!("{error:?}"),
                format!("UnknownModel {{ name: {name:?} }}")
            );
            assert_eq!(
                error.to_string(),
                format!("unknown model `{name}`: it is not in the pricing table")
            );
        }
    }
}
