//! `db.query.text` for Redis commands: keys kept, values replaced by `?`.

use redis::{Arg, Cmd};

use crate::db::sanitize::MAX_TEXT_LEN;

/// Which arguments of a command are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// Every argument is `?` (unknown commands, AUTH, HELLO, ECHO, ...).
    Redact,
    /// Every argument is kept: keys, field names, options.
    Keep,
    /// The first argument is a key; the rest are `?`.
    FirstKey,
    /// The first two arguments are keys; the rest are `?`.
    TwoKeys,
    /// `key field value [field value ...]`: key and fields kept.
    FieldValues,
    /// `key value [key value ...]`.
    KeyValues,
    /// `script|sha|function numkeys key [key ...] arg [arg ...]`: the script body is `?`
    /// unless `keep_first`, the keys are kept, the args are `?`.
    NumKeys { keep_first: bool },
}

fn layout(command: &str) -> Layout {
    let upper = command.to_ascii_uppercase();
    match upper.as_str() {
        "AUTH" | "HELLO" | "ECHO" | "PING" | "MIGRATE" => Layout::Redact,
        "GET" | "GETDEL" | "INCR" | "DECR" | "TYPE" | "TTL" | "PTTL" | "PERSIST" | "STRLEN"
        | "LLEN" | "SCARD" | "ZCARD" | "HLEN" | "HKEYS" | "HVALS" | "HGETALL" | "SMEMBERS"
        | "DEL" | "UNLINK" | "EXISTS" | "TOUCH" | "MGET" | "WATCH" | "UNWATCH" | "SINTER"
        | "SUNION" | "SDIFF" | "SINTERSTORE" | "SUNIONSTORE" | "SDIFFSTORE" | "PFCOUNT"
        | "PFMERGE" | "RENAME" | "RENAMENX" | "COPY" | "HMGET" | "HDEL" | "HEXISTS" | "HGET"
        | "HSTRLEN" | "RPOPLPUSH" | "LMOVE" | "EXPIRETIME" | "PEXPIRETIME" | "DUMP" | "KEYS"
        | "SCAN" | "SELECT" | "INFO" | "DBSIZE" | "FLUSHDB" | "FLUSHALL" | "TIME" | "MULTI"
        | "EXEC" | "DISCARD" | "CLIENT" | "COMMAND" | "SCRIPT" | "LPOP" | "RPOP" | "SPOP"
        | "ZPOPMIN" | "ZPOPMAX" | "XLEN" | "OBJECT" | "MEMORY" | "QUIT" | "RESET" | "ROLE"
        | "LASTSAVE" | "SAVE" | "BGSAVE" | "READONLY" | "READWRITE" | "BLPOP" | "BRPOP"
        | "BZPOPMIN" | "BZPOPMAX" => Layout::Keep,
        "SET" | "SETNX" | "SETEX" | "PSETEX" | "GETSET" | "GETEX" | "APPEND" | "INCRBY"
        | "DECRBY" | "INCRBYFLOAT" | "SETRANGE" | "GETRANGE" | "EXPIRE" | "PEXPIRE"
        | "EXPIREAT" | "PEXPIREAT" | "LPUSH" | "RPUSH" | "LPUSHX" | "RPUSHX" | "LINSERT"
        | "LRANGE" | "LINDEX" | "LSET" | "LREM" | "LTRIM" | "LPOS" | "SADD" | "SREM"
        | "SISMEMBER" | "SMISMEMBER" | "SRANDMEMBER" | "ZADD" | "ZREM" | "ZSCORE" | "ZINCRBY"
        | "ZRANGE" | "ZRANGEBYSCORE" | "ZREVRANGE" | "ZREVRANGEBYSCORE" | "ZRANK" | "ZREVRANK"
        | "ZCOUNT" | "ZMSCORE" | "HINCRBY" | "HINCRBYFLOAT" | "HSCAN" | "SSCAN" | "ZSCAN"
        | "PFADD" | "XADD" | "XRANGE" | "XREVRANGE" | "XDEL" | "XTRIM" | "GEOADD" | "GEOPOS"
        | "GEODIST" | "BITCOUNT" | "SETBIT" | "GETBIT" | "PUBLISH" | "SPUBLISH" | "RESTORE" => {
            Layout::FirstKey
        }
        "SMOVE" => Layout::TwoKeys,
        "HSET" | "HMSET" | "HSETNX" => Layout::FieldValues,
        "MSET" | "MSETNX" => Layout::KeyValues,
        "EVAL" | "EVAL_RO" => Layout::NumKeys { keep_first: false },
        "EVALSHA" | "EVALSHA_RO" | "FCALL" | "FCALL_RO" => Layout::NumKeys { keep_first: true },
        _ => Layout::Redact,
    }
}

/// A Redis command, described for its span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Described {
    /// The command name as written (`GET`), `db.operation.name`.
    pub(crate) name: String,
    /// The command with its values redacted, `db.query.text`.
    pub(crate) text: String,
    /// The script SHA (`EVALSHA`) or function (`FCALL`), `db.stored_procedure.name`.
    pub(crate) procedure: Option<String>,
}

fn push_word(text: &mut String, word: &str) {
    if !text.is_empty() {
        text.push(' ');
    }
    text.push_str(word);
}

fn arg_text(arg: &Arg<&[u8]>) -> String {
    match arg {
        Arg::Simple(bytes) => String::from_utf8_lossy(bytes).into_owned(),
        _ => "?".to_owned(),
    }
}

/// Describe a command: name, redacted text, script. `None` for an empty command.
pub(crate) fn describe(cmd: &Cmd) -> Option<Described> {
    let mut args = cmd.args_iter();
    let name = match args.next()? {
        Arg::Simple(bytes) => String::from_utf8_lossy(bytes).into_owned(),
        _ => return None,
    };
    let rest: Vec<Arg<&[u8]>> = args.collect();
    let layout = layout(&name);
    let mut text = name.clone();
    let mut procedure = None;
    for (i, arg) in rest.iter().enumerate() {
        let keep = match layout {
            Layout::Redact => false,
            Layout::Keep => true,
            Layout::FirstKey => i == 0,
            Layout::TwoKeys => i < 2,
            Layout::FieldValues => i == 0 || i % 2 == 1,
            Layout::KeyValues => i % 2 == 0,
            Layout::NumKeys { keep_first } => {
                let numkeys = rest
                    .get(1)
                    .map(arg_text)
                    .and_then(|s| s.parse::<usize>().ok())
                    .unwrap_or(0);
                match i {
                    0 => keep_first,
                    1 => true,
                    _ => i < 2 + numkeys,
                }
            }
        };
        if keep {
            let word = arg_text(arg);
            if i == 0 && matches!(layout, Layout::NumKeys { keep_first: true }) {
                procedure = Some(word.clone());
            }
            push_word(&mut text, &word);
        } else {
            push_word(&mut text, "?");
        }
        if text.len() > MAX_TEXT_LEN {
            break;
        }
    }
    Some(Described {
        name,
        text: cap(text),
        procedure,
    })
}

/// Cut `text` at [`MAX_TEXT_LEN`] bytes (on a character boundary) and mark the cut.
pub(crate) fn cap(mut text: String) -> String {
    if text.len() > MAX_TEXT_LEN {
        let mut cut = MAX_TEXT_LEN;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push_str("...");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(cmd: &Cmd) -> String {
        describe(cmd).unwrap().text
    }

    #[test]
    fn keys_are_kept_and_values_redacted() {
        assert_eq!(
            text(redis::cmd("SET").arg("user:1").arg("ann")),
            "SET user:1 ?"
        );
        assert_eq!(
            text(redis::cmd("SET").arg("k").arg("v").arg("EX").arg(10)),
            "SET k ? ? ?"
        );
        assert_eq!(text(redis::cmd("GET").arg("user:1")), "GET user:1");
        assert_eq!(text(redis::cmd("MGET").arg("a").arg("b")), "MGET a b");
        assert_eq!(
            text(
                redis::cmd("HSET")
                    .arg("h")
                    .arg("f1")
                    .arg("v1")
                    .arg("f2")
                    .arg("v2")
            ),
            "HSET h f1 ? f2 ?"
        );
        assert_eq!(
            text(redis::cmd("MSET").arg("a").arg(1).arg("b").arg(2)),
            "MSET a ? b ?"
        );
        assert_eq!(
            text(redis::cmd("BLPOP").arg("q1").arg("q2").arg(5)),
            "BLPOP q1 q2 5"
        );
        assert_eq!(
            text(redis::cmd("AUTH").arg("user").arg("secret")),
            "AUTH ? ?"
        );
        assert_eq!(text(redis::cmd("FROB").arg("x")), "FROB ?");
    }

    #[test]
    fn scripts_keep_keys_and_sha() {
        let d = describe(
            redis::cmd("EVALSHA")
                .arg("abc123")
                .arg(2)
                .arg("k1")
                .arg("k2")
                .arg("secret"),
        )
        .unwrap();
        assert_eq!(d.text, "EVALSHA abc123 2 k1 k2 ?");
        assert_eq!(d.procedure.as_deref(), Some("abc123"));
        let d = describe(redis::cmd("EVAL").arg("return 1").arg(1).arg("k").arg("v")).unwrap();
        assert_eq!(d.text, "EVAL ? 1 k ?");
        assert_eq!(d.procedure, None);
    }

    #[test]
    fn long_commands_are_capped() {
        let mut cmd = redis::cmd("DEL");
        for i in 0..2000 {
            cmd.arg(format!("key:{i}"));
        }
        let t = text(&cmd);
        assert!(t.len() <= MAX_TEXT_LEN + 3);
        assert!(t.ends_with("..."));
    }
}
