//! The TLS side of connecting to a server (`server ... ssl`): the SNI a
//! connection sends (`sni EXPR`, evaluated on the stream), starting the
//! client handshake, and whether an idle TLS connection fits a request
//! (it must have sent the same SNI, as HAProxy's connection hash says).

use super::stream::{Stream, StreamCtx};
use crate::acl::Sample;
use crate::l4_conn::Conn;

impl Stream {
    /// The SNI for a connection to server `srv` of backend `be` now.
    fn server_sni(&self, ctx: &StreamCtx<'_>, be: usize, srv: usize) -> Option<String> {
        let tls = ctx.backends.lock().get(be)?.servers.get(srv)?.tls.clone()?;
        let expr = tls.sni.as_ref()?;
        let sample = self.sample(ctx, false, be);
        expr.with_value(&sample, |s| match s {
            Sample::Str(b) => Some(String::from_utf8_lossy(b).into_owned()),
            Sample::Int(i) => Some(i.to_string()),
            _ => None,
        })
        .flatten()
        .filter(|s| !s.is_empty())
    }

    /// Makes a new connection to `srv` speak TLS when the server has `ssl`.
    pub(super) fn start_server_tls(
        &self,
        conn: &mut Conn,
        ctx: &StreamCtx<'_>,
        be: usize,
        srv: usize,
    ) -> std::io::Result<()> {
        let Some(tls) =
            ctx.backends.lock().get(be).and_then(|b| b.servers.get(srv)).and_then(|s| s.tls.clone())
        else {
            return Ok(());
        };
        if !tls.ssl {
            return Ok(());
        }
        let sni = self.server_sni(ctx, be, srv);
        conn.start_tls_client(&tls, sni.as_deref())
    }

    /// Whether an idle connection to `srv` may carry this request: a TLS
    /// one only if it sent the SNI this request would send.
    pub(super) fn reuse_fits(&self, conn: &Conn, ctx: &StreamCtx<'_>, be: usize, srv: usize) -> bool {
        !conn.is_tls() || conn.tls_sent_sni().map(str::to_owned) == self.server_sni(ctx, be, srv)
    }
}
