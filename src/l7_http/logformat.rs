//! HAProxy log-format strings in rule values: literal text, `%%` for a
//! percent sign, and `%[fetch]` sample expressions (`%[src]`,
//! `%[sc0_conn_cur]`). Other `%` variables are refused at start-up.

use crate::acl::{Sample, SampleExpr, SampleSource};
use std::fmt::Write;

#[derive(Clone, Debug)]
enum Part {
    Text(String),
    Sample(SampleExpr),
}

/// A compiled value. Shared read-only by the rules that use it.
#[derive(Clone, Debug)]
pub struct LogFormat {
    parts: Vec<Part>,
}

impl LogFormat {
    pub fn parse(text: &str) -> Result<LogFormat, String> {
        let mut parts = Vec::new();
        let mut lit = String::new();
        let mut rest = text;
        while let Some(i) = rest.find('%') {
            lit.push_str(&rest[..i]);
            let after = &rest[i + 1..];
            if let Some(r) = after.strip_prefix('%') {
                lit.push('%');
                rest = r;
            } else if let Some(r) = after.strip_prefix('[') {
                let end = r.find(']').ok_or_else(|| format!("missing ']' in log-format '{text}'"))?;
                if !lit.is_empty() {
                    parts.push(Part::Text(std::mem::take(&mut lit)));
                }
                parts.push(Part::Sample(
                    SampleExpr::parse(&r[..end]).map_err(|e| format!("in '{text}': {e}"))?,
                ));
                rest = &r[end + 1..];
            } else {
                return Err(format!(
                    "log-format variables other than %[...] are not supported by strata yet in '{text}'"
                ));
            }
        }
        lit.push_str(rest);
        if !lit.is_empty() {
            parts.push(Part::Text(lit));
        }
        Ok(LogFormat { parts })
    }

    /// The text when there is no sample to evaluate.
    pub fn as_literal(&self) -> Option<String> {
        match self.parts.as_slice() {
            [] => Some(String::new()),
            [Part::Text(t)] => Some(t.clone()),
            _ => None,
        }
    }

    /// Renders the value for one request (a missing sample renders empty,
    /// as HAProxy's).
    pub fn render(&self, src: &dyn SampleSource) -> String {
        let mut out = String::new();
        for p in &self.parts {
            match p {
                Part::Text(t) => out.push_str(t),
                Part::Sample(e) => {
                    e.with_value(src, |s| match s {
                        Sample::Bool(b) => out.push(if b { '1' } else { '0' }),
                        Sample::Int(i) => {
                            let _ = write!(out, "{i}");
                        }
                        Sample::Ip(a) => {
                            let _ = write!(out, "{a}");
                        }
                        Sample::Str(b) => out.push_str(&String::from_utf8_lossy(b)),
                        Sample::Bin(b) => {
                            let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
                            out.push_str(&String::from_utf8_lossy(&b[..end]))
                        }
                    });
                }
            }
        }
        out
    }
}
