//! Configuration diagnostics: every error and warning found while loading,
//! printed the way HAProxy prints them so operators' log filters still match.

use super::model::Loc;
use std::fmt;

/// Severity of a diagnostic. Any `Alert` makes the configuration invalid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    Alert,
    Warning,
    Notice, // `.notice`: informative only
    Diag,   // `.diag`: printed only in diagnostic mode (-dD)
}

/// One message about the configuration, optionally tied to `file:line`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diag {
    pub severity: Severity,
    pub loc: Option<Loc>, // None for file-level messages (e.g. a file that cannot be read)
    pub msg: String,      // HAProxy wording, without the prefix
}

impl Diag {
    /// The file this message is about: its location's, or the one a
    /// message written whole names (`parsing [file:line]: ...`).
    fn file(&self) -> Option<String> {
        if let Some(loc) = &self.loc {
            return Some(loc.file.clone());
        }
        let rest = self.msg.strip_prefix("parsing [").or_else(|| self.msg.strip_prefix("Parsing ["))?;
        let inside = &rest[..rest.find(']')?];
        Some(inside.rsplit_once(':').map_or(inside, |(f, _)| f).to_owned())
    }

    /// An alert at `loc`: `parsing [file:line] : msg`.
    pub fn alert(loc: &Loc, msg: impl Into<String>) -> Diag {
        Diag { severity: Severity::Alert, loc: Some(loc.clone()), msg: msg.into() }
    }

    /// A warning at `loc`.
    pub fn warning(loc: &Loc, msg: impl Into<String>) -> Diag {
        Diag { severity: Severity::Warning, loc: Some(loc.clone()), msg: msg.into() }
    }

    /// A notice at `loc`: informative, never counted as a warning
    /// (`zero-warning` ignores it, as HAProxy's notices).
    pub fn notice(loc: &Loc, msg: impl Into<String>) -> Diag {
        Diag { severity: Severity::Notice, loc: Some(loc.clone()), msg: msg.into() }
    }

    /// A warning whose text is written whole (HAProxy words some
    /// `parsing [file:line]:` messages without the blank before the colon).
    pub fn warning_global(msg: impl Into<String>) -> Diag {
        Diag { severity: Severity::Warning, loc: None, msg: msg.into() }
    }

    /// An alert not tied to a line.
    pub fn alert_global(msg: impl Into<String>) -> Diag {
        Diag { severity: Severity::Alert, loc: None, msg: msg.into() }
    }
}

impl fmt::Display for Diag {
    /// `[ALERT]    (PID) : config : parsing [file:line] : msg`, as HAProxy 2.6.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tag = match self.severity {
            Severity::Alert => "[ALERT]   ",
            Severity::Warning => "[WARNING] ",
            Severity::Notice => "[NOTICE]  ",
            Severity::Diag => "[DIAG]    ",
        };
        write!(f, "{tag} ({}) : config : ", std::process::id())?;
        match &self.loc {
            Some(loc) => write!(f, "parsing [{loc}] : {}", self.msg),
            None => write!(f, "{}", self.msg),
        }
    }
}

/// Everything `cfg::load` found, in file order (then resolution order).
#[derive(Clone, Debug, Default)]
pub struct Diagnostics {
    pub items: Vec<Diag>,
    pub aborted: bool, // loading stopped early (`.alert`, a broken `.if` structure): HAProxy's ERR_ABORT
    pub failed_files: Vec<(usize, String)>, // files whose parsing raised alerts, each with the number of items printed before its "Error(s) found" line
}

impl Diagnostics {
    pub fn push(&mut self, d: Diag) {
        self.items.push(d);
    }

    /// Notes, once the files are parsed, which ones raised alerts: HAProxy
    /// prints "Error(s) found in configuration file : FILE" after each such
    /// file's messages, then stops before its cross-section checks.
    /// Returns whether there is any.
    pub fn note_failed_files(&mut self) -> bool {
        let files: Vec<(usize, String)> =
            self.items.iter().enumerate().filter_map(|(i, d)| Some((i, d.file()?))).collect();
        for (i, d) in self.items.iter().enumerate().filter(|(_, d)| d.severity == Severity::Alert) {
            let Some(file) = d.file() else { continue };
            if !self.failed_files.iter().any(|(_, f)| *f == file) {
                // after the last message of its file
                let last = files.iter().rev().find(|(_, f)| *f == file).map_or(i, |(j, _)| *j);
                self.failed_files.push((last + 1, file));
            }
        }
        self.failed_files.sort_by_key(|(at, _)| *at);
        !self.failed_files.is_empty()
    }

    /// The messages with the "Error(s) found in configuration file" lines
    /// in their places, as `-c` prints them; `shown` selects the messages.
    pub fn lines(&self, shown: impl Fn(&Diag) -> bool) -> Vec<String> {
        let mut out = Vec::new();
        let mut failed = self.failed_files.iter().peekable();
        for (i, d) in self.items.iter().enumerate() {
            while let Some((_, f)) = failed.next_if(|(at, _)| *at <= i) {
                out.push(
                    Diag::alert_global(format!("Error(s) found in configuration file : {f}")).to_string(),
                );
            }
            if shown(d) {
                out.push(d.to_string());
            }
        }
        for (_, f) in failed {
            out.push(Diag::alert_global(format!("Error(s) found in configuration file : {f}")).to_string());
        }
        out
    }

    pub fn has_alerts(&self) -> bool {
        self.items.iter().any(|d| d.severity == Severity::Alert)
    }
}
