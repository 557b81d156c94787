//! SQL sanitizer: exact outputs for tricky inputs, and property tests that it never
//! panics and never lets a literal through.

use proptest::prelude::*;
use spanforge::db::sanitize::{MAX_TEXT_LEN, sanitize};

/// (input, db.query.text, db.query.summary, operation, collection)
type Case = (
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
);

const CASES: &[Case] = &[
    // Basics
    (
        "SELECT * FROM users WHERE id = 42",
        "SELECT * FROM users WHERE id = ?",
        "SELECT users",
        Some("SELECT"),
        Some("users"),
    ),
    (
        "select * from Users where email = 'a@b.c'",
        "select * from Users where email = ?",
        "select Users",
        Some("select"),
        Some("Users"),
    ),
    (
        "  SELECT\n\t1  ",
        "SELECT ?",
        "SELECT",
        Some("SELECT"),
        None,
    ),
    // Escaped quotes: SQL doubling and backslash
    (
        "SELECT * FROM users WHERE name = 'it''s' AND nick = 'O\\'Brien'",
        "SELECT * FROM users WHERE name = ? AND nick = ?",
        "SELECT users",
        Some("SELECT"),
        Some("users"),
    ),
    // Numbers: unary minus, exponent, hex, blob, leading dot; binary minus stays
    (
        "SELECT * FROM t WHERE a = -5 AND b = a-5 AND c = 1e10 AND d = 0x1F AND e = X'ABCD' AND f = .5 AND g = 1.5E-3",
        "SELECT * FROM t WHERE a = ? AND b = a-? AND c = ? AND d = ? AND e = ? AND f = ? AND g = ?",
        "SELECT t",
        Some("SELECT"),
        Some("t"),
    ),
    // Identifiers with digits are not numbers
    (
        "SELECT table1.col_2, t3 FROM table1 WHERE col_2 = 3",
        "SELECT table1.col_2, t3 FROM table1 WHERE col_2 = ?",
        "SELECT table1",
        Some("SELECT"),
        Some("table1"),
    ),
    // Other string forms
    (
        "SELECT $$dollar 'quoted' $$, $tag$ inner $$ $tag$, E'esc\\'aped', N'nat', B'0101', _utf8mb4'x', U&'d\\0061t' FROM t",
        "SELECT ?, ?, ?, ?, ?, ?, ? FROM t",
        "SELECT t",
        Some("SELECT"),
        Some("t"),
    ),
    // Booleans become `?`, NULL stays
    (
        "SELECT * FROM t WHERE flag = TRUE AND other IS NULL AND x = false",
        "SELECT * FROM t WHERE flag = ? AND other IS NULL AND x = ?",
        "SELECT t",
        Some("SELECT"),
        Some("t"),
    ),
    // Placeholders are kept as written
    (
        "SELECT * FROM t WHERE a = $1 AND b = :name AND c = @p AND d = ?3 AND e = %s AND f = %(foo)s AND g = :1 AND h = ?",
        "SELECT * FROM t WHERE a = $1 AND b = :name AND c = @p AND d = ?3 AND e = %s AND f = %(foo)s AND g = :1 AND h = ?",
        "SELECT t",
        Some("SELECT"),
        Some("t"),
    ),
    // Casts and subscripts
    (
        "SELECT x::text, arr[1:2], arr[i + 1] FROM t",
        "SELECT x::text, arr[?:?], arr[i + ?] FROM t",
        "SELECT t",
        Some("SELECT"),
        Some("t"),
    ),
    // IN lists collapse; a single placeholder is kept; subqueries are not lists
    (
        "SELECT * FROM users WHERE id IN (1, 2, 3) AND s IN ('a','b') AND k IN ($1, $2) AND j IN ($3)",
        "SELECT * FROM users WHERE id IN (?) AND s IN (?) AND k IN (?) AND j IN ($3)",
        "SELECT users",
        Some("SELECT"),
        Some("users"),
    ),
    (
        "SELECT * FROM t WHERE x IN (SELECT y FROM u WHERE z IN (5, 6))",
        "SELECT * FROM t WHERE x IN (SELECT y FROM u WHERE z IN (?))",
        "SELECT t SELECT u",
        Some("SELECT"),
        None,
    ),
    // Nested parentheses
    (
        "SELECT ((a + 1) * (b - 2)) FROM t WHERE (c = 3 OR (d = 'x' AND e > 4))",
        "SELECT ((a + ?) * (b - ?)) FROM t WHERE (c = ? OR (d = ? AND e > ?))",
        "SELECT t",
        Some("SELECT"),
        Some("t"),
    ),
    // Comments, including quotes, digits and nesting inside them
    (
        "SELECT id -- it's 'secret' 123\nFROM t /* a 'quoted' /* nested */ 42 */ WHERE x = 1",
        "SELECT id FROM t WHERE x = ?",
        "SELECT t",
        Some("SELECT"),
        Some("t"),
    ),
    // A comment glued to the token before it, followed by whitespace: one space survives
    (
        "SELECT a/* c */ FROM t--x\n WHERE b = 1",
        "SELECT a FROM t WHERE b = ?",
        "SELECT t",
        Some("SELECT"),
        Some("t"),
    ),
    // Unicode
    (
        "SELECT * FROM ユーザー WHERE 名前 = 'たなか' AND âge > 30",
        "SELECT * FROM ユーザー WHERE 名前 = ? AND âge > ?",
        "SELECT ユーザー",
        Some("SELECT"),
        Some("ユーザー"),
    ),
    // Quoted identifiers kept; a double-quoted value (MySQL/SQLite string) is not
    (
        "SELECT \"name\", `age`, [Order Details].qty FROM [dbo].[Orders] WHERE \"x\" = \"secret\" AND y LIKE \"%s3cret%\"",
        "SELECT \"name\", `age`, [Order Details].qty FROM [dbo].[Orders] WHERE \"x\" = ? AND y LIKE ?",
        "SELECT [dbo].[Orders]",
        Some("SELECT"),
        Some("[dbo].[Orders]"),
    ),
    // Spec examples (semconv v1.44 "Generating a summary of the query")
    (
        "SELECT *\nFROM   wuser_table\nWHERE  username = ?",
        "SELECT * FROM wuser_table WHERE username = ?",
        "SELECT wuser_table",
        Some("SELECT"),
        Some("wuser_table"),
    ),
    (
        "INSERT INTO shipping_details\n            (order_id,\n            address)\nSELECT order_id,\n       address\nFROM   orders\nWHERE  order_id = ?",
        "INSERT INTO shipping_details (order_id, address) SELECT order_id, address FROM orders WHERE order_id = ?",
        "INSERT shipping_details SELECT orders",
        Some("INSERT"),
        None,
    ),
    (
        "SELECT *\nFROM   songs,\n       artists\nWHERE  songs.artist_id == artists.id",
        "SELECT * FROM songs, artists WHERE songs.artist_id == artists.id",
        "SELECT songs artists",
        Some("SELECT"),
        None,
    ),
    (
        "SELECT order_date\nFROM   (SELECT *\n        FROM   orders o\n               JOIN customers c\n                 ON o.customer_id = c.customer_id)",
        "SELECT order_date FROM (SELECT * FROM orders o JOIN customers c ON o.customer_id = c.customer_id)",
        "SELECT SELECT orders customers",
        Some("SELECT"),
        None,
    ),
    (
        "SELECT *\nFROM   \"song list\",\n       'artists'",
        "SELECT * FROM \"song list\", ?",
        "SELECT \"song list\" 'artists'",
        Some("SELECT"),
        None,
    ),
    // Joins: every joined table is a target, JOIN is not an operation
    (
        "SELECT u.id FROM users AS u LEFT OUTER JOIN orders o ON o.uid = u.id WHERE o.total > 10.5",
        "SELECT u.id FROM users AS u LEFT OUTER JOIN orders o ON o.uid = u.id WHERE o.total > ?",
        "SELECT users orders",
        Some("SELECT"),
        None,
    ),
    // Self-join: one collection
    (
        "SELECT * FROM t a JOIN t b ON a.p = b.id",
        "SELECT * FROM t a JOIN t b ON a.p = b.id",
        "SELECT t t",
        Some("SELECT"),
        Some("t"),
    ),
    // Schema-qualified names
    (
        "SELECT * FROM main.runs r, \"public\".\"users\"",
        "SELECT * FROM main.runs r, \"public\".\"users\"",
        "SELECT main.runs \"public\".\"users\"",
        Some("SELECT"),
        None,
    ),
    // Table functions are not collections; functions using FROM are not either
    (
        "SELECT EXTRACT(YEAR FROM created) FROM json_each(x), runs",
        "SELECT EXTRACT(YEAR FROM created) FROM json_each(x), runs",
        "SELECT runs",
        Some("SELECT"),
        Some("runs"),
    ),
    // CTEs: CTE names are not targets
    (
        "WITH recent AS (SELECT * FROM runs WHERE created > '2024-01-01') SELECT count(*) FROM recent JOIN prompts p ON p.id = recent.prompt_id",
        "WITH recent AS (SELECT * FROM runs WHERE created > ?) SELECT count(*) FROM recent JOIN prompts p ON p.id = recent.prompt_id",
        "SELECT runs SELECT prompts",
        Some("SELECT"),
        None,
    ),
    (
        "WITH a AS (SELECT id FROM runs), b AS (SELECT id FROM a) SELECT * FROM b",
        "WITH a AS (SELECT id FROM runs), b AS (SELECT id FROM a) SELECT * FROM b",
        "SELECT runs SELECT SELECT",
        Some("SELECT"),
        Some("runs"),
    ),
    (
        "WITH gone AS (DELETE FROM runs WHERE id < 100 RETURNING *) INSERT INTO archive SELECT * FROM gone",
        "WITH gone AS (DELETE FROM runs WHERE id < ? RETURNING *) INSERT INTO archive SELECT * FROM gone",
        "DELETE runs INSERT archive SELECT",
        Some("INSERT"),
        None,
    ),
    // UNION
    (
        "SELECT a FROM x UNION ALL SELECT b FROM y",
        "SELECT a FROM x UNION ALL SELECT b FROM y",
        "SELECT x SELECT y",
        Some("SELECT"),
        None,
    ),
    // INSERT … VALUES: rows of literals collapse to one row
    (
        "INSERT INTO orders (id, note) VALUES (1, 'a'), (2, 'b'),(3,'c')",
        "INSERT INTO orders (id, note) VALUES (?, ?)",
        "INSERT orders",
        Some("INSERT"),
        Some("orders"),
    ),
    (
        "INSERT INTO orders (id, note) VALUES (?1, ?2), (?3, ?4)",
        "INSERT INTO orders (id, note) VALUES (?1, ?2)",
        "INSERT orders",
        Some("INSERT"),
        Some("orders"),
    ),
    (
        "INSERT INTO orders(id, created) VALUES (1, now())",
        "INSERT INTO orders(id, created) VALUES (?, now())",
        "INSERT orders",
        Some("INSERT"),
        Some("orders"),
    ),
    (
        "INSERT INTO runs (id) VALUES (1) ON CONFLICT (id) DO UPDATE SET n = n + 1",
        "INSERT INTO runs (id) VALUES (?) ON CONFLICT (id) DO UPDATE SET n = n + ?",
        "INSERT runs",
        Some("INSERT"),
        Some("runs"),
    ),
    (
        "REPLACE INTO kv (k, v) VALUES ('a', 'b')",
        "REPLACE INTO kv (k, v) VALUES (?, ?)",
        "REPLACE kv",
        Some("REPLACE"),
        Some("kv"),
    ),
    // UPDATE … SET
    (
        "UPDATE accounts SET balance = balance - 100, note = 'x' WHERE id = 7",
        "UPDATE accounts SET balance = balance - ?, note = ? WHERE id = ?",
        "UPDATE accounts",
        Some("UPDATE"),
        Some("accounts"),
    ),
    // DELETE FROM
    (
        "DELETE FROM sessions WHERE expires < 1700000000",
        "DELETE FROM sessions WHERE expires < ?",
        "DELETE sessions",
        Some("DELETE"),
        Some("sessions"),
    ),
    // Locking clause is not an operation
    (
        "SELECT * FROM runs WHERE id = 1 FOR UPDATE",
        "SELECT * FROM runs WHERE id = ? FOR UPDATE",
        "SELECT runs",
        Some("SELECT"),
        Some("runs"),
    ),
    // CREATE TABLE and other DDL
    (
        "CREATE TABLE IF NOT EXISTS runs (id INTEGER PRIMARY KEY, prompt TEXT NOT NULL DEFAULT 'x', score REAL CHECK (score > 0))",
        "CREATE TABLE IF NOT EXISTS runs (id INTEGER PRIMARY KEY, prompt TEXT NOT NULL DEFAULT ?, score REAL CHECK (score > ?))",
        "CREATE TABLE runs",
        Some("CREATE TABLE"),
        Some("runs"),
    ),
    (
        "create temp table scratch (x int)",
        "create temp table scratch (x int)",
        "create table scratch",
        Some("create table"),
        Some("scratch"),
    ),
    (
        "CREATE UNIQUE INDEX idx_runs_prompt ON runs (prompt)",
        "CREATE UNIQUE INDEX idx_runs_prompt ON runs (prompt)",
        "CREATE INDEX idx_runs_prompt",
        Some("CREATE INDEX"),
        None,
    ),
    (
        "DROP TABLE IF EXISTS old_runs",
        "DROP TABLE IF EXISTS old_runs",
        "DROP TABLE old_runs",
        Some("DROP TABLE"),
        Some("old_runs"),
    ),
    (
        "ALTER TABLE runs ADD COLUMN cost REAL DEFAULT 0.0",
        "ALTER TABLE runs ADD COLUMN cost REAL DEFAULT ?",
        "ALTER TABLE runs",
        Some("ALTER TABLE"),
        Some("runs"),
    ),
    (
        "TRUNCATE runs",
        "TRUNCATE runs",
        "TRUNCATE runs",
        Some("TRUNCATE"),
        Some("runs"),
    ),
    // Other statements
    (
        "MERGE INTO target t USING source s ON t.id = s.id WHEN MATCHED THEN UPDATE SET v = 1 WHEN NOT MATCHED THEN INSERT (id) VALUES (s.id)",
        "MERGE INTO target t USING source s ON t.id = s.id WHEN MATCHED THEN UPDATE SET v = ? WHEN NOT MATCHED THEN INSERT (id) VALUES (s.id)",
        "MERGE target source",
        Some("MERGE"),
        None,
    ),
    (
        "CALL refresh_stats(7)",
        "CALL refresh_stats(?)",
        "CALL refresh_stats",
        Some("CALL"),
        None,
    ),
    (
        "EXPLAIN QUERY PLAN SELECT * FROM runs",
        "EXPLAIN QUERY PLAN SELECT * FROM runs",
        "EXPLAIN SELECT runs",
        Some("EXPLAIN"),
        Some("runs"),
    ),
    (
        "PRAGMA table_info(runs)",
        "PRAGMA table_info(runs)",
        "PRAGMA",
        Some("PRAGMA"),
        None,
    ),
    // Multiple statements: the batch rules
    (
        "INSERT INTO t VALUES (1); INSERT INTO t VALUES (2);",
        "INSERT INTO t VALUES (?); INSERT INTO t VALUES (?);",
        "BATCH INSERT t",
        Some("BATCH INSERT"),
        Some("t"),
    ),
    (
        "INSERT INTO a VALUES (1); UPDATE b SET c = 2",
        "INSERT INTO a VALUES (?); UPDATE b SET c = ?",
        "BATCH",
        Some("BATCH"),
        None,
    ),
    (
        "BEGIN; INSERT INTO runs (id) VALUES (1); COMMIT;",
        "BEGIN; INSERT INTO runs (id) VALUES (?); COMMIT;",
        "BATCH",
        Some("BATCH"),
        None,
    ),
    // A `;` inside a string or comment does not split statements
    (
        "SELECT ';' FROM t -- ;\n",
        "SELECT ? FROM t",
        "SELECT t",
        Some("SELECT"),
        Some("t"),
    ),
    // Unterminated string and comment run to the end
    (
        "SELECT 'unterminated FROM t WHERE x = 1",
        "SELECT ?",
        "SELECT",
        Some("SELECT"),
        None,
    ),
    (
        "SELECT a FROM t /* never closed 'x' 42",
        "SELECT a FROM t",
        "SELECT t",
        Some("SELECT"),
        Some("t"),
    ),
    ("$$open", "?", "", None, None),
    // Nothing recognisable
    ("", "", "", None, None),
    (";;", ";;", "", None, None),
];

#[test]
fn tricky_inputs_give_exact_outputs() {
    let mut failures = Vec::new();
    for &(input, text, summary, operation, collection) in CASES {
        let q = sanitize(input);
        let got = (
            q.text.as_str(),
            q.summary.as_str(),
            q.operation.as_deref(),
            q.collection.as_deref(),
        );
        if got != (text, summary, operation, collection) {
            failures.push(format!(
                "input:    {input:?}\nexpected: {:?}\ngot:      {got:?}",
                (text, summary, operation, collection)
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n\n"));
}

#[test]
fn statement_count() {
    assert_eq!(sanitize("SELECT 1").statements, 1);
    assert_eq!(sanitize("SELECT 1;").statements, 1);
    assert_eq!(sanitize("SELECT 1; SELECT 2;;").statements, 2);
    assert_eq!(sanitize("-- only a comment").statements, 0);
}

#[test]
fn long_text_is_capped_with_a_marker() {
    let mut sql = String::from("SELECT ");
    for n in 0..1_000 {
        sql.push_str(&format!("column_{n:04}, "));
    }
    sql.push_str("x FROM t WHERE a = 'zz'");
    let q = sanitize(&sql);
    assert!(q.truncated);
    assert_eq!(q.text.len(), MAX_TEXT_LEN + 3);
    assert!(q.text.ends_with("..."));
    // The summary still sees the whole query.
    assert_eq!(q.summary, "SELECT t");

    // Multi-byte characters are never split.
    let sql = format!("SELECT {} FROM t", "é".repeat(3_000));
    let q = sanitize(&sql);
    assert!(q.truncated && q.text.ends_with("..."));
    assert!(q.text.len() <= MAX_TEXT_LEN + 3);

    assert!(!sanitize("SELECT 1").truncated);
}

#[test]
fn summary_is_capped_between_tokens() {
    let tables: Vec<String> = (0..100).map(|n| format!("table_number_{n}")).collect();
    let q = sanitize(&format!("SELECT * FROM {}", tables.join(", ")));
    assert!(q.summary.len() <= 255, "{}", q.summary.len());
    assert!(
        q.summary
            .starts_with("SELECT table_number_0 table_number_1")
    );
    // Cut between tokens: every word of the summary is a whole table name.
    for word in q.summary.split(' ').skip(1) {
        assert!(tables.iter().any(|t| t == word), "{word}");
    }
}

// ---------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------

/// Literal values carry the marker `zq`, which no template contains.
fn secret() -> impl Strategy<Value = String> {
    "[A-Za-z0-9 _%@.,;:()*/=<>!é-]{0,12}".prop_map(|s| format!("zq{s}"))
}

fn number() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<u32>().prop_map(|n| n.to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        (any::<u16>(), any::<u16>()).prop_map(|(a, b)| format!("{a}.{b}")),
        (1u32..1000, -30i32..30).prop_map(|(a, e)| format!("{a}e{e}")),
        any::<u32>().prop_map(|n| format!("0x{n:X}")),
        any::<u16>().prop_map(|n| format!(".{n}")),
    ]
}

/// A literal as SQL source: the value quoted or escaped in one of the supported ways.
fn literal() -> impl Strategy<Value = String> {
    prop_oneof![
        secret().prop_map(|s| format!("'{}'", s.replace('\'', "''"))),
        secret().prop_map(|s| format!("E'{}'", s.replace('\'', "\\'"))),
        secret().prop_map(|s| format!("N'{}'", s.replace('\'', "''"))),
        secret().prop_map(|s| format!("$${s}$$")),
        secret().prop_map(|s| format!("$body${s}$body$")),
        "[0-9A-F]{2,8}".prop_map(|h| format!("X'{h}'")),
        number(),
    ]
}

/// Queries with literal values in every position the templates offer.
fn query() -> impl Strategy<Value = String> {
    (
        0usize..9,
        literal(),
        literal(),
        prop::collection::vec(literal(), 1..5),
        secret(),
        secret(),
    )
        .prop_map(|(template, a, b, list, dq, comment)| {
            let list = list.join(", ");
            let dq = dq.replace('"', "\"\"");
            // A comment ends at its `*/`, and the sanitizer nests `/* */` as PostgreSQL does:
            // keep the generated comment one comment with neither marker inside.
            let comment = comment.replace("/*", "/ *").replace("*/", "* /");
            match template {
                0 => format!("SELECT * FROM users WHERE a = {a} AND b = {b}"),
                1 => format!("INSERT INTO users (a, b) VALUES ({a}, {b}), ({b}, {a})"),
                2 => format!("UPDATE users SET a = {a} WHERE b IN ({list})"),
                3 => format!("DELETE FROM users WHERE a = -{b} OR b > {a} -- {comment}"),
                4 => format!("SELECT a FROM users /* {comment} */ WHERE name = \"{dq}\" AND c = {a}"),
                5 => format!("WITH x AS (SELECT * FROM users WHERE a = {a}) SELECT * FROM x WHERE b NOT IN ({list})"),
                6 => format!("SELECT * FROM users u JOIN orders o ON o.a = u.b WHERE o.c BETWEEN {a} AND {b}; DELETE FROM orders WHERE d = {b}"),
                7 => format!("SELECT count(*) FROM users WHERE a LIKE {a} LIMIT {b}"),
                _ => format!("SELECT {a}, {b}, ({list}) FROM users WHERE a={a}AND b<>{b}"),
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn never_panics_on_any_text(sql in "\\PC{0,200}") {
        let q = sanitize(&sql);
        prop_assert!(q.text.len() <= MAX_TEXT_LEN + 3);
        prop_assert!(q.summary.len() <= 255);
    }

    #[test]
    fn never_panics_on_sql_shaped_text(
        sql in "([a-zA-Z_]{1,6}|[0-9]{1,4}|[ \\t\\n]|[-+*/=<>!(),;.:?@%$'\"`\\[\\]\\\\&]|é|日){0,80}"
    ) {
        let q = sanitize(&sql);
        prop_assert!(q.text.len() <= MAX_TEXT_LEN + 3);
        prop_assert!(q.summary.len() <= 255);
    }

    #[test]
    fn never_panics_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let _ = sanitize(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn literals_never_reach_the_output(sql in query()) {
        let q = sanitize(&sql);
        prop_assert!(!q.text.contains("zq"), "text leaks a literal:\n{sql}\n{}", q.text);
        prop_assert!(!q.summary.contains("zq"), "summary leaks a literal:\n{sql}\n{}", q.summary);
        prop_assert!(
            !q.text.bytes().any(|c| c.is_ascii_digit()),
            "text leaks a number:\n{sql}\n{}",
            q.text
        );
        prop_assert!(!q.text.contains("0x") && !q.text.contains("X'"), "{}", q.text);
    }
}

// ---------------------------------------------------------------------------------------
// Model-based differential test: queries built from tokens whose sanitized form is known
// ---------------------------------------------------------------------------------------

/// How a token behaves next to its neighbours (see [`glue_allowed`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    Word,
    Literal,
    Placeholder,
    Punct,
}

/// A token as written and as `db.query.text` must render it.
type Token = (Class, String, String);

fn model_word() -> impl Strategy<Value = Token> {
    // No `IN`/`VALUES` (lists are generated whole) and no `TRUE`/`FALSE` (literals).
    prop::sample::select(vec![
        "users",
        "u",
        "id",
        "t1",
        "col_2",
        "created_at",
        "a$b",
        "ユーザー",
        "âge",
        "SELECT",
        "select",
        "FROM",
        "WHERE",
        "AND",
        "or",
        "JOIN",
        "ON",
        "ORDER",
        "BY",
        "LIMIT",
        "NULL",
        "IS",
        "NOT",
        "LIKE",
        "AS",
        "UPDATE",
        "SET",
        "INSERT",
        "INTO",
        "DELETE",
        "WITH",
        "DISTINCT",
        "UNION",
        "ALL",
        "EXISTS",
        "TABLE",
        "CREATE",
        "DROP",
        "Call",
    ])
    .prop_map(|w| (Class::Word, w.to_owned(), w.to_owned()))
}

fn model_literal() -> impl Strategy<Value = Token> {
    // String bodies without quotes or backslashes, then escaped the documented ways.
    let body = "[a-zA-Z0-9 %_@.,;:()*/=<>!é#-]{0,10}";
    prop_oneof![
        any::<u32>().prop_map(|n| n.to_string()),
        (any::<u16>(), any::<u16>()).prop_map(|(a, b)| format!("{a}.{b}")),
        (1u32..1000, -30i32..30).prop_map(|(a, e)| format!("{a}e{e}")),
        (1u32..100, 0u32..100).prop_map(|(a, b)| format!("{a}.{b}E-{b}")),
        any::<u32>().prop_map(|n| format!("0x{n:X}")),
        (body, body).prop_map(|(a, b)| format!("'{a}''{b}'")),
        body.prop_map(|s| format!("E'{s}\\'x'")),
        body.prop_map(|s| format!("N'{s}'")),
        "[0-9A-F]{0,8}".prop_map(|h| format!("X'{h}'")),
        "[01]{1,8}".prop_map(|b| format!("B'{b}'")),
        body.prop_map(|s| format!("$${s}$$")),
        body.prop_map(|s| format!("$q${s}$q$")),
        prop::sample::select(vec!["TRUE", "false"]).prop_map(str::to_owned),
    ]
    .prop_map(|l| (Class::Literal, l, "?".to_owned()))
}

fn model_placeholder() -> impl Strategy<Value = Token> {
    prop::sample::select(vec![
        "?",
        "?3",
        "$1",
        "$12",
        ":name",
        ":1",
        "@p",
        "@@version",
        "%s",
        "%(name)s",
    ])
    .prop_map(|p| (Class::Placeholder, p.to_owned(), p.to_owned()))
}

fn model_punct() -> impl Strategy<Value = Token> {
    prop::sample::select(vec![",", "(", ")", "=", "<", ">", "*", ";"])
        .prop_map(|p| (Class::Punct, p.to_owned(), p.to_owned()))
}

/// `IN (…)` with two or more literals or placeholders: always `IN (?)`.
fn model_in_list() -> impl Strategy<Value = Token> {
    let element = prop_oneof![
        model_literal().prop_map(|(_, l, _)| l),
        model_placeholder().prop_map(|(_, p, _)| p),
    ];
    (prop::collection::vec(element, 2..6), "[ ]{0,2}", "[ ]{0,2}").prop_map(|(list, a, b)| {
        let sql = format!("IN{a}({b}{}{b})", list.join(&format!("{b},{a}")));
        (Class::Word, sql, "IN (?)".to_owned())
    })
}

fn model_token() -> impl Strategy<Value = Token> {
    prop_oneof![
        4 => model_word(),
        3 => model_literal(),
        1 => model_placeholder(),
        3 => model_punct(),
        1 => model_in_list(),
    ]
}

/// Whitespace and comments between tokens; each becomes one space (none at the ends).
fn model_separator() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        " ",
        " ",
        "  ",
        "\n",
        "\t ",
        "\r\n  ",
        " /* note 42 'x' /* nested */ */ ",
        " -- it's 7\n",
    ])
}

/// Whether two tokens may touch without changing how either is read: only next to
/// punctuation (a word glued to a quote would prefix a string, a number glued to a word
/// would become part of it, two strings would merge), and not `)` before `:` (a slice
/// such as `a[1:2]` or `f(x):1`, where `:1` is no placeholder).
fn glue_allowed(left: &Token, right: &Token) -> bool {
    (left.0 == Class::Punct || right.0 == Class::Punct)
        && !(left.1 == ")" && right.1.starts_with(':'))
}

proptest! {
    // Each case checks a whole query of up to 40 tokens; a few hundred keep the test
    // around a second in debug builds.
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// The text of a query made of known tokens is the tokens' rendered forms, separated
    /// by one space wherever the query had whitespace or comments.
    #[test]
    fn text_matches_the_token_model(
        parts in prop::collection::vec((model_separator(), any::<bool>(), model_token()), 0..40)
    ) {
        let mut sql = String::new();
        let mut expected = String::new();
        let mut left: Option<Token> = None;
        for (separator, glue, token) in parts {
            let glued = glue && left.as_ref().is_some_and(|l| glue_allowed(l, &token));
            if !glued {
                sql.push_str(separator);
                if !expected.is_empty() {
                    expected.push(' ');
                }
            }
            sql.push_str(&token.1);
            expected.push_str(&token.2);
            left = Some(token);
        }
        let q = sanitize(&sql);
        prop_assert_eq!(&q.text, &expected, "input: {:?}", sql);
        prop_assert!(!q.truncated);
    }

    /// The text never grows by more than the `VALUES` rewriting can add (`", "` for `,`),
    /// and both outputs stay within their caps.
    #[test]
    fn output_length_is_bounded(
        sql in "([a-zA-Z_]{1,6}|[0-9]{1,4}|[ \\t\\n]|[-+*/=<>!(),;.:?@%$'\"`\\[\\]\\\\&]|é|日|VALUES|IN){0,80}"
    ) {
        let q = sanitize(&sql);
        prop_assert!(q.text.len() <= (2 * sql.len() + 3).min(MAX_TEXT_LEN + 3), "{sql:?} -> {:?}", q.text);
        prop_assert!(q.summary.len() <= 255);
        prop_assert!(q.operation.as_ref().is_none_or(|op| op.len() <= sql.len() + 6));
    }
}
