//! The database check: a local libSQL/SQLite file, opened read-only and queried.
//!
//! `DATABASE_URL` forms:
//! - a path (`app.db`, `/var/lib/app/app.db`) or `file:` URL (`file:app.db`,
//!   `file:///var/lib/app/app.db`; SQLite URI parameters after `?` are ignored);
//! - SQLAlchemy's `sqlite:///relative.db` and `sqlite:////absolute.db` (also with a driver,
//!   `sqlite+aiosqlite:///app.db`);
//! - remote libSQL (`libsql://`, `sqlite+libsql://`, `http(s)://`, `ws(s)://`): not checked
//!   yet, reported as skipped (a failure with `--require database`);
//! - anything else (`postgres://…`): skipped, not a libSQL database.
//!
//! A file that does not exist is a failure: opening it would create an empty database and
//! hide the problem.

use std::path::PathBuf;

use super::Finding;

/// What `DATABASE_URL` points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    /// A local file.
    Local(PathBuf),
    /// A remote libSQL server: its scheme and host, nothing secret.
    Remote(String),
    /// Not a libSQL/SQLite URL: its scheme.
    Other(String),
    /// An in-memory database: nothing to check.
    Memory,
}

pub(crate) fn parse(url: &str) -> Target {
    let url = url.trim();
    if url == ":memory:" {
        return Target::Memory;
    }
    let Some((scheme, rest)) = split_scheme(url) else {
        return Target::Local(PathBuf::from(url));
    };
    let scheme = scheme.to_ascii_lowercase();
    match scheme.as_str() {
        "file" => {
            let path = rest.split(['?', '#']).next().unwrap_or_default();
            // file:///abs -> /abs; file://localhost/abs -> /abs; file:rel -> rel.
            let path = match path.strip_prefix("//") {
                Some(authority_and_path) => match authority_and_path.find('/') {
                    Some(slash) => &authority_and_path[slash..],
                    None => authority_and_path,
                },
                None => path,
            };
            if path.is_empty() || path == ":memory:" {
                Target::Memory
            } else {
                Target::Local(PathBuf::from(path))
            }
        }
        "libsql" | "http" | "https" | "ws" | "wss" | "sqlite+libsql" => {
            Target::Remote(format!("{scheme}://{}", host_of(rest)))
        }
        s if s == "sqlite" || s.starts_with("sqlite+") => {
            // SQLAlchemy: sqlite:///relative.db, sqlite:////absolute.db, sqlite:// = memory.
            let path = rest.split('?').next().unwrap_or_default();
            let path = path.strip_prefix("//").unwrap_or(path);
            let path = path.strip_prefix('/').unwrap_or(path);
            if path.is_empty() || path == ":memory:" {
                Target::Memory
            } else {
                Target::Local(PathBuf::from(path))
            }
        }
        other => Target::Other(other.to_owned()),
    }
}

/// `scheme:rest` when the text starts with a URL scheme (not a Windows drive letter).
fn split_scheme(text: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = text.split_once(':')?;
    let valid = scheme.len() > 1
        && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    valid.then_some((scheme, rest))
}

/// The host (and port) of `//[user[:password]@]host[:port]/...`, without credentials.
fn host_of(rest: &str) -> String {
    let authority = rest.trim_start_matches("//");
    let authority = authority.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    host.to_owned()
}

pub(crate) async fn check(url: Option<String>) -> Finding {
    let Some(url) = url.filter(|u| !u.trim().is_empty()) else {
        return Finding::not_configured(None, "DATABASE_URL is not set");
    };
    match parse(&url) {
        Target::Memory => Finding::not_configured(None, "DATABASE_URL is an in-memory database"),
        Target::Other(scheme) => Finding::not_configured(
            None,
            format!("DATABASE_URL is a {scheme}:// URL; only libSQL/SQLite databases are checked"),
        ),
        Target::Remote(shown) => Finding::not_configured(
            Some(shown),
            "remote libSQL databases are not checked yet; check with \
             `turso db shell <name> \"SELECT 1\"`",
        ),
        Target::Local(path) => local(path).await,
    }
}

async fn local(path: PathBuf) -> Finding {
    let shown = path.display().to_string();
    match std::fs::metadata(&path) {
        Ok(meta) if meta.is_file() => {}
        Ok(_) => return Finding::failed(Some(shown), "not a file"),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Finding::failed(Some(shown), "no such file");
        }
        Err(e) => return Finding::failed(Some(shown), format!("cannot read: {e}")),
    }
    match query(&path).await {
        Ok((version, objects)) => Finding::ok(
            shown,
            format!("SELECT answered by SQLite {version}, {objects} schema objects"),
        ),
        Err(e) => Finding::failed(Some(shown), e.to_string()),
    }
}

/// Opens read-only and reads the schema table, which fails on a file that is not a database.
async fn query(path: &std::path::Path) -> Result<(String, i64), libsql::Error> {
    let database = libsql::Builder::new_local(path)
        .flags(libsql::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .build()
        .await?;
    let connection = database.connect()?;
    let mut rows = connection
        .query(
            "SELECT sqlite_version(), (SELECT count(*) FROM sqlite_schema)",
            (),
        )
        .await?;
    let row = rows
        .next()
        .await?
        .ok_or_else(|| libsql::Error::Misuse("SELECT returned no row".to_owned()))?;
    Ok((row.get::<String>(0)?, row.get::<i64>(1)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_forms() {
        let local = |p: &str| Target::Local(PathBuf::from(p));
        assert_eq!(parse("app.db"), local("app.db"));
        assert_eq!(parse("/var/lib/app.db"), local("/var/lib/app.db"));
        assert_eq!(parse("file:app.db"), local("app.db"));
        assert_eq!(parse("file:app.db?mode=ro"), local("app.db"));
        assert_eq!(parse("file:///var/lib/app.db"), local("/var/lib/app.db"));
        assert_eq!(parse("sqlite:///app.db"), local("app.db"));
        assert_eq!(
            parse("sqlite+aiosqlite:///data/app.db"),
            local("data/app.db")
        );
        assert_eq!(parse("sqlite:////var/lib/app.db"), local("/var/lib/app.db"));
        assert_eq!(parse("sqlite://"), Target::Memory);
        assert_eq!(parse(":memory:"), Target::Memory);
        assert_eq!(
            parse("libsql://db-org.turso.io?authToken=secret"),
            Target::Remote("libsql://db-org.turso.io".into())
        );
        assert_eq!(
            parse("sqlite+libsql://user:pw@db.example:8080/?secure=true"),
            Target::Remote("sqlite+libsql://db.example:8080".into())
        );
        assert_eq!(
            parse("postgres://u:p@h/db"),
            Target::Other("postgres".into())
        );
    }
}
