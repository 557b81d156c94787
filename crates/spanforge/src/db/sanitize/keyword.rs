//! The SQL keywords the sanitizer and the summary care about (ASCII case-insensitive).

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
const KEYWORDS: &[(&str, Kw)] = &[
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

/// Longest keyword, in bytes.
const MAX_LEN: usize = 16;

/// Slots of the keyword hash table (a power of two; ~11% full, so ~1 probe per lookup).
const SLOTS: usize = 1024;
const EMPTY: u8 = u8::MAX;
/// Multiplier of the multiplicative hash (any odd constant works; this one spreads the
/// current keywords without a collision).
const MULTIPLIER: u64 = 0x73f7_78aa_f6fa_5db9;

/// Hash of a word: its first eight bytes upper-cased (`& 0xDF`), mixed with its length.
const fn hash(word: &[u8]) -> usize {
    let mut v = 0u64;
    let mut i = 0;
    while i < word.len() && i < 8 {
        v |= ((word[i] & 0xDF) as u64) << (8 * i);
        i += 1;
    }
    ((v ^ word.len() as u64).wrapping_mul(MULTIPLIER) >> (64 - SLOTS.trailing_zeros())) as usize
}

/// Open-addressing table of indexes into [`KEYWORDS`], built at compile time.
const TABLE: [u8; SLOTS] = {
    assert!(KEYWORDS.len() < EMPTY as usize);
    let mut table = [EMPTY; SLOTS];
    let mut i = 0;
    while i < KEYWORDS.len() {
        let mut slot = hash(KEYWORDS[i].0.as_bytes());
        while table[slot] != EMPTY {
            slot = (slot + 1) % SLOTS;
        }
        table[slot] = i as u8;
        i += 1;
    }
    table
};

/// For each length, the set of first letters keywords of that length start with: most
/// identifiers are rejected by this test alone.
const FIRST_LETTERS: [u32; MAX_LEN + 1] = {
    let mut sets = [0u32; MAX_LEN + 1];
    let mut i = 0;
    while i < KEYWORDS.len() {
        let word = KEYWORDS[i].0.as_bytes();
        sets[word.len()] |= 1 << (word[0] - b'A');
        i += 1;
    }
    sets
};

/// Classifies a word (ASCII case-insensitive).
pub(super) fn classify(word: &[u8]) -> Kw {
    let (Some(&first), true) = (word.first(), (2..=MAX_LEN).contains(&word.len())) else {
        return Kw::None;
    };
    let first = first.to_ascii_uppercase();
    if !first.is_ascii_uppercase() || FIRST_LETTERS[word.len()] & (1 << (first - b'A')) == 0 {
        return Kw::None;
    }
    let mut slot = hash(word);
    loop {
        let index = TABLE[slot];
        let Some(&(text, kw)) = KEYWORDS.get(usize::from(index)) else {
            return Kw::None;
        };
        if word.eq_ignore_ascii_case(text.as_bytes()) {
            return kw;
        }
        slot = (slot + 1) % SLOTS;
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
