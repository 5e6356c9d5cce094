//! `last_rule_file` / `last_rule_line`: where the last final rule of a
//! stream is (one that ended its rule set: `accept`, `reject`, `deny`,
//! `allow`, `redirect`, `return`...), as HAProxy 2.6 records it for the
//! `tcp-request content`, `tcp-response content`, `http-request`,
//! `http-response` and `http-after-response` rule sets. The stream keeps
//! only which rule it was ([`RuleRef`], copied, no allocation); the
//! location is read from the compiled rules when a sample is built.

use super::rules::ProxyRules;
use crate::cfg::Loc;

/// The rule sets a final rule can come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleSet {
    TcpContent,
    TcpResponse,
    HttpRequest,
    HttpResponse,
    HttpAfterResponse,
}

/// One rule of one proxy's rule set. Part of `StreamExtra`; set by the
/// rule passes of the stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RuleRef {
    pub set: RuleSet,
    pub proxy: u32,
    pub index: u32,
}

impl RuleRef {
    pub fn new(set: RuleSet, proxy: usize, index: usize) -> RuleRef {
        RuleRef { set, proxy: proxy as u32, index: index as u32 }
    }

    /// Where the rule was written.
    pub fn loc<'a>(&self, rules: &'a [ProxyRules]) -> Option<&'a Loc> {
        let r = rules.get(self.proxy as usize)?;
        let i = self.index as usize;
        match self.set {
            RuleSet::TcpContent => r.tcp_content.get(i).map(|x| &x.loc),
            RuleSet::TcpResponse => r.tcp_response.get(i).map(|x| &x.loc),
            RuleSet::HttpRequest => r.http_request.get(i).map(|x| &x.loc),
            RuleSet::HttpResponse => r.http_response.get(i).map(|x| &x.loc),
            RuleSet::HttpAfterResponse => r.http_after_response.get(i).map(|x| &x.loc),
        }
    }
}
