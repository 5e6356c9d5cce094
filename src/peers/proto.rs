//! One peer connection's protocol, without I/O: bytes received go in
//! [`Proto::input`], bytes to send come out of [`Proto::out`]. It reads
//! and writes the section's state ([`Section`]) it belongs to, as HAProxy's
//! `peer_io_handler` does (handshake, message treatment, `peer_send_msgs`).
//!
//! Owned by the connection in `net`, which moves bytes and closes the
//! socket once [`Proto::phase`] is [`Phase::End`] and `out` is sent.

use super::hello::{self, Line};
use super::schema;
use super::state::*;
use super::update::{self, DictRx, DictTx};
use super::varint::{self, Reader};
use super::wire::{self, Frame, FrameError};

/// Largest message payload accepted (HAProxy: its buffer size).
pub const MAX_PAYLOAD: usize = 16384;
/// Output kept below this before more messages are written.
pub const OUT_HIGH: usize = 64 * 1024;
/// Entries looked at per table per call when pushing.
const PUSH_BATCH: usize = 256;

/// Where the connection is (HAProxy's `st0` numbers, printed by `show peers`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    GetVersion = 1,
    GetHost = 2,
    GetPeer = 3,
    Connect = 5,
    GetStatus = 6,
    WaitMsg = 7,
    End = 11,
}

/// What the process around the connection must know.
pub struct Ctx<'a> {
    pub local_name: &'a str,
    pub pid: u32,
    pub stopping: bool,
    pub now: u64,  // ms, the tables' clock
    pub rand: u32, // a fresh random number (collision back-off)
    pub link: u64, // this connection's id
}

/// Something the connection asks of its owner.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    None,
    /// Close the peer's other connection (a collision: both sides connected).
    Kill(u64),
}

/// One connection's protocol state.
pub struct Proto {
    pub phase: Phase,
    pub peer: Option<usize>, // known from the start when connecting, after the hello when accepted
    pub input: Vec<u8>,      // received, not yet treated
    pub out: Vec<u8>,        // to send
    pub st1: u16,            // status code being answered (`show peers`' st1)
    pub reason: Option<String>, // why the connection ends, for the log
    min_ver: u32,
    pub dict_tx: DictTx,
    pub dict_rx: DictRx,
    pub remote_table: Option<usize>,     // the table the peer's updates are for
    pub last_local_table: Option<usize>, // the table our last updates were for
    teach_id: u32,                       // ids of full-teaching updates
}

impl Proto {
    /// A connection a peer opened to us: its hello comes first.
    pub fn accepted() -> Proto {
        Proto::new(Phase::GetVersion, None)
    }

    /// Our connection to peer `p`, TCP connect in progress.
    pub fn connecting(p: usize) -> Proto {
        Proto::new(Phase::Connect, Some(p))
    }

    fn new(phase: Phase, peer: Option<usize>) -> Proto {
        Proto {
            phase,
            peer,
            input: Vec::new(),
            out: Vec::new(),
            st1: 0,
            reason: None,
            min_ver: hello::MINOR,
            dict_tx: DictTx::default(),
            dict_rx: DictRx::default(),
            remote_table: None,
            last_local_table: None,
            teach_id: 0,
        }
    }

    /// Whether the handshake is over (messages flow).
    pub fn established(&self) -> bool {
        self.phase == Phase::WaitMsg
    }

    fn end(&mut self, why: impl Into<String>) {
        if self.reason.is_none() {
            self.reason = Some(why.into());
        }
        self.phase = Phase::End;
    }

    /// Answers status `code` and ends (HAProxy's EXIT state).
    fn exit(&mut self, code: u16, why: &str) {
        self.st1 = code;
        self.out.extend_from_slice(format!("{code}\n").as_bytes());
        self.end(format!("handshake refused with {code}: {why}"));
    }

    /// Sends a protocol error message and ends.
    fn proto_error(&mut self, sect: &mut Section, why: String) {
        if let Some(p) = self.peer {
            sect.peers[p].proto_err += 1;
        }
        wire::put_short(&mut self.out, wire::CLASS_ERROR, wire::ERR_PROTOCOL);
        self.end(why);
    }

    /// The TCP connection to the peer is up: send the hello.
    pub fn on_connected(&mut self, sect: &mut Section, ctx: &Ctx<'_>) {
        let Some(p) = self.peer else { return };
        let peer = &mut sect.peers[p];
        let h = hello::hello(&peer.name, ctx.local_name, ctx.pid, peer.flags & DWNGRD != 0);
        self.out.extend_from_slice(h.as_bytes());
        peer.statuscode = hello::ST_CONNECTED;
        self.phase = Phase::GetStatus;
    }

    /// Treats what was received. Returns what the owner must do.
    pub fn on_input(&mut self, sect: &mut Section, ctx: &Ctx<'_>) -> Effect {
        let mut effect = Effect::None;
        let mut at = 0;
        // taken out while treated: the messages borrow it, the treatment borrows `self`
        let input = std::mem::take(&mut self.input);
        while self.phase != Phase::End {
            let rest = &input[at..];
            if matches!(self.phase, Phase::GetVersion | Phase::GetHost | Phase::GetPeer | Phase::GetStatus) {
                let (l, n) = match hello::line(rest) {
                    Line::Incomplete => break,
                    Line::TooLong => {
                        self.end("handshake line too long");
                        break;
                    }
                    Line::Full(l, n) => (l, n),
                };
                at += n;
                if let Some(e) = self.handshake(l, sect, ctx) {
                    effect = e;
                }
                continue;
            }
            if self.phase != Phase::WaitMsg {
                break;
            }
            match wire::read(rest, MAX_PAYLOAD) {
                Ok(None) => break,
                Err(FrameError::BadLength) => {
                    self.proto_error(sect, "malformed message length".into());
                    break;
                }
                Err(FrameError::TooLarge(n)) => {
                    wire::put_short(&mut self.out, wire::CLASS_ERROR, wire::ERR_SIZE_LIMIT);
                    self.end(format!("message of {n} bytes over the size limit"));
                    break;
                }
                Ok(Some((f, n))) => {
                    at += n;
                    self.treat(&f, sect, ctx);
                    if let Some(p) = self.peer {
                        sect.peers[p].flags |= ALIVE;
                    }
                }
            }
        }
        self.input = input;
        self.input.drain(..at);
        effect
    }

    fn handshake(&mut self, l: &[u8], sect: &mut Section, ctx: &Ctx<'_>) -> Option<Effect> {
        match self.phase {
            Phase::GetVersion => match hello::check_version(l) {
                Ok(min) => {
                    self.min_ver = min;
                    self.phase = Phase::GetHost;
                }
                Err(code) => self.exit(code, "bad protocol or version line"),
            },
            Phase::GetHost => {
                if l == ctx.local_name.as_bytes() {
                    self.phase = Phase::GetPeer;
                } else {
                    self.exit(hello::ST_ERR_HOST, "the peer does not call us by our name");
                }
            }
            Phase::GetPeer => {
                let name = match hello::sender_name(l) {
                    Ok(n) => n.to_owned(),
                    Err(code) => {
                        self.exit(code, "no peer name on the third line");
                        return None;
                    }
                };
                let Some(p) = sect.peers.iter().position(|x| x.name == name) else {
                    self.exit(hello::ST_ERR_PEER, "unknown peer name");
                    return None;
                };
                let mut effect = Effect::None;
                let peer = &mut sect.peers[p];
                if let Some(other) = peer.link.filter(|&o| o != ctx.link) {
                    if peer.local {
                        self.exit(hello::ST_TRY_AGAIN, "the local peer is already connected");
                        return None;
                    }
                    // both sides connected at once: keep this one, the other
                    // side retries after a random delay as we do
                    peer.reconnect = Some(ctx.now + 50 + u64::from(ctx.rand % 2000));
                    peer.heartbeat = None;
                    peer.coll += 1;
                    effect = Effect::Kill(other);
                }
                if self.min_ver == 0 {
                    peer.flags |= DWNGRD;
                } else {
                    peer.flags &= !DWNGRD;
                }
                peer.link = Some(ctx.link);
                peer.flags |= ALIVE;
                self.peer = Some(p);
                self.out.extend_from_slice(format!("{}\n", hello::ST_SUCCESS).as_bytes());
                sect.accepted(p, ctx.now);
                self.phase = Phase::WaitMsg;
                return Some(effect);
            }
            Phase::GetStatus => {
                let p = self.peer?;
                let code = hello::status(l);
                let peer = &mut sect.peers[p];
                peer.statuscode = code;
                peer.last_hdshk = Some(ctx.now);
                if code == hello::ST_SUCCESS {
                    sect.connected(p, ctx.now);
                    self.phase = Phase::WaitMsg;
                } else {
                    if code == hello::ST_ERR_VERSION {
                        peer.flags |= DWNGRD;
                    }
                    peer.failures += 1;
                    self.end(format!("the peer answered status {code} ({})", hello::status_name(code)));
                }
            }
            _ => {}
        }
        None
    }

    /// One message (HAProxy's `peer_treat_awaited_msg`).
    fn treat(&mut self, f: &Frame<'_>, sect: &mut Section, ctx: &Ctx<'_>) {
        let Some(p) = self.peer else { return };
        match f.class {
            wire::CLASS_CONTROL => match f.kind {
                wire::CTRL_RESYNC_REQUEST => sect.resync_requested(p),
                wire::CTRL_RESYNC_FINISHED => sect.lesson_ended(p, false, ctx.now),
                wire::CTRL_RESYNC_PARTIAL => sect.lesson_ended(p, true, ctx.now),
                wire::CTRL_RESYNC_CONFIRM => {
                    if ctx.stopping {
                        // the new process has our tables: this one may go
                        sect.peers[p].flags |= TEACH_COMPLETE;
                        self.end("lesson confirmed while stopping");
                    } else {
                        sect.lesson_confirmed(p);
                    }
                }
                wire::CTRL_HEARTBEAT => {
                    let peer = &mut sect.peers[p];
                    peer.reconnect = Some(ctx.now + RECONNECT_TIMEOUT);
                    peer.rx_hbt += 1;
                }
                _ => {}
            },
            wire::CLASS_STKT => self.treat_table(f, p, sect, ctx),
            wire::CLASS_RESERVED => {
                self.proto_error(sect, format!("message of the reserved class (type {})", f.kind))
            }
            _ => {} // errors and unknown classes are ignored, as in HAProxy
        }
    }

    fn treat_table(&mut self, f: &Frame<'_>, p: usize, sect: &mut Section, ctx: &Ctx<'_>) {
        match f.kind {
            wire::STKT_DEFINE => {
                self.remote_table = None;
                let def = match schema::decode_define(f.payload) {
                    Ok(d) => d,
                    Err(_) => return self.proto_error(sect, "malformed table definition".into()),
                };
                let cursors = &mut sect.peers[p].cursors;
                for c in cursors.iter_mut().filter(|c| c.remote_id == def.table_id) {
                    c.remote_id = 0;
                }
                let found = schema::matching(
                    &def,
                    sect.tables.iter().enumerate().map(|(i, s)| (i, s.name.as_str(), s.table.as_ref())),
                );
                if let Some(i) = found {
                    let c = &mut sect.peers[p].cursors[i];
                    c.remote_id = def.table_id;
                    c.remote = Some(def);
                    self.remote_table = Some(i);
                } else {
                    log::debug!(target: "peers", "peers {}: table '{}' of peer {} ignored (unknown, or another key type)",
                        sect.name, String::from_utf8_lossy(&def.name), sect.peers[p].name);
                }
            }
            wire::STKT_SWITCH => {
                let Some(id) = Reader::new(f.payload).int() else {
                    return self.proto_error(sect, "malformed table switch".into());
                };
                self.remote_table = sect.peers[p].cursors.iter().position(|c| c.remote_id == id && id != 0);
            }
            wire::STKT_UPDATE
            | wire::STKT_INCUPDATE
            | wire::STKT_UPDATE_TIMED
            | wire::STKT_INCUPDATE_TIMED => {
                let Some(i) = self.remote_table else { return };
                let table = &sect.tables[i].table;
                let Some(def) = sect.peers[p].cursors[i].remote.as_ref() else { return };
                let d = match update::decode(f.kind, f.payload, def, table, &mut self.dict_rx) {
                    Ok(d) => d,
                    Err(_) => {
                        return self.proto_error(
                            sect,
                            format!("malformed update for table {}", sect.tables[i].name),
                        );
                    }
                };
                let c = &mut sect.peers[p].cursors[i];
                c.last_get = d.id.unwrap_or(c.last_get.wrapping_add(1));
                let expire = d.expire.map_or(u64::from(table.expire().unwrap_or(0)), u64::from);
                let now = ctx.now;
                if table.apply_remote(&d.key, expire, now, |e| update::apply(&d.values, e, now)).is_none() {
                    log::debug!(target: "peers", "peers {}: table {} refused a key from {}", sect.name, sect.tables[i].name, sect.peers[p].name);
                }
            }
            wire::STKT_ACK => {
                if sect.peers[p].flags & TEACH_PROCESS != 0 {
                    return; // acks during a lesson are ignored, as in HAProxy
                }
                let mut r = Reader::new(f.payload);
                let (Some(id), Some(upd)) = (r.int(), r.u32_be()) else {
                    return self.proto_error(sect, "malformed ack".into());
                };
                let Some(i) = usize::try_from(id).ok().and_then(|id| id.checked_sub(1)) else { return };
                if let Some(sh) = sect.tables.get(i) {
                    let lu = sh.table.local_update();
                    // the peer acks the low 32 bits of one of our numbers, at most `lu`
                    let back = u64::from((lu as u32).wrapping_sub(upd));
                    sect.peers[p].cursors[i].update = lu.saturating_sub(back);
                }
            }
            _ => {}
        }
    }

    /// Writes the messages due (HAProxy's `peer_send_msgs` and the
    /// heartbeat), up to about [`OUT_HIGH`] bytes of output. Returns true
    /// when something is still to be written (call again once sent).
    pub fn produce(&mut self, sect: &mut Section, ctx: &Ctx<'_>) -> bool {
        let Some(p) = self.peer.filter(|_| self.phase == Phase::WaitMsg) else { return false };
        let peer = &mut sect.peers[p];
        if peer.flags & LEARN_ASSIGN != 0
            && sect.flags & RESYNC_ASSIGN != 0
            && sect.flags & RESYNC_PROCESS == 0
        {
            wire::put_short(&mut self.out, wire::CLASS_CONTROL, wire::CTRL_RESYNC_REQUEST);
            sect.flags |= RESYNC_PROCESS;
        }
        let peer = &mut sect.peers[p];
        if peer.flags & HEARTBEAT != 0 {
            peer.flags &= !HEARTBEAT;
            wire::put_short(&mut self.out, wire::CLASS_CONTROL, wire::CTRL_HEARTBEAT);
            peer.tx_hbt += 1;
        }
        let n = sect.tables.len();
        let start = self.last_local_table.map_or(0, |t| (t + 1) % n.max(1));
        let mut more = false;
        for k in 0..n {
            let i = (start + k) % n;
            if self.out.len() >= OUT_HIGH {
                more = true;
                break;
            }
            let c = &mut sect.peers[p].cursors[i];
            if c.last_get != c.last_acked {
                let mut pl = Vec::with_capacity(8);
                varint::put(&mut pl, c.remote_id);
                pl.extend_from_slice(&c.last_get.to_be_bytes());
                wire::put_long(&mut self.out, wire::CLASS_STKT, wire::STKT_ACK, &pl);
                c.last_acked = c.last_get;
            }
            let flags = sect.peers[p].flags;
            if flags & TEACH_PROCESS == 0 {
                if flags & LEARN_ASSIGN == 0 {
                    more |= self.push_updates(sect, p, i, ctx);
                }
            } else if flags & TEACH_FINISHED == 0 && !sect.peers[p].cursors[i].taught {
                more |= self.teach(sect, p, i, ctx);
            }
        }
        let peer = &mut sect.peers[p];
        if peer.flags & TEACH_PROCESS != 0
            && peer.flags & TEACH_FINISHED == 0
            && peer.cursors.iter().all(|c| c.taught)
        {
            let kind = if sect.up_to_date() { wire::CTRL_RESYNC_FINISHED } else { wire::CTRL_RESYNC_PARTIAL };
            wire::put_short(&mut self.out, wire::CLASS_CONTROL, kind);
            sect.peers[p].flags |= TEACH_FINISHED;
        }
        let peer = &mut sect.peers[p];
        while peer.confirm > 0 {
            wire::put_short(&mut self.out, wire::CLASS_CONTROL, wire::CTRL_RESYNC_CONFIRM);
            peer.confirm -= 1;
        }
        more
    }

    /// The definition of table `i`, when the peer's last one was another.
    fn switch_to(&mut self, sect: &Section, i: usize) {
        if self.last_local_table != Some(i) {
            let sh = &sect.tables[i];
            wire::put_with(&mut self.out, wire::CLASS_STKT, wire::STKT_DEFINE, |o| {
                schema::encode_define(o, i as u64 + 1, &sh.name, &sh.table)
            });
            self.last_local_table = Some(i);
        }
    }

    /// Local updates of table `i` not yet pushed to peer `p`.
    fn push_updates(&mut self, sect: &mut Section, p: usize, i: usize, ctx: &Ctx<'_>) -> bool {
        let table = std::sync::Arc::clone(&sect.tables[i].table);
        let lu = table.local_update();
        if sect.peers[p].cursors[i].last_pushed == lu {
            return false;
        }
        self.switch_to(sect, i);
        let c = &mut sect.peers[p].cursors[i];
        let mut prev: Option<u32> = None; // the first update of a batch carries its id
        let out = &mut self.out;
        let dict = &mut self.dict_tx;
        while out.len() < OUT_HIGH {
            let from = c.last_pushed;
            let last = table.local_updates(from, PUSH_BATCH, |seq, e| {
                let id = seq as u32;
                let with_id = prev.is_none_or(|q| q.wrapping_add(1) != id);
                wire::put_with(out, wire::CLASS_STKT, update::update_kind(with_id, false), |o| {
                    update::encode(o, &table, e, with_id.then_some(id), None, ctx.now, dict)
                });
                prev = Some(id);
            });
            if last == from {
                c.last_pushed = lu; // nothing left up to `lu` (deleted or moved on)
                break;
            }
            c.last_pushed = last;
            if last >= lu {
                break;
            }
        }
        c.last_pushed != table.local_update()
    }

    /// Part of the full lesson of table `i` to peer `p` (timed updates
    /// unless the peer speaks 2.0).
    fn teach(&mut self, sect: &mut Section, p: usize, i: usize, ctx: &Ctx<'_>) -> bool {
        self.switch_to(sect, i);
        let table = std::sync::Arc::clone(&sect.tables[i].table);
        let timed = sect.peers[p].flags & DWNGRD == 0;
        let c = &mut sect.peers[p].cursors[i];
        if c.scan == Default::default() {
            self.teach_id = c.teaching_origin as u32;
            c.lesson_from = table.local_update();
            // the scan sends everything up to here: a later change must be pushed again
            table.mark_pushed(c.lesson_from);
        }
        let mut first = true;
        let out = &mut self.out;
        let dict = &mut self.dict_tx;
        let id = &mut self.teach_id;
        while out.len() < OUT_HIGH && !c.scan.done() {
            table.scan(&mut c.scan, PUSH_BATCH, |e| {
                *id = id.wrapping_add(1);
                let exp = timed.then(|| u32::try_from(e.exp_remaining(ctx.now)).unwrap_or(u32::MAX));
                wire::put_with(out, wire::CLASS_STKT, update::update_kind(first, timed), |o| {
                    update::encode(o, &table, e, first.then_some(*id), exp, ctx.now, dict)
                });
                first = false;
            });
        }
        c.taught = c.scan.done();
        !c.taught
    }
}
