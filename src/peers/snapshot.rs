//! Stick-table snapshots (strata's `snapshot FILE [every T]` on a
//! `stick-table` line): the table written to a file, read back at start.
//!
//! A snapshot is a peer lesson kept in a file: the table definition and
//! one timed update per entry, in the peers protocol's encoding, each
//! checked by a CRC-32, so a cut or damaged file is found and refused with
//! the byte offset where it goes wrong.
//!
//! ```text
//! "STRATA-SNAPSHOT 1\n"
//! u64  wall-clock time of the write (ms since the Unix epoch)
//! u32  length, definition (peers table definition), u32 CRC
//! (u32 length, timed update, u32 CRC)*       one per entry
//! u32  0xffffffff, u64 entry count, u32 CRC of the count
//! ```
//! Integers are big endian. On load, the time between the write and the
//! load is taken off every entry's remaining lifetime (entries past it are
//! not loaded) and added to the age of every rate's period.
//!
//! Written to `FILE.tmp.PID`, synced, then renamed over `FILE`: a reader
//! (or a crash) sees the old file or the new one, never half of one.

use super::schema::{self, Definition};
use super::update::{self, DictRx, DictTx, Value};
use super::wire;
use crate::stick::Table;
use crate::stick::table::ScanCursor;
use std::fmt;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

const MAGIC: &[u8] = b"STRATA-SNAPSHOT 1\n";
const END: u32 = u32::MAX;
/// Entries encoded per shard lock held.
const BATCH: usize = 512;
/// Largest record accepted when reading.
const MAX_RECORD: usize = 1 << 20;

fn wall_ms(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// What a write did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Written {
    pub entries: u64,
    pub bytes: u64,
}

/// Writes `table` to `path` atomically. `now` is the table's clock.
pub fn write(table: &Table, path: &Path, now: u64, wall: SystemTime) -> io::Result<Written> {
    let tmp = PathBuf::from(format!("{}.tmp.{}", path.display(), std::process::id()));
    let res = write_to(table, &tmp, now, wall);
    match res {
        Ok(w) => {
            fs::rename(&tmp, path)?;
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
                && let Ok(d) = fs::File::open(dir)
            {
                let _ = d.sync_all(); // the rename itself made durable
            }
            Ok(w)
        }
        Err(e) => {
            let _ = fs::remove_file(&tmp);
            Err(e)
        }
    }
}

fn record(out: &mut Vec<u8>, payload: &[u8]) {
    out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    out.extend_from_slice(payload);
    out.extend_from_slice(&crc32fast::hash(payload).to_be_bytes());
}

fn write_to(table: &Table, tmp: &Path, now: u64, wall: SystemTime) -> io::Result<Written> {
    let f = fs::File::create(tmp)?;
    let mut w = io::BufWriter::with_capacity(1 << 16, f);
    let mut head = Vec::with_capacity(128);
    head.extend_from_slice(MAGIC);
    head.extend_from_slice(&wall_ms(wall).to_be_bytes());
    let mut def = Vec::new();
    schema::encode_define(&mut def, 0, table.name(), table);
    record(&mut head, &def);
    w.write_all(&head)?;
    let mut bytes = head.len() as u64;
    let mut entries = 0u64;
    let mut dict = DictTx::default();
    let mut cur = ScanCursor::default();
    let mut batch = Vec::with_capacity(64 * BATCH);
    let mut payload = Vec::with_capacity(128);
    while !cur.done() {
        batch.clear();
        // encoded under the shard lock, written after it is released
        entries += table.scan(&mut cur, BATCH, |e| {
            payload.clear();
            let left = u32::try_from(e.exp_remaining(now)).unwrap_or(u32::MAX);
            update::encode(&mut payload, table, e, None, Some(left), now, &mut dict);
            record(&mut batch, &payload);
        }) as u64;
        w.write_all(&batch)?;
        bytes += batch.len() as u64;
    }
    let mut tail = Vec::with_capacity(16);
    tail.extend_from_slice(&END.to_be_bytes());
    tail.extend_from_slice(&entries.to_be_bytes());
    tail.extend_from_slice(&crc32fast::hash(&entries.to_be_bytes()).to_be_bytes());
    w.write_all(&tail)?;
    bytes += tail.len() as u64;
    let f = w.into_inner().map_err(io::IntoInnerError::into_error)?;
    f.sync_all()?;
    Ok(Written { entries, bytes })
}

/// Why a snapshot was refused: what, and at which byte of the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadError {
    pub offset: u64,
    pub what: String,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte offset {}", self.what, self.offset)
    }
}

/// What a load did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Loaded {
    pub entries: u64, // entries in the file
    pub loaded: u64,  // entries stored (the others had expired)
}

fn err(offset: usize, what: impl Into<String>) -> LoadError {
    LoadError { offset: offset as u64, what: what.into() }
}

/// Reads records from `b` at `at`: (payload, next offset).
fn next_record(b: &[u8], at: usize) -> Result<Option<(&[u8], usize)>, LoadError> {
    let len = b.get(at..at + 4).ok_or_else(|| err(at, "file cut inside a record length"))?;
    let len = u32::from_be_bytes([len[0], len[1], len[2], len[3]]);
    if len == END {
        return Ok(None);
    }
    let len = len as usize;
    if len > MAX_RECORD {
        return Err(err(at, format!("record length {len} too large")));
    }
    let start = at + 4;
    let payload = b.get(start..start + len).ok_or_else(|| err(at, "file cut inside a record"))?;
    let crc =
        b.get(start + len..start + len + 4).ok_or_else(|| err(start + len, "file cut inside a checksum"))?;
    if crc32fast::hash(payload).to_be_bytes() != crc {
        return Err(err(at, "checksum mismatch (damaged record)"));
    }
    Ok(Some((payload, start + len + 4)))
}

/// Checks the whole file and returns the definition and where the
/// entries start; nothing is stored unless all of it is sound.
fn check(b: &[u8]) -> Result<(Definition, usize, u64, u64), LoadError> {
    if !b.starts_with(MAGIC) {
        return Err(err(0, "not a strata snapshot (bad magic)"));
    }
    let at = MAGIC.len();
    let t = b.get(at..at + 8).ok_or_else(|| err(at, "file cut inside the header"))?;
    let written = u64::from_be_bytes(t.try_into().unwrap_or_default());
    let (dp, mut at) = next_record(b, at + 8)?.ok_or_else(|| err(at + 8, "no table definition"))?;
    let def = schema::decode_define(dp).map_err(|_| err(MAGIC.len() + 8, "bad table definition"))?;
    let first = at;
    let mut n = 0u64;
    while let Some((_, next)) = next_record(b, at)? {
        n += 1;
        at = next;
    }
    let tail = b.get(at + 4..at + 16).ok_or_else(|| err(at, "file cut inside the end marker"))?;
    let (count, crc) = tail.split_at(8);
    if crc32fast::hash(count).to_be_bytes() != crc {
        return Err(err(at, "checksum mismatch in the end marker"));
    }
    let count = u64::from_be_bytes(count.try_into().unwrap_or_default());
    if count != n {
        return Err(err(at, format!("end marker counts {count} entries, the file holds {n}")));
    }
    if b.len() != at + 16 {
        return Err(err(at + 16, "bytes after the end marker"));
    }
    Ok((def, first, written, n))
}

/// Reads `path` into `table`. `Ok(None)` when there is no file. A file
/// that is cut, damaged or of another table layout is refused as a whole
/// (the table is left empty) with the offset of the first bad byte.
pub fn load(table: &Table, path: &Path, now: u64, wall: SystemTime) -> Result<Option<Loaded>, LoadError> {
    let b = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(err(0, format!("cannot read the file ({e})"))),
    };
    let (def, mut at, written, entries) = check(&b)?;
    let Some(_) = schema::matching(&def, [(0, table.name(), table)]) else {
        return Err(err(
            MAGIC.len() + 8,
            "the table definition does not match this table (name, key type or length)",
        ));
    };
    let age = wall_ms(wall).saturating_sub(written);
    let mut rx = DictRx::default();
    let mut loaded = 0;
    while let Some((p, next)) = next_record(&b, at)? {
        let mut d = update::decode(wire::STKT_INCUPDATE_TIMED, p, &def, table, &mut rx).map_err(|_| {
            table.remove_unreferenced(|_| true);
            err(at, "undecodable entry")
        })?;
        at = next;
        let left = u64::from(d.expire.unwrap_or(0));
        if table.expire().is_some() && left <= age {
            continue; // expired while the process was down
        }
        for (_, v) in d.values.iter_mut() {
            if let Value::Rate { elapsed, .. } = v {
                *elapsed = elapsed.saturating_add(age.min(u64::from(u32::MAX)) as u32);
            }
        }
        let rest = if table.expire().is_some() { left - age } else { 0 };
        if table.apply_remote(&d.key, rest, now, |e| update::apply(&d.values, e, now)).is_some() {
            loaded += 1;
        }
    }
    Ok(Some(Loaded { entries, loaded }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stick::table::TableDef;
    use crate::stick::{DataType, KeyType, Store};
    use std::sync::Arc;
    use std::time::Duration;

    fn table(expire: Option<u32>) -> Arc<Table> {
        Table::new(TableDef {
            name: "t".into(),
            key_type: KeyType::Ip,
            size: 1000,
            expire,
            nopurge: false,
            store: Store::parse("gpc0,conn_cnt,http_req_rate(10s),server_id,server_key,bytes_in_cnt")
                .unwrap(),
            peers: None,
            snapshot: None,
        })
    }

    fn fill(t: &Table, n: u8, now: u64) {
        for i in 0..n {
            let k = KeyType::Ip.parse_text(&format!("10.0.0.{i}")).unwrap();
            t.apply_remote(&k, 50_000, now, |e| {
                e.set(DataType::Gpc0, i64::from(i), now);
                e.set(DataType::BytesInCnt, 5_000_000_000 + i64::from(i), now);
                e.set(DataType::HttpReqRate, 7, now);
                e.set_raw(
                    DataType::ServerKey,
                    crate::stick::table::Raw::Dict(
                        crate::stick::dict::intern(if i % 2 == 0 { "s1" } else { "s2" }).unwrap(),
                    ),
                );
            });
        }
    }

    fn lines(t: &Table, now: u64) -> Vec<String> {
        let mut v = Vec::new();
        let mut c = ScanCursor::default();
        t.scan(&mut c, usize::MAX, |e| {
            let mut s = String::new();
            e.fmt_line(now, &mut s);
            v.push(s.split_once(": ").unwrap().1.to_owned());
        });
        v.sort();
        v
    }

    #[test]
    fn peers_snapshot_round_trip_keeps_values_and_expiry() {
        let dir = std::env::temp_dir().join(format!("strata-snap-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("t.snap");
        let (a, now) = (table(Some(60_000)), 9_000_000);
        fill(&a, 200, now);
        let wall = SystemTime::now();
        let w = write(&a, &path, now, wall).unwrap();
        assert_eq!(w.entries, 200);
        // loaded 3 s later (wall clock), by a process whose clock is elsewhere
        let b = table(Some(60_000));
        let l = load(&b, &path, 100, wall + Duration::from_secs(3)).unwrap().unwrap();
        assert_eq!((l.entries, l.loaded), (200, 200));
        let (la, lb) = (lines(&a, now + 3_000), lines(&b, 100));
        assert_eq!(la, lb, "same values, 3 s less to live, rates 3 s older");
        assert!(la[0].contains("exp=47000") && la[0].contains("server_key=s"), "{}", la[0]);
        // entries past their lifetime at load time are not loaded
        let c = table(Some(60_000));
        assert_eq!(load(&c, &path, 100, wall + Duration::from_secs(51)).unwrap().unwrap().loaded, 0);
        assert_eq!(load(&c, &dir.join("none.snap"), 100, wall), Ok(None));
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn peers_snapshot_damage_is_refused_with_its_offset() {
        let dir = std::env::temp_dir().join(format!("strata-snap-bad-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("t.snap");
        let a = table(None);
        fill(&a, 20, 1000);
        write(&a, &path, 1000, SystemTime::now()).unwrap();
        let good = fs::read(&path).unwrap();
        let first = MAGIC.len()
            + 8
            + 4
            + (u32::from_be_bytes(good[MAGIC.len() + 8..MAGIC.len() + 12].try_into().unwrap()) as usize)
            + 4;
        let try_load = |bytes: &[u8]| {
            fs::write(&path, bytes).unwrap();
            let t = table(None);
            let r = load(&t, &path, 1000, SystemTime::now());
            (r, t.used())
        };
        // cut in the middle: refused, nothing stored
        let (r, used) = try_load(&good[..good.len() / 2]);
        let e = r.unwrap_err();
        assert!(e.what.starts_with("file cut"), "{e}");
        assert!(e.offset as usize >= first && (e.offset as usize) < good.len() / 2, "{e}");
        assert_eq!(used, 0);
        // one byte of the third record changed: its offset
        let mut bad = good.clone();
        let mut at = first;
        for _ in 0..2 {
            at += 4 + u32::from_be_bytes(bad[at..at + 4].try_into().unwrap()) as usize + 4;
        }
        bad[at + 6] ^= 0x40;
        let (r, used) = try_load(&bad);
        assert_eq!(
            r.unwrap_err(),
            LoadError { offset: at as u64, what: "checksum mismatch (damaged record)".into() }
        );
        assert_eq!(used, 0);
        // without its end marker: cut
        let (r, _) = try_load(&good[..good.len() - 16]);
        assert!(r.unwrap_err().what.starts_with("file cut inside a record length"));
        assert!(try_load(b"garbage").0.unwrap_err().what.contains("bad magic"));
        assert_eq!(try_load(&good).0.unwrap().unwrap().loaded, 20);
        let _ = fs::remove_dir_all(&dir);
    }
}
