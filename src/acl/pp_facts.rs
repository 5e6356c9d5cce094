//! What a PROXY protocol version 2 header carried beside the addresses:
//! the TLVs HAProxy 2.6 keeps for its `fc_pp_*` fetches. Decoded once per
//! connection by `l4_conn::proxy_proto` (a value handed up, so the fetches
//! need not know the protocol), read-only afterwards.

/// The kept TLVs of one received header; a TLV absent from it is None.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProxyTlvs {
    pub authority: Option<Box<[u8]>>, // PP2_TYPE_AUTHORITY (0x02): the host name the client asked for (`fc_pp_authority`)
    pub unique_id: Option<Box<[u8]>>, // PP2_TYPE_UNIQUE_ID (0x05): the sender's id of the connection (`fc_pp_unique_id`)
}
