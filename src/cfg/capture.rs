//! What a frontend captures for its log lines and the `capture.*` fetches:
//! header values, slots filled by `http-request|http-response capture`,
//! and one cookie. Filled by `cfg/parser/capture.rs`; the stream fills
//! the slots of each transaction (`l6_stream/capture.rs`).

/// The captures of one frontend (`listen` included); backends have none.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Captures {
    pub req: Vec<CaptureSlot>, // request slots in declaration order: `%hr`, `capture.req.hdr(N)`
    pub res: Vec<CaptureSlot>, // response slots: `%hs`, `capture.res.hdr(N)`
    pub cookie: Option<CookieCapture>, // `capture cookie NAME len N`: `%CC` / `%CS`
}

/// One capture slot: `capture request|response header NAME len N`,
/// `declare capture request|response len N`, or the slot a `http-request
/// capture ... len N` rule declares.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaptureSlot {
    pub header: Option<String>, // lower-case header name whose last value fills it; None: filled by rules
    pub len: usize,             // at most this many bytes are kept
}

/// `capture cookie NAME len N`: the first request cookie (and response
/// `Set-Cookie`) whose name starts with `name`, as `name=value`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CookieCapture {
    pub name: String,
    pub len: usize, // at most `tune.http.cookielen` (63)
}

impl Captures {
    /// The slots of one side.
    pub fn side(&self, response: bool) -> &[CaptureSlot] {
        if response { &self.res } else { &self.req }
    }

    /// Whether the frontend captures anything in a transaction.
    pub fn any(&self) -> bool {
        !self.req.is_empty() || !self.res.is_empty() || self.cookie.is_some()
    }
}
