//! Syslog messages as HAProxy 2.6 reads and writes them for `log-forward`
//! and rings: [`parse`] splits a received message into its priority and
//! header fields ([`Meta`], HAProxy's `parse_log_message`: RFC 5424, RFC
//! 3164, or a bare `<PRI>`), [`header`] writes the header of a given
//! format from those fields (`build_log_header`: a forwarded message
//! keeps its date, host, tag and pid; a target without `format` picks
//! the format from what the message had).

use crate::cfg::LogFormat;
use crate::core::date::Civil;
use std::time::SystemTime;

/// The header fields of one message; None: absent (or RFC 5424's `-`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Meta<'a> {
    pub prio: bool, // a `<PRI>` was read
    pub time: Option<&'a str>,
    pub host: Option<&'a str>,
    pub tag: Option<&'a str>,
    pub pid: Option<&'a str>,
    pub msgid: Option<&'a str>,
    pub sd: Option<&'a str>, // RFC 5424 structured data
}

/// A received message: its level and facility (None without a `<PRI>`),
/// header fields and text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Parsed<'a> {
    pub level: Option<u32>,
    pub facility: Option<u32>,
    pub meta: Meta<'a>,
    pub text: &'a str,
}

/// `Jan  1 00:00:00`.
const LEGACY_TIME_LEN: usize = 15;
/// `1970-01-01T00:00:00Z`.
const ISO_TIME_MIN_LEN: usize = 20;

const MONTHS: [&str; 12] =
    ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// HAProxy's `parse_log_message`. A header that does not parse keeps the
/// priority only; the whole rest is then the text.
pub fn parse(msg: &str) -> Parsed<'_> {
    let none = Parsed { level: None, facility: None, meta: Meta::default(), text: msg };
    let Some(rest) = msg.strip_prefix('<') else { return none };
    let Some(end) = rest.find('>') else { return none };
    let Ok(pri) = rest[..end].parse::<u32>() else { return none };
    if rest[..end].is_empty() || !rest[..end].bytes().all(|b| b.is_ascii_digit()) {
        return none;
    }
    let after = &rest[end + 1..];
    let bare = Parsed {
        level: Some(pri & 7),
        facility: Some(pri >> 3),
        meta: Meta { prio: true, ..Meta::default() },
        text: after,
    };
    let parsed = if let Some(h) = after.strip_prefix("1 ") {
        rfc5424(h)
    } else if after.len() > LEGACY_TIME_LEN {
        rfc3164(after)
    } else {
        return bare;
    };
    match parsed {
        Some((meta, text)) => Parsed { meta: Meta { prio: true, ..meta }, text, ..bare },
        None => bare,
    }
}

/// `TIMESTAMP HOSTNAME APP PID MSGID SD MSG` after `<PRI>1 `.
fn rfc5424(h: &str) -> Option<(Meta<'_>, &str)> {
    let (time, rest) = h.split_once(' ')?;
    if time != "-" && !iso_time_ok(time) {
        return None;
    }
    let mut meta = Meta { time: Some(time), ..Meta::default() };
    let mut rest = rest;
    let mut fields = [None; 4];
    for f in &mut fields {
        let (v, r) = rest.split_once(' ')?;
        if v.is_empty() {
            return None;
        }
        *f = (v != "-").then_some(v);
        rest = r;
    }
    [meta.host, meta.tag, meta.pid, meta.msgid] = fields;
    // Structured data: `-` or `[...]` elements, up to a blank outside them.
    let sd_len = if rest.starts_with("- ") {
        1
    } else if rest.starts_with('[') {
        let b = rest.as_bytes();
        let (mut i, mut inside) = (0, false);
        loop {
            let c = *b.get(i)?;
            if inside {
                if c == b']' && b[i - 1] != b'\\' {
                    inside = false;
                }
            } else if c == b'[' {
                inside = true;
            } else if c == b' ' {
                break i;
            } else {
                return None;
            }
            i += 1;
        }
    } else {
        return None;
    };
    let sd = &rest[..sd_len];
    meta.sd = (sd != "-").then_some(sd);
    Some((meta, rest.get(sd_len + 1..).unwrap_or("")))
}

/// `YYYY-MM-DDTHH:MM:SS[.frac](Z|+hh:mm|-hh:mm)`, as HAProxy checks it.
fn iso_time_ok(t: &str) -> bool {
    if t.len() < ISO_TIME_MIN_LEN || !t.is_char_boundary(19) {
        return false;
    }
    let mut rest = &t[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        rest = &frac[digits..];
    }
    rest == "Z" || (rest.len() == 6 && rest.starts_with(['+', '-']))
}

/// `Mmm dd hh:mm:ss HOSTNAME [TAG[PID]: ]MSG`.
fn rfc3164(h: &str) -> Option<(Meta<'_>, &str)> {
    if !h.is_char_boundary(LEGACY_TIME_LEN) || !MONTHS.contains(&h.get(..3)?) {
        return None;
    }
    let time = &h[..LEGACY_TIME_LEN];
    let rest = h[LEGACY_TIME_LEN..].strip_prefix(' ')?;
    if rest.starts_with(' ') || rest.is_empty() {
        return None;
    }
    let (host, after) = rest.split_once(' ')?;
    let meta = Meta { time: Some(time), host: Some(host), ..Meta::default() };
    // A tag ends with `: ` before any blank; without one, all is text.
    let word_end = after.find([' ', ':']).unwrap_or(after.len());
    if !after[word_end..].starts_with(": ") {
        return Some((meta, after));
    }
    let word = &after[..word_end];
    let (tag, pid) = match word.split_once('[') {
        Some((t, p)) => match p.strip_suffix(']') {
            Some(pid) => (t, Some(pid)),
            None => return Some((meta, after)),
        },
        None => (word, None),
    };
    Some((Meta { tag: Some(tag), pid, ..meta }, &after[word_end + 2..]))
}

/// The header HAProxy writes before a message in `format`
/// (`LogFormat::Legacy`: no `format` written, chosen from `meta` as
/// HAProxy's `LOG_FORMAT_UNSPEC`).
pub fn header(format: LogFormat, level: u32, facility: u32, meta: &Meta<'_>, now: SystemTime) -> String {
    let format = match format {
        LogFormat::Legacy => unspecified(meta),
        f => Some(f),
    };
    let Some(format) = format else { return String::new() }; // raw
    let pri = facility * 8 + level;
    let mut out = match format {
        LogFormat::Raw | LogFormat::Iso => String::new(),
        LogFormat::Short | LogFormat::Timed => format!("<{level}>"),
        _ => format!("<{pri}>"),
    };
    match format {
        LogFormat::Legacy | LogFormat::Rfc3164 => {
            out.push_str(&legacy_time(meta.time, now));
            out.push(' ');
            if format == LogFormat::Rfc3164 {
                out.push_str(meta.host.unwrap_or("localhost"));
                out.push(' ');
            }
            if let Some(tag) = meta.tag {
                out.push_str(tag);
                if let Some(pid) = meta.pid {
                    out.push_str(&format!("[{pid}]"));
                }
                out.push_str(": ");
            }
        }
        LogFormat::Rfc5424 => {
            out.push_str("1 ");
            match meta.time {
                Some("-") => out.push('-'),
                t => out.push_str(&iso_time(t, now)),
            }
            for f in [meta.host, meta.tag, meta.pid, meta.msgid, meta.sd] {
                out.push(' ');
                out.push_str(f.unwrap_or("-"));
            }
            out.push(' ');
        }
        LogFormat::Timed | LogFormat::Iso => {
            out.push_str(&iso_time(meta.time.filter(|t| *t != "-"), now));
            out.push(' ');
        }
        LogFormat::Priority | LogFormat::Short | LogFormat::Raw => {}
    }
    out
}

/// HAProxy's choice for a target without `format`: RFC 5424 or 3164 when
/// the message names a host (by the form of its date), the local format
/// with a tag, `<PRI>` with a priority only, else raw (None).
fn unspecified(meta: &Meta<'_>) -> Option<LogFormat> {
    if meta.host.is_some() {
        let iso = meta.time.is_some_and(|t| t == "-" || t.len() >= ISO_TIME_MIN_LEN);
        return Some(if iso { LogFormat::Rfc5424 } else { LogFormat::Rfc3164 });
    }
    if meta.tag.is_some() {
        return Some(LogFormat::Legacy);
    }
    meta.prio.then_some(LogFormat::Priority)
}

/// `Mmm dd hh:mm:ss`: the message's own (an ISO date converted), else now.
fn legacy_time(time: Option<&str>, now: SystemTime) -> String {
    match time {
        Some(t) if t.len() == LEGACY_TIME_LEN => t.to_string(),
        Some(t) if t.len() >= ISO_TIME_MIN_LEN && t.is_char_boundary(19) => {
            let month: usize = t.get(5..7).and_then(|m| m.parse().ok()).unwrap_or(0);
            let day = t.get(8..10).unwrap_or("01");
            let day = day.strip_prefix('0').map_or(day.to_string(), |d| format!(" {d}"));
            match MONTHS.get(month.wrapping_sub(1)) {
                Some(m) => format!("{m} {day} {}", &t[11..19]),
                None => Civil::from_system(now).syslog_date(),
            }
        }
        _ => Civil::from_system(now).syslog_date(),
    }
}

/// An ISO 8601 date: the message's own (a legacy date given this year and
/// `-00:00`, an unknown zone), else now with microseconds.
fn iso_time(time: Option<&str>, now: SystemTime) -> String {
    let c = Civil::from_system(now);
    match time {
        Some(t) if t.len() >= ISO_TIME_MIN_LEN => t.to_string(),
        Some(t) if t.len() == LEGACY_TIME_LEN => match MONTHS.iter().position(|m| t.starts_with(m)) {
            Some(m) => {
                // A month after this one was last year's.
                let year = if (m as u32 + 1) > c.month { c.year - 1 } else { c.year };
                let day = t[4..6].replace(' ', "0");
                format!("{year:04}-{:02}-{day}T{}-00:00", m + 1, &t[7..15])
            }
            None => iso_now(&c, now),
        },
        _ => iso_now(&c, now),
    }
}

fn iso_now(c: &Civil, now: SystemTime) -> String {
    let micros = now.duration_since(std::time::UNIX_EPOCH).unwrap_or_default().subsec_micros();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{micros:06}+00:00",
        c.year, c.month, c.day, c.hour, c.min, c.sec
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_parse_as_haproxy_reads_them() {
        let p = parse("<134>Dec  7 07:18:29 haproxy[42]: 127.0.0.1:5000 [x] fe be");
        assert_eq!((p.level, p.facility), (Some(6), Some(16)));
        // The local format has no host: HAProxy takes the tag for it.
        assert_eq!(p.meta.time, Some("Dec  7 07:18:29"));
        assert_eq!(p.meta.host, Some("haproxy[42]:"));
        assert_eq!((p.meta.tag, p.text), (None, "127.0.0.1:5000 [x] fe be"));
        let p = parse("<29>Dec  7 07:18:29 h1 app[7]: hello there");
        assert_eq!(
            (p.meta.host, p.meta.tag, p.meta.pid, p.text),
            (Some("h1"), Some("app"), Some("7"), "hello there")
        );
        let p = parse("<134>1 2026-12-07T07:41:03.261949+00:00 - haproxy 21495 - - GET /abc");
        assert_eq!(p.meta.time, Some("2026-12-07T07:41:03.261949+00:00"));
        assert_eq!(
            (p.meta.host, p.meta.tag, p.meta.pid, p.meta.sd),
            (None, Some("haproxy"), Some("21495"), None)
        );
        assert_eq!(p.text, "GET /abc");
        let p = parse("<134>1 2026-12-07T07:41:03Z h app - id [a b=\"c\"][d] msg");
        assert_eq!((p.meta.msgid, p.meta.sd, p.text), (Some("id"), Some("[a b=\"c\"][d]"), "msg"));
        let p = parse("<13>just text");
        assert_eq!((p.level, p.meta.time, p.text), (Some(5), None, "just text"));
        let p = parse("no priority");
        assert_eq!((p.level, p.meta.prio, p.text), (None, false, "no priority"));
    }

    #[test]
    fn headers_keep_the_message_fields() {
        let now = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_796_627_000);
        let p = parse("<134>Dec  7 07:18:29 haproxy[42]: GET /");
        let h = header(LogFormat::Rfc5424, 6, 16, &p.meta, now);
        assert!(
            h.starts_with("<134>1 ") && h.ends_with("-12-07T07:18:29-00:00 haproxy[42]: - - - - "),
            "{h}"
        );
        let back = format!("{h}{}", p.text);
        let q = parse(&back);
        // No format: a host and an ISO date make it RFC 5424 again.
        assert_eq!(header(LogFormat::Legacy, 6, 16, &q.meta, now), h);
        let local = parse("<29>Dec  7 07:18:29 h1 app[7]: x");
        assert_eq!(header(LogFormat::Rfc3164, 5, 3, &local.meta, now), "<29>Dec  7 07:18:29 h1 app[7]: ");
        let iso = parse("<29>1 2026-01-02T03:04:05Z h1 app 7 - - x");
        assert_eq!(header(LogFormat::Rfc3164, 5, 3, &iso.meta, now), "<29>Jan  2 03:04:05 h1 app[7]: ");
        assert_eq!(header(LogFormat::Short, 5, 3, &iso.meta, now), "<5>");
        assert_eq!(header(LogFormat::Raw, 5, 3, &iso.meta, now), "");
        assert_eq!(header(LogFormat::Legacy, 5, 3, &parse("<29>x").meta, now), "<29>");
        assert_eq!(header(LogFormat::Legacy, 5, 3, &parse("x").meta, now), "");
    }
}
