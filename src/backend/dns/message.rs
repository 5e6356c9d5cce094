//! DNS messages of run-time resolution, written and read with
//! `hickory-proto` (parsing only: the sockets are the worker's): an A or
//! AAAA query with an EDNS0 payload size, and a response reduced to what
//! a resolution needs.

use hickory_proto::op::{Edns, Message, MessageType, Query, ResponseCode};
use hickory_proto::rr::{Name, RData, RecordType};
use std::net::IpAddr;

/// The record type asked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QType {
    A,
    Aaaa,
}

impl QType {
    /// The other family's type (HAProxy's A/AAAA fallback).
    pub fn other(self) -> QType {
        match self {
            QType::A => QType::Aaaa,
            QType::Aaaa => QType::A,
        }
    }

    fn record_type(self) -> RecordType {
        match self {
            QType::A => RecordType::A,
            QType::Aaaa => RecordType::AAAA,
        }
    }
}

/// What a response says, in the terms of HAProxy's `RSLV_RESP_*`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    Valid { addrs: Vec<IpAddr>, cname: bool }, // at least one address of the asked type
    NxDomain,
    Refused,
    NoAnswer,   // NOERROR without an address of the type (HAProxy's ANCOUNT_ZERO)
    CnameOnly,  // an alias without its addresses (HAProxy's CNAME_ERROR)
    Truncated,  // TC set: the answer did not fit `accepted_payload_size`
    OtherError, // SERVFAIL and every other response code
    Invalid,    // not a response to this question
}

/// The query for `fqdn` with id `id`, recursion desired, announcing
/// `payload` bytes of EDNS0 payload. None when the name is not a valid
/// DNS name (checked at start-up, so never in practice).
pub fn query(id: u16, fqdn: &str, qtype: QType, payload: u16) -> Option<Vec<u8>> {
    let name = Name::from_ascii(format!("{}.", fqdn.trim_end_matches('.'))).ok()?;
    let mut msg = Message::query();
    msg.metadata.id = id;
    msg.metadata.recursion_desired = true;
    msg.add_query(Query::query(name, qtype.record_type()));
    let mut edns = Edns::new();
    edns.set_max_payload(payload.max(512));
    msg.set_edns(edns);
    msg.to_vec().ok()
}

/// The id of a datagram that looks like a DNS message (for matching a
/// response to its resolution before parsing it whole).
pub fn id_of(datagram: &[u8]) -> Option<u16> {
    Some(u16::from_be_bytes([*datagram.first()?, *datagram.get(1)?]))
}

/// Reads `datagram` as the response to (`fqdn`, `qtype`).
pub fn reply(datagram: &[u8], fqdn: &str, qtype: QType) -> Reply {
    let Ok(msg) = Message::from_vec(datagram) else { return Reply::Invalid };
    if msg.metadata.message_type != MessageType::Response {
        return Reply::Invalid;
    }
    let wanted = fqdn.trim_end_matches('.');
    let same = |n: &Name| n.to_ascii().trim_end_matches('.').eq_ignore_ascii_case(wanted);
    match msg.queries.as_slice() {
        [q] if same(q.name()) && q.query_type() == qtype.record_type() => {}
        _ => return Reply::Invalid,
    }
    if msg.metadata.truncation {
        return Reply::Truncated;
    }
    match msg.metadata.response_code {
        ResponseCode::NoError => {}
        ResponseCode::NXDomain => return Reply::NxDomain,
        ResponseCode::Refused => return Reply::Refused,
        _ => return Reply::OtherError,
    }
    let mut addrs = Vec::new();
    let mut cname = false;
    for r in &msg.answers {
        match &r.data {
            RData::A(a) if qtype == QType::A => addrs.push(IpAddr::V4(a.0)),
            RData::AAAA(a) if qtype == QType::Aaaa => addrs.push(IpAddr::V6(a.0)),
            RData::CNAME(_) => cname = true,
            _ => {}
        }
    }
    match (addrs.is_empty(), cname) {
        (false, _) => Reply::Valid { addrs, cname },
        (true, true) => Reply::CnameOnly,
        (true, false) => Reply::NoAnswer,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::op::OpCode;
    use hickory_proto::rr::Record;
    use hickory_proto::rr::rdata::{A, CNAME};

    fn answer(q: &[u8], f: impl FnOnce(&mut Message)) -> Vec<u8> {
        let req = Message::from_vec(q).unwrap();
        let mut m = Message::response(req.metadata.id, OpCode::Query);
        m.add_queries(req.queries.clone());
        f(&mut m);
        m.to_vec().unwrap()
    }

    #[test]
    fn a_query_round_trips_through_a_response() {
        let q = query(7, "web.example", QType::A, 1232).unwrap();
        assert_eq!(id_of(&q), Some(7));
        let parsed = Message::from_vec(&q).unwrap();
        assert!(parsed.metadata.recursion_desired);
        assert_eq!(parsed.max_payload(), 1232);
        let name = Name::from_ascii("web.example.").unwrap();
        let r = answer(&q, |m| {
            m.add_answer(Record::from_rdata(
                name.clone(),
                5,
                RData::CNAME(CNAME(Name::from_ascii("x.example.").unwrap())),
            ));
            m.add_answer(Record::from_rdata(name.clone(), 5, RData::A(A::new(10, 0, 0, 1))));
        });
        assert_eq!(
            reply(&r, "web.example", QType::A),
            Reply::Valid { addrs: vec!["10.0.0.1".parse().unwrap()], cname: true }
        );
        // An answer to another question is not this one's.
        assert_eq!(reply(&r, "other.example", QType::A), Reply::Invalid);
        assert_eq!(reply(&r, "web.example", QType::Aaaa), Reply::Invalid);
        assert_eq!(reply(&q, "web.example", QType::A), Reply::Invalid, "a query is no response");
        assert_eq!(reply(&[1, 2, 3], "web.example", QType::A), Reply::Invalid);
    }

    #[test]
    fn errors_are_told_apart() {
        let q = query(9, "web.example", QType::Aaaa, 512).unwrap();
        let nx = answer(&q, |m| m.metadata.response_code = ResponseCode::NXDomain);
        assert_eq!(reply(&nx, "web.example", QType::Aaaa), Reply::NxDomain);
        let refused = answer(&q, |m| m.metadata.response_code = ResponseCode::Refused);
        assert_eq!(reply(&refused, "web.example", QType::Aaaa), Reply::Refused);
        let fail = answer(&q, |m| m.metadata.response_code = ResponseCode::ServFail);
        assert_eq!(reply(&fail, "web.example", QType::Aaaa), Reply::OtherError);
        let empty = answer(&q, |_| {});
        assert_eq!(reply(&empty, "web.example", QType::Aaaa), Reply::NoAnswer);
        let tc = answer(&q, |m| m.metadata.truncation = true);
        assert_eq!(reply(&tc, "web.example", QType::Aaaa), Reply::Truncated);
    }
}
