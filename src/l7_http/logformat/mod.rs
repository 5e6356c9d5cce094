//! HAProxy's log-format language, for log lines (`log-format`,
//! `option httplog`...) and for rule values (`http-request set-header X
//! %ci`): literal text, `%%`, `%[fetch,conv...]` samples and `%` variables
//! (`%ci`, `%Tt`, `%{+Q}r`...) with the `+Q` (quote), `+X` (hexadecimal),
//! `+E` (escape) flags and `%{...}o` setting them for what follows.
//!
//! A format is compiled once (configuration errors in HAProxy's words) and
//! rendered per stream against a [`LogSource`]: the stream's samples and
//! its [`LogFacts`].

mod facts;
mod render;
mod vars;

pub use facts::{LogFacts, LogSource, NoStream};
pub use render::set_uri_len;
pub use vars::LogVar;

use crate::acl::SampleExpr;

/// HAProxy's `option httplog` format.
pub const HTTP_LOG: &str = "%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq %hr %hs %{+Q}r";
/// HAProxy's `option httplog clf` format.
pub const CLF_LOG: &str = "%{+Q}o %{-Q}ci - - [%trg] %r %ST %B \"\" \"\" %cp %ms %ft %b %s %TR %Tw %Tc %Tr %Ta %tsc %ac %fc %bc %sc %rc %sq %bq %CC %CS %hrl %hsl";
/// HAProxy's `option tcplog` format.
pub const TCP_LOG: &str = "%ci:%cp [%t] %ft %b/%s %Tw/%Tc/%Tt %B %ts %ac/%fc/%bc/%sc/%rc %sq/%bq";
/// HAProxy's `option httpslog` format.
pub const HTTPS_LOG: &str = "%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc %ac/%fc/%bc/%sc/%rc %sq/%bq %hr %hs %{+Q}r %[fc_err]/%[ssl_fc_err,hex]/%[ssl_c_err]/%[ssl_c_ca_err]/%[ssl_fc_is_resumed] %[ssl_fc_sni]/%sslv/%sslc";

/// Per-item options (HAProxy's `LOG_OPT_*`).
pub(super) mod flag {
    pub const QUOTE: u8 = 1; // +Q: text between double quotes
    pub const HEX: u8 = 2; // +X: addresses, ports and counters in hexadecimal
    pub const ESC: u8 = 4; // +E: `"`, `\` and `]` escaped with a backslash
    pub const MANDATORY: u8 = 8; // an empty text prints `-` (log lines)
    pub const HTTP: u8 = 16; // a sample is encoded for an HTTP header value (rules)
}

#[derive(Clone, Debug)]
enum Part {
    Text(String),
    Sep, // a blank of a log line: printed once after something printed
    Sample { expr: SampleExpr, flags: u8 },
    Var { var: LogVar, flags: u8 },
}

/// Where a format is used, which decides its defaults.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Usage {
    Rule,               // a rule's value (`set-header`, `set-var-fmt`...): samples HTTP-encoded
    Log { http: bool }, // a proxy's log line: blanks merged, empty texts as `-`; HTTP variables need `http`
}

/// A compiled format. Shared read-only by the rules or the proxy using it.
#[derive(Clone, Debug)]
pub struct LogFormat {
    parts: Vec<Part>,
}

impl LogFormat {
    /// A rule's value (see [`Usage::Rule`]).
    pub fn parse(text: &str) -> Result<LogFormat, String> {
        LogFormat::parse_for(text, Usage::Rule)
    }

    /// Compiles `text`; the error is HAProxy's message.
    pub fn parse_for(text: &str, usage: Usage) -> Result<LogFormat, String> {
        let (merge, mut opts) = match usage {
            Usage::Rule => (false, flag::HTTP),
            Usage::Log { .. } => (true, flag::MANDATORY),
        };
        let b = text.as_bytes();
        let mut parts = Vec::new();
        let mut lit: Vec<u8> = Vec::new();
        let flush = |lit: &mut Vec<u8>, parts: &mut Vec<Part>| {
            if !lit.is_empty() {
                parts.push(Part::Text(String::from_utf8_lossy(lit).into_owned()));
                lit.clear();
            }
        };
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b' ' if merge => {
                    flush(&mut lit, &mut parts);
                    parts.push(Part::Sep);
                    i += 1;
                }
                b'%' => {
                    i += 1;
                    let Some(&c) = b.get(i) else { return Err("truncated line after '%'".into()) };
                    let mut arg = "";
                    match c {
                        b'%' => {
                            lit.push(b'%');
                            i += 1;
                            continue;
                        }
                        b'{' => {
                            let Some(end) = text[i + 1..].find('}') else {
                                return Err(format!("truncated line after '{}'", &text[i + 1..]));
                            };
                            arg = &text[i + 1..i + 1 + end];
                            i += end + 2;
                            if !b.get(i).is_some_and(|c| *c == b'[' || c.is_ascii_alphanumeric()) {
                                return Err(format!(
                                    "parse argument modifier without variable name near '%{{{arg}}}'"
                                ));
                            }
                        }
                        c if c.is_ascii_digit() || c == b' ' || c == b'\t' => {
                            return Err(format!(
                                "unexpected variable name near '{}' at position {i} line : '{text}'. Maybe you \
                                 want to write a single '%', use the syntax '%%'",
                                c as char
                            ));
                        }
                        c if c.is_ascii_alphabetic() || c == b'[' => {}
                        // HAProxy drops a '%' before any other character.
                        _ => continue,
                    }
                    flush(&mut lit, &mut parts);
                    let flags = apply_args(opts, arg);
                    if b[i] == b'[' {
                        let inner = &text[i + 1..];
                        let Some(end) = expr_end(inner) else {
                            return Err(format!("missing ']' after '{inner}'"));
                        };
                        let expr = SampleExpr::parse(&inner[..end]).map_err(|e| {
                            format!("failed to parse sample expression <{}> : {e}", &inner[..end])
                        })?;
                        if let (Usage::Log { .. }, Some(needs)) = (usage, expr.log_unavailable()) {
                            return Err(format!(
                                "sample fetch <{}> may not be reliably used here because it needs '{needs}' \
                                 which is not available here",
                                inner
                            ));
                        }
                        parts.push(Part::Sample { expr, flags });
                        i += end + 2;
                        continue;
                    }
                    let start = i;
                    while b.get(i).is_some_and(u8::is_ascii_alphanumeric) {
                        i += 1;
                    }
                    let name = &text[start..i];
                    if name == "o" {
                        opts = flags; // `%{+Q}o`: the options of everything after it
                        continue;
                    }
                    let Some((var, http_only)) = LogVar::lookup(name) else {
                        return Err(format!(
                            "no such format variable '{name}'. If you wanted to emit the '%' character \
                             verbatim, you need to use '%%'"
                        ));
                    };
                    if http_only && usage == (Usage::Log { http: false }) {
                        return Err(format!("format variable '{name}' is reserved for HTTP mode"));
                    }
                    parts.push(Part::Var { var, flags });
                }
                c => {
                    lit.push(c);
                    i += 1;
                }
            }
        }
        flush(&mut lit, &mut parts);
        Ok(LogFormat { parts })
    }

    /// The text when there is nothing to evaluate.
    pub fn as_literal(&self) -> Option<String> {
        let mut out = String::new();
        for p in &self.parts {
            match p {
                Part::Text(t) => out.push_str(t),
                Part::Sep => out.push(' '),
                _ => return None,
            }
        }
        Some(out)
    }

    /// Whether a variable reads the server connection's addresses
    /// (`%si`, `%bi`...), which cost a system call to learn.
    pub fn reads_server_conn(&self) -> bool {
        self.parts.iter().any(|p| matches!(p, Part::Var { var, .. } if var.needs_server_conn()))
    }

    /// Renders the format for one stream (a missing sample renders empty
    /// in a rule's value, `-` in a log line, as HAProxy's).
    pub fn render(&self, src: &dyn LogSource) -> String {
        let mut out = String::new();
        self.render_into(src, &mut out);
        out
    }

    /// [`LogFormat::render`] appending to `out`.
    pub fn render_into(&self, src: &dyn LogSource, out: &mut String) {
        let mut after_blank = true;
        for p in &self.parts {
            match p {
                Part::Sep => {
                    if !after_blank {
                        out.push(' ');
                        after_blank = true;
                    }
                }
                Part::Text(t) => {
                    out.push_str(t);
                    after_blank = false;
                }
                Part::Sample { expr, flags } => {
                    render::sample(out, expr, *flags, src);
                    after_blank = false;
                }
                Part::Var { var, flags } => {
                    if render::var(out, *var, *flags, src) {
                        after_blank = false;
                    }
                }
            }
        }
    }
}

/// Flags `opts` changed by `%{+Q,-X...}` arguments (unknown names are ignored, as in HAProxy).
fn apply_args(mut opts: u8, arg: &str) -> u8 {
    for a in arg.split(',') {
        let (on, name) = match a.as_bytes().first() {
            Some(b'+') => (true, &a[1..]),
            Some(b'-') => (false, &a[1..]),
            _ => continue,
        };
        let f = match name {
            "Q" => flag::QUOTE,
            "X" => flag::HEX,
            "E" => flag::ESC,
            "M" => flag::MANDATORY,
            _ => continue,
        };
        if on {
            opts |= f;
        } else {
            opts &= !f;
        }
    }
    opts
}

/// Where the sample expression at the start of `s` ends: the first `]`
/// outside parentheses and quotes.
fn expr_end(s: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut quote = None;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match (c, quote) {
            ('\\', _) => escaped = true,
            ('\'' | '"', None) => quote = Some(c),
            (q, Some(open)) if q == open => quote = None,
            (_, Some(_)) => {}
            ('(', None) => depth += 1,
            (')', None) => depth = depth.saturating_sub(1),
            (']', None) if depth == 0 => return Some(i),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests;
