//! Reading HAProxy's server-state file, version 1: what `show servers
//! state` prints and an operator saves before a reload, read back at start
//! by `load-server-state-from-file` (`runtime::server_state` finds the
//! files; [`super::state_apply`] applies one line to a server).
//!
//! As HAProxy 2.6 reads it: the first line is the version; blank lines
//! and lines starting with `#` are skipped; each other line has 20 to 25
//! fields separated by spaces or tabs (more are ignored); a line that is
//! too long (2,000 bytes with its newline), not ended by a newline or with
//! a wrong field count makes the whole file refused, numbered as HAProxy
//! numbers it (the line after the version is line 1).

use hashbrown::HashMap;

/// HAProxy's `SRV_STATE_LINE_MAXLEN`: a line and its newline fit in it.
const LINE_MAX: usize = 2000;
/// Fields of a version-1 line, at least and at most.
const MIN_FIELDS: usize = 20;
const MAX_FIELDS: usize = 25;

/// One server's saved state: the fields after `be_id be_name srv_id
/// srv_name`, from `srv_addr` on (HAProxy's `params[4..]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateLine {
    pub be_id: String,
    pub be_name: String,
    pub srv_name: String,
    pub params: Vec<String>, // srv_addr, srv_op_state, ... (16 to 21 of them)
}

/// Why a file gave nothing.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    Version,      // no valid version on the first line
    Corrupt(u32), // HAProxy's line number of the bad line
}

/// The usable lines of one file, by (backend name, server name).
#[derive(Debug, Default)]
pub struct StateFile {
    pub lines: HashMap<(String, String), StateLine>,
}

/// The backend a local file is read for: lines of other backends are
/// skipped, mismatches of id or name reported as HAProxy reports them.
pub struct ForBackend<'a> {
    pub name: &'a str,
    pub id: u32,
}

/// The version on the first line: digits (after blanks) then the newline.
fn version(first: &[u8]) -> Option<u32> {
    let s = std::str::from_utf8(first).ok()?;
    let digits = s.strip_suffix('\n')?.trim_start_matches([' ', '\t']);
    let v: u32 = digits.parse().ok()?;
    (v == 1 && digits.bytes().all(|b| b.is_ascii_digit())).then_some(v)
}

/// C's `atoi` on a field: leading digits, 0 when there are none.
fn atoi(s: &str) -> u64 {
    let d = s
        .bytes()
        .take_while(u8::is_ascii_digit)
        .fold(0u64, |n, b| n.saturating_mul(10) + u64::from(b - b'0'));
    d.min(u64::from(u32::MAX))
}

/// Splits `text` into lines as `fgets` with a 2,000-byte buffer does: a
/// longer line comes in pieces, the last one may lack its newline.
fn fgets_lines(text: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let end = rest.iter().position(|&b| b == b'\n').map_or(rest.len(), |i| i + 1).min(LINE_MAX - 1);
        let (line, tail) = rest.split_at(end);
        rest = tail;
        Some(line)
    })
}

/// Reads a whole file. `backend`: a local file's backend (None for the
/// global file). Warnings (mismatching ids or names) go to `notes`.
pub fn parse(
    text: &[u8],
    backend: Option<&ForBackend<'_>>,
    notes: &mut Vec<String>,
) -> Result<StateFile, Refused> {
    let mut lines = fgets_lines(text);
    lines.next().and_then(version).ok_or(Refused::Version)?;
    let mut file = StateFile::default();
    for (n, raw) in lines.enumerate() {
        let Some(fields) = split(raw).map_err(|()| Refused::Corrupt(n as u32 + 1))? else { continue };
        let mut fields = fields.into_iter();
        let (Some(be_id), Some(be_name), Some(_srv_id), Some(srv_name)) =
            (fields.next(), fields.next(), fields.next(), fields.next())
        else {
            continue; // cannot happen: at least MIN_FIELDS
        };
        let line = StateLine { be_id, be_name, srv_name, params: fields.collect() };
        let key_be = match backend {
            Some(b) => {
                if !matches_backend(&line, b, notes) {
                    continue;
                }
                b.name.to_string()
            }
            None => line.be_name.clone(),
        };
        // a duplicate (a hand-made file) is dropped: the first line stays
        file.lines.entry((key_be, line.srv_name.clone())).or_insert(line);
    }
    Ok(file)
}

/// A line's fields; None for a blank or comment line; Err for a line that
/// is cut (no newline) or has a wrong field count.
fn split(raw: &[u8]) -> Result<Option<Vec<String>>, ()> {
    let Some(body) = raw.strip_suffix(b"\n") else { return Err(()) };
    let body = String::from_utf8_lossy(body);
    let t = body.trim_start_matches([' ', '\t']);
    if t.is_empty() || t.starts_with('#') {
        return Ok(None);
    }
    let fields: Vec<String> =
        t.split([' ', '\t']).filter(|f| !f.is_empty()).take(MAX_FIELDS).map(str::to_string).collect();
    if fields.len() < MIN_FIELDS {
        return Err(());
    }
    Ok(Some(fields))
}

/// Whether a local file's line is for `b`: by id or name; an id mismatch
/// is reported and kept, a name mismatch reported and kept only when the
/// old backend's id was forced (`bk_f_forced_id`).
fn matches_backend(line: &StateLine, b: &ForBackend<'_>, notes: &mut Vec<String>) -> bool {
    let by_id = atoi(&line.be_id) == u64::from(b.id);
    let by_name = line.be_name == b.name;
    let forced = line.params.get(11).is_some_and(|f| atoi(f) & 1 == 1);
    match (by_id, by_name) {
        (false, false) => false,
        (false, true) => {
            notes.push(format!(
                "Proxy '{}': backend ID mismatch: from server state file: '{}', from running config '{}'",
                b.name, line.be_id, b.id
            ));
            true
        }
        (true, false) => {
            notes.push(format!(
                "Proxy '{}': backend name mismatch: from server state file: '{}', from running config '{}'",
                b.name, line.be_name, b.name
            ));
            forced
        }
        (true, true) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = "1\n# be_id be_name srv_id srv_name srv_addr ...\n";
    const S1: &str = "3 bk 1 s1 127.0.0.1 2 0 5 11 2 1 0 4 0 0 0 0 - 18101 - 0 0 - - 0\n";

    #[test]
    fn reads_haproxys_output() {
        let text = format!("{HEAD}{S1}\n   \n3 bk 2 s2 127.0.0.1 0 5 12 12 1 1 0 0 8 0 0 0 - 18102 -\n");
        let f = parse(text.as_bytes(), None, &mut Vec::new()).expect("parsed");
        assert_eq!(f.lines.len(), 2);
        let s1 = &f.lines[&("bk".to_string(), "s1".to_string())];
        assert_eq!(
            (s1.be_id.as_str(), s1.params[0].as_str(), s1.params[3].as_str()),
            ("3", "127.0.0.1", "5")
        );
        assert_eq!(f.lines[&("bk".to_string(), "s2".to_string())].params.len(), 16);
    }

    #[test]
    fn refuses_what_haproxy_refuses() {
        let parse_ = |t: &str| parse(t.as_bytes(), None, &mut Vec::new()).map(|f| f.lines.len());
        assert_eq!(parse_(""), Err(Refused::Version));
        assert_eq!(parse_("2\n"), Err(Refused::Version));
        assert_eq!(parse_("1 \n"), Err(Refused::Version));
        assert_eq!(parse_("1"), Err(Refused::Version));
        assert_eq!(parse_("1\n"), Ok(0));
        // too few fields, on HAProxy's line 2 (the comment is line 1)
        assert_eq!(parse_(&format!("{HEAD}3 bk 1 s1 127.0.0.1 2 0 5 11\n")), Err(Refused::Corrupt(2)));
        // the last line cut before its newline
        assert_eq!(parse_(&format!("{HEAD}{}", S1.trim_end())), Err(Refused::Corrupt(2)));
        // a line longer than HAProxy's buffer
        let long = format!("{HEAD}{}{}", " ".repeat(2000), S1);
        assert_eq!(parse_(&long), Err(Refused::Corrupt(2)));
        // more than 25 fields: the rest is ignored
        assert_eq!(parse_(&format!("{HEAD}{} x y z\n", S1.trim_end())), Ok(1));
    }

    #[test]
    fn local_files_check_the_backend() {
        let b = ForBackend { name: "bk", id: 3 };
        let mut notes = Vec::new();
        let text = format!(
            "{HEAD}{S1}9 other 1 s9 - 2 0 1 1 0 1 0 0 0 0 0 0 - 0 -\n7 bk 2 s2 - 2 0 1 1 0 1 0 0 0 0 0 0 - 0 -\n\
             3 old 3 s3 - 2 0 1 1 0 1 0 0 0 0 0 0 - 0 -\n3 older 4 s4 - 2 0 1 1 0 1 0 0 0 0 1 0 - 0 -\n"
        );
        let f = parse(text.as_bytes(), Some(&b), &mut notes).expect("parsed");
        let mut names: Vec<&str> = f.lines.keys().map(|(_, s)| s.as_str()).collect();
        names.sort_unstable();
        assert_eq!(
            names,
            ["s1", "s2", "s4"],
            "other backends skipped, a renamed one kept only with a forced id"
        );
        assert_eq!(notes.len(), 3, "{notes:?}");
        assert!(
            notes[0].contains("backend ID mismatch: from server state file: '7', from running config '3'")
        );
        assert!(
            notes[1]
                .contains("backend name mismatch: from server state file: 'old', from running config 'bk'")
        );
    }
}
