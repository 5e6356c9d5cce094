//! The `%` variables of HAProxy 2.6's log-format language (its
//! configuration manual, section 8.2.4): names, and which need `mode http`.

/// One log-format variable (`%ci`, `%Tt`, `%hr`...).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogVar {
    BytesOut,     // %B: bytes sent to the client
    ClientCookie, // %CC: captured request cookie
    ServerCookie, // %CS: captured response cookie
    Hostname,     // %H
    UniqueId,     // %ID
    Status,       // %ST
    DateGmt,      // %T: accept date, GMT
    Ta,           // %Ta: active time (Tt - Th - Ti)
    Tc,           // %Tc: connect time
    Th,           // %Th: handshake time
    Ti,           // %Ti: idle time before the request
    DateLocal,    // %Tl: accept date, local time (strata: UTC)
    Tq,           // %Tq: Th + Ti + TR
    Tr,           // %Tr: server response time
    TR,           // %TR: time to receive the request head
    Td,           // %Td: data transfer time
    Ts,           // %Ts: accept date as a Unix timestamp
    Tt,           // %Tt: total time
    Tu,           // %Tu: Tt - Ti
    Tw,           // %Tw: time waiting in queues
    BytesIn,      // %U: bytes received from the client
    ActConn,      // %ac: process-wide connections
    Backend,      // %b
    BeConn,       // %bc: backend connections
    BackendIp,    // %bi: source address of the server connection
    BackendPort,  // %bp
    BeQueue,      // %bq: backend queue position
    ClientIp,     // %ci
    ClientPort,   // %cp
    Frontend,     // %f
    FeConn,       // %fc: frontend connections
    FrontendIp,   // %fi: the address the client connected to
    FrontendPort, // %fp
    FrontendXprt, // %ft: the frontend, `~` after it for TLS
    HdrReq,       // %hr: captured request headers, `{a|b}`
    HdrReqList,   // %hrl: captured request headers, blank-separated
    HdrRes,       // %hs
    HdrResList,   // %hsl
    HttpMethod,   // %HM
    HttpPath,     // %HP: the path (with the host of an absolute URI)
    HttpPathOnly, // %HPO: the path without host nor query
    HttpQuery,    // %HQ: the query string, `?` included
    HttpUri,      // %HU: the URI
    HttpVersion,  // %HV
    LogCount,     // %lc: lines logged by the frontend so far
    AcceptMs,     // %ms: accept date's milliseconds
    Pid,          // %pid
    Request,      // %r: the request line
    Retries,      // %rc: connect retries (`+` first after a redispatch)
    ReqCounter,   // %rt: request counter
    Server,       // %s
    SrvConn,      // %sc: server connections
    ServerIp,     // %si: the server's address
    ServerPort,   // %sp
    SrvQueue,     // %sq: server queue position
    SslCipher,    // %sslc
    SslVersion,   // %sslv
    Date,         // %t: accept date
    ReqDate,      // %tr: request date
    ReqDateGmt,   // %trg
    ReqDateLocal, // %trl
    TermState,    // %ts
    TermStateCk,  // %tsc: with the persistence cookie's two flags
}

/// `(name, variable, only in mode http)`, HAProxy's table.
const VARS: &[(&str, LogVar, bool)] = &[
    ("B", LogVar::BytesOut, false),
    ("CC", LogVar::ClientCookie, true),
    ("CS", LogVar::ServerCookie, true),
    ("H", LogVar::Hostname, false),
    ("ID", LogVar::UniqueId, false),
    ("ST", LogVar::Status, false),
    ("T", LogVar::DateGmt, false),
    ("Ta", LogVar::Ta, true),
    ("Tc", LogVar::Tc, false),
    ("Th", LogVar::Th, false),
    ("Ti", LogVar::Ti, true),
    ("Tl", LogVar::DateLocal, false),
    ("Tq", LogVar::Tq, true),
    ("Tr", LogVar::Tr, true),
    ("TR", LogVar::TR, true),
    ("Td", LogVar::Td, false),
    ("Ts", LogVar::Ts, false),
    ("Tt", LogVar::Tt, false),
    ("Tu", LogVar::Tu, false),
    ("Tw", LogVar::Tw, false),
    ("U", LogVar::BytesIn, false),
    ("ac", LogVar::ActConn, false),
    ("b", LogVar::Backend, false),
    ("bc", LogVar::BeConn, false),
    ("bi", LogVar::BackendIp, false),
    ("bp", LogVar::BackendPort, false),
    ("bq", LogVar::BeQueue, false),
    ("ci", LogVar::ClientIp, false),
    ("cp", LogVar::ClientPort, false),
    ("f", LogVar::Frontend, false),
    ("fc", LogVar::FeConn, false),
    ("fi", LogVar::FrontendIp, false),
    ("fp", LogVar::FrontendPort, false),
    ("ft", LogVar::FrontendXprt, false),
    ("hr", LogVar::HdrReq, false),
    ("hrl", LogVar::HdrReqList, false),
    ("hs", LogVar::HdrRes, false),
    ("hsl", LogVar::HdrResList, false),
    ("HM", LogVar::HttpMethod, true),
    ("HP", LogVar::HttpPath, true),
    ("HPO", LogVar::HttpPathOnly, true),
    ("HQ", LogVar::HttpQuery, true),
    ("HU", LogVar::HttpUri, true),
    ("HV", LogVar::HttpVersion, true),
    ("lc", LogVar::LogCount, false),
    ("ms", LogVar::AcceptMs, false),
    ("pid", LogVar::Pid, false),
    ("r", LogVar::Request, true),
    ("rc", LogVar::Retries, false),
    ("rt", LogVar::ReqCounter, false),
    ("s", LogVar::Server, false),
    ("sc", LogVar::SrvConn, false),
    ("si", LogVar::ServerIp, false),
    ("sp", LogVar::ServerPort, false),
    ("sq", LogVar::SrvQueue, false),
    ("sslc", LogVar::SslCipher, false),
    ("sslv", LogVar::SslVersion, false),
    ("t", LogVar::Date, false),
    ("tr", LogVar::ReqDate, true),
    ("trg", LogVar::ReqDateGmt, true),
    ("trl", LogVar::ReqDateLocal, true),
    ("ts", LogVar::TermState, false),
    ("tsc", LogVar::TermStateCk, false),
];

impl LogVar {
    /// The variable named `name` (case matters), and whether it needs
    /// `mode http`.
    pub fn lookup(name: &str) -> Option<(LogVar, bool)> {
        VARS.iter().find(|(n, _, _)| *n == name).map(|&(_, v, http)| (v, http))
    }

    /// Whether the value is only known once the stream is connected to its
    /// server (the server connection's own addresses).
    pub fn needs_server_conn(self) -> bool {
        matches!(self, LogVar::BackendIp | LogVar::BackendPort | LogVar::ServerIp | LogVar::ServerPort)
    }
}
