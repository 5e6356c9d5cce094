//! Argument helpers shared by every keyword: strict integers, times and
//! the "unexpected argument" check, each with HAProxy's wording.

use crate::cfg::time::{TimeError, parse_time_checked};
use std::str::FromStr;
use std::time::Duration;

/// Result of one keyword line: `Err` is the alert text for that line.
pub(super) type Res = Result<(), String>;

/// Refuses any word after the first `n` ones.
pub(super) fn no_extra(kw: &str, words: &[String], n: usize) -> Res {
    match words.get(n) {
        Some(w) => Err(format!("'{kw}' cannot handle unexpected argument '{w}'.")),
        None => Ok(()),
    }
}

/// A decimal integer made of digits only (stricter than HAProxy's `atol`,
/// which reads `abc` as 0).
pub(super) fn int<T: FromStr>(kw: &str, v: Option<&String>) -> Result<T, String> {
    let Some(v) = v else {
        return Err(format!("'{kw}' expects an integer argument."));
    };
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("'{kw}' expects an integer argument (got '{v}')."));
    }
    v.parse::<T>().map_err(|_| format!("'{kw}' value '{v}' is too large."))
}

/// A time argument of keyword `kw` (`timeout client`, `stats timeout`).
pub(super) fn time(kw: &str, v: &str) -> Result<Duration, String> {
    parse_time_checked(v).map_err(|e| match e {
        TimeError::Empty => format!("'{kw}' expects an integer value (in milliseconds)"),
        TimeError::BadChar(c) => format!("unexpected character '{c}' in '{kw}'"),
        TimeError::Overflow => format!(
            "timer overflow in argument '{v}' to '{kw}' (maximum value is 2147483647 ms or ~24.8 days)"
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(v: &str) -> Option<String> {
        Some(v.to_string())
    }

    #[test]
    fn integers_are_strict() {
        assert_eq!(int::<u32>("maxconn", w("100").as_ref()), Ok(100));
        assert_eq!(
            int::<u32>("maxconn", w("abc").as_ref()),
            Err("'maxconn' expects an integer argument (got 'abc').".to_string())
        );
        assert!(int::<u32>("maxconn", w("-1").as_ref()).is_err());
        assert!(int::<u32>("maxconn", w("+1").as_ref()).is_err());
        assert!(int::<u32>("maxconn", w("").as_ref()).is_err());
        assert!(int::<u32>("maxconn", w("99999999999").as_ref()).is_err());
        assert_eq!(int::<u32>("maxconn", None), Err("'maxconn' expects an integer argument.".to_string()));
    }

    #[test]
    fn times_name_the_keyword() {
        assert_eq!(time("timeout client", "5s"), Ok(Duration::from_secs(5)));
        assert_eq!(time("timeout client", "5x"), Err("unexpected character 'x' in 'timeout client'".into()));
        assert!(
            time("timeout client", "30d").is_err_and(|e| e.starts_with("timer overflow in argument '30d'"))
        );
    }
}
