//! `show table`, `set table` and `clear table`: the functions the CLI calls,
//! with HAProxy 2.6's texts. The command parser itself lives with the CLI.
//!
//! Arguments are the words **after the table name** (`args[3..]` in
//! HAProxy's numbering). Replies: `Ok(text)` is the output without the
//! empty line that ends every CLI reply; `Err(e)` displays as HAProxy's
//! error line, also without its newline. The CLI writes `text` + `"\n"` or
//! `e` + `"\n\n"`.
//!
//! Choices that differ from HAProxy 2.6.12 (the reference allows them; see
//! `haproxy-semantics.md` §d):
//! - `clear table NAME [filters]` removes every unreferenced matching entry.
//!   HAProxy 2.6 keeps an unused entry whose next entry in key order is in
//!   use (its walk releases the next entry before deleting the current
//!   one); strata does not copy that bug.
//! - `set table NAME` with nothing after the name answers `Required
//!   arguments: <table> key <key> [data.<store_data_type> <value>]*`; HAProxy
//!   2.6.12 silently empties the table of its unreferenced entries.
//! - Keys typed on the CLI are parsed strictly ([`KeyType::parse_text`](super::key::KeyType::parse_text)):
//!   `not-an-ip` is `Invalid key`, not `0.0.0.0`.

use super::data::DataType;
use super::key::{KeyTextError, StoredKey};
use super::table::{InUse, Table};

mod error;
mod filter;
#[cfg(test)]
mod tests;

pub use error::{Action, CliError, FilterError};
use filter::parse_i64;
pub use filter::{Filter, MAX_FILTERS, Op, parse_filters};

/// What `show table` prints instead of the entries to a `user`-level CLI.
pub const INSUFFICIENT_PRIVILEGES: &str = "# contents not dumped due to insufficient privileges\n";

/// `# table: NAME, type: T, size:S, used:U` and its newline.
pub fn header(t: &Table) -> String {
    format!("# table: {}, type: {}, size:{}, used:{}\n", t.name(), t.key_type().name(), t.size(), t.used())
}

/// The entry lines (each with its newline) of the entries matching every
/// filter, in key order.
pub fn entries(t: &Table, filters: &[Filter], now: u64) -> String {
    let mut lines: Vec<(StoredKey, String)> = Vec::new();
    t.for_each(|e| {
        if filters.iter().all(|f| f.matches(e, now)) {
            let mut s = String::new();
            e.fmt_line(now, &mut s);
            s.push('\n');
            lines.push((e.key(), s));
        }
    });
    lines.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    lines.into_iter().map(|(_, s)| s).collect()
}

/// The keys of the entries matching every filter, in key order.
pub fn matching_keys(t: &Table, filters: &[Filter], now: u64) -> Vec<StoredKey> {
    let mut keys = Vec::new();
    t.for_each(|e| {
        if filters.iter().all(|f| f.matches(e, now)) {
            keys.push(e.key());
        }
    });
    keys.sort_unstable();
    keys
}

fn cli_key(t: &Table, args: &[&str], action: Action) -> Result<StoredKey, CliError> {
    let text = args.get(1).copied().unwrap_or("");
    if text.is_empty() {
        return Err(CliError::KeyExpected);
    }
    t.key_type().parse_text(text).map_err(|e| match e {
        KeyTextError::Invalid => CliError::InvalidKey,
        KeyTextError::Unsupported => CliError::KeyTypeUnsupported(action),
    })
}

/// `show table NAME [key K | data.<type> <op> <value>...]`.
/// A missing key gives an empty text (no header), as HAProxy.
pub fn show(t: &Table, args: &[&str], now: u64) -> Result<String, CliError> {
    t.set_now(now);
    match args.first().copied().unwrap_or("") {
        "" => Ok(header(t) + &entries(t, &[], now)),
        "key" => {
            let key = cli_key(t, args, Action::Show)?;
            let line = t.inspect(&key, |e| {
                let mut s = String::new();
                e.fmt_line(now, &mut s);
                s.push('\n');
                s
            });
            Ok(line.map(|l| header(t) + &l).unwrap_or_default())
        }
        w if w.starts_with("data.") => {
            let filters = parse_filters(t, args)?;
            Ok(header(t) + &entries(t, &filters, now))
        }
        _ => Err(CliError::Arguments(Action::Show)),
    }
}

/// `set table NAME key K [data.<type> <value>]...`: creates the entry if
/// needed (evicting if full), sets the values in order and refreshes the
/// entry. As HAProxy, a failing `set` keeps the entry it created or
/// refreshed, with the values set before the failing argument.
pub fn set(t: &Table, args: &[&str], now: u64) -> Result<(), CliError> {
    match args.first().copied().unwrap_or("") {
        "key" => {}
        w if w.starts_with("data.") => return Err(CliError::ContentLookupShowClearOnly),
        _ => return Err(CliError::Arguments(Action::Set)),
    }
    let key = cli_key(t, args, Action::Set)?;
    t.upsert(&key, now, |e| {
        for pair in args[2..].chunks(2) {
            let name = pair[0].strip_prefix("data.").ok_or(CliError::DataValueExpected)?;
            let ty = DataType::from_name(name).ok_or(CliError::UnknownDataType)?;
            if !t.stores(ty) {
                return Err(CliError::NotStored);
            }
            let v = pair.get(1).and_then(|v| parse_i64(v)).ok_or(CliError::InvalidStoreValue)?;
            e.set(ty, v, now);
        }
        Ok(())
    })
    .ok_or(CliError::AllocFailed)?
}

/// `clear table NAME [key K | data.<type> <op> <value>...]`: deletes the
/// entry, or every matching (all, without filters) unreferenced entry.
/// Returns the number of entries deleted (the CLI prints nothing).
pub fn clear(t: &Table, args: &[&str], now: u64) -> Result<usize, CliError> {
    t.set_now(now);
    match args.first().copied().unwrap_or("") {
        "" => Ok(t.remove_unreferenced(|_| true)),
        "key" => {
            let key = cli_key(t, args, Action::Clear)?;
            match t.remove(&key) {
                Ok(found) => Ok(usize::from(found)),
                Err(InUse) => Err(CliError::InUse),
            }
        }
        w if w.starts_with("data.") => {
            let filters = parse_filters(t, args)?;
            Ok(t.remove_unreferenced(|e| filters.iter().all(|f| f.matches(e, now))))
        }
        _ => Err(CliError::Arguments(Action::Clear)),
    }
}
