//! `stick-table` and `tcp-request` lines.

use super::args::Res;
use super::section::Open;
use crate::cfg::model::{Loc, RuleLine};
use crate::stick::table::SnapshotSpec;
use crate::stick::{KeyType, Store, TableDef};

/// `snapshot FILE` without `every`: written once a minute (and at stop).
const DEFAULT_SNAPSHOT_EVERY_MS: u32 = 60_000;

/// `stick-table type T [len N] size N[k|m|g] [expire T] [nopurge] [peers P]
/// [store LIST]... [snapshot FILE [every T]]` (one per proxy; the table is
/// named after it). `snapshot` is strata's own (docs/configuration.md).
pub(super) fn stick_table(o: &mut Open, words: &[String]) -> Res {
    if o.px.stick_table.is_some() {
        return Err(format!("only one stick-table per proxy ('{}').", o.px.name));
    }
    o.px.stick_table = Some(table_def(o.px.name.clone(), &words[1..])?);
    Ok(())
}

/// The table `name` from the arguments after `stick-table` (or after a
/// peers section's `table NAME`).
pub(super) fn table_def(name: String, words: &[String]) -> Result<TableDef, String> {
    let mut key_name = None;
    let mut len = None;
    let mut size = None;
    let mut expire = None;
    let mut nopurge = false;
    let mut store = Store::new();
    let mut peers = None;
    let mut snapshot = None;
    let mut i = 0;
    let value = |i: usize, kw: &str| {
        words.get(i + 1).map(String::as_str).ok_or(format!("stick-table: missing argument after '{kw}'."))
    };
    while i < words.len() {
        let kw = words[i].as_str();
        match kw {
            "type" => {
                key_name = Some(value(i, kw)?);
                i += 2;
                if words.get(i).map(String::as_str) == Some("len") {
                    let v = value(i, "len")?;
                    len = Some(v.parse::<u32>().map_err(|_| format!("stick-table: invalid length '{v}'."))?);
                    i += 2;
                }
                continue;
            }
            "size" => {
                let v = value(i, kw)?;
                let n = crate::cfg::time::parse_size(v)
                    .map_err(|e| format!("stick-table: invalid size '{v}': {e}"))?;
                size = Some(u32::try_from(n).map_err(|_| format!("stick-table: size '{v}' too large."))?);
            }
            "expire" => {
                let v = value(i, kw)?;
                let t =
                    crate::cfg::time::parse_time(v).map_err(|e| format!("stick-table: {e} in 'expire'"))?;
                expire = Some(
                    u32::try_from(t.as_millis()).map_err(|_| "stick-table: expire too large.".to_string())?,
                );
            }
            "nopurge" => {
                nopurge = true;
                i += 1;
                continue;
            }
            "store" => store.add_list(value(i, kw)?).map_err(|e| e.to_string())?,
            "peers" => peers = Some(value(i, kw)?.to_owned()),
            "snapshot" => {
                let path = value(i, kw)?;
                let mut every_ms = DEFAULT_SNAPSHOT_EVERY_MS;
                if words.get(i + 2).map(String::as_str) == Some("every") {
                    let v = value(i + 2, "snapshot every")?;
                    let t = crate::cfg::time::parse_time(v)
                        .map_err(|e| format!("stick-table: {e} in 'snapshot every'"))?;
                    every_ms = u32::try_from(t.as_millis())
                        .ok()
                        .filter(|&ms| ms > 0)
                        .ok_or(format!("stick-table: invalid 'snapshot every' time '{v}'."))?;
                    i += 2;
                }
                snapshot = Some(SnapshotSpec { path: path.into(), every_ms });
            }
            other => return Err(format!("stick-table: unknown argument '{other}'.")),
        }
        i += 2;
    }
    let key_name = key_name.ok_or("stick-table: missing type.")?;
    let key_type = KeyType::from_name(key_name, len).map_err(|e| format!("stick-table: {e}"))?;
    let size = size.ok_or("stick-table: missing size.")?;
    Ok(TableDef { name, key_type, size, expire, nopurge, store, peers, snapshot })
}

/// `tcp-request connection|session|content ...` and `tcp-request inspect-delay T`.
pub(super) fn tcp_request(o: &mut Open, words: &[String], loc: &Loc) -> Res {
    if o.kind == super::section::Kind::Defaults
        && o.px.name.is_empty()
        && let Some(what) = words.get(1)
    {
        return Err(format!("tcp-request {what} is not allowed in anonymous 'defaults' sections"));
    }
    let list = match words.get(1).map(String::as_str) {
        Some("connection") => &mut o.px.tcp_request_connection,
        Some("session") => &mut o.px.tcp_request_session,
        Some("content") => &mut o.px.tcp_request_content,
        Some("inspect-delay") => {
            let v = words.get(2).ok_or("'tcp-request inspect-delay' expects a timeout value.")?;
            o.px.inspect_delay = Some(
                crate::cfg::time::parse_time(v).map_err(|e| format!("{e} in 'tcp-request inspect-delay'"))?,
            );
            return super::args::no_extra("tcp-request inspect-delay", words, 3);
        }
        Some(other) => {
            return Err(format!(
                "'tcp-request' expects 'connection', 'session', 'content' or 'inspect-delay', but got '{other}'."
            ));
        }
        None => {
            return Err("'tcp-request' expects 'connection', 'session', 'content' or 'inspect-delay'.".into());
        }
    };
    if words.len() < 3 {
        return Err(format!("'tcp-request {}' expects an action.", words[1]));
    }
    list.push(RuleLine { words: words[2..].to_vec(), loc: loc.clone() });
    Ok(())
}
