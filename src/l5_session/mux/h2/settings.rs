//! The settings of one HTTP/2 connection: ours (from `tune.h2.*`, sent
//! first) and the peer's (as its SETTINGS frames change them).

use crate::cfg::Config;
use crate::l7_http::h2::frame;

/// What we announce and enforce.
#[derive(Clone, Copy, Debug)]
pub struct Ours {
    pub header_table_size: u32,
    pub initial_window: u32,
    pub max_concurrent: u32,
    pub max_frame_size: u32,
    pub header_list_budget: usize, // decoded header list budget of a request
}

impl Ours {
    pub fn from_cfg(cfg: &Config) -> Ours {
        let t = &cfg.global.h2;
        let budget = match t.max_header_list_size {
            0 => cfg.global.tune_bufsize,
            n => n as usize,
        };
        Ours {
            header_table_size: t.header_table_size,
            initial_window: t.initial_window_size,
            max_concurrent: t.max_concurrent_streams,
            max_frame_size: t.max_frame_size,
            header_list_budget: budget,
        }
    }

    /// The SETTINGS values sent in the connection preface.
    pub fn values(&self) -> [(u16, u32); 5] {
        [
            (frame::SETTINGS_HEADER_TABLE_SIZE, self.header_table_size),
            (frame::SETTINGS_MAX_CONCURRENT_STREAMS, self.max_concurrent),
            (frame::SETTINGS_INITIAL_WINDOW_SIZE, self.initial_window),
            (frame::SETTINGS_MAX_FRAME_SIZE, self.max_frame_size),
            (frame::SETTINGS_MAX_HEADER_LIST_SIZE, self.header_list_budget as u32),
        ]
    }
}

/// What the peer announced (RFC 9113 defaults until it does).
#[derive(Clone, Copy, Debug)]
pub struct Peer {
    pub initial_window: u32,
    pub max_frame_size: u32,
}

impl Default for Peer {
    fn default() -> Peer {
        Peer { initial_window: frame::DEFAULT_WINDOW, max_frame_size: frame::DEFAULT_MAX_FRAME }
    }
}
