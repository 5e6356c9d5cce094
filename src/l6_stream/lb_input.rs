//! What a stream shows load balancing (`backend::LbInput`): the client
//! address, the request's URI and headers, the body bytes of a POST and
//! the client's first bytes (TCP mode), read where they already are.

use crate::backend::LbInput;
use crate::l7_http::txn::Txn;
use std::net::IpAddr;

/// A borrowed view of one stream for one pick.
pub(super) struct StreamLb<'a> {
    pub src: IpAddr,
    pub txn: Option<&'a Txn>, // mode http
    pub payload: &'a [u8],    // client bytes received and not yet forwarded
}

impl LbInput for StreamLb<'_> {
    fn src(&self) -> IpAddr {
        self.src
    }

    fn uri(&self) -> Option<&[u8]> {
        self.txn.map(Txn::outgoing_uri)
    }

    fn header(&self, name: &str) -> Option<&[u8]> {
        let t = self.txn?;
        let buf = t.req_bytes();
        t.req
            .headers
            .iter()
            .find(|h| h.name.of(buf).eq_ignore_ascii_case(name.as_bytes()))
            .map(|h| h.value.of(buf))
    }

    fn post_body(&self) -> Option<&[u8]> {
        self.txn.filter(|t| t.method_bytes() == b"POST").map(|_| self.payload)
    }

    fn payload(&self) -> &[u8] {
        if self.txn.is_some() { &[] } else { self.payload }
    }
}
