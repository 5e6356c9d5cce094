//! One name being resolved for the servers that use it, as HAProxy's
//! `resolv_resolution`: when it is asked again, which record type goes
//! out, what an error or a silence leads to, and the answer cache that
//! `hold obsolete` keeps. Pure state: the sockets and the servers are
//! `Resolvers`'s.

use super::message::QType;
use crate::cfg::resolvers::ResolversSection;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// The last outcome (HAProxy's `RSLV_STATUS_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    None, // not resolved yet
    Valid,
    Nx,
    Refused,
    Timeout,
    Other,
}

impl Status {
    /// The `hold` period of this status.
    pub fn hold(self, r: &ResolversSection) -> Duration {
        match self {
            Status::None | Status::Valid => r.hold.valid,
            Status::Nx => r.hold.nx,
            Status::Refused => r.hold.refused,
            Status::Timeout => r.hold.timeout,
            Status::Other => r.hold.other,
        }
    }

    /// Why the server goes into maintenance, in HAProxy's words.
    pub fn cause(self) -> &'static str {
        match self {
            Status::Nx => "DNS NX status",
            Status::Timeout => "DNS timeout status",
            Status::Refused => "DNS refused status",
            Status::None | Status::Valid | Status::Other => "unspecified DNS error",
        }
    }
}

/// A query waiting for its answers.
#[derive(Clone, Debug)]
pub struct Flight {
    pub id: u16,
    pub qtype: QType,
    pub tries: u32,         // queries left before giving up (`resolve_retries`)
    pub sent_at: Instant,   // the current query went out then
    pub answered: u64,      // bit per name server that answered the current query
    pub last_error: Status, // what the last erroneous answer said
}

/// What to do after an erroneous answer or a silence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    Wait,         // other name servers may still answer
    Send,         // ask again (the flight says with which type)
    Fail(Status), // give up with that status
}

/// One name of one `resolvers` section and preferred family.
#[derive(Clone, Debug)]
pub struct Resolution {
    pub section: usize,
    pub fqdn: String,
    pub prefer: QType,
    pub requesters: Vec<(usize, usize)>, // (backend proxy index, server index)
    pub status: Status,
    pub last_resolution: Option<Instant>, // None: never ran (runs at once)
    pub last_valid: Instant,              // start-up until a first valid answer
    pub flight: Option<Flight>,
    pub cache: Vec<(IpAddr, Instant)>, // addresses answered, with when they were last
}

impl Resolution {
    pub fn new(section: usize, fqdn: String, prefer: QType, now: Instant) -> Resolution {
        Resolution {
            section,
            fqdn,
            prefer,
            requesters: Vec::new(),
            status: Status::None,
            last_resolution: None,
            last_valid: now,
            flight: None,
            cache: Vec::new(),
        }
    }

    /// When something is to be done: the current query's retry time, else
    /// the next resolution (`hold valid` after a valid answer, `timeout
    /// resolve` otherwise, as HAProxy's `resolv_resolution_timeout`).
    pub fn deadline(&self, r: &ResolversSection) -> Instant {
        match (&self.flight, self.last_resolution) {
            (Some(f), _) => f.sent_at + r.timeout_retry,
            (None, None) => self.last_valid,
            (None, Some(t)) if self.status == Status::Valid => t + r.hold.valid,
            (None, Some(t)) => t + r.timeout_resolve,
        }
    }

    /// Starts a resolution with the preferred type.
    pub fn start(&mut self, id: u16, r: &ResolversSection, now: Instant) {
        self.flight = Some(Flight {
            id,
            qtype: self.prefer,
            tries: r.resolve_retries.max(1),
            sent_at: now,
            answered: 0,
            last_error: Status::Timeout,
        });
    }

    /// An erroneous answer from name server `ns` of `count`. Once every
    /// name server said no: the other record type is tried, then the
    /// preferred one again until the tries are spent (HAProxy's order).
    pub fn on_error(&mut self, ns: usize, count: usize, status: Status) -> Next {
        let prefer = self.prefer;
        let Some(f) = &mut self.flight else { return Next::Wait };
        f.answered |= 1 << ns.min(63);
        f.last_error = status;
        if (f.answered.count_ones() as usize) < count.min(64) {
            return Next::Wait;
        }
        if f.qtype == prefer {
            f.qtype = prefer.other();
            return Next::Send;
        }
        f.tries = f.tries.saturating_sub(1);
        if f.tries == 0 {
            return Next::Fail(status);
        }
        f.qtype = prefer;
        Next::Send
    }

    /// `timeout retry` passed without a valid answer: the same question
    /// again while tries are left.
    pub fn on_silence(&mut self) -> Next {
        let Some(f) = &mut self.flight else { return Next::Wait };
        f.tries = f.tries.saturating_sub(1);
        if f.tries == 0 {
            return Next::Fail(if f.answered == 0 { Status::Timeout } else { f.last_error });
        }
        Next::Send
    }

    /// Sets the flight up for sending again with a fresh id.
    pub fn resend(&mut self, id: u16, now: Instant) {
        if let Some(f) = &mut self.flight {
            f.id = id;
            f.sent_at = now;
            f.answered = 0;
        }
    }

    /// Ends the resolution with an error.
    pub fn fail(&mut self, status: Status, now: Instant) {
        self.flight = None;
        self.status = status;
        self.last_resolution = Some(now);
    }

    /// Ends the resolution with a valid answer: the cache takes the new
    /// addresses and forgets those not answered for `hold obsolete`.
    pub fn valid(&mut self, addrs: &[IpAddr], obsolete: Duration, now: Instant) {
        self.flight = None;
        self.status = Status::Valid;
        self.last_resolution = Some(now);
        self.last_valid = now;
        self.cache.retain(|(ip, seen)| addrs.contains(ip) || now.duration_since(*seen) <= obsolete);
        for ip in addrs {
            match self.cache.iter_mut().find(|(c, _)| c == ip) {
                Some(e) => e.1 = now,
                None => self.cache.push((*ip, now)),
            }
        }
        // answered addresses first, in the answer's order
        self.cache.sort_by_key(|(ip, _)| addrs.iter().position(|a| a == ip).unwrap_or(usize::MAX));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cfg::model::Loc;

    fn section() -> ResolversSection {
        ResolversSection::new("dns".into(), Loc::default())
    }

    #[test]
    fn all_errors_switch_type_then_spend_tries() {
        let r = section();
        let now = Instant::now();
        let mut res = Resolution::new(0, "a.example".into(), QType::Aaaa, now);
        assert_eq!(res.deadline(&r), now, "a new resolution runs at once");
        res.start(1, &r, now);
        assert_eq!(res.on_error(0, 2, Status::Nx), Next::Wait, "the second name server may still answer");
        assert_eq!(res.on_error(1, 2, Status::Nx), Next::Send);
        assert_eq!(res.flight.as_ref().map(|f| f.qtype), Some(QType::A), "AAAA then A");
        for tries_left in (1..3).rev() {
            res.resend(2, now);
            res.on_error(0, 2, Status::Nx);
            assert_eq!(res.on_error(1, 2, Status::Nx), Next::Send, "{tries_left} tries left");
            res.resend(3, now);
            res.on_error(0, 2, Status::Nx);
            res.on_error(1, 2, Status::Nx);
        }
        res.resend(4, now);
        res.on_error(0, 2, Status::Refused);
        assert_eq!(res.on_error(1, 2, Status::Nx), Next::Fail(Status::Nx));
    }

    #[test]
    fn silence_gives_a_timeout_after_the_retries() {
        let r = section();
        let now = Instant::now();
        let mut res = Resolution::new(0, "a.example".into(), QType::A, now);
        res.start(1, &r, now);
        assert_eq!(res.deadline(&r), now + r.timeout_retry);
        assert_eq!(res.on_silence(), Next::Send);
        assert_eq!(res.on_silence(), Next::Send);
        assert_eq!(res.on_silence(), Next::Fail(Status::Timeout));
        res.fail(Status::Timeout, now);
        assert_eq!(res.deadline(&r), now + r.timeout_resolve);
    }

    #[test]
    fn the_cache_keeps_obsolete_addresses_for_their_hold() {
        let now = Instant::now();
        let mut res = Resolution::new(0, "a.example".into(), QType::A, now);
        let (a, b): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        res.valid(&[a, b], Duration::from_secs(5), now);
        res.valid(&[b], Duration::from_secs(5), now + Duration::from_secs(3));
        let ips: Vec<IpAddr> = res.cache.iter().map(|c| c.0).collect();
        assert_eq!(ips, [b, a], "a is kept 5s after it was last answered");
        res.valid(&[b], Duration::from_secs(5), now + Duration::from_secs(6));
        assert_eq!(res.cache.len(), 1);
        assert_eq!(res.deadline(&section()), now + Duration::from_secs(6) + Duration::from_secs(10));
    }
}
