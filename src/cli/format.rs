//! The output formats of `show info` and `show stat` (HAProxy 2.6's
//! `typed`, `json`, `desc`, `float`, `up`, `no-maint` words) and the
//! pieces both share: tag letters and names, JSON string escaping.

use std::fmt::Write;

/// How a `show info` / `show stat` reply is written. Built from the words
/// after the command; unknown words are ignored, as HAProxy does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OutFmt {
    pub style: Style,
    pub desc: bool,     // `desc`: each field's description too
    pub float: bool,    // `float`: durations as seconds with microseconds (show info)
    pub up: bool,       // `up`: only servers that are up (show stat)
    pub no_maint: bool, // `no-maint`: no server in maintenance (show stat)
}

/// `typed`, `json` or the default (`Key: value` lines / CSV).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Style {
    #[default]
    Plain,
    Typed,
    Json,
}

impl OutFmt {
    /// Reads the format words in `args` (the last of `typed`/`json` wins).
    pub fn parse(args: &[&str]) -> OutFmt {
        let mut f = OutFmt::default();
        for a in args {
            match *a {
                "typed" => f.style = Style::Typed,
                "json" => f.style = Style::Json,
                "desc" => f.desc = true,
                "float" => f.float = true,
                "up" => f.up = true,
                "no-maint" => f.no_maint = true,
                _ => {}
            }
        }
        f
    }
}

/// The JSON names of a three-letter tag (origin, nature, scope), e.g.
/// `MGP` → Metric, Gauge, Process.
pub fn tag_names(tags: &str) -> (&'static str, &'static str, &'static str) {
    let b = tags.as_bytes();
    let origin = match b.first() {
        Some(b'M') => "Metric",
        Some(b'S') => "Status",
        Some(b'K') => "Key",
        Some(b'C') => "Config",
        Some(b'P') => "Product",
        _ => "Unknown",
    };
    let nature = match b.get(1) {
        Some(b'G') => "Gauge",
        Some(b'L') => "Limit",
        Some(b'm') => "Min",
        Some(b'M') => "Max",
        Some(b'R') => "Rate",
        Some(b'C') => "Counter",
        Some(b'D') => "Duration",
        Some(b'A') => "Age",
        Some(b'T') => "Time",
        Some(b'N') => "Name",
        Some(b'O') => "Output",
        Some(b'a') => "Avg",
        _ => "Unknown",
    };
    let scope = match b.get(2) {
        Some(b'C') => "Cluster",
        Some(b'P') => "Process",
        Some(b'S') => "Service",
        Some(b's') => "System",
        _ => "Unknown",
    };
    (origin, nature, scope)
}

/// Appends `s` as a JSON string (quotes included).
pub fn json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Appends the JSON `"tags"` and `"value"` members of one field; `ty` is
/// HAProxy's type name (`u32`, `s64`, `str`, `flt`...). A value that is
/// not a number of a numeric type is written as a string.
pub fn json_tags_value(out: &mut String, tags: &str, ty: &str, value: &str) {
    let (o, n, s) = tag_names(tags);
    let _ = write!(out, "\"tags\":{{\"origin\":\"{o}\",\"nature\":\"{n}\",\"scope\":\"{s}\"}},");
    let numeric = match ty {
        "u32" | "u64" => value.parse::<u64>().is_ok(),
        "s32" | "s64" => value.parse::<i64>().is_ok(),
        "flt" => value.parse::<f64>().is_ok(),
        _ => false,
    };
    if numeric {
        let _ = write!(out, "\"value\":{{\"type\":\"{ty}\",\"value\":{value}}}");
    } else {
        let _ = write!(out, "\"value\":{{\"type\":\"{}\",\"value\":", if ty.is_empty() { "str" } else { ty });
        json_str(out, value);
        out.push('}');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_ignore_unknown_words_and_last_style_wins() {
        let f = OutFmt::parse(&["json", "False"]);
        assert_eq!(f.style, Style::Json);
        let f = OutFmt::parse(&["json", "typed", "desc"]);
        assert_eq!((f.style, f.desc), (Style::Typed, true));
    }

    #[test]
    fn json_strings_are_escaped() {
        let mut s = String::new();
        json_str(&mut s, "a\"b\\c\u{1}");
        assert_eq!(s, "\"a\\\"b\\\\c\\u0001\"");
        let mut v = String::new();
        json_tags_value(&mut v, "MGP", "u32", "12");
        assert_eq!(
            v,
            "\"tags\":{\"origin\":\"Metric\",\"nature\":\"Gauge\",\"scope\":\"Process\"},\"value\":{\"type\":\"u32\",\"value\":12}"
        );
    }
}
