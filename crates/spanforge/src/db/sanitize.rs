//! SQL sanitizer: `db.query.text` with literals replaced by `?`, plus the
//! `db.query.summary`, operation and collection derived from the same single pass.
//!
//! ```
//! use spanforge::db::sanitize::sanitize;
//!
//! let q = sanitize("SELECT * FROM users u JOIN orders o ON o.user_id = u.id \
//!                   WHERE u.email = 'ann@example.com' AND o.id IN (1, 2, 3)");
//! assert_eq!(
//!     q.text,
//!     "SELECT * FROM users u JOIN orders o ON o.user_id = u.id WHERE u.email = ? AND o.id IN (?)"
//! );
//! assert_eq!(q.summary, "SELECT users orders");
//! assert_eq!(q.operation.as_deref(), Some("SELECT"));
//! assert_eq!(q.collection, None); // two collections
//! ```
//!
//! # What is removed and what is kept
//!
//! | input | output |
//! |---|---|
//! | string literals `'it''s'`, `E'a\'b'`, `N'x'`, `_utf8mb4'x'`, `$$…$$`, `$tag$…$tag$` | `?` |
//! | numbers `42`, `-5`, `3.14`, `.5`, `1e10`, `0x1F`; blobs `X'ABCD'`, bit strings `B'01'` | `?` |
//! | `TRUE`, `FALSE` | `?` (`NULL` is kept) |
//! | `IN (1, 2, 3)` — any list of literals and placeholders | `IN (?)` |
//! | `VALUES (1, 'a'), (2, 'b')` — rows of literals and placeholders | `VALUES (?, ?)` |
//! | comments `-- …`, `/* … */` (nested) | removed |
//! | runs of whitespace | one space |
//! | placeholders `?`, `?1`, `$1`, `:name`, `:1`, `@name`, `%s`, `%(name)s` | kept |
//! | identifiers `table1`, `col_2`, quoted `"t"`, `` `t` ``, `[t]` | kept |
//!
//! A double-quoted token is kept as an identifier, except in a value position (after a
//! comparison operator, or in an `IN`/`VALUES` list), where MySQL and SQLite read it as a
//! string: there it becomes `?`. A backslash escapes the next character inside quotes
//! (MySQL's default): a backslash-ended string in SQLite/PostgreSQL syntax (`'C:\'`) then
//! swallows the rest of the query into one `?`, which removes more, never less.
//! An unterminated string or comment runs to the end of the input.
//!
//! The text is capped at [`MAX_TEXT_LEN`] bytes, followed by `...` when cut.
//!
//! # The summary
//!
//! `db.query.summary` follows "Generating a summary of the query" of the OpenTelemetry
//! database conventions (v1.44): the operations and their targets in query order, as
//! written (no case change): `SELECT users`, `INSERT shipping_details SELECT orders`,
//! `SELECT songs artists` (a join lists both tables; `JOIN` itself is not an operation),
//! `CREATE TABLE users`, `SELECT SELECT orders customers` (a subquery). CTE names are not
//! targets. The summary is cut to 255 bytes between tokens. Several statements in one call
//! are a batch: `BATCH {summary}` when all statements have the same summary, else `BATCH`
//! (and the same for the operation).
//!
//! Note that the SQL conventions ask instrumentations not to set `db.operation.name` and
//! `db.collection.name` from parsed query text; [`SanitizedQuery::operation`] and
//! [`SanitizedQuery::collection`] are provided for span names and metrics where the
//! caller decides they apply.

mod keyword;
mod lexer;
mod summary;

use keyword::Kw;
use lexer::{Element, at};
use summary::Summarizer;

/// `db.query.text` is cut after this many bytes (then `...` is appended).
pub const MAX_TEXT_LEN: usize = 2048;

/// The result of [`sanitize`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SanitizedQuery {
    /// `db.query.text`: the query with literals replaced by `?`, comments removed and
    /// whitespace collapsed; at most [`MAX_TEXT_LEN`] bytes plus a `...` marker.
    pub text: String,
    /// `db.query.summary`, e.g. `SELECT users orders`; empty if no operation or target
    /// was recognised.
    pub summary: String,
    /// The operation of the statement (`SELECT`, `CREATE TABLE`, `BATCH INSERT`, `BATCH`),
    /// as written.
    pub operation: Option<String>,
    /// The collection (table), when the query touches exactly one.
    pub collection: Option<String>,
    /// Number of non-empty statements (`db.operation.batch.size` when greater than 1).
    pub statements: usize,
    /// Whether `text` was cut at [`MAX_TEXT_LEN`].
    pub truncated: bool,
}

/// Sanitizes one SQL query (one or more `;`-separated statements).
///
/// Never panics, on any input; runs in one pass over the bytes without regular
/// expressions. See the [module documentation](self) for the rules.
pub fn sanitize(sql: &str) -> SanitizedQuery {
    let b = sql.as_bytes();
    let mut out = Text::new(sql);
    let mut summary = Summarizer::new(sql);
    let mut prev = Prev::Start;
    let mut i = 0;
    // Tokens copied unchanged need no call to `out`: it copies the unchanged runs of the
    // input in bulk, between the places where it replaces or drops something.
    while i < b.len() {
        let c = b[i];
        let next = at(b, i + 1);
        let end = match c {
            b' ' | b'\t' | b'\n' | b'\r' | 0x0C => {
                let end = lexer::whitespace_end(b, i);
                out.gap(i, end);
                end
            }
            b'-' if next == b'-' => {
                let end = lexer::line_comment_end(b, i);
                out.gap(i, end);
                end
            }
            b'/' if next == b'*' => {
                let end = lexer::block_comment_end(b, i);
                out.gap(i, end);
                end
            }
            b'\'' => {
                let end = lexer::quoted_end(b, i, b'\'', true);
                out.replace(i, end, "?");
                summary.quoted(i, end, true);
                prev = Prev::Value;
                end
            }
            b'"' => {
                let end = lexer::quoted_end(b, i, b'"', true);
                if prev == Prev::Comparison && at(b, end) != b'.' {
                    out.replace(i, end, "?");
                    summary.value();
                } else {
                    summary.quoted(i, end, false);
                }
                prev = Prev::Value;
                end
            }
            b'`' => {
                let end = lexer::quoted_end(b, i, b'`', false);
                summary.quoted(i, end, false);
                prev = Prev::Value;
                end
            }
            b'[' if lexer::is_word_start(next) => match lexer::bracket_identifier_end(b, i) {
                Some(end) => {
                    summary.quoted(i, end, false);
                    prev = Prev::Value;
                    end
                }
                None => {
                    summary.punct(c, i);
                    prev = Prev::Operator;
                    i + 1
                }
            },
            b'0'..=b'9' => literal(
                &mut out,
                &mut summary,
                &mut prev,
                i,
                lexer::number_end(b, i),
            ),
            b'.' if next.is_ascii_digit() && prev != Prev::Value => literal(
                &mut out,
                &mut summary,
                &mut prev,
                i,
                lexer::number_end(b, i),
            ),
            b'-' | b'+'
                if prev != Prev::Value
                    && (next.is_ascii_digit()
                        || (next == b'.' && at(b, i + 2).is_ascii_digit())) =>
            {
                // Unary sign: `= -5` → `= ?` (after a value it is a binary operator).
                literal(
                    &mut out,
                    &mut summary,
                    &mut prev,
                    i,
                    lexer::number_end(b, i + 1),
                )
            }
            b'$' if !next.is_ascii_digit() && lexer::dollar_tag_end(b, i).is_some() => {
                let body = lexer::dollar_tag_end(b, i).unwrap_or(i + 1);
                let end = lexer::dollar_string_end(b, i, body);
                literal(&mut out, &mut summary, &mut prev, i, end)
            }
            b'?' | b'$' | b':' | b'@' | b'%' if lexer::placeholder_end(b, i).is_some() => {
                summary.value();
                prev = Prev::Value;
                lexer::placeholder_end(b, i).unwrap_or(i + 1)
            }
            b'a'..=b'z' | b'A'..=b'Z' | b'_' | 0x80..=0xFF => {
                let end = lexer::word_end(b, i);
                word(sql, i, end, &mut out, &mut summary, &mut prev)
            }
            _ => {
                // Punctuation and operators, one byte at a time (ASCII: bytes >= 0x80
                // start words).
                summary.punct(c, i);
                prev = match c {
                    b')' | b']' => Prev::Value,
                    b'=' | b'<' | b'>' => Prev::Comparison,
                    b'!' if next == b'=' => Prev::Comparison,
                    _ => Prev::Operator,
                };
                i + 1
            }
        };
        i = end;
    }
    let result = summary.finish();
    let (text, truncated) = out.finish();
    SanitizedQuery {
        text,
        summary: result.summary,
        operation: result.operation,
        collection: result.collection,
        statements: result.statements,
        truncated,
    }
}

/// The kind of the previous significant token, for unary signs and double quotes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Prev {
    Start,
    /// An identifier, literal, placeholder or closing bracket: a `-` after it is binary.
    Value,
    /// `=`, `<`, `>`, `!=`, `LIKE` …: a double-quoted token after it is a string.
    Comparison,
    /// Other punctuation or a keyword.
    Operator,
}

/// Replaces the literal at `start..end` by `?`; returns `end`.
fn literal(
    out: &mut Text<'_>,
    summary: &mut Summarizer<'_>,
    prev: &mut Prev,
    start: usize,
    end: usize,
) -> usize {
    out.replace(start, end, "?");
    summary.value();
    *prev = Prev::Value;
    end
}

/// Handles the word at `start..end`; returns where scanning continues.
fn word(
    sql: &str,
    start: usize,
    end: usize,
    out: &mut Text<'_>,
    summary: &mut Summarizer<'_>,
    prev: &mut Prev,
) -> usize {
    let b = sql.as_bytes();
    // A word glued to a quote is a string prefix: E'…', N'…', X'…', B'…', U&'…', _utf8'…'.
    if at(b, end) == b'\'' || (at(b, end) == b'&' && at(b, end + 1) == b'\'') {
        let open = if at(b, end) == b'&' { end + 1 } else { end };
        let literal_end = lexer::quoted_end(b, open, b'\'', true);
        return literal(out, summary, prev, start, literal_end);
    }
    let text = &sql[start..end];
    let kw = keyword::classify(text.as_bytes());
    match kw {
        Kw::In => {
            let open = lexer::skip_trivia(b, end);
            if let Some((list_end, n)) = lexer::element_list(b, open, |_, _, _| {}) {
                // One element is sanitized as usual (`IN ($1)` stays as written).
                if n > 1 {
                    out.replace(end, list_end, " (?)");
                    summary.word(start, end, kw, false);
                    summary.value();
                    *prev = Prev::Value;
                    return list_end;
                }
            }
        }
        Kw::Values => {
            if let Some(next) = values(sql, end, out) {
                summary.word(start, end, kw, false);
                summary.value();
                *prev = Prev::Value;
                return next;
            }
        }
        Kw::BooleanLiteral => return literal(out, summary, prev, start, end),
        _ => {}
    }
    // Whether `(` follows matters only for words that may be operations or functions
    // (`REPLACE INTO` vs `replace(…)`).
    let call = kw.is_data_change() && at(b, lexer::skip_trivia(b, end)) == b'(';
    summary.word(start, end, kw, call);
    *prev = match kw {
        Kw::None => Prev::Value,
        Kw::Comparison => Prev::Comparison,
        _ => Prev::Operator,
    };
    end
}

/// `VALUES (…), (…)` where every row holds only literals and placeholders: writes
/// ` (?, $1, …)` for the first row after the `VALUES` word ending at `end` and drops the
/// other rows. Returns the end of the last row, or `None` (writing nothing) when a row
/// holds anything else.
fn values(sql: &str, end: usize, out: &mut Text<'_>) -> Option<usize> {
    let b = sql.as_bytes();
    let open = lexer::skip_trivia(b, end);
    let (mut last, _) = lexer::element_list(b, open, |_, _, _| {})?;
    loop {
        let comma = lexer::skip_trivia(b, last);
        if at(b, comma) != b',' {
            break;
        }
        let next = lexer::skip_trivia(b, comma + 1);
        match lexer::element_list(b, next, |_, _, _| {}) {
            Some((row_end, _)) => last = row_end,
            None => break,
        }
    }
    out.cut(end, last);
    out.write(" (");
    let mut first = true;
    lexer::element_list(b, open, |kind, s, e| {
        out.write(if first { "" } else { ", " });
        first = false;
        match kind {
            Element::Literal => out.write("?"),
            Element::Placeholder => out.write(sql.get(s..e).unwrap_or("?")),
        }
    });
    out.write(")");
    Some(last)
}

/// The output text. Unchanged runs of the input are copied in bulk; `cut` drops a range,
/// `write` inserts text, `gap` collapses whitespace and comments to one space. The length
/// is capped at [`MAX_TEXT_LEN`].
struct Text<'a> {
    src: &'a str,
    buf: String,
    /// Start of the run of input not yet copied.
    mark: usize,
    pending_space: bool,
    truncated: bool,
}

impl<'a> Text<'a> {
    fn new(src: &'a str) -> Self {
        Self {
            src,
            buf: String::with_capacity(src.len().min(MAX_TEXT_LEN) + 3),
            mark: 0,
            pending_space: false,
            truncated: false,
        }
    }

    /// Copies the input up to `i`.
    fn keep_to(&mut self, i: usize) {
        if self.mark < i {
            let run = self.src.get(self.mark..i).unwrap_or("");
            self.mark = i;
            self.write(run);
        }
    }

    /// Drops the input `from..to`.
    fn cut(&mut self, from: usize, to: usize) {
        self.keep_to(from);
        self.mark = self.mark.max(to);
    }

    /// Replaces the input `from..to` by `with`.
    fn replace(&mut self, from: usize, to: usize, with: &str) {
        self.cut(from, to);
        self.write(with);
    }

    /// Whitespace or a comment at `from..to`: at most one space survives between tokens.
    #[inline]
    fn gap(&mut self, from: usize, to: usize) {
        let src = self.src.as_bytes();
        // Fast path: one space after a token that stays in the current run.
        if to == from + 1 && self.mark < from && src[from] == b' ' && src[from - 1] != b' ' {
            return;
        }
        let before = if self.mark < from {
            self.src.as_bytes().get(from - 1).copied()
        } else {
            self.buf.as_bytes().last().copied()
        };
        match before {
            // Start of the text, or already a space: drop it.
            None | Some(b' ') => self.cut(from, to),
            // A single space between tokens stays in the run.
            Some(_) if to == from + 1 && self.src.as_bytes().get(from) == Some(&b' ') => {}
            Some(_) => {
                self.cut(from, to);
                self.pending_space = true;
            }
        }
    }

    /// Appends `s` (after a pending space), up to the length cap.
    fn write(&mut self, s: &str) {
        if self.truncated || s.is_empty() {
            return;
        }
        if self.pending_space {
            self.pending_space = false;
            self.write(" ");
        }
        if self.buf.len() + s.len() <= MAX_TEXT_LEN {
            self.buf.push_str(s);
            return;
        }
        let mut cut = MAX_TEXT_LEN.saturating_sub(self.buf.len()).min(s.len());
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        self.buf.push_str(&s[..cut]);
        self.truncated = true;
    }

    fn finish(mut self) -> (String, bool) {
        // A pending space is written only if input follows it.
        self.keep_to(self.src.len());
        if self.truncated {
            self.buf.push_str("...");
        } else {
            let trimmed = self.buf.trim_end_matches(' ').len();
            self.buf.truncate(trimmed);
        }
        (self.buf, self.truncated)
    }
}
