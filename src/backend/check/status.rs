//! HAProxy's health-check statuses (`check_status` in `show stat`, the
//! number in `show servers state`), what each means for the health
//! counter, and their descriptions.

use crate::cfg::checks::CheckStatus;

/// The status a finished check left.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Ini,     // not checked yet
    Checked, // an agent reply that changed nothing
    SockErr,
    L4Ok,
    L4Tout,
    L4Con,
    L6Ok,
    L6Tout,
    L6Rsp,
    L7Tout,
    L7Rsp,
    L7Ok,
    L7OkC,
    L7Sts,
}

/// What a status does to the health counter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Unknown,
    Neutral,
    Failed,
    Passed,
    CondPass,
}

impl Status {
    /// `check_status` in `show stat`.
    pub fn name(self) -> &'static str {
        match self {
            Status::Ini => "INI",
            Status::Checked => "CHECKED",
            Status::SockErr => "SOCKERR",
            Status::L4Ok => "L4OK",
            Status::L4Tout => "L4TOUT",
            Status::L4Con => "L4CON",
            Status::L6Ok => "L6OK",
            Status::L6Tout => "L6TOUT",
            Status::L6Rsp => "L6RSP",
            Status::L7Tout => "L7TOUT",
            Status::L7Rsp => "L7RSP",
            Status::L7Ok => "L7OK",
            Status::L7OkC => "L7OKC",
            Status::L7Sts => "L7STS",
        }
    }

    /// `check_desc` in `show stat`, the `reason:` of state changes.
    pub fn desc(self) -> &'static str {
        match self {
            Status::Ini => "Initializing",
            Status::Checked => "No status change",
            Status::SockErr => "Socket error",
            Status::L4Ok => "Layer4 check passed",
            Status::L4Tout => "Layer4 timeout",
            Status::L4Con => "Layer4 connection problem",
            Status::L6Ok => "Layer6 check passed",
            Status::L6Tout => "Layer6 timeout",
            Status::L6Rsp => "Layer6 invalid response",
            Status::L7Tout => "Layer7 timeout",
            Status::L7Rsp => "Layer7 invalid response",
            Status::L7Ok => "Layer7 check passed",
            Status::L7OkC => "Layer7 check conditionally passed",
            Status::L7Sts => "Layer7 wrong status",
        }
    }

    /// HAProxy's `HCHK_STATUS_*` number (`srv_check_status` in `show servers state`).
    pub fn number(self) -> u32 {
        match self {
            Status::Ini => 1,
            Status::Checked => 3,
            Status::SockErr => 5,
            Status::L4Ok => 6,
            Status::L4Tout => 7,
            Status::L4Con => 8,
            Status::L6Ok => 9,
            Status::L6Tout => 10,
            Status::L6Rsp => 11,
            Status::L7Tout => 12,
            Status::L7Rsp => 13,
            Status::L7Ok => 15,
            Status::L7OkC => 16,
            Status::L7Sts => 17,
        }
    }

    pub fn verdict(self) -> Verdict {
        match self {
            Status::Ini => Verdict::Unknown,
            Status::Checked => Verdict::Neutral,
            Status::L4Ok | Status::L6Ok | Status::L7Ok => Verdict::Passed,
            Status::L7OkC => Verdict::CondPass,
            _ => Verdict::Failed,
        }
    }

    /// A layer-7 status (HAProxy's `>= HCHK_STATUS_L57DATA`): it has a
    /// code, and only such failures count against an agent.
    pub fn is_l7_data(self) -> bool {
        matches!(self, Status::L7Ok | Status::L7OkC | Status::L7Sts)
    }

    /// The status a rule option names.
    pub fn from_cfg(s: CheckStatus) -> Status {
        match s {
            CheckStatus::L4Ok => Status::L4Ok,
            CheckStatus::L4Tout => Status::L4Tout,
            CheckStatus::L4Con => Status::L4Con,
            CheckStatus::L6Ok => Status::L6Ok,
            CheckStatus::L6Tout => Status::L6Tout,
            CheckStatus::L6Rsp => Status::L6Rsp,
            CheckStatus::L7Tout => Status::L7Tout,
            CheckStatus::L7Rsp => Status::L7Rsp,
            CheckStatus::L7Ok => Status::L7Ok,
            CheckStatus::L7OkC => Status::L7OkC,
            CheckStatus::L7Sts => Status::L7Sts,
        }
    }
}

/// The result of one check: status, code (HTTP status, MySQL error,
/// LDAP result) and information text (`last_chk`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub status: Status,
    pub code: Option<u32>,
    pub info: String,
    pub info_logged_only: bool, // HAProxy logs `info` but then clears it (a protocol parser's success)
}

impl Outcome {
    pub fn new(status: Status, info: impl Into<String>) -> Outcome {
        Outcome { status, code: None, info: info.into(), info_logged_only: false }
    }

    /// HAProxy's reason text for state-change messages: `Layer7 wrong
    /// status, code: 500, info: "Internal Server Error"` (in the info,
    /// quotes, `<`, `>` and non-printable bytes are written `<XX>`).
    pub fn reason(&self) -> String {
        let mut r = self.status.desc().to_string();
        if self.status.is_l7_data() {
            r.push_str(&format!(", code: {}", self.code.unwrap_or(0)));
        }
        if !self.info.is_empty() {
            r.push_str(", info: \"");
            for b in self.info.bytes() {
                if matches!(b, b'"' | b'<' | b'>') || !(0x20..0x7f).contains(&b) {
                    r.push_str(&format!("<{b:02X}>"));
                } else {
                    r.push(b as char);
                }
            }
            r.push('"');
        }
        r
    }
}
