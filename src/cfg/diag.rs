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
}

impl Diagnostics {
    pub fn push(&mut self, d: Diag) {
        self.items.push(d);
    }

    pub fn has_alerts(&self) -> bool {
        self.items.iter().any(|d| d.severity == Severity::Alert)
    }
}
