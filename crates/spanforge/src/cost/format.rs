//! The pricing file format (JSON or TOML) and the mapping of parse errors to a line and
//! column.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Deserializer, Serialize};

use super::error::PricingFileError;
use super::price::ModelPrice;

/// The syntax of a pricing document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PricingFormat {
    /// JSON: `{"models": {"gpt-4o": {"input": 2.5, "output": 10}}, "aliases": {}}`.
    Json,
    /// TOML: `[models."gpt-4o"]` tables, an `[aliases]` table and an optional `[meta]` table.
    Toml,
}

impl PricingFormat {
    /// The format for a file name ending in `.json` or `.toml` (any case).
    pub fn from_path(path: &Path) -> Option<Self> {
        let ext = path.extension()?.to_str()?;
        if ext.eq_ignore_ascii_case("json") {
            Some(Self::Json)
        } else if ext.eq_ignore_ascii_case("toml") {
            Some(Self::Toml)
        } else {
            None
        }
    }
}

/// Where a pricing table's data comes from and when it was collected.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PricingMeta {
    /// The date the prices were read from their sources (`YYYY-MM-DD`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    /// Where the prices come from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Always `USD` when given.
    #[serde(
        default,
        deserialize_with = "currency",
        skip_serializing_if = "Option::is_none"
    )]
    pub currency: Option<String>,
    /// Always `1M tokens` when given: prices are per million tokens.
    #[serde(
        default,
        deserialize_with = "unit",
        skip_serializing_if = "Option::is_none"
    )]
    pub unit: Option<String>,
}

/// One pricing document as written in a file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Document {
    #[serde(default)]
    pub(crate) meta: PricingMeta,
    #[serde(default)]
    pub(crate) models: BTreeMap<String, ModelPrice>,
    #[serde(default)]
    pub(crate) aliases: BTreeMap<String, String>,
}

/// Parses `text`; errors carry `path` and the line and column of the problem.
pub(crate) fn parse(
    text: &str,
    format: PricingFormat,
    path: Option<&Path>,
) -> Result<Document, PricingFileError> {
    match format {
        PricingFormat::Json => serde_json::from_str(text).map_err(|e| {
            let reason = json_reason(&e);
            PricingFileError {
                path: path.map(Path::to_path_buf),
                line: e.line().max(1),
                column: e.column().max(1),
                reason,
            }
        }),
        PricingFormat::Toml => toml::from_str(text).map_err(|e| {
            let (line, column) = e
                .span()
                .map_or((1, 1), |span| line_column(text, span.start));
            PricingFileError {
                path: path.map(Path::to_path_buf),
                line,
                column,
                reason: e.message().trim().to_owned(),
            }
        }),
    }
}

/// serde_json's message without its trailing " at line L column C".
fn json_reason(e: &serde_json::Error) -> String {
    let full = e.to_string();
    match full.rfind(" at line ") {
        Some(pos) => full[..pos].to_owned(),
        None => full,
    }
}

/// 1-based line and column (in characters) of byte offset `offset` in `text`.
pub(crate) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |p| p + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

/// Line and column of the first place `key` is written as a key (quoted, or bare at the
/// start of a line) — used for errors found after parsing, such as a dangling alias.
pub(crate) fn locate_key(text: &str, key: &str) -> (usize, usize) {
    let quoted = format!("\"{key}\"");
    if let Some(pos) = text.find(&quoted) {
        return line_column(text, pos);
    }
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        if trimmed
            .strip_prefix(key)
            .is_some_and(|rest| rest.trim_start().starts_with('='))
        {
            return line_column(text, offset + (line.len() - trimmed.len()));
        }
        offset += line.len();
    }
    (1, 1)
}

fn currency<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let v = String::deserialize(d)?;
    if v == "USD" {
        Ok(Some(v))
    } else {
        Err(serde::de::Error::custom(format_args!(
            "currency must be \"USD\", got {v:?}"
        )))
    }
}

fn unit<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let v = String::deserialize(d)?;
    if v == "1M tokens" {
        Ok(Some(v))
    } else {
        Err(serde::de::Error::custom(format_args!(
            "unit must be \"1M tokens\" (prices are USD per million tokens), got {v:?}"
        )))
    }
}
