//! Counts of hostile or broken HTTP/2 client behaviour, per worker: what
//! `show info` reports (one line per kind) and what each mitigation adds
//! to when it fires.

/// One kind of misbehaviour the HTTP/2 mux mitigates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Abuse {
    RapidReset,        // many streams opened then reset by the client (CVE-2023-44487)
    ContinuationFlood, // a header block that never ends (CONTINUATION without END_HEADERS)
    SettingsFlood,     // SETTINGS frames faster than a client needs
    PingFlood,         // PING frames likewise
    EmptyDataFlood,    // DATA frames carrying nothing and not ending the stream
    WindowUpdateFlood, // WINDOW_UPDATE frames faster than data moves
    HpackBomb,         // a header block decoding past the header list budget
    StreamIdMisuse,    // a stream id reused, going down, even, or 0
    ClosedStream,      // frames on streams already closed
    OversizedFrame,    // a frame larger than our SETTINGS_MAX_FRAME_SIZE
    ZeroWindow,        // a response stalled by a window the client never opens
    ProtocolError,     // any other connection error the client caused
}

impl Abuse {
    pub const ALL: [Abuse; 12] = [
        Abuse::RapidReset,
        Abuse::ContinuationFlood,
        Abuse::SettingsFlood,
        Abuse::PingFlood,
        Abuse::EmptyDataFlood,
        Abuse::WindowUpdateFlood,
        Abuse::HpackBomb,
        Abuse::StreamIdMisuse,
        Abuse::ClosedStream,
        Abuse::OversizedFrame,
        Abuse::ZeroWindow,
        Abuse::ProtocolError,
    ];

    /// The `show info` field name.
    pub fn field(self) -> &'static str {
        match self {
            Abuse::RapidReset => "H2RapidResets",
            Abuse::ContinuationFlood => "H2ContinuationFloods",
            Abuse::SettingsFlood => "H2SettingsFloods",
            Abuse::PingFlood => "H2PingFloods",
            Abuse::EmptyDataFlood => "H2EmptyDataFloods",
            Abuse::WindowUpdateFlood => "H2WindowUpdateFloods",
            Abuse::HpackBomb => "H2HpackBombs",
            Abuse::StreamIdMisuse => "H2StreamIdErrors",
            Abuse::ClosedStream => "H2ClosedStreamFrames",
            Abuse::OversizedFrame => "H2OversizedFrames",
            Abuse::ZeroWindow => "H2ZeroWindowStalls",
            Abuse::ProtocolError => "H2ProtocolErrors",
        }
    }
}

/// Counts, one per [`Abuse`] kind. Each worker owns one the HTTP/2 mux
/// adds to through its context; the worker folds it into the process's
/// (`runtime::shared::Process::h2`) after each session call.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct H2Counters {
    counts: [u64; Abuse::ALL.len()],
}

impl H2Counters {
    pub fn count(&mut self, what: Abuse) {
        self.counts[what as usize] += 1;
    }

    pub fn get(&self, what: Abuse) -> u64 {
        self.counts[what as usize]
    }

    /// Whether nothing was counted.
    pub fn is_empty(&self) -> bool {
        self.counts.iter().all(|&n| n == 0)
    }

    /// Adds `other`'s counts to these.
    pub fn add(&mut self, other: &H2Counters) {
        self.counts.iter_mut().zip(other.counts).for_each(|(n, o)| *n += o);
    }
}
