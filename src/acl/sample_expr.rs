//! A standalone sample expression (`src`, `req.hdr(x-key)`, `sc0_conn_cur`):
//! what `track-scN KEY` and `%[...]` in log-format values evaluate.

use std::ops::ControlFlow;

use super::fetch::Fetch;
use super::keyword::parse_fetch;
use super::source::{Sample, SampleSource};
use super::value::Chain;

/// A compiled fetch used for its value rather than matched against
/// patterns. Header fetches return the last occurrence, as HAProxy's
/// sample fetches do.
#[derive(Clone, Debug)]
pub struct SampleExpr {
    chain: Chain,
    text: String, // as written, for messages
}

impl SampleExpr {
    /// Parses one fetch word; the error text is HAProxy-like.
    pub fn parse(word: &str) -> Result<SampleExpr, String> {
        let parsed = parse_fetch(word).map_err(|e| e.to_string())?;
        let Chain { fetch, convs } = parsed.chain;
        let fetch = match fetch {
            Fetch::Hdr { side, name, occ: 0, full } => Fetch::Hdr { side, name, occ: -1, full },
            Fetch::Ext(e) => Fetch::Ext(e.for_value()),
            Fetch::More(m) => Fetch::More(m.for_value()),
            other => other,
        };
        Ok(SampleExpr { chain: Chain { fetch, convs }, text: word.to_owned() })
    }

    /// Why the fetch cannot be used in a log line, in HAProxy's words: the
    /// request's (or response's) head is released before the log is
    /// written, so HAProxy 2.6 refuses head fetches there (the method and
    /// status stay, kept with the transaction).
    pub fn log_unavailable(&self) -> Option<&'static str> {
        use super::fetch::Side;
        use super::fetch_ext::ExtFetch;
        const REQ: &str = "HTTP request headers";
        const RES: &str = "HTTP response headers";
        match &self.chain.fetch {
            Fetch::Path
            | Fetch::Url
            | Fetch::Query
            | Fetch::Base
            | Fetch::UrlParam { .. }
            | Fetch::ReqVer => Some(REQ),
            Fetch::Hdr { side, .. } | Fetch::HdrCnt { side, .. } => {
                Some(if *side == Side::Res { RES } else { REQ })
            }
            Fetch::More(super::fetch_more::MoreFetch::HdrIp { side, .. }) => {
                Some(if *side == Side::Res { RES } else { REQ })
            }
            Fetch::Ext(ExtFetch::Cook { side, .. }) => Some(if *side == Side::Res { RES } else { REQ }),
            Fetch::Ext(ExtFetch::ResBody | ExtFetch::ResBodyLen) => Some(RES),
            Fetch::Ext(
                ExtFetch::PathQ
                | ExtFetch::ReqBody
                | ExtFetch::ReqBodyLen
                | ExtFetch::HttpAuth(_)
                | ExtFetch::HttpAuthGroup { .. },
            ) => Some(REQ),
            _ => None,
        }
    }

    /// The expression as written.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Appends the expression's value as text (HAProxy's conversion to a
    /// string); false when it has none here.
    pub fn append_value(&self, src: &dyn SampleSource, out: &mut Vec<u8>) -> bool {
        self.with_value(src, |s| super::value::append_text(s, out)).is_some()
    }

    /// Calls `f` with the expression's value, if it has one here.
    pub fn with_value<R>(&self, src: &dyn SampleSource, f: impl FnOnce(Sample<'_>) -> R) -> Option<R> {
        let mut f = Some(f);
        let mut out = None;
        let _ = self.chain.each(src, &mut |s| {
            if let Some(f) = f.take() {
                out = Some(f(s));
            }
            ControlFlow::Break(())
        });
        out
    }
}
