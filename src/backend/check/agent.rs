//! `agent-check` replies: one line of words (`75%`, `maxconn:30`,
//! `ready|drain|maint`, `up|down|fail|stopped`, `#` then a description),
//! read as HAProxy 2.6's `tcpcheck_agent_expect_reply`, and their effect
//! on the server.

use super::status::{Outcome, Status};
use crate::backend::server::{ServerState, SrvAdmin};

/// What the agent said.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reply {
    pub health: Option<(bool, String)>, // `up` (true) or `down`/`fail`/`stopped`, as written
    pub admin: Option<SrvAdmin>,        // `ready`, `drain`, `maint`
    pub weight: Option<String>,         // `N%`
    pub maxconn: Option<String>,        // what follows `maxconn:`
    pub error: Option<String>,          // the first word not understood
    pub description: String,            // after `#`
    pub incomplete: bool,               // the line never ended
}

/// The reply in `data`; None while the line is not complete (and more may come).
pub fn parse(data: &[u8], last_read: bool) -> Option<Reply> {
    let Some(end) = data.iter().position(|&b| b == b'\n' || b == b'\r' || b == 0) else {
        if !last_read {
            return None;
        }
        return Some(Reply {
            health: None,
            admin: None,
            weight: None,
            maxconn: None,
            error: None,
            description: String::new(),
            incomplete: true,
        });
    };
    let line = String::from_utf8_lossy(&data[..end]).into_owned();
    let (words, description) = match line.split_once('#') {
        Some((w, d)) => (w.to_string(), d.trim_start_matches([' ', '\t']).to_string()),
        None => (line, String::new()),
    };
    let mut r = Reply {
        health: None,
        admin: None,
        weight: None,
        maxconn: None,
        error: None,
        description,
        incomplete: false,
    };
    for w in words.split([' ', '\t', ',']).filter(|w| !w.is_empty()) {
        match w.to_ascii_lowercase().as_str() {
            "up" => r.health = Some((true, w.to_string())),
            "down" | "stopped" | "fail" => r.health = Some((false, w.to_string())),
            "ready" => r.admin = Some(SrvAdmin::Ready),
            "drain" => r.admin = Some(SrvAdmin::Drain),
            "maint" => r.admin = Some(SrvAdmin::Maint),
            l if l.starts_with("maxconn:") => r.maxconn = Some(w[8..].to_string()),
            _ if w.starts_with(|c: char| c.is_ascii_digit()) && w.contains('%') => {
                r.weight = Some(w.to_string())
            }
            _ => {
                r.error.get_or_insert_with(|| w.to_string());
            }
        }
    }
    Some(r)
}

impl Reply {
    /// The status and text the agent's reply gives (`via agent : down`,
    /// `agent reports an error : xyz`...). `Checked` changes nothing.
    pub fn outcome(&self) -> Outcome {
        if self.incomplete {
            return Outcome::new(Status::Checked, "Ignoring incomplete line from agent");
        }
        match &self.health {
            Some((up, word)) => {
                let up = *up;
                let status = if up { Status::L7Ok } else { Status::L7Sts };
                let mut msg = self.description.clone();
                if let (true, Some(e)) = (msg.is_empty() || up, &self.error) {
                    msg = e.clone();
                }
                let text = if msg.is_empty() {
                    format!("via agent : {word}")
                } else {
                    format!("via agent : {word} ({msg})")
                };
                Outcome::new(status, text)
            }
            None => match &self.error {
                Some(e) => Outcome::new(Status::Checked, format!("agent reports an error : {e}")),
                None => Outcome::new(Status::Checked, ""),
            },
        }
    }

    /// Applies the administrative state, weight and maxconn to `s`;
    /// returns HAProxy's warning when a weight or maxconn was refused.
    pub fn apply(&self, s: &mut ServerState) -> Option<String> {
        if let Some(a) = self.admin {
            s.admin = a;
        }
        let mut warning = None;
        if let Some(w) = &self.weight {
            match w.trim_end_matches('%').parse::<u64>() {
                Ok(pct) => s.weight = (u64::from(s.initial_weight) * pct.min(25_600) / 100).min(256) as u32,
                Err(_) => warning = Some("Trailing garbage in weight string".to_string()),
            }
        }
        if let Some(m) = &self.maxconn {
            match m.parse::<u32>() {
                Ok(v) => s.maxconn = Some(v),
                Err(_) if m.is_empty() => {
                    warning.get_or_insert("maxconn string empty or preceded by garbage".to_string());
                }
                Err(_) => {
                    warning.get_or_insert("Trailing garbage in maxconn string".to_string());
                }
            }
        }
        warning
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies() {
        assert_eq!(parse(b"75%", false), None, "not a line yet");
        let r = parse(b"75%,maxconn:30,maint,down\n", false).expect("line");
        assert_eq!(
            (r.weight.as_deref(), r.maxconn.as_deref(), r.admin, r.health.clone()),
            (Some("75%"), Some("30"), Some(SrvAdmin::Maint), Some((false, "down".to_string())))
        );
        assert_eq!(r.outcome(), Outcome::new(Status::L7Sts, "via agent : down"));
        let r = parse(b"down # disk full\r\n", false).expect("line");
        assert_eq!(r.outcome().info, "via agent : down (disk full)");
        let r = parse(b"hello\n", false).expect("line");
        assert_eq!(r.outcome(), Outcome::new(Status::Checked, "agent reports an error : hello"));
        assert_eq!(parse(b"up", true).expect("end").outcome().info, "Ignoring incomplete line from agent");
    }
}
