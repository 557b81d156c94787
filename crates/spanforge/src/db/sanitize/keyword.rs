//! The SQL keywords the sanitizer and the summary care about (ASCII case-insensitive).

use super::lexer;

/// A keyword with a role in the summary, or `Other`/`None` for other words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kw {
    // Operations that may start a (sub)query anywhere.
    Select,
    // Data-changing operations: only at a statement or subquery start.
    Insert,
    Update,
    Delete,
    Merge,
    Replace,
    Upsert,
    // Operations recognised only as the first word of a statement.
    Statement,
    // Object-defining statements: the next object kind joins the operation name.
    Create,
    Alter,
    Drop,
    Truncate,
    // Procedure calls: the next name is a summary target.
    Call,
    // Kinds of schema objects after CREATE/ALTER/DROP.
    Table,
    ObjectKind,
    // Words that introduce a collection name.
    From,
    Join,
    Into,
    Using,
    // Words with a special meaning to the scanner or the state machine.
    With,
    Recursive,
    As,
    In,
    Values,
    Distinct,
    If,
    Not,
    Exists,
    Only,
    Lateral,
    Explain,
    Union,
    BooleanLiteral,
    // `LIKE`, `IS` …: a double-quoted token after it is a string value.
    Comparison,
    // Any other reserved word (ends an alias position).
    Other,
    // Not a keyword: an identifier.
    None,
}

/// Keywords by spelling (upper case).
pub(super) const KEYWORDS: &[(&str, Kw)] = &[
    ("AS", Kw::As),
    ("BY", Kw::Other),
    ("DO", Kw::Other),
    ("IF", Kw::If),
    ("IN", Kw::In),
    ("IS", Kw::Comparison),
    ("ON", Kw::Other),
    ("OR", Kw::Other),
    ("ALL", Kw::Other),
    ("AND", Kw::Other),
    ("ASC", Kw::Other),
    ("END", Kw::Statement),
    ("FOR", Kw::Other),
    ("NOT", Kw::Not),
    ("SET", Kw::Statement),
    ("USE", Kw::Statement),
    ("CALL", Kw::Call),
    ("COPY", Kw::Statement),
    ("DESC", Kw::Other),
    ("DROP", Kw::Drop),
    ("ELSE", Kw::Other),
    ("EXEC", Kw::Call),
    ("FROM", Kw::From),
    ("FULL", Kw::Other),
    ("GLOB", Kw::Comparison),
    ("ILIKE", Kw::Comparison),
    ("REGEXP", Kw::Comparison),
    ("INTO", Kw::Into),
    ("JOIN", Kw::Join),
    ("LEFT", Kw::Other),
    ("LIKE", Kw::Comparison),
    ("LOCK", Kw::Statement),
    ("NULL", Kw::Other),
    ("ONLY", Kw::Only),
    ("OVER", Kw::Other),
    ("ROLE", Kw::ObjectKind),
    ("SHOW", Kw::Statement),
    ("THEN", Kw::Other),
    ("TRUE", Kw::BooleanLiteral),
    ("TYPE", Kw::ObjectKind),
    ("USER", Kw::ObjectKind),
    ("VIEW", Kw::ObjectKind),
    ("WHEN", Kw::Other),
    ("WITH", Kw::With),
    ("ALTER", Kw::Alter),
    ("BEGIN", Kw::Statement),
    ("CHECK", Kw::Other),
    ("CROSS", Kw::Other),
    ("FALSE", Kw::BooleanLiteral),
    ("FETCH", Kw::Other),
    ("GRANT", Kw::Statement),
    ("GROUP", Kw::Other),
    ("INDEX", Kw::ObjectKind),
    ("INNER", Kw::Other),
    ("LIMIT", Kw::Other),
    ("MERGE", Kw::Merge),
    ("ORDER", Kw::Other),
    ("OUTER", Kw::Other),
    ("RIGHT", Kw::Other),
    ("TABLE", Kw::Table),
    ("UNION", Kw::Union),
    ("USING", Kw::Using),
    ("VALUE", Kw::Values),
    ("WHERE", Kw::Other),
    ("WHILE", Kw::Other),
    ("ATTACH", Kw::Statement),
    ("COMMIT", Kw::Statement),
    ("CREATE", Kw::Create),
    ("DELETE", Kw::Delete),
    ("DETACH", Kw::Statement),
    ("ESCAPE", Kw::Other),
    ("EXCEPT", Kw::Union),
    ("EXISTS", Kw::Exists),
    ("HAVING", Kw::Other),
    ("INSERT", Kw::Insert),
    ("LISTEN", Kw::Statement),
    ("NOTIFY", Kw::Statement),
    ("OFFSET", Kw::Other),
    ("PRAGMA", Kw::Statement),
    ("REVOKE", Kw::Statement),
    ("SCHEMA", Kw::ObjectKind),
    ("SELECT", Kw::Select),
    ("UPDATE", Kw::Update),
    ("UPSERT", Kw::Upsert),
    ("VACUUM", Kw::Statement),
    ("VALUES", Kw::Values),
    ("WINDOW", Kw::Other),
    ("ANALYZE", Kw::Statement),
    ("BETWEEN", Kw::Other),
    ("COLLATE", Kw::Other),
    ("DECLARE", Kw::Statement),
    ("DEFAULT", Kw::Other),
    ("EXECUTE", Kw::Call),
    ("EXPLAIN", Kw::Explain),
    ("INDEXED", Kw::Other),
    ("LATERAL", Kw::Lateral),
    ("NATURAL", Kw::Other),
    ("PREPARE", Kw::Statement),
    ("REINDEX", Kw::Statement),
    ("RELEASE", Kw::Statement),
    ("REPLACE", Kw::Replace),
    ("TRIGGER", Kw::ObjectKind),
    ("CONFLICT", Kw::Other),
    ("DATABASE", Kw::ObjectKind),
    ("DISTINCT", Kw::Distinct),
    ("FUNCTION", Kw::ObjectKind),
    ("ROLLBACK", Kw::Statement),
    ("SEQUENCE", Kw::ObjectKind),
    ("TRUNCATE", Kw::Truncate),
    ("EXTENSION", Kw::ObjectKind),
    ("INTERSECT", Kw::Union),
    ("PARTITION", Kw::Other),
    ("PROCEDURE", Kw::ObjectKind),
    ("RECURSIVE", Kw::Recursive),
    ("RETURNING", Kw::Other),
    ("SAVEPOINT", Kw::Statement),
    ("TABLESAMPLE", Kw::Other),
    ("STRAIGHT_JOIN", Kw::Join),
];

/// Longest keyword, in bytes (`STRAIGHT_JOIN`). Longer words are never keywords.
const MAX_LEN: usize = {
    let mut max = 0;
    let mut i = 0;
    while i < KEYWORDS.len() {
        if KEYWORDS[i].0.len() > max {
            max = KEYWORDS[i].0.len();
        }
        i += 1;
    }
    // The packed form keeps the length in the 16th byte.
    assert!(max < 16);
    max
};

// Lookup. A word is folded to lower case and packed into two `u64`s (zero-padded, with
// its length in the top byte of the second), so that comparing it with a keyword is two
// integer comparisons instead of a byte loop with per-byte case folding. A multiplicative
// hash of the packed word picks one slot of a table built at compile time; the multiplier
// is chosen so that no two keywords share a slot, which makes the hash perfect: one probe
// decides, and no first-letter pre-filter is needed.
//
// Folding sets bit 5 of every byte (`| 0x20`). For the bytes keywords are made of, letters
// and `_`, that is exact: two bytes fold alike exactly when they are the same letter in
// either case, and only `_` and DEL fold to DEL, which is not a word character. So for
// words made of word characters (all the scanner produces), two words fold alike exactly
// when they are equal ignoring ASCII case.

/// Slots of the keyword hash table (a power of two; ~12% full).
const SLOTS: usize = 1024;
/// Index of [`KEYS`] and [`KINDS`] that matches no word, for empty slots.
const EMPTY: u8 = u8::MAX;
/// Multiplier of the hash. Any odd constant works as long as the keywords land in distinct
/// slots; the build fails (see [`TABLE`]) if a new keyword collides, and then another
/// constant must be picked.
const MULTIPLIER: u64 = 0x24e4_e25a_15fc_899f;

/// A word as two little-endian `u64`s: bytes 0..8, and bytes 8..15 with the length in the
/// top byte. Bytes past the word are zero.
type Packed = [u64; 2];

/// Sets bit 5 of every byte (see above).
const FOLD: u64 = u64::MAX / 0xFF * 0x20;

/// The packed form of the word `b[start..start + len]`, `len` in `2..=MAX_LEN`.
#[inline]
fn pack(b: &[u8], start: usize, len: usize) -> Packed {
    let lo = (lexer::load8(b, start) | FOLD) & low_bytes(len.min(8));
    let hi = if len > 8 {
        (lexer::load8(b, start + 8) | FOLD) & low_bytes(len - 8)
    } else {
        0
    };
    [lo, hi | (len as u64) << 56]
}

/// A mask of the `n` (1 to 8) low bytes.
#[inline]
fn low_bytes(n: usize) -> u64 {
    u64::MAX >> (64 - 8 * n)
}

/// [`pack`] for the keyword table, at compile time.
const fn pack_keyword(word: &[u8]) -> Packed {
    let mut v = [0u64; 2];
    let mut i = 0;
    while i < word.len() {
        v[i / 8] |= ((word[i] | 0x20) as u64) << (8 * (i % 8));
        i += 1;
    }
    [v[0], v[1] | (word.len() as u64) << 56]
}

/// Slot of a packed word: its first eight bytes and its length, multiplied.
const fn hash(packed: Packed) -> usize {
    let v = packed[0] ^ packed[1] >> 56;
    (v.wrapping_mul(MULTIPLIER) >> (64 - SLOTS.trailing_zeros())) as usize
}

/// The packed keywords in the order of [`KEYWORDS`], then entries that match no word.
const KEYS: [Packed; 256] = {
    assert!(KEYWORDS.len() < EMPTY as usize);
    let mut keys = [[0; 2]; 256];
    let mut i = 0;
    while i < KEYWORDS.len() {
        keys[i] = pack_keyword(KEYWORDS[i].0.as_bytes());
        i += 1;
    }
    keys
};

/// The kinds of [`KEYS`].
const KINDS: [Kw; 256] = {
    let mut kinds = [Kw::None; 256];
    let mut i = 0;
    while i < KEYWORDS.len() {
        kinds[i] = KEYWORDS[i].1;
        i += 1;
    }
    kinds
};

/// Indexes into [`KEYS`] by slot, built at compile time.
const TABLE: [u8; SLOTS] = {
    let mut table = [EMPTY; SLOTS];
    let mut i = 0;
    while i < KEYWORDS.len() {
        let slot = hash(KEYS[i]);
        assert!(
            table[slot] == EMPTY,
            "two keywords share a slot: pick another MULTIPLIER"
        );
        table[slot] = i as u8;
        i += 1;
    }
    table
};

/// Classifies a word (ASCII case-insensitive).
#[cfg(test)]
pub(super) fn classify(word: &[u8]) -> Kw {
    classify_at(word, 0, word.len())
}

/// Classifies the word `b[start..end]` (ASCII case-insensitive), which must consist of
/// word characters (see above). Taking the whole input lets [`pack`] load the word with
/// one 8-byte read.
#[inline]
pub(super) fn classify_at(b: &[u8], start: usize, end: usize) -> Kw {
    let len = end.wrapping_sub(start);
    if !(2..=MAX_LEN).contains(&len) {
        return Kw::None;
    }
    let packed = pack(b, start, len);
    // Every `u8` is a valid index of both tables: no bounds checks.
    let index = usize::from(TABLE[hash(packed)]);
    if KEYS[index] == packed {
        KINDS[index]
    } else {
        Kw::None
    }
}

impl Kw {
    /// `INSERT`, `UPDATE`, `DELETE`, `MERGE`, `REPLACE`, `UPSERT`.
    pub(super) fn is_data_change(self) -> bool {
        matches!(
            self,
            Kw::Insert | Kw::Update | Kw::Delete | Kw::Merge | Kw::Replace | Kw::Upsert
        )
    }

    /// A keyword (as opposed to an identifier).
    pub(super) fn is_keyword(self) -> bool {
        self != Kw::None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_keyword_is_found_in_any_case() {
        for &(text, kw) in KEYWORDS {
            assert!(text.len() <= MAX_LEN);
            assert_eq!(classify(text.as_bytes()), kw, "{text}");
            assert_eq!(classify(text.to_ascii_lowercase().as_bytes()), kw, "{text}");
        }
        for word in ["users", "table1", "x", "", "SELECTS", "ユーザー", "select_"] {
            assert_eq!(classify(word.as_bytes()), Kw::None, "{word}");
        }
    }

    #[test]
    fn no_duplicate_keywords() {
        for (i, (a, _)) in KEYWORDS.iter().enumerate() {
            assert!(KEYWORDS[..i].iter().all(|(b, _)| a != b), "{a}");
        }
    }
}
