//! The top of the stack: turns a [`Config`] into running workers.
//!
//! `run` applies process limits, writes the pid file, binds every
//! frontend's listeners and runs the worker loop until a signal stops it.
//! Only this module knows every layer; the layers below return values
//! instead of reaching up.

mod checks;
mod limits;
mod logsink;
mod signals;
mod worker;

use crate::cfg::Config;
use log::info;
use std::sync::Arc;

pub use worker::Worker;

/// Errors that stop strata from starting.
#[derive(Debug)]
pub enum StartError {
    Bind { proxy: String, addr: std::net::SocketAddr, err: std::io::Error },
    Pidfile { path: String, err: std::io::Error },
    Poll(std::io::Error),
    Limits(String),
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartError::Bind { proxy, addr, err } => {
                write!(f, "Starting frontend {proxy}: cannot bind socket [{addr}] ({err})")
            }
            StartError::Pidfile { path, err } => {
                write!(f, "[strata] Cannot create pidfile {path} ({err})")
            }
            StartError::Poll(err) => write!(f, "cannot create the event poller ({err})"),
            StartError::Limits(msg) => write!(f, "{msg}"),
        }
    }
}

impl std::error::Error for StartError {}

/// Runs strata with `cfg` until SIGINT/SIGTERM, or until a SIGUSR1 soft
/// stop has let every live connection finish.
pub fn run(cfg: Config, pidfile: Option<&str>) -> Result<(), StartError> {
    let maxconn = limits::apply(&cfg.global).map_err(StartError::Limits)?;
    let cfg = Arc::new(cfg);
    let mut worker = Worker::new(cfg, maxconn)?;
    if let Some(path) = pidfile {
        std::fs::write(path, format!("{}\n", std::process::id()))
            .map_err(|err| StartError::Pidfile { path: path.to_owned(), err })?;
    }
    info!(target: "runtime", "strata {} started, pid {}, maxconn {maxconn}", env!("CARGO_PKG_VERSION"), std::process::id());
    worker.run().map_err(StartError::Poll)
}
