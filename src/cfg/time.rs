//! HAProxy's number formats: times (`5s`, `100ms`) and sizes (`16k`).
//!
//! Times are an unsigned integer followed by an optional unit, `us`, `ms`,
//! `s`, `m`, `h` or `d`, the default unit being milliseconds. As in HAProxy,
//! a time may not exceed 2147483647 ms (~24.8 days). Sizes are an integer
//! with an optional `k`, `m` or `g` suffix (2^10, 2^20, 2^30).

use std::fmt;
use std::time::Duration;

/// Largest accepted time, in milliseconds (HAProxy stores timeouts in an int).
pub const TIME_MAX_MS: u64 = i32::MAX as u64;

/// Why a time value was refused; `Display` gives HAProxy's wording.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeError {
    Empty,         // no value at all
    BadChar(char), // first character that is neither a digit nor a unit
    Overflow,      // more than TIME_MAX_MS
}

impl fmt::Display for TimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TimeError::Empty => write!(f, "missing value"),
            TimeError::BadChar(c) => write!(f, "unexpected character '{c}'"),
            TimeError::Overflow => {
                write!(f, "timer overflow (maximum value is 2147483647 ms or ~24.8 days)")
            }
        }
    }
}

/// Parses an HAProxy time (`10`, `10ms`, `5s`, `1m`, `2h`, `1d`, `500us`).
/// The error text is HAProxy's, e.g. `unexpected character 'x'`.
pub fn parse_time(s: &str) -> Result<Duration, String> {
    parse_time_checked(s).map_err(|e| e.to_string())
}

/// [`parse_time`] with a typed error, for callers that word each case.
pub fn parse_time_checked(s: &str) -> Result<Duration, TimeError> {
    let (value, rest) = leading_u64(s).map_err(|e| match e {
        NumError::Empty => match s.chars().next() {
            None => TimeError::Empty,
            Some(c) => TimeError::BadChar(c),
        },
        NumError::Overflow => TimeError::Overflow,
    })?;
    // Unit: (length of the suffix, microseconds per unit).
    let (unit_len, micros_per_unit): (usize, u64) = if rest.starts_with("us") {
        (2, 1)
    } else if rest.starts_with("ms") {
        (2, 1_000)
    } else if rest.starts_with('s') {
        (1, 1_000_000)
    } else if rest.starts_with('m') {
        (1, 60_000_000)
    } else if rest.starts_with('h') {
        (1, 3_600_000_000)
    } else if rest.starts_with('d') {
        (1, 86_400_000_000)
    } else {
        (0, 1_000)
    };
    if let Some(c) = rest[unit_len..].chars().next() {
        return Err(TimeError::BadChar(c));
    }
    let micros = value.checked_mul(micros_per_unit).ok_or(TimeError::Overflow)?;
    if micros.div_ceil(1_000) > TIME_MAX_MS {
        return Err(TimeError::Overflow);
    }
    Ok(Duration::from_micros(micros))
}

/// Parses an HAProxy size: an integer with an optional `k`, `m` or `g`
/// suffix (either case), meaning 2^10, 2^20 or 2^30.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let (value, rest) = leading_u64(s).map_err(|e| match e {
        NumError::Empty => match s.chars().next() {
            None => "missing value".to_string(),
            Some(c) => format!("unexpected character '{c}'"),
        },
        NumError::Overflow => "value too large".to_string(),
    })?;
    let mut chars = rest.chars();
    let shift = match chars.next() {
        None => 0,
        Some('k' | 'K') => 10,
        Some('m' | 'M') => 20,
        Some('g' | 'G') => 30,
        Some(c) => return Err(format!("unexpected character '{c}'")),
    };
    if let Some(c) = chars.next() {
        return Err(format!("unexpected character '{c}'"));
    }
    value.checked_mul(1u64 << shift).ok_or_else(|| "value too large".to_string())
}

/// Failure of [`leading_u64`].
enum NumError {
    Empty,    // no leading digit
    Overflow, // does not fit in u64
}

/// Splits the leading decimal digits of `s` off as a number.
fn leading_u64(s: &str) -> Result<(u64, &str), NumError> {
    let end = s.bytes().position(|b| !b.is_ascii_digit()).unwrap_or(s.len());
    if end == 0 {
        return Err(NumError::Empty);
    }
    let value = s[..end].parse::<u64>().map_err(|_| NumError::Overflow)?;
    Ok((value, &s[end..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units() {
        assert_eq!(parse_time("10"), Ok(Duration::from_millis(10)));
        assert_eq!(parse_time("10ms"), Ok(Duration::from_millis(10)));
        assert_eq!(parse_time("500us"), Ok(Duration::from_micros(500)));
        assert_eq!(parse_time("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_time("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_time("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse_time("1d"), Ok(Duration::from_secs(86400)));
        assert_eq!(parse_time("0"), Ok(Duration::ZERO));
    }

    #[test]
    fn errors_use_haproxy_wording() {
        assert_eq!(parse_time("5x"), Err("unexpected character 'x'".to_string()));
        assert_eq!(parse_time("5sx"), Err("unexpected character 'x'".to_string()));
        assert_eq!(parse_time("5mz"), Err("unexpected character 'z'".to_string()));
        assert_eq!(parse_time("x"), Err("unexpected character 'x'".to_string()));
        assert_eq!(parse_time("-1"), Err("unexpected character '-'".to_string()));
        assert_eq!(parse_time("1.5s"), Err("unexpected character '.'".to_string()));
        assert_eq!(parse_time("5 s"), Err("unexpected character ' '".to_string()));
        assert_eq!(parse_time_checked(""), Err(TimeError::Empty));
        assert_eq!(parse_time_checked("é"), Err(TimeError::BadChar('é')));
    }

    #[test]
    fn overflow_limit_is_haproxys() {
        assert_eq!(parse_time("2147483647"), Ok(Duration::from_millis(2_147_483_647)));
        assert_eq!(parse_time_checked("2147483648"), Err(TimeError::Overflow));
        assert_eq!(parse_time_checked("25d"), Err(TimeError::Overflow));
        assert_eq!(parse_time_checked("99999999999999999999999"), Err(TimeError::Overflow));
        assert_eq!(parse_time_checked("18446744073709551615d"), Err(TimeError::Overflow));
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("16384"), Ok(16384));
        assert_eq!(parse_size("16k"), Ok(16 << 10));
        assert_eq!(parse_size("2M"), Ok(2 << 20));
        assert_eq!(parse_size("1g"), Ok(1 << 30));
        assert_eq!(parse_size("1kb"), Err("unexpected character 'b'".to_string()));
        assert_eq!(parse_size("k"), Err("unexpected character 'k'".to_string()));
        assert_eq!(parse_size(""), Err("missing value".to_string()));
        assert_eq!(parse_size("18446744073709551615g"), Err("value too large".to_string()));
    }
}
