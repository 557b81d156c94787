//! Timestamps as people type them (`--end`) and as reports print them, in UTC, without a
//! date library: RFC 3339 and Unix seconds in, `2026-06-08 00:00 UTC` and ISO weeks out.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Why a timestamp did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{input:?} is not a time: expected RFC 3339 (2026-06-08T00:00:00Z, 2026-06-08T09:00:00+09:00) \
     or Unix seconds (1780876800)"
)]
pub struct TimeParseError {
    input: String,
}

/// Parses `--end`: RFC 3339 (`2026-06-08T00:00:00Z`, fractional seconds and offsets allowed,
/// `t`/space separators and `z` accepted) or Unix seconds (`1780876800`, `1780876800.5`).
pub fn parse_time(input: &str) -> Result<SystemTime, TimeParseError> {
    let error = || TimeParseError {
        input: input.to_owned(),
    };
    let text = input.trim();
    if !text.is_empty() && text.chars().all(|c| c.is_ascii_digit() || c == '.') {
        let seconds: f64 = text.parse().map_err(|_| error())?;
        if !seconds.is_finite() || seconds > 1e11 {
            return Err(error());
        }
        return Ok(UNIX_EPOCH + Duration::from_secs_f64(seconds));
    }
    parse_rfc3339(text).ok_or_else(error)
}

fn parse_rfc3339(text: &str) -> Option<SystemTime> {
    let bytes = text.as_bytes();
    if bytes.len() < 20 {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = text.get(range)?;
        part.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let year = number(0..4)?;
    let month = number(5..7)?;
    let day = number(8..10)?;
    let hour = number(11..13)?;
    let minute = number(14..16)?;
    let second = number(17..19)?;
    if bytes[4] != b'-' || bytes[7] != b'-' || !matches!(bytes[10], b'T' | b't' | b' ') {
        return None;
    }
    if bytes[13] != b':' || bytes[16] != b':' {
        return None;
    }
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut rest = &text[19..];
    let mut nanos: u64 = 0;
    if let Some(fraction) = rest.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let kept = &fraction[..digits.min(9)];
        nanos = kept.parse::<u64>().ok()? * 10u64.pow(9 - kept.len() as u32);
        rest = &fraction[digits..];
    }
    let offset_seconds = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let offset = &rest[1..];
            if offset.len() != 5 || offset.as_bytes()[2] != b':' {
                return None;
            }
            let hours: i64 = offset[..2].parse().ok()?;
            let minutes: i64 = offset[3..].parse().ok()?;
            if hours > 23 || minutes > 59 {
                return None;
            }
            sign * (hours * 3600 + minutes * 60)
        }
    };
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second.min(59) - offset_seconds;
    let seconds = u64::try_from(seconds).ok()?;
    Some(UNIX_EPOCH + Duration::from_secs(seconds) + Duration::from_nanos(nanos))
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
pub(crate) fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_index = (month + 9) % 12;
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The date of a day number (inverse of [`days_from_civil`]).
pub(crate) fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn unix_seconds(time: SystemTime) -> i64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    }
}

/// `2026-06-08 00:00` (UTC, to the minute).
pub(crate) fn format_minute(time: SystemTime) -> String {
    let seconds = unix_seconds(time);
    let (year, month, day) = civil_from_days(seconds.div_euclid(86_400));
    let of_day = seconds.rem_euclid(86_400);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}",
        of_day / 3600,
        of_day % 3600 / 60
    )
}

/// RFC 3339 in UTC to the second: `2026-06-08T00:00:00Z` (what `--end` takes).
pub fn format_rfc3339(time: SystemTime) -> String {
    let seconds = unix_seconds(time);
    let (year, month, day) = civil_from_days(seconds.div_euclid(86_400));
    let of_day = seconds.rem_euclid(86_400);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        of_day / 3600,
        of_day % 3600 / 60,
        of_day % 60
    )
}

/// The ISO 8601 week of a time (UTC): `2026-W23`.
pub(crate) fn iso_week(time: SystemTime) -> String {
    let days = unix_seconds(time).div_euclid(86_400);
    // 1970-01-01 was a Thursday; ISO weekdays run Monday = 1 .. Sunday = 7.
    let weekday = (days + 3).rem_euclid(7) + 1;
    let thursday = days - (weekday - 4);
    let (year, _, _) = civil_from_days(thursday);
    let ordinal = thursday - days_from_civil(year, 1, 1);
    format!("{year}-W{:02}", ordinal / 7 + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(seconds)
    }

    #[test]
    fn parses_rfc3339_and_unix_seconds() {
        assert_eq!(parse_time("2026-06-08T00:00:00Z"), Ok(at(1_780_876_800)));
        assert_eq!(
            parse_time("2026-06-08t09:00:00+09:00"),
            Ok(at(1_780_876_800))
        );
        assert_eq!(
            parse_time("2026-06-07 19:30:00-04:30"),
            Ok(at(1_780_876_800))
        );
        assert_eq!(
            parse_time("2026-06-08T00:00:00.250Z"),
            Ok(at(1_780_876_800) + Duration::from_millis(250))
        );
        assert_eq!(parse_time("1780876800"), Ok(at(1_780_876_800)));
        assert_eq!(
            parse_time("1780876800.5"),
            Ok(at(1_780_876_800) + Duration::from_millis(500))
        );
        for bad in [
            "",
            "yesterday",
            "2026-06-08",
            "2026-13-01T00:00:00Z",
            "2026-02-30T00:00:00Z",
            "2026-06-08T00:00:00",
            "-5",
        ] {
            let error = parse_time(bad).unwrap_err();
            assert!(error.to_string().contains("RFC 3339"), "{bad}: {error}");
        }
    }

    #[test]
    fn formats_and_weeks() {
        let time = at(1_780_876_800);
        assert_eq!(format_minute(time), "2026-06-08 00:00");
        assert_eq!(format_rfc3339(time), "2026-06-08T00:00:00Z");
        assert_eq!(iso_week(time), "2026-W24");
        // ISO week edge cases: 2021-01-03 is in 2020-W53, 2024-12-30 in 2025-W01.
        assert_eq!(
            iso_week(parse_time("2021-01-03T12:00:00Z").unwrap()),
            "2020-W53"
        );
        assert_eq!(
            iso_week(parse_time("2024-12-30T12:00:00Z").unwrap()),
            "2025-W01"
        );
        for days in [-1000, 0, 59, 60, 10_000, 20_000, 100_000] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }
}
