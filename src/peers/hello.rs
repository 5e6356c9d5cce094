//! The handshake (`doc/peers-v2.0.txt`, section I): the connecting side
//! sends three lines, `HAProxyS 2.1`, the name of the peer it connects to,
//! and its own name with its pid and relative pid; the accepting side
//! answers one status line.

/// Protocol name of the first line.
pub const PROTO: &str = "HAProxyS";
/// Version strata speaks (2.0 is the downgrade HAProxy offers).
pub const MAJOR: u32 = 2;
pub const MINOR: u32 = 1;

/// Status codes. 100 and 110 are never sent: they are the connecting
/// side's own states (`show peers` prints them as CONN and HSHK).
pub const ST_CONNECTING: u16 = 100;
pub const ST_CONNECTED: u16 = 110;
pub const ST_SUCCESS: u16 = 200;
pub const ST_TRY_AGAIN: u16 = 300;
pub const ST_ERR_PROTO: u16 = 501;
pub const ST_ERR_VERSION: u16 = 502;
pub const ST_ERR_HOST: u16 = 503;
pub const ST_ERR_PEER: u16 = 504;

/// Longest handshake line accepted (HAProxy: its buffer).
pub const MAX_LINE: usize = 1024;

/// `show peers`' name of a status code (`last_status=`).
pub fn status_name(code: u16) -> &'static str {
    match code {
        ST_CONNECTING => "CONN",
        ST_CONNECTED => "HSHK",
        ST_SUCCESS => "ESTA",
        ST_TRY_AGAIN => "RETR",
        ST_ERR_PROTO => "PROT",
        ST_ERR_VERSION => "VERS",
        ST_ERR_HOST => "NAME",
        ST_ERR_PEER => "UNKN",
        _ => "NONE",
    }
}

/// The three hello lines of a connection to peer `remote`.
pub fn hello(remote: &str, local: &str, pid: u32, downgrade: bool) -> String {
    let minor = if downgrade { 0 } else { MINOR };
    format!("{PROTO} {MAJOR}.{minor}\n{remote}\n{local} {pid} 1\n")
}

/// One line at the front of `buf`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Line<'a> {
    Incomplete,
    /// The line without its `\n` (and `\r`), and the bytes it took.
    Full(&'a [u8], usize),
    /// No end of line within [`MAX_LINE`] bytes: the connection ends.
    TooLong,
}

/// Takes one `\n`-terminated line off `buf`.
pub fn line(buf: &[u8]) -> Line<'_> {
    match buf.iter().take(MAX_LINE).position(|&b| b == b'\n') {
        Some(n) => {
            let l = &buf[..n];
            let l = l.strip_suffix(b"\r").unwrap_or(l);
            Line::Full(l, n + 1)
        }
        None if buf.len() >= MAX_LINE => Line::TooLong,
        None => Line::Incomplete,
    }
}

/// Checks the first line: the minor version offered, or the status to
/// answer (501: not the protocol, 502: a version strata does not speak).
pub fn check_version(l: &[u8]) -> Result<u32, u16> {
    let l = std::str::from_utf8(l).map_err(|_| ST_ERR_PROTO)?;
    let v = l.strip_prefix(PROTO).and_then(|r| r.strip_prefix(' ')).ok_or(ST_ERR_PROTO)?;
    let (maj, min) = v.split_once('.').ok_or(ST_ERR_VERSION)?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(maj) || !digits(min) {
        return Err(ST_ERR_VERSION);
    }
    match (maj.parse::<u32>(), min.parse::<u32>()) {
        (Ok(MAJOR), Ok(m)) if m <= MINOR => Ok(m),
        _ => Err(ST_ERR_VERSION),
    }
}

/// The name on the third line (`<name> <pid> <relative pid>`), or 501.
pub fn sender_name(l: &[u8]) -> Result<&str, u16> {
    let l = std::str::from_utf8(l).map_err(|_| ST_ERR_PROTO)?;
    l.split_once(' ').map(|(n, _)| n).ok_or(ST_ERR_PROTO)
}

/// The status code of an answer line (`atoi`: leading digits, else 0).
pub fn status(l: &[u8]) -> u16 {
    let n = l.iter().take_while(|b| b.is_ascii_digit()).count().min(5);
    std::str::from_utf8(&l[..n]).ok().and_then(|s| s.parse::<u32>().ok()).map_or(0, |v| v.min(999) as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peers_hello_lines_as_haproxy_sends_them() {
        // golden P1: ['HAProxyS 2.1', 'remote', 'local 4592 1']
        assert_eq!(hello("remote", "local", 4592, false), "HAProxyS 2.1\nremote\nlocal 4592 1\n");
        assert_eq!(hello("b", "a", 7, true), "HAProxyS 2.0\nb\na 7 1\n");
    }

    #[test]
    fn peers_hello_checks_give_haproxys_codes() {
        assert_eq!(check_version(b"HAProxyS 2.1"), Ok(1));
        assert_eq!(check_version(b"HAProxyS 2.0"), Ok(0));
        assert_eq!(check_version(b"HAProxyS 2.2"), Err(ST_ERR_VERSION));
        assert_eq!(check_version(b"HAProxyS 3.0"), Err(ST_ERR_VERSION));
        assert_eq!(check_version(b"HAProxyS x"), Err(ST_ERR_VERSION));
        assert_eq!(check_version(b"GET / HTTP/1.1"), Err(ST_ERR_PROTO));
        assert_eq!(check_version(b"HAProxyS"), Err(ST_ERR_PROTO));
        assert_eq!(sender_name(b"local 4592 1"), Ok("local"));
        assert_eq!(sender_name(b"local"), Err(ST_ERR_PROTO));
        assert_eq!(status(b"200"), 200);
        assert_eq!(status(b"503"), 503);
        assert_eq!(status(b"x"), 0);
    }

    #[test]
    fn peers_hello_lines_are_bounded() {
        assert_eq!(line(b"abc\r\nrest"), Line::Full(b"abc", 5));
        assert_eq!(line(b"abc"), Line::Incomplete);
        assert_eq!(line(&[b'a'; MAX_LINE]), Line::TooLong);
    }
}
