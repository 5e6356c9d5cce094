//! What `balance`, `hash-type` and `hash-balance-factor` say: the
//! load-balancing algorithm of a backend, with HAProxy 2.6's defaults.
//! Read by `backend::balance` to build its picker.

/// `balance <algorithm> [arguments]`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Balance {
    #[default]
    RoundRobin, // weighted, dynamic
    StaticRr,  // weighted map, static
    LeastConn, // fewest streams relative to weight
    First,     // lowest id with room first
    Source,    // client address hashed
    Uri(UriHash),
    UrlParam {
        name: String,
        check_post: bool,
    }, // `url_param NAME [check_post]`
    Hdr {
        name: String,
        use_domain_only: bool,
    }, // `hdr(NAME) [use_domain_only]`
    RdpCookie(String), // `rdp-cookie[(NAME)]`, default `mstshash`
    Random {
        draws: u32,
    }, // `random[(DRAWS)]`, default 2 draws
}

/// `balance uri [len N] [depth N] [whole] [path-only]`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UriHash {
    pub len: usize,      // 0: the whole key; else at most this many bytes
    pub depth: usize,    // 0: no limit; else stop at the depth+1-th slash
    pub whole: bool,     // include the query string
    pub path_only: bool, // start at the path (skip scheme and authority)
}

impl Balance {
    /// The name `show stat` prints in its `algo` column.
    pub fn name(&self) -> &'static str {
        match self {
            Balance::RoundRobin => "roundrobin",
            Balance::StaticRr => "static-rr",
            Balance::LeastConn => "leastconn",
            Balance::First => "first",
            Balance::Source => "source",
            Balance::Uri(_) => "uri",
            Balance::UrlParam { .. } => "url_param",
            Balance::Hdr { .. } => "hdr",
            Balance::RdpCookie(_) => "rdp-cookie",
            Balance::Random { .. } => "random",
        }
    }

    /// Hash-based: the server follows from a key of the request (the
    /// algorithms `hash-type` applies to).
    pub fn is_hash(&self) -> bool {
        matches!(
            self,
            Balance::Source
                | Balance::Uri(_)
                | Balance::UrlParam { .. }
                | Balance::Hdr { .. }
                | Balance::RdpCookie(_)
        )
    }
}

/// `hash-type map-based|consistent [FUNCTION [avalanche]]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HashType {
    pub consistent: bool, // a tree of weighted points, else a weighted array
    pub function: HashFn,
    pub avalanche: bool, // mix the hash with Bob Jenkins' full avalanche
}

impl Default for HashType {
    /// HAProxy's default: `map-based sdbm`.
    fn default() -> HashType {
        HashType { consistent: false, function: HashFn::Sdbm, avalanche: false }
    }
}

/// The hash functions of `hash-type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HashFn {
    Sdbm,
    Djb2,
    Wt6,
    Crc32,
}
