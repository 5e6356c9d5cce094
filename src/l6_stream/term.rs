//! HAProxy's two-letter termination state: who ended the stream and in
//! which phase (`--` for a normal end, `cD` client timeout during data,
//! `SC` server refused the connection...).

use std::fmt;

/// Who or what ended the stream (first letter).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TermCause {
    None,          // '-': normal end
    ClientAbort,   // 'C': client aborted / reset
    ServerAbort,   // 'S': server aborted, refused or failed
    ProxyRule,     // 'P': a proxy rule or limit
    Resource,      // 'R': resource exhausted (fds, memory)
    Internal,      // 'I': internal error
    ClientTimeout, // 'c'
    ServerTimeout, // 's'
    Killed,        // 'K': stopped by the administrator / hard stop
    Local,         // 'L': answered locally (return, redirect)
    Down,          // 'D': the server went DOWN with `on-marked-down shutdown-sessions`
    Up,            // 'U': an active server came UP with `on-marked-up shutdown-backup-sessions`
}

/// Phase the stream was in when it ended (second letter).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TermPhase {
    None,    // '-'
    Request, // 'R': waiting for the request
    Queue,   // 'Q'
    Connect, // 'C': connecting to the server
    Headers, // 'H': waiting for response headers
    Data,    // 'D': forwarding data
    Last,    // 'L': sending the last data to the client
    Tarpit,  // 'T': held by `http-request tarpit`
}

/// The termination state, set once by whatever ends the stream first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TermState {
    pub cause: TermCause,
    pub phase: TermPhase,
}

impl Default for TermState {
    fn default() -> Self {
        TermState { cause: TermCause::None, phase: TermPhase::None }
    }
}

impl TermState {
    /// Records the end cause unless one was already recorded (first wins).
    pub fn set(&mut self, cause: TermCause, phase: TermPhase) {
        if self.cause == TermCause::None {
            *self = TermState { cause, phase };
        }
    }
}

impl TermState {
    /// HAProxy's two termination letters (`%ts`), without allocating.
    pub fn letters(self) -> [u8; 2] {
        let c = match self.cause {
            TermCause::None => b'-',
            TermCause::ClientAbort => b'C',
            TermCause::ServerAbort => b'S',
            TermCause::ProxyRule => b'P',
            TermCause::Resource => b'R',
            TermCause::Internal => b'I',
            TermCause::ClientTimeout => b'c',
            TermCause::ServerTimeout => b's',
            TermCause::Killed => b'K',
            TermCause::Local => b'L',
            TermCause::Down => b'D',
            TermCause::Up => b'U',
        };
        let p = match self.phase {
            TermPhase::None => b'-',
            TermPhase::Request => b'R',
            TermPhase::Queue => b'Q',
            TermPhase::Connect => b'C',
            TermPhase::Headers => b'H',
            TermPhase::Data => b'D',
            TermPhase::Last => b'L',
            TermPhase::Tarpit => b'T',
        };
        [c, p]
    }
}

impl fmt::Display for TermState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [c, p] = self.letters();
        write!(f, "{}{}", c as char, p as char)
    }
}
