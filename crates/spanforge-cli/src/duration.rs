//! Durations and sizes as people type them: `90s`, `15m`, `24h`, `7d`, `2w`; `500MB`, `1GiB`.

use std::time::Duration;

/// Why a duration or size did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{input:?} is not a {what}: expected {expected}")]
pub struct ParseError {
    input: String,
    what: &'static str,
    expected: &'static str,
}

/// Parses `<number><unit>` with unit `ms`, `s`, `m`, `h`, `d` or `w` (`15m`, `7d`).
pub fn parse_duration(input: &str) -> Result<Duration, ParseError> {
    let error = || ParseError {
        input: input.to_owned(),
        what: "duration",
        expected: "a number and a unit: ms, s, m, h, d or w (for example 15m, 24h, 7d)",
    };
    let trimmed = input.trim();
    let split = trimmed
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(error)?;
    let (number, unit) = trimmed.split_at(split);
    let number: u64 = number.parse().map_err(|_| error())?;
    let unit_ms: u64 = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        "w" => 7 * 86_400_000,
        _ => return Err(error()),
    };
    number
        .checked_mul(unit_ms)
        .map(Duration::from_millis)
        .ok_or_else(error)
}

/// Parses a byte size: a number with an optional unit `B`, `KB`, `MB`, `GB` (powers of 1000)
/// or `KiB`, `MiB`, `GiB` (powers of 1024).
pub fn parse_size(input: &str) -> Result<u64, ParseError> {
    let error = || ParseError {
        input: input.to_owned(),
        what: "size",
        expected: "a number of bytes with an optional unit: B, KB, MB, GB, KiB, MiB, GiB",
    };
    let trimmed = input.trim();
    let split = trimmed
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(split);
    let number: u64 = number.parse().map_err(|_| error())?;
    let multiplier: u64 = match unit.trim() {
        "" | "B" => 1,
        "KB" | "kB" => 1_000,
        "MB" => 1_000_000,
        "GB" => 1_000_000_000,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        _ => return Err(error()),
    };
    number.checked_mul(multiplier).ok_or_else(error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_duration("7d"), Ok(Duration::from_secs(7 * 86_400)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2w"), Ok(Duration::from_secs(14 * 86_400)));
        for bad in ["", "7", "d", "7y", "-1h", "1.5h", "99999999999999999999d"] {
            let error = parse_duration(bad).unwrap_err();
            assert!(
                error.to_string().contains("ms, s, m, h, d or w"),
                "{bad}: {error}"
            );
        }
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert_eq!(parse_size("500MB"), Ok(500_000_000));
        assert_eq!(parse_size("4096"), Ok(4096));
        for bad in ["", "1TB", "MB", "1.5GB"] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
    }
}
