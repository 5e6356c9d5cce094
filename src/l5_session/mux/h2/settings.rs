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
    pub ext_connect: bool,         // RFC 8441 extended CONNECT announced and accepted
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
            ext_connect: !t.no_ext_connect,
        }
    }

    /// The SETTINGS values sent in the connection preface (the last one,
    /// SETTINGS_ENABLE_CONNECT_PROTOCOL, only when `ext_connect`).
    pub fn values(&self) -> smallvec::SmallVec<[(u16, u32); 6]> {
        let mut v = smallvec::SmallVec::from_buf_and_len(
            [
                (frame::SETTINGS_HEADER_TABLE_SIZE, self.header_table_size),
                (frame::SETTINGS_MAX_CONCURRENT_STREAMS, self.max_concurrent),
                (frame::SETTINGS_INITIAL_WINDOW_SIZE, self.initial_window),
                (frame::SETTINGS_MAX_FRAME_SIZE, self.max_frame_size),
                (frame::SETTINGS_MAX_HEADER_LIST_SIZE, self.header_list_budget as u32),
                (frame::SETTINGS_ENABLE_CONNECT_PROTOCOL, 1),
            ],
            6,
        );
        if !self.ext_connect {
            v.pop();
        }
        v
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
