//! Builds `db.query.summary`, the operation and the collection from the token stream,
//! following "Generating a summary of the query" of the database semantic conventions
//! (v1.44): `{operation} {target} {operation} {target} …` in query order, as written.

use super::keyword::Kw;

/// The summary is cut to this many bytes, at a token boundary.
pub(super) const MAX_SUMMARY_LEN: usize = 255;

/// Parenthesis nesting tracked by the state machine (deeper levels are still scanned).
const MAX_DEPTH: usize = 32;

/// CTE names remembered per statement, so they are not reported as collections.
const MAX_CTES: usize = 8;

/// Where a target (collection or other object name) was introduced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    From,
    Join,
    Into,
    Update,
    Using,
    /// After `CREATE/ALTER/DROP/TRUNCATE TABLE`.
    Table,
    /// Another object (index, view, procedure …): in the summary, not a collection.
    Object,
}

impl Target {
    fn is_collection(self) -> bool {
        self != Target::Object
    }

    fn is_from_list(self) -> bool {
        self == Target::From
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Nothing,
    /// The next name is a target.
    Target(Target),
    /// A target was just seen: an alias, `.part`, `,` or `(` may follow.
    AfterTarget(Target),
    /// `AS` after a target: the next word is its alias.
    Alias(Target),
    /// Object kind after CREATE/ALTER/DROP/TRUNCATE (modifiers skipped).
    ObjectKind {
        verb: Kw,
        skipped: u8,
    },
    /// A procedure name after CALL/EXEC.
    ProcedureName,
    /// A CTE name in a WITH clause.
    CteName,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Prev {
    Start,
    OpenParen,
    CloseParen,
    Comma,
    Word(Kw),
    Other,
}

/// Two bytes without padding, so that initialising the frame stack takes a few wide
/// stores.
#[derive(Debug, Clone, Copy)]
struct Frame {
    /// State to restore when the parenthesis closes: `AfterTarget(kind)`, or `Nothing`.
    restore: Option<Target>,
    /// The outer frame's operation.
    op: Option<Kw>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Collection {
    None,
    One(usize, usize),
    Many,
}

/// A target seen but not yet complete (`schema` may continue as `schema.table`).
#[derive(Debug, Clone, Copy)]
struct Pending {
    start: usize,
    end: usize,
    kind: Target,
    /// The `.` right after it, when one was seen.
    dot: Option<usize>,
}

/// An operation as written: the verb and, for DDL, the object kind (`CREATE` `TABLE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Op {
    verb: (usize, usize),
    kind: Option<(usize, usize)>,
}

/// One statement's results.
#[derive(Debug, Default)]
struct Done {
    summary: String,
    operation: Option<String>,
    collection: Option<(usize, usize)>,
}

/// The per-statement state machine.
#[derive(Debug)]
struct Statement {
    summary: String,
    summary_full: bool,
    /// Operation at depth 0 (falls back to the first operation).
    top_op: Option<Op>,
    first_op: Option<Op>,
    /// Operations seen so far.
    ops: usize,
    /// Appending the object kind (`TABLE`) to the top operation is pending.
    building_ddl: bool,
    first_kw: Option<Kw>,
    tokens: usize,
    depth: usize,
    frames: [Frame; MAX_DEPTH],
    /// The operation of the current parenthesis level.
    op: Option<Kw>,
    expect: Expect,
    prev: Prev,
    pending: Option<Pending>,
    collection: Collection,
    in_with: bool,
    ctes: [(usize, usize); MAX_CTES],
    cte_count: usize,
}

impl Statement {
    /// Nothing expected and nothing pending, past the first word: words that are not
    /// operations or target markers change nothing.
    #[inline]
    fn idle(&self) -> bool {
        self.expect == Expect::Nothing && self.pending.is_none() && self.first_kw.is_some()
    }

    fn new() -> Self {
        Self {
            summary: String::new(),
            summary_full: false,
            top_op: None,
            first_op: None,
            ops: 0,
            building_ddl: false,
            first_kw: None,
            tokens: 0,
            depth: 0,
            frames: [Frame {
                restore: None,
                op: None,
            }; MAX_DEPTH],
            op: None,
            expect: Expect::Nothing,
            prev: Prev::Start,
            pending: None,
            collection: Collection::None,
            in_with: false,
            ctes: [(0, 0); MAX_CTES],
            cte_count: 0,
        }
    }
}

/// Whether [`Summarizer::keyword`] does nothing for `kw` past the first word of a
/// statement: everything but operations and the words that introduce targets. (Checked
/// against the full state machine by a unit test.)
fn ignored_after_first_word(kw: Kw) -> bool {
    !matches!(
        kw,
        Kw::Select
            | Kw::Insert
            | Kw::Update
            | Kw::Delete
            | Kw::Merge
            | Kw::Replace
            | Kw::Upsert
            | Kw::Recursive
            | Kw::From
            | Kw::Join
            | Kw::Into
            | Kw::Using
    )
}

/// Collects the summary over all statements of a query.
#[derive(Debug)]
pub(super) struct Summarizer<'a> {
    sql: &'a str,
    stmt: Statement,
    statements: usize,
    first: Done,
    same_summary: bool,
    same_operation: bool,
    same_collection: bool,
}

/// The final results.
#[derive(Debug)]
pub(super) struct Summary {
    pub(super) summary: String,
    pub(super) operation: Option<String>,
    pub(super) collection: Option<String>,
    pub(super) statements: usize,
}

impl<'a> Summarizer<'a> {
    pub(super) fn new(sql: &'a str) -> Self {
        Self {
            sql,
            stmt: Statement::new(),
            statements: 0,
            first: Done::default(),
            same_summary: true,
            same_operation: true,
            same_collection: true,
        }
    }

    fn text(&self, start: usize, end: usize) -> &'a str {
        self.sql.get(start..end).unwrap_or("")
    }

    /// An unquoted word at `start..end`; `call` is true when `(` follows it.
    #[inline]
    pub(super) fn word(&mut self, start: usize, end: usize, kw: Kw, call: bool) {
        // Most words are column names and keywords such as `AND` met while nothing is
        // expected; they only count as a token. (The first word of a statement is always
        // handled in full.)
        if ignored_after_first_word(kw) && self.stmt.idle() {
            self.stmt.tokens += 1;
            self.stmt.prev = Prev::Word(kw);
            return;
        }
        self.any_word(start, end, kw, call);
    }

    fn any_word(&mut self, start: usize, end: usize, kw: Kw, call: bool) {
        self.stmt.tokens += 1;
        if self.continue_dotted(start, end) {
            return;
        }
        self.commit_pending();
        let first_word = self.stmt.first_kw.is_none();
        if first_word {
            self.stmt.first_kw = Some(kw);
        }
        match self.stmt.expect {
            Expect::Target(kind) => match kw {
                Kw::Only | Kw::Lateral | Kw::If | Kw::Not | Kw::Exists => return,
                Kw::Select | Kw::Values | Kw::With | Kw::Union => {}
                _ => {
                    self.target(start, end, kind);
                    self.stmt.prev = Prev::Word(Kw::None);
                    return;
                }
            },
            Expect::AfterTarget(kind) if kw == Kw::As => {
                self.stmt.expect = Expect::Alias(kind);
                self.stmt.prev = Prev::Word(kw);
                return;
            }
            Expect::AfterTarget(kind) | Expect::Alias(kind) if !kw.is_keyword() => {
                // An alias: `FROM users u`, `FROM users AS u`.
                self.stmt.expect = Expect::AfterTarget(kind);
                self.stmt.prev = Prev::Word(kw);
                return;
            }
            Expect::ObjectKind { verb, skipped } => {
                match kw {
                    Kw::Table => {
                        self.append_to_op(start, end);
                        self.stmt.expect = Expect::Target(Target::Table);
                    }
                    Kw::ObjectKind => {
                        self.append_to_op(start, end);
                        self.stmt.expect = Expect::Target(Target::Object);
                    }
                    _ if verb == Kw::Truncate && !kw.is_keyword() => {
                        // `TRUNCATE users`
                        self.stmt.building_ddl = false;
                        self.target(start, end, Target::Table);
                    }
                    _ if skipped < 4 => {
                        // Modifiers: OR REPLACE, TEMP, UNIQUE, VIRTUAL, MATERIALIZED …
                        self.stmt.expect = Expect::ObjectKind {
                            verb,
                            skipped: skipped + 1,
                        };
                    }
                    _ => {
                        self.stmt.building_ddl = false;
                        self.stmt.expect = Expect::Nothing;
                    }
                }
                self.stmt.prev = Prev::Word(kw);
                return;
            }
            Expect::ProcedureName => {
                self.target(start, end, Target::Object);
                self.stmt.expect = Expect::Nothing;
                self.stmt.prev = Prev::Word(Kw::None);
                return;
            }
            Expect::CteName if !kw.is_keyword() => {
                if self.stmt.cte_count < MAX_CTES {
                    self.stmt.ctes[self.stmt.cte_count] = (start, end);
                    self.stmt.cte_count += 1;
                }
                self.stmt.expect = Expect::Nothing;
                self.stmt.prev = Prev::Word(Kw::None);
                return;
            }
            _ => {}
        }
        self.stmt.expect = Expect::Nothing;
        self.keyword(start, end, kw, call, first_word);
        self.stmt.prev = Prev::Word(kw);
    }

    /// See [`ignored_after_first_word`], which must stay in step with this function.
    fn keyword(&mut self, start: usize, end: usize, kw: Kw, call: bool, first_word: bool) {
        let prev = self.stmt.prev;
        match kw {
            Kw::None => {}
            Kw::Select => self.operation(start, end, kw),
            Kw::Insert | Kw::Update | Kw::Delete | Kw::Merge | Kw::Replace | Kw::Upsert
                if !call && self.at_statement_start() =>
            {
                self.operation(start, end, kw);
                if kw == Kw::Update {
                    self.stmt.expect = Expect::Target(Target::Update);
                }
            }
            Kw::Create | Kw::Alter | Kw::Drop | Kw::Truncate if first_word => {
                self.operation(start, end, kw);
                self.stmt.building_ddl = true;
                self.stmt.expect = Expect::ObjectKind {
                    verb: kw,
                    skipped: 0,
                };
            }
            Kw::Call if first_word => {
                self.operation(start, end, kw);
                self.stmt.expect = Expect::ProcedureName;
            }
            Kw::Statement | Kw::Explain if first_word => self.operation(start, end, kw),
            Kw::With if first_word => {
                self.stmt.in_with = true;
                self.stmt.expect = Expect::CteName;
            }
            Kw::Recursive if self.stmt.in_with => self.stmt.expect = Expect::CteName,
            Kw::From if self.stmt.op.is_some() && prev != Prev::Word(Kw::Distinct) => {
                self.stmt.expect = Expect::Target(Target::From);
            }
            Kw::Join if self.stmt.op.is_some() => self.stmt.expect = Expect::Target(Target::Join),
            Kw::Into
                if matches!(
                    self.stmt.op,
                    Some(Kw::Insert | Kw::Replace | Kw::Upsert | Kw::Merge)
                ) =>
            {
                self.stmt.expect = Expect::Target(Target::Into);
            }
            Kw::Using if matches!(self.stmt.op, Some(Kw::Delete | Kw::Merge)) => {
                self.stmt.expect = Expect::Target(Target::Using);
            }
            _ => {}
        }
    }

    /// Whether a data-changing operation may start here: at the start of a statement or
    /// subquery, or right after `EXPLAIN [ANALYZE]`.
    fn at_statement_start(&self) -> bool {
        matches!(
            self.stmt.prev,
            Prev::Start | Prev::OpenParen | Prev::CloseParen
        ) || (self.stmt.first_kw == Some(Kw::Explain) && self.stmt.ops == 1)
    }

    /// A quoted identifier (`"t"`, `` `t` ``, `[t]`), or a string literal standing where a
    /// name is expected (`FROM 'artists'` in some dialects).
    pub(super) fn quoted(&mut self, start: usize, end: usize, literal: bool) {
        self.stmt.tokens += 1;
        if !literal && self.continue_dotted(start, end) {
            return;
        }
        self.commit_pending();
        match self.stmt.expect {
            Expect::Target(kind) => self.target(start, end, kind),
            Expect::ProcedureName if !literal => {
                self.target(start, end, Target::Object);
                self.stmt.expect = Expect::Nothing;
            }
            Expect::AfterTarget(kind) | Expect::Alias(kind) if !literal => {
                self.stmt.expect = Expect::AfterTarget(kind);
            }
            Expect::CteName if !literal => {
                if self.stmt.cte_count < MAX_CTES {
                    self.stmt.ctes[self.stmt.cte_count] = (start, end);
                    self.stmt.cte_count += 1;
                }
                self.stmt.expect = Expect::Nothing;
            }
            _ => self.stmt.expect = Expect::Nothing,
        }
        self.stmt.prev = Prev::Word(Kw::None);
    }

    /// A literal or placeholder (already rendered in the text).
    #[inline]
    pub(super) fn value(&mut self) {
        self.stmt.tokens += 1;
        self.commit_pending();
        self.stmt.expect = Expect::Nothing;
        self.stmt.prev = Prev::Other;
    }

    /// A punctuation byte at `pos`.
    #[inline]
    pub(super) fn punct(&mut self, c: u8, pos: usize) {
        // While no target is pending, operators and the `.` of column references only end
        // whatever was expected, and a comma in a select list or argument list (nothing
        // expected, not between CTEs) only counts.
        if self.stmt.pending.is_none() {
            match c {
                b'(' | b')' | b';' => {}
                b',' => {
                    if self.stmt.expect == Expect::Nothing
                        && !(self.stmt.in_with && self.stmt.depth == 0)
                    {
                        self.stmt.tokens += 1;
                        self.stmt.prev = Prev::Comma;
                        return;
                    }
                }
                _ => {
                    self.stmt.tokens += 1;
                    self.stmt.expect = Expect::Nothing;
                    self.stmt.prev = Prev::Other;
                    return;
                }
            }
        }
        self.any_punct(c, pos);
    }

    fn any_punct(&mut self, c: u8, pos: usize) {
        if c == b';' && self.stmt.depth == 0 {
            self.end_statement();
            self.stmt = Statement::new();
            return;
        }
        self.stmt.tokens += 1;
        if c == b'.'
            && let Some(p) = &mut self.stmt.pending
            && p.dot.is_none()
            && p.end == pos
        {
            p.dot = Some(pos);
            return;
        }
        if c == b'('
            && let Some(p) = self.stmt.pending
            && matches!(p.kind, Target::From | Target::Join)
        {
            // `FROM json_each(…)`: a table function, not a collection.
            self.stmt.pending = None;
        }
        self.commit_pending();
        match c {
            b'(' => {
                let restore = match self.stmt.expect {
                    Expect::Target(kind) | Expect::AfterTarget(kind) | Expect::Alias(kind) => {
                        Some(kind)
                    }
                    _ => None,
                };
                if self.stmt.depth < MAX_DEPTH {
                    self.stmt.frames[self.stmt.depth] = Frame {
                        restore,
                        op: self.stmt.op,
                    };
                }
                self.stmt.depth += 1;
                self.stmt.op = None;
                self.stmt.expect = Expect::Nothing;
                self.stmt.prev = Prev::OpenParen;
            }
            b')' => {
                if self.stmt.depth > 0 {
                    self.stmt.depth -= 1;
                    if self.stmt.depth < MAX_DEPTH {
                        let frame = self.stmt.frames[self.stmt.depth];
                        self.stmt.expect =
                            frame.restore.map_or(Expect::Nothing, Expect::AfterTarget);
                        self.stmt.op = frame.op;
                    } else {
                        self.stmt.expect = Expect::Nothing;
                    }
                } else {
                    self.stmt.expect = Expect::Nothing;
                }
                self.stmt.prev = Prev::CloseParen;
            }
            b',' => {
                self.stmt.expect = match self.stmt.expect {
                    Expect::AfterTarget(kind) | Expect::Alias(kind) if kind.is_from_list() => {
                        Expect::Target(kind)
                    }
                    _ if self.stmt.in_with && self.stmt.depth == 0 => Expect::CteName,
                    _ => Expect::Nothing,
                };
                self.stmt.prev = Prev::Comma;
            }
            _ => {
                self.stmt.expect = Expect::Nothing;
                self.stmt.prev = Prev::Other;
            }
        }
    }

    /// The next part of `schema.table` right after the `.`.
    fn continue_dotted(&mut self, start: usize, end: usize) -> bool {
        if let Some(p) = &mut self.stmt.pending
            && p.dot.is_some_and(|d| d + 1 == start)
        {
            p.end = end;
            p.dot = None;
            return true;
        }
        false
    }

    fn target(&mut self, start: usize, end: usize, kind: Target) {
        self.stmt.pending = Some(Pending {
            start,
            end,
            kind,
            dot: None,
        });
        self.stmt.expect = Expect::AfterTarget(kind);
    }

    #[inline]
    fn commit_pending(&mut self) {
        if let Some(p) = self.stmt.pending.take() {
            self.commit(p);
        }
    }

    fn commit(&mut self, p: Pending) {
        let name = self.text(p.start, p.end);
        let is_cte = self.stmt.ctes[..self.stmt.cte_count]
            .iter()
            .any(|&(s, e)| self.text(s, e).eq_ignore_ascii_case(name));
        if is_cte {
            return;
        }
        self.append(name);
        if p.kind.is_collection() {
            self.stmt.collection = match self.stmt.collection {
                Collection::None => Collection::One(p.start, p.end),
                Collection::One(s, e) if self.text(s, e) == name => Collection::One(s, e),
                _ => Collection::Many,
            };
        }
    }

    fn operation(&mut self, start: usize, end: usize, kw: Kw) {
        self.append(self.text(start, end));
        let op = Op {
            verb: (start, end),
            kind: None,
        };
        if self.stmt.first_op.is_none() {
            self.stmt.first_op = Some(op);
        }
        if self.stmt.depth == 0 && self.stmt.top_op.is_none() {
            self.stmt.top_op = Some(op);
        }
        if self.stmt.depth == 0 {
            self.stmt.in_with = false;
        }
        self.stmt.ops += 1;
        self.stmt.op = Some(kw);
    }

    /// `TABLE` after `CREATE`: part of the operation name.
    fn append_to_op(&mut self, start: usize, end: usize) {
        self.append(self.text(start, end));
        if self.stmt.building_ddl {
            for op in [&mut self.stmt.top_op, &mut self.stmt.first_op]
                .into_iter()
                .flatten()
            {
                op.kind = Some((start, end));
            }
            self.stmt.building_ddl = false;
        }
    }

    fn append(&mut self, text: &str) {
        let summary = &mut self.stmt.summary;
        if self.stmt.summary_full || text.is_empty() {
            return;
        }
        if summary.capacity() == 0 {
            // Room for a typical summary, allocated directly (not through `reserve`).
            *summary = String::with_capacity(64);
        }
        let needed = text.len() + usize::from(!summary.is_empty());
        if summary.len() + needed > MAX_SUMMARY_LEN {
            self.stmt.summary_full = true;
            return;
        }
        if !summary.is_empty() {
            summary.push(' ');
        }
        summary.push_str(text);
    }

    /// Records the results of the current statement. The statement's state is left as is
    /// (the caller resets it when another statement follows).
    fn end_statement(&mut self) {
        self.commit_pending();
        if self.stmt.tokens == 0 {
            return;
        }
        let done = Done {
            summary: std::mem::take(&mut self.stmt.summary),
            operation: (self.stmt.top_op.or(self.stmt.first_op)).map(|op| self.op_text(op)),
            collection: match self.stmt.collection {
                Collection::One(s, e) => Some((s, e)),
                _ => None,
            },
        };
        if self.statements == 0 {
            self.first = done;
        } else {
            self.same_summary &= !done.summary.is_empty() && done.summary == self.first.summary;
            self.same_operation &=
                done.operation.is_some() && done.operation == self.first.operation;
            self.same_collection &= match (done.collection, self.first.collection) {
                (Some((a, b)), Some((c, d))) => self.text(a, b) == self.text(c, d),
                _ => false,
            };
        }
        self.statements += 1;
    }

    fn op_text(&self, op: Op) -> String {
        let verb = self.text(op.verb.0, op.verb.1);
        match op.kind {
            Some((s, e)) => format!("{verb} {}", self.text(s, e)),
            None => verb.to_owned(),
        }
    }

    pub(super) fn finish(&mut self) -> Summary {
        self.end_statement();
        let first = std::mem::take(&mut self.first);
        let collection = first
            .collection
            .filter(|_| self.same_collection)
            .map(|(s, e)| self.text(s, e).to_owned());
        if self.statements <= 1 {
            return Summary {
                summary: first.summary,
                operation: first.operation,
                collection,
                statements: self.statements,
            };
        }
        // Several statements in one call: the batch rules of the conventions.
        let summary = if self.same_summary {
            let mut batch = format!("BATCH {}", first.summary);
            if batch.len() > MAX_SUMMARY_LEN {
                // Cut at the last space that keeps the summary within the limit.
                let cut = batch
                    .char_indices()
                    .filter(|&(i, c)| c == ' ' && i <= MAX_SUMMARY_LEN)
                    .map(|(i, _)| i)
                    .next_back()
                    .unwrap_or(5);
                batch.truncate(cut);
            }
            batch
        } else {
            "BATCH".to_owned()
        };
        let operation = match first.operation {
            Some(op) if self.same_operation => format!("BATCH {op}"),
            _ => "BATCH".to_owned(),
        };
        Summary {
            summary,
            operation: Some(operation),
            collection,
            statements: self.statements,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::keyword::{self, KEYWORDS};
    use super::*;

    /// Feeds space-separated tokens of `sql` (punctuation as single bytes).
    fn feed(summary: &mut Summarizer<'_>, sql: &str) {
        let mut pos = 0;
        for token in sql.split(' ') {
            match token.as_bytes() {
                [] => {}
                &[c] if !c.is_ascii_alphanumeric() => summary.punct(c, pos),
                word => summary.word(pos, pos + word.len(), keyword::classify(word), false),
            }
            pos += token.len() + 1;
        }
    }

    /// The fast paths of `word` and `punct` leave the state machine exactly where the
    /// full handling does, for every keyword and punctuation byte, in many states.
    #[test]
    fn fast_paths_agree_with_the_full_state_machine() {
        let prefixes = [
            "",
            "SELECT",
            "SELECT a",
            "SELECT a , b",
            "SELECT a FROM t",
            "SELECT a FROM t u",
            "SELECT a FROM t AS",
            "SELECT a FROM t WHERE x =",
            "SELECT a FROM ( SELECT b",
            "SELECT a FROM t . u",
            "SELECT a FROM t ,",
            "WITH c AS ( SELECT a FROM t )",
            "WITH c AS ( SELECT a FROM t ) ,",
            "WITH RECURSIVE c",
            "INSERT INTO t ( a , b )",
            "INSERT INTO t VALUES",
            "UPDATE t SET a =",
            "DELETE FROM t USING",
            "CREATE TABLE",
            "CREATE TEMP",
            "CALL p",
            "EXPLAIN",
            "EXPLAIN ANALYZE",
            "SELECT DISTINCT",
            "SELECT a ; SELECT",
            "( ( (",
            ")",
        ];
        let words: Vec<&str> = KEYWORDS
            .iter()
            .map(|&(text, _)| text)
            .chain(["name", "x"])
            .collect();
        let sql = "x".repeat(200);
        for prefix in prefixes {
            let mut before = Summarizer::new(&sql);
            feed(&mut before, prefix);
            let at = prefix.len() + 1;
            for word in &words {
                let kw = keyword::classify(word.as_bytes());
                for call in [false, true] {
                    let (mut fast, mut full) = (clone(&before), clone(&before));
                    fast.word(at, at + word.len(), kw, call);
                    full.any_word(at, at + word.len(), kw, call);
                    assert_eq!(format!("{fast:?}"), format!("{full:?}"), "{prefix} {word}");
                }
            }
            for c in b"(),.;=<>!+-*/%&|^~:[]{}@#?" {
                let (mut fast, mut full) = (clone(&before), clone(&before));
                fast.punct(*c, at);
                full.any_punct(*c, at);
                let c = char::from(*c);
                assert_eq!(format!("{fast:?}"), format!("{full:?}"), "{prefix} {c}");
            }
        }
    }

    fn clone<'a>(s: &Summarizer<'a>) -> Summarizer<'a> {
        Summarizer {
            sql: s.sql,
            stmt: Statement {
                summary: s.stmt.summary.clone(),
                ..s.stmt
            },
            statements: s.statements,
            first: Done {
                summary: s.first.summary.clone(),
                operation: s.first.operation.clone(),
                collection: s.first.collection,
            },
            same_summary: s.same_summary,
            same_operation: s.same_operation,
            same_collection: s.same_collection,
        }
    }
}
