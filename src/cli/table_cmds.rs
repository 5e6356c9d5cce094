//! `show table`, `set table`, `clear table` on the stats port: table lookup,
//! access levels (HAProxy 2.6's matrix) and reply framing. The texts and the
//! work itself are [`crate::stick::dump`]'s.

use super::commands::CliData;
use crate::cfg::AccessLevel;
use crate::stick::dump::{self, Action, CliError, INSUFFICIENT_PRIVILEGES};

/// `show table [NAME [key K | data.<type> <op> <value>...]]`.
pub fn show(words: &[&str], level: AccessLevel, data: &mut dyn CliData, out: &mut Vec<u8>) {
    let now = data.now_ms();
    let tables = data.tables();
    let Some(name) = words.get(2) else {
        // Headers only, in reverse declaration order, at every level.
        let list: Vec<_> = tables.tables().collect();
        for t in list.iter().rev() {
            t.set_now(now);
            out.extend_from_slice(dump::header(t).as_bytes());
        }
        out.push(b'\n');
        return;
    };
    let Some((_, t)) = tables.find(name) else { return error(CliError::NoSuchTable, out) };
    let args = &words[3..];
    if level < AccessLevel::Operator {
        // A user may see the header, never the entries; a key lookup is refused.
        let checked = match args.first().copied().unwrap_or("") {
            "" => Ok(()),
            "key" => return super::severity::err(out, b"Permission denied\n\n"),
            w if w.starts_with("data.") => dump::parse_filters(t, args).map(|_| ()),
            _ => Err(CliError::Arguments(Action::Show)),
        };
        return match checked {
            Ok(()) => {
                t.set_now(now);
                out.extend_from_slice(dump::header(t).as_bytes());
                out.extend_from_slice(INSUFFICIENT_PRIVILEGES.as_bytes());
                out.push(b'\n');
            }
            Err(e) => error(e, out),
        };
    }
    match dump::show(t, args, now) {
        Ok(text) => {
            out.extend_from_slice(text.as_bytes());
            out.push(b'\n');
        }
        Err(e) => error(e, out),
    }
}

/// `set table NAME key K [data.<type> <value>]...` (operator and above).
pub fn set(words: &[&str], _: AccessLevel, data: &mut dyn CliData, out: &mut Vec<u8>) {
    let now = data.now_ms();
    let Some(name) = words.get(2) else { return error(CliError::Arguments(Action::Set), out) };
    let Some((_, t)) = data.tables().find(name) else { return error(CliError::NoSuchTable, out) };
    match dump::set(t, &words[3..], now) {
        Ok(()) => out.push(b'\n'),
        Err(e) => error(e, out),
    }
}

/// `clear table NAME [key K | data.<type> <op> <value>...]` (operator and above).
pub fn clear(words: &[&str], _: AccessLevel, data: &mut dyn CliData, out: &mut Vec<u8>) {
    let now = data.now_ms();
    let Some(name) = words.get(2) else { return error(CliError::Arguments(Action::Clear), out) };
    let Some((_, t)) = data.tables().find(name) else { return error(CliError::NoSuchTable, out) };
    match dump::clear(t, &words[3..], now) {
        Ok(_) => out.push(b'\n'),
        Err(e) => error(e, out),
    }
}

fn error(e: CliError, out: &mut Vec<u8>) {
    super::severity::err(out, e.to_string().as_bytes());
    out.extend_from_slice(b"\n\n");
}
