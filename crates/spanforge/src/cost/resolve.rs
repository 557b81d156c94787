//! Model-name normalisation: the candidate names tried, in order, for one model name.
//!
//! 1. the name as given;
//! 2. without provider prefixes (`openai/`, `azure/`, `bedrock/`, `vertex_ai/`, `models/`,
//!    `openai:` …) and Bedrock's region and vendor prefixes (`us.`, `eu.`, `anthropic.` …);
//! 3. then, one at a time, without a version suffix: Bedrock's `-v1:0`, Vertex's
//!    `@20240620` / `@001`, `-latest`, a date `-2024-08-06` / `-20240620`, or a
//!    three-digit version `-001`.
//!
//! Every candidate is a sub-slice of the input, so no step allocates. Nothing here ever
//! cuts a name at an arbitrary point: only the listed prefix and suffix shapes are removed,
//! so `gpt-4o-mini` can never become `gpt-4o`.

/// Which step of the resolution found the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive] // more normalisation steps may be added
pub enum MatchKind {
    /// The name is a table entry as given.
    Exact,
    /// Found after removing a provider prefix such as `openai/` or `us.anthropic.`.
    ProviderPrefix,
    /// Found after removing a date or version suffix such as `-2024-08-06` or `@20240620`.
    VersionSuffix,
    /// Found through the alias table (possibly after removing a prefix or suffix).
    Alias,
}

/// Step at which a candidate was produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    Exact,
    Prefix,
    Suffix,
}

impl Step {
    pub(crate) fn kind(self, via_alias: bool) -> MatchKind {
        match (via_alias, self) {
            (true, _) => MatchKind::Alias,
            (false, Step::Exact) => MatchKind::Exact,
            (false, Step::Prefix) => MatchKind::ProviderPrefix,
            (false, Step::Suffix) => MatchKind::VersionSuffix,
        }
    }
}

/// Routing prefixes written as `provider/model` or `provider:model`.
const PROVIDER_PREFIXES: &[&str] = &[
    "openai",
    "azure",
    "azure_ai",
    "anthropic",
    "bedrock",
    "bedrock_converse",
    "converse",
    "vertex_ai",
    "vertex_ai_beta",
    "vertex",
    "gemini",
    "google",
    "googleai",
    "google_genai",
    "mistral",
    "mistralai",
    "mistral_ai",
    "cohere",
    "openrouter",
    "models",
    "publishers",
];

/// Bedrock cross-region inference profile prefixes (`us.anthropic.claude-…`).
const BEDROCK_REGIONS: &[&str] = &["us", "eu", "apac", "au", "jp", "ca", "global", "us-gov"];

/// Bedrock model-vendor prefixes (`anthropic.claude-…`, `cohere.embed-…`).
const BEDROCK_VENDORS: &[&str] = &["anthropic", "cohere", "mistral"];

/// Longest entry of [`PROVIDER_PREFIXES`].
const MAX_PREFIX_LEN: usize = 16;

/// Longest `@version` suffix recognised (`@20240620`, `@latest`, `@001`).
const MAX_AT_VERSION_LEN: usize = 16;

/// At most this many suffixes are removed (e.g. `-v1:0`, then `-20240620`).
const MAX_SUFFIXES: usize = 3;

/// Calls `f` with each candidate name in order until it returns `Some`.
pub(crate) fn first_match<'a, R>(
    name: &'a str,
    mut f: impl FnMut(&'a str, Step) -> Option<R>,
) -> Option<R> {
    if let Some(r) = f(name, Step::Exact) {
        return Some(r);
    }
    let base = strip_prefixes(name);
    if base.len() != name.len()
        && let Some(r) = f(base, Step::Prefix)
    {
        return Some(r);
    }
    // Removing suffixes only shortens the name: with no `@` now, none appears later.
    let may_have_at = base.as_bytes().contains(&b'@');
    let mut current = base;
    for _ in 0..MAX_SUFFIXES {
        match strip_suffix(current, may_have_at) {
            Some(shorter) => {
                current = shorter;
                if let Some(r) = f(current, Step::Suffix) {
                    return Some(r);
                }
            }
            None => break,
        }
    }
    None
}

/// Removes every leading provider prefix, then Bedrock region and vendor prefixes.
pub(crate) fn strip_prefixes(mut name: &str) -> &str {
    // Most names hold no separator in their first bytes, hence no prefix: one word-wide
    // scan instead of the byte loops below.
    if !has_prefix_separator(name.as_bytes()) {
        return name;
    }
    // Only the first few bytes can hold a known prefix: no need to scan the whole name.
    while let Some(pos) = name
        .bytes()
        .take(MAX_PREFIX_LEN + 1)
        .position(|c| c == b'/' || c == b':')
    {
        let (head, rest) = (&name[..pos], &name[pos + 1..]);
        if rest.is_empty() || !PROVIDER_PREFIXES.contains(&head) {
            break;
        }
        name = rest;
    }
    if let Some((region, rest)) = split_dot(name)
        && BEDROCK_REGIONS.contains(&region)
        && starts_with_vendor(rest)
    {
        name = rest;
    }
    if let Some((vendor, rest)) = split_dot(name)
        && !rest.is_empty()
        && BEDROCK_VENDORS.contains(&vendor)
    {
        name = rest;
    }
    name
}

const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);

/// Whether some byte of `word` equals `byte` (exact: the classic zero-byte test).
#[inline]
fn word_has(word: u64, byte: u8) -> bool {
    let x = word ^ (ONES * u64::from(byte));
    x.wrapping_sub(ONES) & !x & HIGHS != 0
}

/// Whether one of the first `MAX_PREFIX_LEN + 1` bytes of `b` is a `/`, `:` or `.`: the
/// only places where [`strip_prefixes`] may cut.
#[inline]
fn has_prefix_separator(b: &[u8]) -> bool {
    const _: () = assert!(MAX_PREFIX_LEN + 1 == 17);
    let mut head = [0u8; 16];
    let n = b.len().min(16);
    head[..n].copy_from_slice(&b[..n]);
    // Padding bytes are zero, which matches none of the three.
    let head = u128::from_ne_bytes(head);
    let has = |w: u64| word_has(w, b'/') || word_has(w, b':') || word_has(w, b'.');
    has(head as u64) || has((head >> 64) as u64) || matches!(b.get(16), Some(b'/' | b':' | b'.'))
}

/// Splits at the first `.`, if the part before it is short enough to be a prefix.
fn split_dot(name: &str) -> Option<(&str, &str)> {
    let pos = name.bytes().take(16).position(|c| c == b'.')?;
    Some((&name[..pos], &name[pos + 1..]))
}

fn starts_with_vendor(name: &str) -> bool {
    split_dot(name)
        .is_some_and(|(vendor, rest)| !rest.is_empty() && BEDROCK_VENDORS.contains(&vendor))
}

/// Removes one version suffix, or returns `None` if the name ends in none.
/// `may_have_at` is false when `name` holds no `@`: the Vertex form is then not looked for.
pub(crate) fn strip_suffix(name: &str, may_have_at: bool) -> Option<&str> {
    let b = name.as_bytes();
    // Vertex: `claude-3-5-sonnet@20240620`, `gemini-1.5-pro@002`, `model@latest`.
    if may_have_at {
        let tail = b.len().saturating_sub(MAX_AT_VERSION_LEN);
        if let Some(at) = b[tail..].iter().rposition(|&c| c == b'@') {
            let at = tail + at;
            return (at > 0).then(|| &name[..at]);
        }
    }
    let cut = bedrock_version_len(b)
        .or_else(|| (b.len() > 7 && b.ends_with(b"-latest")).then_some(7))
        .or_else(|| date_len(b))
        .or_else(|| three_digit_len(b))?;
    Some(&name[..b.len() - cut])
}

/// Length of a Bedrock version suffix `-v1:0`, `-v2:0` at the end of `b`.
fn bedrock_version_len(b: &[u8]) -> Option<usize> {
    let mut i = b.len();
    let minor = trailing_digits(&b[..i]);
    i = i.checked_sub(minor)?;
    if minor == 0 || i == 0 || b[i - 1] != b':' {
        return None;
    }
    i -= 1;
    let major = trailing_digits(&b[..i]);
    i -= major;
    if major == 0 || i < 3 || b[i - 1] != b'v' || b[i - 2] != b'-' {
        return None;
    }
    Some(b.len() - (i - 2))
}

/// Length of a date suffix `-2024-08-06` or `-20240620` at the end of `b`.
fn date_len(b: &[u8]) -> Option<usize> {
    if b.len() > 11 {
        let tail = &b[b.len() - 11..];
        if tail[0] == b'-'
            && is_year(&tail[1..5])
            && tail[5] == b'-'
            && digits(&tail[6..8])
            && tail[8] == b'-'
            && digits(&tail[9..11])
        {
            return Some(11);
        }
    }
    if b.len() > 9 {
        let tail = &b[b.len() - 9..];
        if tail[0] == b'-' && is_year(&tail[1..5]) && digits(&tail[5..9]) {
            return Some(9);
        }
    }
    None
}

/// Length of a three-digit version suffix (Gemini's `-001`) at the end of `b`.
fn three_digit_len(b: &[u8]) -> Option<usize> {
    let tail = b.get(b.len().checked_sub(4)?..)?;
    (b.len() > 4 && tail[0] == b'-' && digits(&tail[1..4]) && trailing_digits(b) == 3).then_some(4)
}

fn trailing_digits(b: &[u8]) -> usize {
    b.iter().rev().take_while(|c| c.is_ascii_digit()).count()
}

fn digits(b: &[u8]) -> bool {
    !b.is_empty() && b.iter().all(u8::is_ascii_digit)
}

fn is_year(b: &[u8]) -> bool {
    b.len() == 4 && b[0] == b'2' && b[1] == b'0' && digits(&b[2..])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(name: &str) -> Vec<&str> {
        let mut out = Vec::new();
        first_match::<()>(name, |c, _| {
            out.push(c);
            None
        });
        out
    }

    #[test]
    fn candidates_in_order() {
        assert_eq!(all("gpt-4o"), ["gpt-4o"]);
        assert_eq!(
            all("openai/gpt-4o-2024-08-06"),
            ["openai/gpt-4o-2024-08-06", "gpt-4o-2024-08-06", "gpt-4o"]
        );
        assert_eq!(
            all("bedrock/us.anthropic.claude-3-5-sonnet-20240620-v1:0"),
            [
                "bedrock/us.anthropic.claude-3-5-sonnet-20240620-v1:0",
                "claude-3-5-sonnet-20240620-v1:0",
                "claude-3-5-sonnet-20240620",
                "claude-3-5-sonnet",
            ]
        );
        assert_eq!(
            all("claude-3-5-sonnet@20240620"),
            ["claude-3-5-sonnet@20240620", "claude-3-5-sonnet"]
        );
        assert_eq!(
            all("gemini-1.5-pro-002"),
            ["gemini-1.5-pro-002", "gemini-1.5-pro"]
        );
        assert_eq!(all("claude-sonnet-4-5"), ["claude-sonnet-4-5"]);
        assert_eq!(all("gpt-3.5-turbo-0125"), ["gpt-3.5-turbo-0125"]);
        assert_eq!(all("ft:gpt-4o-mini:org::id"), ["ft:gpt-4o-mini:org::id"]);
        assert_eq!(all("groq/openai/gpt-oss"), ["groq/openai/gpt-oss"]);
    }

    #[test]
    fn prefix_table_fits_the_scan() {
        assert!(PROVIDER_PREFIXES.iter().all(|p| p.len() <= MAX_PREFIX_LEN));
    }

    #[test]
    fn odd_inputs_do_not_panic() {
        for name in [
            "",
            "/",
            ":",
            "@",
            "-",
            "-latest",
            "openai/",
            "us.",
            "anthropic.",
            "-v1:0",
            "é@",
            "@é",
            "x-2024-08-0é",
            "-2024-08-06",
            "-20240620",
            "-001",
        ] {
            let _ = all(name);
        }
    }
}
