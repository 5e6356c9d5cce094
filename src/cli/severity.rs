//! Message answers and their severity, as HAProxy 2.6's `cli_msg` /
//! `cli_err`: a command whose whole answer is a message (an error, a
//! short confirmation) writes it with [`err`] or [`info`], which put a
//! two-byte mark before it; the conversation then replaces the mark with
//! the prefix its `severity-output` asks for (`[3]: `, `[err]: ` or
//! nothing, [`render`]). Dumps (`show stat`, `show table`...) are written
//! as they are and never prefixed.

use crate::cfg::SeverityOutput;

/// First byte of a message answer's mark (never the first byte of a dump:
/// answers are text).
const MARK: u8 = 0x01;

/// Syslog severity "err".
pub const LOG_ERR: u8 = 3;
/// Syslog severity "info".
pub const LOG_INFO: u8 = 6;

/// Syslog severity names, as HAProxy's `log_levels`.
const NAMES: [&str; 8] = ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"];

/// Appends error message `text` (a command's whole answer).
pub fn err(out: &mut Vec<u8>, text: &[u8]) {
    message(out, LOG_ERR, text);
}

/// Appends informational message `text` (a command's whole answer).
pub fn info(out: &mut Vec<u8>, text: &[u8]) {
    message(out, LOG_INFO, text);
}

/// Appends message `text` of syslog severity `severity` (0 to 7).
pub fn message(out: &mut Vec<u8>, severity: u8, text: &[u8]) {
    out.extend_from_slice(&[MARK, severity.min(7)]);
    out.extend_from_slice(text);
}

/// Replaces the mark of a message answer starting at `out[start]`, if the
/// answer is one, with the prefix `how` asks for.
pub fn render(out: &mut Vec<u8>, start: usize, how: SeverityOutput) {
    let Some(&[MARK, sev]) = out.get(start..start + 2) else { return };
    let sev = usize::from(sev);
    match how {
        SeverityOutput::None => drop(out.drain(start..start + 2)),
        SeverityOutput::Number => drop(out.splice(start..start + 2, format!("[{sev}]: ").into_bytes())),
        SeverityOutput::String => {
            drop(out.splice(start..start + 2, format!("[{}]: ", NAMES[sev]).into_bytes()))
        }
    }
}

/// `text` with every message mark removed (tests of single commands).
#[cfg(test)]
pub fn plain(text: &[u8]) -> Vec<u8> {
    let mut out = text.to_vec();
    while let Some(at) = out.iter().position(|&b| b == MARK) {
        out.drain(at..at + 2);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes() {
        let show = |how| {
            let mut out = b"x".to_vec();
            err(&mut out, b"Permission denied\n\n");
            render(&mut out, 1, how);
            String::from_utf8(out).unwrap_or_default()
        };
        assert_eq!(show(SeverityOutput::None), "xPermission denied\n\n");
        assert_eq!(show(SeverityOutput::Number), "x[3]: Permission denied\n\n");
        assert_eq!(show(SeverityOutput::String), "x[err]: Permission denied\n\n");
        let mut dump = b"# pxname,svname\n".to_vec();
        render(&mut dump, 0, SeverityOutput::Number);
        assert_eq!(dump, b"# pxname,svname\n");
        let mut out = Vec::new();
        info(&mut out, b"Unknown command\n");
        render(&mut out, 0, SeverityOutput::String);
        assert_eq!(out, b"[info]: Unknown command\n");
    }
}
