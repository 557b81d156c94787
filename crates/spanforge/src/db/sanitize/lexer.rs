//! Byte-level scanning helpers. Every function takes the input bytes and a start index
//! and returns an end index no greater than `b.len()`; none of them can panic.
//!
//! Token ends always fall on ASCII bytes or at the end of input, and identifier runs
//! consume every byte >= 0x80, so every `start..end` range is a valid `str` slice.

const WORD_START: u8 = 1;
const WORD_CHAR: u8 = 2;
const NUMBER_CHAR: u8 = 4;

/// Byte classes, so that the per-byte tests are one table load.
const CLASS: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        if b.is_ascii_alphabetic() || b == b'_' || b >= 0x80 {
            table[c] |= WORD_START | WORD_CHAR;
        }
        if b.is_ascii_digit() || b == b'$' {
            table[c] |= WORD_CHAR;
        }
        if b.is_ascii_alphanumeric() || b == b'_' || b == b'.' {
            table[c] |= NUMBER_CHAR;
        }
        c += 1;
    }
    table
};

/// Whether `c` can start an unquoted identifier or keyword.
#[inline]
pub(super) fn is_word_start(c: u8) -> bool {
    CLASS[usize::from(c)] & WORD_START != 0
}

/// Whether `c` can continue an unquoted identifier (`$` for Oracle/Postgres names).
#[inline]
pub(super) fn is_word_char(c: u8) -> bool {
    CLASS[usize::from(c)] & WORD_CHAR != 0
}

pub(super) fn at(b: &[u8], i: usize) -> u8 {
    b.get(i).copied().unwrap_or(0)
}

/// End of the identifier starting at `i`.
#[inline]
pub(super) fn word_end(b: &[u8], i: usize) -> usize {
    let rest = b.get(i..).unwrap_or_default();
    i + rest
        .iter()
        .position(|&c| !is_word_char(c))
        .unwrap_or(rest.len())
}

/// The eight bytes at `b[i..]` as a little-endian `u64`; bytes past the end of the input
/// read as zero.
#[inline]
pub(super) fn load8(b: &[u8], i: usize) -> u64 {
    // `i` is an index into `b` or just past it: `i + 8` cannot overflow.
    if let Some(chunk) = b.get(i..i + 8) {
        return le_u64(chunk);
    }
    if i >= b.len() {
        return 0;
    }
    match b.len().checked_sub(8) {
        // Near the end: the last eight bytes, shifted so that `b[i]` is the lowest byte.
        Some(tail) => le_u64(&b[tail..]) >> (8 * (i - tail)),
        // An input shorter than eight bytes.
        None => {
            let mut buf = [0u8; 8];
            for (to, from) in buf.iter_mut().zip(&b[i..]) {
                *to = *from;
            }
            u64::from_le_bytes(buf)
        }
    }
}

fn le_u64(chunk: &[u8]) -> u64 {
    chunk.try_into().map_or(0, u64::from_le_bytes)
}

/// End of a run of whitespace.
pub(super) fn whitespace_end(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && b[i].is_ascii_whitespace() {
        i += 1;
    }
    i
}

/// End of a `--` comment starting at `i` (the newline is left as whitespace).
pub(super) fn line_comment_end(b: &[u8], i: usize) -> usize {
    match b
        .get(i..)
        .and_then(|rest| rest.iter().position(|&c| c == b'\n'))
    {
        Some(p) => i + p,
        None => b.len(),
    }
}

/// End of a `/* */` comment starting at `i`; nested comments are balanced (PostgreSQL,
/// SQLite treat the first `*/` as the end, but balancing only ever removes more).
pub(super) fn block_comment_end(b: &[u8], i: usize) -> usize {
    let mut depth = 0usize;
    let mut j = i;
    while j + 1 < b.len() {
        match (b[j], b[j + 1]) {
            (b'/', b'*') => {
                depth += 1;
                j += 2;
            }
            (b'*', b'/') => {
                j += 2;
                if depth <= 1 {
                    return j;
                }
                depth -= 1;
            }
            _ => j += 1,
        }
    }
    b.len()
}

/// Skips whitespace and comments.
#[inline]
pub(super) fn skip_trivia(b: &[u8], i: usize) -> usize {
    // Most often there is nothing to skip, or a single space before a token.
    match b.get(i..i + 2) {
        Some(&[c, _]) if !c.is_ascii_whitespace() && c != b'-' && c != b'/' => i,
        Some(&[b' ', c]) if !c.is_ascii_whitespace() && c != b'-' && c != b'/' => i + 1,
        _ => skip_trivia_from(b, i),
    }
}

fn skip_trivia_from(b: &[u8], mut i: usize) -> usize {
    loop {
        let c = at(b, i);
        if c.is_ascii_whitespace() {
            i = whitespace_end(b, i);
        } else if c == b'-' && at(b, i + 1) == b'-' {
            i = line_comment_end(b, i);
        } else if c == b'/' && at(b, i + 1) == b'*' {
            i = block_comment_end(b, i);
        } else {
            return i;
        }
    }
}

/// End of a quoted token opened by `b[i] == quote`. A doubled quote is an escaped quote;
/// with `backslash`, a backslash escapes the next byte. An unterminated token runs to
/// the end of the input.
pub(super) fn quoted_end(b: &[u8], i: usize, quote: u8, backslash: bool) -> usize {
    let mut j = i + 1;
    while j < b.len() {
        let c = b[j];
        if backslash && c == b'\\' {
            j += 2;
        } else if c == quote {
            if at(b, j + 1) == quote {
                j += 2;
            } else {
                return j + 1;
            }
        } else {
            j += 1;
        }
    }
    b.len()
}

/// Longest bracketed identifier (`[Order Details]`) recognised, in bytes.
const MAX_BRACKET_IDENTIFIER: usize = 128;

/// If a SQL Server bracketed identifier starts at `b[i] == b'['`, its end (after `]`).
/// Only words and spaces qualify, so an array subscript such as `arr[i + 1]` is not
/// mistaken for a name (and its `1` is still sanitized).
pub(super) fn bracket_identifier_end(b: &[u8], i: usize) -> Option<usize> {
    let rest = b.get(i + 1..)?;
    for (n, &c) in rest.iter().take(MAX_BRACKET_IDENTIFIER).enumerate() {
        if c == b']' {
            return (n > 0).then_some(i + n + 2);
        }
        if !(is_word_char(c) || c == b' ') {
            return None;
        }
    }
    None
}

/// Longest dollar-quote tag recognised, in bytes.
const MAX_DOLLAR_TAG: usize = 64;

/// If a PostgreSQL dollar-quote tag (`$$` or `$tag$`) starts at `i`, its end.
pub(super) fn dollar_tag_end(b: &[u8], i: usize) -> Option<usize> {
    if at(b, i) != b'$' {
        return None;
    }
    let mut j = i + 1;
    if at(b, j) == b'$' {
        return Some(j + 1);
    }
    if !(at(b, j).is_ascii_alphabetic() || at(b, j) == b'_' || at(b, j) >= 0x80) {
        return None;
    }
    while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_' || b[j] >= 0x80) {
        j += 1;
        if j - i > MAX_DOLLAR_TAG {
            return None;
        }
    }
    (at(b, j) == b'$').then_some(j + 1)
}

/// End of a dollar-quoted string whose opening tag is `b[i..body]`.
pub(super) fn dollar_string_end(b: &[u8], i: usize, body: usize) -> usize {
    let tag = &b[i..body];
    let mut j = body;
    while j < b.len() {
        if b[j] == b'$' && b[j..].starts_with(tag) {
            return j + tag.len();
        }
        j += 1;
    }
    b.len()
}

/// End of a numeric literal starting at `i` (a digit, or `.` followed by a digit):
/// `42`, `3.14`, `.5`, `1e10`, `1.5E-3`, `0x1F`, `0b101`, `1_000`.
pub(super) fn number_end(b: &[u8], i: usize) -> usize {
    let hex = at(b, i) == b'0' && matches!(at(b, i + 1), b'x' | b'X');
    let mut j = i;
    while let Some(&c) = b.get(j) {
        let exponent_sign = || {
            !hex && matches!(c, b'+' | b'-')
                && matches!(at(b, j.wrapping_sub(1)), b'e' | b'E')
                && at(b, j + 1).is_ascii_digit()
        };
        // Letters, digits, `_` and `.`, or the sign of an exponent.
        if CLASS[usize::from(c)] & NUMBER_CHAR != 0 || exponent_sign() {
            j += 1;
        } else {
            break;
        }
    }
    j
}

/// If a placeholder starts at `i`, its end: `?`, `?1`, `$1`, `:name`, `:1`, `@name`,
/// `@@name`, `%s`, `%(name)s`.
pub(super) fn placeholder_end(b: &[u8], i: usize) -> Option<usize> {
    let next = at(b, i + 1);
    match at(b, i) {
        b'?' => Some(digits_end(b, i + 1)),
        b'$' if next.is_ascii_digit() => Some(digits_end(b, i + 1)),
        // Not `::` (a cast) and not after a value (`arr[1:2]` is a slice).
        b':' if next != b':'
            && !matches!(at(b, i.wrapping_sub(1)), b':' | b']' | b')')
            && !is_word_char(at(b, i.wrapping_sub(1))) =>
        {
            if next.is_ascii_digit() {
                Some(digits_end(b, i + 1))
            } else if is_word_start(next) {
                Some(word_end(b, i + 1))
            } else {
                None
            }
        }
        b'@' => {
            let start = if next == b'@' { i + 2 } else { i + 1 };
            is_word_start(at(b, start)).then(|| word_end(b, start))
        }
        b'%' => {
            if matches!(next, b's' | b'd' | b'b' | b'f') && !is_word_char(at(b, i + 2)) {
                Some(i + 2)
            } else if next == b'(' {
                let close = b.get(i + 2..)?.iter().position(|&c| c == b')')? + i + 2;
                let name = &b[i + 2..close];
                (name.iter().all(|&c| is_word_char(c)) && matches!(at(b, close + 1), b's' | b'd'))
                    .then_some(close + 2)
            } else {
                None
            }
        }
        _ => None,
    }
}

fn digits_end(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    i
}

/// A literal or placeholder that may stand as one element of an `IN (…)` list or a
/// `VALUES (…)` row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Element {
    /// A literal value: rendered as `?`.
    Literal,
    /// A bind placeholder: kept as written.
    Placeholder,
}

/// If the bytes at `i` form one list element (with an optional sign), its kind and end.
/// Double-quoted tokens count as string literals here: inside a value list they can only
/// be MySQL/SQLite strings.
pub(super) fn element_at(b: &[u8], i: usize) -> Option<(Element, usize)> {
    let mut j = i;
    if matches!(at(b, j), b'-' | b'+') {
        j = skip_trivia(b, j + 1);
        let c = at(b, j);
        if !(c.is_ascii_digit() || (c == b'.' && at(b, j + 1).is_ascii_digit())) {
            return None;
        }
    }
    let c = at(b, j);
    if c.is_ascii_digit() || (c == b'.' && at(b, j + 1).is_ascii_digit()) {
        return Some((Element::Literal, number_end(b, j)));
    }
    match c {
        b'\'' => return terminated(b, j, quoted_end(b, j, b'\'', true)),
        b'"' => return terminated(b, j, quoted_end(b, j, b'"', true)),
        _ => {}
    }
    if let Some(end) = placeholder_end(b, j) {
        return Some((Element::Placeholder, end));
    }
    if let Some(body) = dollar_tag_end(b, j) {
        let end = dollar_string_end(b, j, body);
        return (end > body && b[..end].ends_with(&b[j..body])).then_some((Element::Literal, end));
    }
    if is_word_start(c) {
        let end = word_end(b, j);
        if at(b, end) == b'\'' {
            // Prefixed string: E'…', N'…', X'…', B'…', _utf8mb4'…'
            return terminated(b, end, quoted_end(b, end, b'\'', true));
        }
        let word = &b[j..end];
        if ["null", "true", "false"]
            .iter()
            .any(|k| word.eq_ignore_ascii_case(k.as_bytes()))
        {
            return Some((Element::Literal, end));
        }
    }
    None
}

/// A string literal counts as an element only if it is closed.
fn terminated(b: &[u8], open: usize, end: usize) -> Option<(Element, usize)> {
    let quote = b[open];
    (end > open + 1 && at(b, end - 1) == quote).then_some((Element::Literal, end))
}

/// Scans a parenthesised list of elements starting at `b[i] == b'('`, calling `each` with
/// every element's kind and range. Returns the end (after `)`) and the element count, or
/// `None` if the list holds anything but elements or is not closed.
pub(super) fn element_list(
    b: &[u8],
    i: usize,
    mut each: impl FnMut(Element, usize, usize),
) -> Option<(usize, usize)> {
    if at(b, i) != b'(' {
        return None;
    }
    let mut j = i + 1;
    let mut count = 0;
    loop {
        j = skip_trivia(b, j);
        let start = j;
        let (kind, end) = element_at(b, j)?;
        each(kind, start, end);
        count += 1;
        j = skip_trivia(b, end);
        match at(b, j) {
            b',' => j += 1,
            b')' => return Some((j + 1, count)),
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scanners_stop_at_the_end() {
        for s in [
            "", "'", "'abc", "'a''", "\"", "`", "$$", "$a$ x", "/*", "/* /* */", "--", "0x", "1e",
            "1e-", "?", ":", "@", "%(", "%(a", "%(a)", "(", "(1,", "(1", "('a",
        ] {
            let b = s.as_bytes();
            for i in 0..b.len() {
                assert!(quoted_end(b, i, b'\'', true) <= b.len());
                assert!(block_comment_end(b, i) <= b.len());
                assert!(line_comment_end(b, i) <= b.len());
                assert!(number_end(b, i) <= b.len());
                assert!(skip_trivia(b, i) <= b.len());
                if let Some(e) = placeholder_end(b, i) {
                    assert!(e <= b.len());
                }
                if let Some(t) = dollar_tag_end(b, i) {
                    assert!(dollar_string_end(b, i, t) <= b.len());
                }
                let _ = element_list(b, i, |_, _, _| {});
            }
        }
    }

    #[test]
    fn elements() {
        let list = |s: &str| element_list(s.as_bytes(), 0, |_, _, _| {}).map(|(_, n)| n);
        assert_eq!(list("(1, 2, 3)"), Some(3));
        assert_eq!(list("( 'a' , -1.5e3,X'AB',NULL,$1,:x,?,%s )"), Some(8));
        assert_eq!(list("(1, a)"), None);
        assert_eq!(list("(SELECT 1)"), None);
        assert_eq!(list("('unterminated"), None);
        assert_eq!(list("(1, 2"), None);
    }
}
