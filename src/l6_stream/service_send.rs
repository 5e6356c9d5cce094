//! Sending a service reply (`service.rs`) to the client side: to a socket
//! the head goes out as is and a file body with `sendfile(2)`; to an
//! HTTP/2 stream (no socket of its own) both go through a pooled buffer,
//! the file read a buffer at a time with `pread(2)` — never whole.

use super::client::ClientSide;
use super::http::HttpPart;
use super::service::{FileBody, ServiceState};
use crate::core::buffer::Buffer;
use crate::l4_conn::IoStep;
use std::os::unix::fs::FileExt;
use std::time::Instant;

impl HttpPart {
    /// Sends what is left of a service reply. Returns the bytes moved;
    /// `Err` when the client side failed.
    pub(super) fn send_service<C: ClientSide>(&mut self, cli: &mut C, now: Instant) -> Result<usize, ()> {
        let Some(ServiceState::Sending { bytes, sent, file, stage }) = self.service.as_mut() else {
            return Ok(0);
        };
        let moved = match cli.conn() {
            Some(conn) => to_socket(conn, bytes, sent, file, now)?,
            None => staged(cli, bytes, sent, file, stage, now)?,
        };
        let done = *sent >= bytes.len() && file.as_ref().is_none_or(|f| f.len == 0) && stage.is_none();
        if moved > 0 {
            self.response_started = true;
        }
        if done {
            self.service = None;
        }
        Ok(moved)
    }
}

/// A plain or TLS socket: the bytes, then the file by `sendfile`.
fn to_socket(
    conn: &mut crate::l4_conn::Conn,
    bytes: &[u8],
    sent: &mut usize,
    file: &mut Option<FileBody>,
    now: Instant,
) -> Result<usize, ()> {
    let mut moved = 0;
    if *sent < bytes.len() {
        match conn.send_bytes(&bytes[*sent..], now) {
            IoStep::Moved(n) => {
                *sent += n;
                moved += n;
            }
            IoStep::Failed => return Err(()),
            _ => {}
        }
    }
    if *sent >= bytes.len()
        && let Some(f) = file.as_mut()
    {
        match conn.send_file(&f.file, &mut f.offset, &mut f.len, now) {
            IoStep::Moved(n) => moved += n,
            IoStep::Failed => return Err(()),
            _ => {}
        }
    }
    Ok(moved)
}

/// A client side without a socket: a buffer at a time, refilled from the
/// bytes then the file whenever the client took it all.
fn staged<C: ClientSide>(
    cli: &mut C,
    bytes: &[u8],
    sent: &mut usize,
    file: &mut Option<FileBody>,
    stage: &mut Option<Buffer>,
    now: Instant,
) -> Result<usize, ()> {
    let mut moved = 0;
    loop {
        if stage.is_none() && !refill(stage, bytes, sent, file)? {
            return Ok(moved);
        }
        match cli.send_from(stage, now) {
            IoStep::Moved(n) => moved += n,
            IoStep::Failed => return Err(()),
            _ => return Ok(moved),
        }
        if stage.as_ref().is_some_and(Buffer::is_empty) {
            *stage = None;
        }
    }
}

/// Fills a new buffer with what comes next; false when nothing is left.
fn refill(
    stage: &mut Option<Buffer>,
    bytes: &[u8],
    sent: &mut usize,
    file: &mut Option<FileBody>,
) -> Result<bool, ()> {
    let mut buf = Buffer::take();
    if *sent < bytes.len() {
        *sent += buf.push(&bytes[*sent..]);
    }
    if *sent >= bytes.len()
        && let Some(f) = file.as_mut()
        && f.len > 0
        && !buf.is_full()
    {
        let space = buf.space();
        let want = space.len().min(usize::try_from(f.len).unwrap_or(usize::MAX));
        let n = f.file.read_at(&mut space[..want], f.offset).map_err(|_| ())?;
        if n == 0 {
            return Err(()); // the file shrank under us: end the response short
        }
        buf.produced(n);
        f.offset += n as u64;
        f.len -= n as u64;
    }
    if buf.is_empty() {
        return Ok(false);
    }
    *stage = Some(buf);
    Ok(true)
}
