//! Process signals as poll events (signal-hook-mio): SIGINT/SIGTERM stop
//! at once, SIGUSR1 asks for a soft stop.

use mio::{Interest, Registry, Token};
use signal_hook::consts::{SIGINT, SIGTERM, SIGUSR1};
use signal_hook_mio::v1_0::Signals;
use std::io;

/// Token of the signal source in every worker's poll.
pub const SIGNAL_TOKEN: Token = Token(usize::MAX);

/// What the worker should do about the signals received.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignalAction {
    None,
    SoftStop,
    Stop,
}

/// The registered signal source.
pub struct SignalSource {
    signals: Signals,
}

impl SignalSource {
    pub fn register(registry: &Registry) -> io::Result<SignalSource> {
        let mut signals = Signals::new([SIGINT, SIGTERM, SIGUSR1])?;
        registry.register(&mut signals, SIGNAL_TOKEN, Interest::READABLE)?;
        Ok(SignalSource { signals })
    }

    /// Drains pending signals; a stop outranks a soft stop.
    pub fn take(&mut self) -> SignalAction {
        let mut action = SignalAction::None;
        for sig in self.signals.pending() {
            action = match sig {
                SIGUSR1 if action == SignalAction::None => SignalAction::SoftStop,
                SIGINT | SIGTERM => SignalAction::Stop,
                _ => action,
            };
        }
        action
    }
}
