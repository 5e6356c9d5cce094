//! One runtime API connection's conversation, as HAProxy 2.6 holds it.
//!
//! Non-interactive (default): a line is run — several commands separated
//! by `;`, each reply ending with an empty line — and so is every further
//! line already received; then the connection closes. `prompt` switches to interactive mode: every reply is
//! followed by `> `, and `prompt` again answers `\n` and closes. `quit`
//! closes without output. A line longer than the limit is refused with an
//! error and the connection closes.

use super::commands::{CliData, execute_in};
use super::modes::{self, SessionMode};
use crate::cfg::{AccessLevel, SeverityOutput};

/// What to do with the connection after feeding input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    Continue, // wait for more input
    Close,    // send what is pending, then close
}

/// State of one conversation. Owned by the runtime's CLI connection.
#[derive(Debug)]
pub struct Conversation {
    mode: SessionMode,        // level, expert and experimental modes
    severity: SeverityOutput, // `severity-output` of the socket, or `set severity-output`
    prompt: bool,             // interactive mode
    line: Vec<u8>,            // bytes of the line being received
    max_line: usize,
}

impl Conversation {
    pub fn new(level: AccessLevel, severity: SeverityOutput, max_line: usize) -> Conversation {
        let mode = SessionMode { level, expert: false, experimental: false };
        Conversation { mode, severity, prompt: false, line: Vec::new(), max_line }
    }

    /// Consumes received bytes, appending replies to `out`.
    pub fn feed(&mut self, mut input: &[u8], data: &mut dyn CliData, out: &mut Vec<u8>) -> Flow {
        while !input.is_empty() {
            let (part, rest, complete) = match input.iter().position(|&b| b == b'\n') {
                Some(nl) => (&input[..nl], &input[nl + 1..], true),
                None => (input, &[][..], false),
            };
            input = rest;
            if self.line.len() + part.len() > self.max_line {
                let start = out.len();
                super::severity::err(out, b"Command line too long.\n\n");
                super::severity::render(out, start, self.severity);
                return Flow::Close;
            }
            self.line.extend_from_slice(part);
            if !complete {
                break;
            }
            let line = std::mem::take(&mut self.line);
            if self.run_line(&line, data, out) == Flow::Close {
                return Flow::Close;
            }
            // Non-interactive: the connection ends once the input received
            // so far is used up. HAProxy runs every line already received
            // (`printf 'cmd1\ncmd2\n' | socat ...` runs both); a line
            // still incomplete is waited for.
            if !self.prompt && input.is_empty() {
                return Flow::Close;
            }
        }
        Flow::Continue
    }

    /// The peer closed its side: a last line without newline still runs.
    pub fn finish(&mut self, data: &mut dyn CliData, out: &mut Vec<u8>) {
        if !self.line.is_empty() {
            let line = std::mem::take(&mut self.line);
            self.run_line(&line, data, out);
        }
    }

    fn run_line(&mut self, line: &[u8], data: &mut dyn CliData, out: &mut Vec<u8>) -> Flow {
        let text = String::from_utf8_lossy(line);
        let text = text.trim_end_matches('\r');
        for cmd in text.split(';') {
            let words: Vec<&str> = cmd.split_ascii_whitespace().collect();
            let start = out.len();
            match words.as_slice() {
                ["quit"] => return Flow::Close,
                ["prompt"] => {
                    self.prompt = !self.prompt;
                    out.push(b'\n');
                    if !self.prompt {
                        return Flow::Close;
                    }
                }
                ["set", "severity-output", how, ..] if SeverityOutput::parse(how).is_some() => {
                    self.severity = SeverityOutput::parse(how).unwrap_or_default();
                    out.push(b'\n');
                }
                ["set", "severity-output", ..] => {
                    super::severity::err(out, b"one of 'none', 'number', 'string' is a required argument\n\n")
                }
                _ if modes::run(&words, &mut self.mode, out) => {}
                _ if super::vars_cmd::run(&words, &self.mode, out) => {}
                _ => execute_in(&words, &self.mode, data, out),
            }
            super::severity::render(out, start, self.severity);
            if self.prompt {
                out.extend_from_slice(b"> ");
            }
        }
        Flow::Continue
    }
}
