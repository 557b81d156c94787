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
    let mut scan = Scanner {
        sql,
        out: Text::new(sql),
        summary: Summarizer::new(sql),
        prev: Prev::Start,
    };
    let b = sql.as_bytes();
    let mut i = 0;
    // Tokens copied unchanged need no call to `out`: it copies the unchanged runs of the
    // input in bulk, between the places where it replaces or drops something.
    while let Some(&c) = b.get(i) {
        i = if lexer::is_word_start(c) {
            // Words first: identifiers and keywords are most of the tokens.
            scan.word(b, i, lexer::word_end(b, i + 1))
        } else if c == b' ' && !at(b, i + 1).is_ascii_whitespace() {
            // Then the most common gap: one space between two tokens.
            scan.out.space(i);
            i + 1
        } else if let Some(prev) = common_punct(c, scan.prev) {
            scan.summary.punct(c, i);
            scan.prev = prev;
            // Often followed by one space: take it along.
            if at(b, i + 1) == b' ' && !at(b, i + 2).is_ascii_whitespace() {
                scan.out.space(i + 1);
                i + 2
            } else {
                i + 1
            }
        } else {
            scan.other(i, c)
        };
    }
    let result = scan.summary.finish();
    let (text, truncated) = scan.out.finish();
    SanitizedQuery {
        text,
        summary: result.summary,
        operation: result.operation,
        collection: result.collection,
        statements: result.statements,
        truncated,
    }
}

/// The punctuation of lists, qualified names and comparisons, which [`Scanner::other`]
/// would treat as plain operators: the kind of token it makes.
#[inline]
fn common_punct(c: u8, prev: Prev) -> Option<Prev> {
    match c {
        b',' | b'*' => Some(Prev::Operator),
        // `.5` after an operator is a number.
        b'.' if prev == Prev::Value => Some(Prev::Operator),
        b'=' | b'<' | b'>' => Some(Prev::Comparison),
        _ => None,
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

/// The state of one [`sanitize`] call. Each method handles the token starting at a given
/// index and returns the index where scanning continues.
struct Scanner<'a> {
    sql: &'a str,
    out: Text<'a>,
    summary: Summarizer<'a>,
    prev: Prev,
}

impl Scanner<'_> {
    /// Every token that is not a word or a single space.
    fn other(&mut self, i: usize, c: u8) -> usize {
        let b = self.sql.as_bytes();
        let next = at(b, i + 1);
        match c {
            b' ' | b'\t' | b'\n' | b'\r' | 0x0C => {
                let end = lexer::whitespace_end(b, i);
                self.out.gap(i, end);
                end
            }
            b'-' if next == b'-' => {
                let end = lexer::line_comment_end(b, i);
                self.out.gap(i, end);
                end
            }
            b'/' if next == b'*' => {
                let end = lexer::block_comment_end(b, i);
                self.out.gap(i, end);
                end
            }
            b'\'' => {
                let end = lexer::quoted_end(b, i, b'\'', true);
                self.out.replace(i, end, "?");
                self.summary.quoted(i, end, true);
                self.prev = Prev::Value;
                end
            }
            b'"' => {
                let end = lexer::quoted_end(b, i, b'"', true);
                if self.prev == Prev::Comparison && at(b, end) != b'.' {
                    self.out.replace(i, end, "?");
                    self.summary.value();
                } else {
                    self.summary.quoted(i, end, false);
                }
                self.prev = Prev::Value;
                end
            }
            b'`' => {
                let end = lexer::quoted_end(b, i, b'`', false);
                self.summary.quoted(i, end, false);
                self.prev = Prev::Value;
                end
            }
            b'[' if lexer::is_word_start(next) => match lexer::bracket_identifier_end(b, i) {
                Some(end) => {
                    self.summary.quoted(i, end, false);
                    self.prev = Prev::Value;
                    end
                }
                None => {
                    self.summary.punct(c, i);
                    self.prev = Prev::Operator;
                    i + 1
                }
            },
            b'0'..=b'9' => self.literal(i, lexer::number_end(b, i)),
            b'.' if next.is_ascii_digit() && self.prev != Prev::Value => {
                self.literal(i, lexer::number_end(b, i))
            }
            b'-' | b'+'
                if self.prev != Prev::Value
                    && (next.is_ascii_digit()
                        || (next == b'.' && at(b, i + 2).is_ascii_digit())) =>
            {
                // Unary sign: `= -5` → `= ?` (after a value it is a binary operator).
                self.literal(i, lexer::number_end(b, i + 1))
            }
            b'$' if !next.is_ascii_digit() && lexer::dollar_tag_end(b, i).is_some() => {
                let body = lexer::dollar_tag_end(b, i).unwrap_or(i + 1);
                self.literal(i, lexer::dollar_string_end(b, i, body))
            }
            b'?' | b'$' | b':' | b'@' | b'%' if lexer::placeholder_end(b, i).is_some() => {
                self.summary.value();
                self.prev = Prev::Value;
                lexer::placeholder_end(b, i).unwrap_or(i + 1)
            }
            _ => {
                // Punctuation and operators, one byte at a time (ASCII: bytes >= 0x80
                // start words).
                self.summary.punct(c, i);
                self.prev = match c {
                    b')' | b']' => Prev::Value,
                    b'=' | b'<' | b'>' => Prev::Comparison,
                    b'!' if next == b'=' => Prev::Comparison,
                    _ => Prev::Operator,
                };
                i + 1
            }
        }
    }

    /// Replaces the literal at `start..end` by `?`.
    fn literal(&mut self, start: usize, end: usize) -> usize {
        self.out.replace(start, end, "?");
        self.summary.value();
        self.prev = Prev::Value;
        end
    }

    /// The word at `start..end` of `b` (the input, passed along so that the hot loop
    /// keeps one copy of it in registers).
    #[inline]
    fn word(&mut self, b: &[u8], start: usize, end: usize) -> usize {
        if let Some(literal_end) = prefixed_string_end(b, end) {
            return self.literal(start, literal_end);
        }
        let kw = keyword::classify_at(b, start, end);
        // The common cases inline: a name, or a keyword that is neither an operation, nor a
        // list, nor a literal.
        self.prev = match kw {
            Kw::None => Prev::Value,
            Kw::Other => Prev::Operator,
            Kw::Comparison => Prev::Comparison,
            _ => return self.keyword(start, end, kw),
        };
        self.summary.word(start, end, kw, false);
        // Most words are followed by one space: take it along (what the main loop would do).
        if at(b, end) == b' ' && !at(b, end + 1).is_ascii_whitespace() {
            self.out.space_after_word(end);
            return end + 1;
        }
        end
    }

    /// A keyword other than those [`Scanner::word`] handles itself.
    #[inline(never)] // keeps the hot loop small
    fn keyword(&mut self, start: usize, end: usize, kw: Kw) -> usize {
        let b = self.sql.as_bytes();
        match kw {
            Kw::In => {
                let open = lexer::skip_trivia(b, end);
                if let Some((list_end, n)) = lexer::element_list(b, open, |_, _, _| {}) {
                    // One element is sanitized as usual (`IN ($1)` stays as written).
                    if n > 1 {
                        self.out.replace(end, list_end, " (?)");
                        self.summary.word(start, end, kw, false);
                        self.summary.value();
                        self.prev = Prev::Value;
                        return list_end;
                    }
                }
            }
            Kw::Values => {
                if let Some(next) = self.values(end) {
                    self.summary.word(start, end, kw, false);
                    self.summary.value();
                    self.prev = Prev::Value;
                    return next;
                }
            }
            Kw::BooleanLiteral => return self.literal(start, end),
            _ => {}
        }
        // Whether `(` follows matters only for words that may be operations or functions
        // (`REPLACE INTO` vs `replace(…)`).
        let call = kw.is_data_change() && at(b, lexer::skip_trivia(b, end)) == b'(';
        self.summary.word(start, end, kw, call);
        self.prev = Prev::Operator;
        end
    }

    /// `VALUES (…), (…)` where every row holds only literals and placeholders: writes
    /// ` (?, $1, …)` for the first row after the `VALUES` word ending at `end` and drops
    /// the other rows. Returns the end of the last row, or `None` (writing nothing) when a
    /// row holds anything else.
    fn values(&mut self, end: usize) -> Option<usize> {
        let sql = self.sql;
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
        let out = &mut self.out;
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
}

/// If the word ending at `end` is glued to a quote, it prefixes a string (`E'…'`, `N'…'`,
/// `X'…'`, `B'…'`, `U&'…'`, `_utf8'…'`): the end of that string.
#[inline]
fn prefixed_string_end(b: &[u8], end: usize) -> Option<usize> {
    let open = match at(b, end) {
        b'\'' => end,
        b'&' if at(b, end + 1) == b'\'' => end + 1,
        _ => return None,
    };
    Some(lexer::quoted_end(b, open, b'\'', true))
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
    #[inline]
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

    /// A single space at `at`, not followed by whitespace: the same as `gap(at, at + 1)`.
    #[inline]
    fn space(&mut self, at: usize) {
        // A space right after a token stays as it is (in the current run, or after a
        // replacement): nothing to do. See `gap` for the other cases.
        let before = if self.mark < at {
            self.src.as_bytes().get(at - 1)
        } else {
            self.buf.as_bytes().last()
        };
        if matches!(before, None | Some(b' ')) || (self.pending_space && self.mark == at) {
            self.gap(at, at + 1);
        }
    }

    /// [`Text::space`] right after a word (so not after another space).
    #[inline]
    fn space_after_word(&mut self, at: usize) {
        if self.mark < at {
            return;
        }
        self.gap(at, at + 1);
    }

    /// Whitespace or a comment at `from..to`: at most one space survives between tokens.
    #[inline(never)]
    fn gap(&mut self, from: usize, to: usize) {
        let before = if self.mark < from {
            self.src.as_bytes().get(from - 1).copied()
        } else {
            self.buf.as_bytes().last().copied()
        };
        match before {
            // Right after a gap that left a pending space (a comment glued to the token
            // before it): this one adds nothing.
            _ if self.pending_space && self.mark == from => self.cut(from, to),
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
    #[inline]
    fn write(&mut self, s: &str) {
        // Inlined so that writing a constant such as `?` needs no call to `memcpy`.
        if !self.pending_space && !self.truncated && self.buf.len() + s.len() <= MAX_TEXT_LEN {
            self.buf.push_str(s);
        } else {
            self.write_slow(s);
        }
    }

    /// [`Text::write`] with a pending space, or near or past the cap.
    #[inline(never)]
    fn write_slow(&mut self, s: &str) {
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
