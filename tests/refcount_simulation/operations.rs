//! The simulation's operations: each drives the real session, stream and
//! table API one step and applies the same step to the model.

use super::*;

impl Sim {
    /// A key for a track: usually the client's own.
    pub(crate) fn pick_key(&mut self, src: usize) -> usize {
        if self.rng.chance(60) { src } else { self.rng.below(KEYS) }
    }

    pub(crate) fn accept(&mut self) -> Check {
        let src = self.rng.below(KEYS);
        let h2 = self.rng.chance(40);
        self.note(format!("accept src={src} h2={h2} -> s{}", self.sessions.len()));
        self.sessions.push(SimSession {
            streams: Vec::new(),
            trackers: [None, None, None],
            shadow: [None; SLOTS],
            src,
            h2,
            established: false,
        });
        Ok(())
    }

    /// `tcp-request connection|session track-scN`.
    pub(crate) fn session_track(&mut self, si: usize) -> Check {
        let (n, ti) = (self.rng.below(SLOTS), self.rng.below(SPECS.len()));
        let k = self.pick_key(self.sessions[si].src);
        let was_full = self.full(ti);
        let now = self.now;
        let table = std::sync::Arc::clone(self.table(ti));
        let s = &mut self.sessions[si];
        let occupied = s.trackers[n].is_some();
        ensure!(occupied == s.shadow[n].is_some(), "session slot {n}: real/model disagree");
        let got = if occupied {
            None
        } else {
            let t = table.track(key(ti, k), now);
            let ok = t.is_some();
            if let Some(t) = t {
                s.trackers[n] = Some(t);
                s.shadow[n] = Some((ti, k));
            }
            Some(ok)
        };
        self.note(format!("s{si} session track-sc{n} {} {} -> {got:?}", SPECS[ti].name, key_text(ti, k)));
        match got {
            None => self.stats.noop_tracks += 1,
            Some(ok) => {
                self.created(ti, k, was_full, ok)?;
                if ok {
                    self.model[ti][k].live += 1;
                    self.counted(ti, k, C_CONN, 1);
                    self.stats.tracks += 1;
                }
            }
        }
        Ok(())
    }

    /// Session rules done: `sess_cnt` on the session's trackers.
    pub(crate) fn establish(&mut self, si: usize) -> Check {
        self.note(format!("s{si} established"));
        let now = self.now;
        let s = &mut self.sessions[si];
        s.established = true;
        for t in s.trackers.iter().flatten() {
            t.inc_sess(now);
        }
        let shadow = s.shadow;
        for (ti, k) in shadow.into_iter().flatten() {
            self.counted(ti, k, C_SESS, 1);
        }
        Ok(())
    }

    pub(crate) fn start_stream(&mut self, si: usize) -> Check {
        let s = &mut self.sessions[si];
        let slots = StreamSlots::inherit(InheritedSlots::new(&s.trackers));
        let shadow = s.shadow.map(|t| if t.is_some() { Shadow::Inherited } else { Shadow::Empty });
        s.streams.push(SimStream { slots, shadow });
        let live = s.streams.len();
        self.stats.max_streams = self.stats.max_streams.max(live);
        self.note(format!("s{si} stream start ({live} live)"));
        self.check_slots(si, live - 1)
    }

    /// The stream's slots resolve as the model says: its own tracker, else
    /// the session's, else none.
    pub(crate) fn check_slots(&self, si: usize, j: usize) -> Check {
        let s = &self.sessions[si];
        let st = &s.streams[j];
        let view = InheritedSlots::new(&s.trackers);
        for n in 0..SLOTS {
            let want = match st.shadow[n] {
                Shadow::Empty => None,
                Shadow::Inherited => s.shadow[n],
                Shadow::Own(ti, k) => Some((ti, k)),
            };
            ensure!(
                st.slots.is_used(n) == (st.shadow[n] != Shadow::Empty),
                "s{si} stream {j} slot {n}: is_used={}, model {:?}",
                st.slots.is_used(n),
                st.shadow[n]
            );
            let got = st.slots.resolve(n, view).map(|t| (t.table().name().to_owned(), t.key()));
            let want = want.map(|(ti, k)| {
                (SPECS[ti].name.to_owned(), SPECS[ti].key_type.normalize(key(ti, k)).expect("key"))
            });
            ensure!(got == want, "s{si} stream {j} slot {n} resolves to {got:?}, expected {want:?}");
        }
        Ok(())
    }

    /// `tcp-request content|http-request track-scN`.
    pub(crate) fn stream_track(&mut self, si: usize, j: usize) -> Check {
        let (n, ti) = (self.rng.below(SLOTS), self.rng.below(SPECS.len()));
        let k = self.pick_key(self.sessions[si].src);
        let was_full = self.full(ti);
        let now = self.now;
        let table = std::sync::Arc::clone(self.table(ti));
        let s = &mut self.sessions[si];
        let st = &mut s.streams[j];
        let mut slots = st.slots.with(InheritedSlots::new(&s.trackers));
        let used = slots.used(n);
        let model_used = st.shadow[n] != Shadow::Empty;
        ensure!(used == model_used, "s{si} stream {j} slot {n}: used={used}, model {:?}", st.shadow[n]);
        let got = if used {
            None // first tracker wins
        } else {
            let t = table.track(key(ti, k), now);
            let ok = t.is_some();
            if let Some(t) = t {
                slots.install(n, t);
                st.shadow[n] = Shadow::Own(ti, k);
            }
            Some(ok)
        };
        self.note(format!("s{si} stream {j} track-sc{n} {} {} -> {got:?}", SPECS[ti].name, key_text(ti, k)));
        match got {
            None => self.stats.noop_tracks += 1,
            Some(ok) => {
                self.created(ti, k, was_full, ok)?;
                if ok {
                    self.model[ti][k].live += 1;
                    self.counted(ti, k, C_CONN, 1);
                    self.stats.tracks += 1;
                }
            }
        }
        self.check_slots(si, j)
    }

    /// The slots' (table, key) as the model resolves them, one per slot.
    pub(crate) fn resolved(&self, si: usize, j: usize) -> Vec<(usize, usize)> {
        let s = &self.sessions[si];
        let st = &s.streams[j];
        (0..SLOTS)
            .filter_map(|n| match st.shadow[n] {
                Shadow::Empty => None,
                Shadow::Inherited => s.shadow[n],
                Shadow::Own(ti, k) => Some((ti, k)),
            })
            .collect()
    }

    /// One HTTP request on the stream: `http_req_cnt` once per slot.
    pub(crate) fn stream_request(&mut self, si: usize, j: usize) -> Check {
        self.note(format!("s{si} stream {j} request"));
        let now = self.now;
        let s = &self.sessions[si];
        s.streams[j].slots.each(InheritedSlots::new(&s.trackers), |t| t.inc_http_req(now));
        for (ti, k) in self.resolved(si, j) {
            self.counted(ti, k, C_REQ, 1);
        }
        Ok(())
    }

    /// `sc-inc-gpc0(N)` from a stream rule.
    pub(crate) fn stream_gpc0(&mut self, si: usize, j: usize) -> Check {
        let n = self.rng.below(SLOTS);
        self.note(format!("s{si} stream {j} sc-inc-gpc0({n})"));
        let now = self.now;
        let s = &self.sessions[si];
        let st = &s.streams[j];
        if let Some(t) = st.slots.resolve(n, InheritedSlots::new(&s.trackers)) {
            t.inc_gpc0(now);
        }
        let target = match st.shadow[n] {
            Shadow::Empty => None,
            Shadow::Inherited => s.shadow[n],
            Shadow::Own(ti, k) => Some((ti, k)),
        };
        if let Some((ti, k)) = target {
            self.counted(ti, k, C_GPC0, 1);
        }
        Ok(())
    }

    /// The stream ends: bytes counted on each slot, then dropped.
    pub(crate) fn end_stream(&mut self, si: usize, j: usize) -> Check {
        let bytes = 1 + self.rng.below(500) as u64;
        self.note(format!("s{si} stream {j} end ({bytes} bytes in)"));
        let now = self.now;
        {
            let s = &self.sessions[si];
            s.streams[j].slots.each(InheritedSlots::new(&s.trackers), |t| t.add_bytes_in(bytes, now));
        }
        for (ti, k) in self.resolved(si, j) {
            self.counted(ti, k, C_BYTES, bytes);
        }
        let st = self.sessions[si].streams.remove(j);
        let shadow = st.shadow;
        drop(st);
        self.stream_released(shadow)
    }

    /// The session ends or is aborted, whatever its phase, with its live
    /// streams (they drop first: field order).
    pub(crate) fn end_session(&mut self, si: usize) -> Check {
        let s = self.sessions.swap_remove(si);
        self.note(format!(
            "s{si} session end/abort (established={}, {} live streams; last session renumbered s{si})",
            s.established,
            s.streams.len()
        ));
        let streams: Vec<[Shadow; SLOTS]> = s.streams.iter().map(|st| st.shadow).collect();
        self.stats.aborts_with_streams += u64::from(!streams.is_empty());
        let own = s.shadow;
        drop(s);
        for shadow in streams {
            self.stream_released(shadow)?;
        }
        for (ti, k) in own.into_iter().flatten() {
            self.released(ti, k)?;
        }
        Ok(())
    }

    /// Time passes; the runtime gives every table the new time once per
    /// loop turn, and sometimes runs the expiry task.
    pub(crate) fn advance(&mut self) -> Check {
        self.now += self.rng.below(500) as u64;
        self.reg.set_now(self.now);
        let purge = self.rng.chance(30);
        self.note(format!("time -> {} purge={purge}", self.now));
        if purge {
            self.purge()?;
        }
        Ok(())
    }

    pub(crate) fn purge(&mut self) -> Check {
        let now = self.now;
        for (ti, spec) in SPECS.iter().enumerate() {
            let n = self.table(ti).purge(now);
            let mut want = 0;
            for e in self.model[ti].iter_mut() {
                if e.exists && e.live == 0 && spec.expire.is_some() && e.exp <= now {
                    *e = Entry::default();
                    want += 1;
                }
            }
            ensure!(n == want, "{}: purge deleted {n} entries, {want} expired unreferenced", spec.name);
            self.stats.purged += n as u64;
        }
        Ok(())
    }

    /// `clear table T key K`: refused while referenced.
    pub(crate) fn clear_key(&mut self) -> Check {
        let (ti, k) = (self.rng.below(SPECS.len()), self.rng.below(KEYS));
        let kt = key_text(ti, k);
        let r = dump::clear(self.table(ti), &["key", &kt], self.now);
        self.note(format!("clear table {} key {kt} -> {r:?}", SPECS[ti].name));
        let e = self.model[ti][k];
        match r {
            Err(dump::CliError::InUse) => {
                ensure!(e.live > 0, "clear {kt}: refused as in use, model has no tracker");
                self.stats.clear_in_use += 1;
            }
            Ok(n) => {
                ensure!(e.live == 0, "clear {kt}: removed an entry with {} live trackers", e.live);
                ensure!(n == usize::from(e.exists), "clear {kt}: removed {n}, present: {}", e.exists);
                self.model[ti][k] = Entry::default();
            }
            Err(other) => return Err(format!("clear {kt}: {other}")),
        }
        Ok(())
    }

    /// `clear table T`: every unreferenced entry goes.
    pub(crate) fn clear_all(&mut self) -> Check {
        let ti = self.rng.below(SPECS.len());
        let n = dump::clear(self.table(ti), &[], self.now).map_err(|e| e.to_string())?;
        self.note(format!("clear table {} -> {n}", SPECS[ti].name));
        let mut want = 0;
        for e in self.model[ti].iter_mut() {
            if e.exists && e.live == 0 {
                *e = Entry::default();
                want += 1;
            }
        }
        ensure!(n == want, "clear table {}: removed {n}, {want} unreferenced", SPECS[ti].name);
        Ok(())
    }

    /// `src_inc_gpc0(T)` or `set table T key K data.gpc0 V`: creates the
    /// entry without tracking it (competes for room with tracked keys).
    pub(crate) fn by_key(&mut self) -> Check {
        let (ti, k) = (self.rng.below(SPECS.len()), self.rng.below(KEYS));
        let was_full = self.full(ti);
        let now = self.now;
        if self.rng.chance(70) {
            let r = self.table(ti).update(key(ti, k), Update::IncGpc0, now);
            self.note(format!("src_inc_gpc0({}) {} -> {r:?}", SPECS[ti].name, key_text(ti, k)));
            self.created(ti, k, was_full, r.is_some())?;
            if r.is_some() {
                self.counted(ti, k, C_GPC0, 1);
                ensure!(r == Some(self.model[ti][k].counters[C_GPC0]), "src_inc_gpc0 returned {r:?}");
            }
        } else {
            let v = self.rng.below(10);
            let kt = key_text(ti, k);
            let vt = v.to_string();
            let r = dump::set(self.table(ti), &["key", &kt, "data.gpc0", &vt], now);
            self.note(format!("set table {} key {kt} data.gpc0 {v} -> {r:?}", SPECS[ti].name));
            match r {
                Ok(()) => {
                    self.created(ti, k, was_full, true)?;
                    self.model[ti][k].counters[C_GPC0] = v as u64;
                    self.touch(ti, k);
                }
                Err(dump::CliError::AllocFailed) => self.created(ti, k, was_full, false)?,
                Err(e) => return Err(format!("set table: {e}")),
            }
        }
        Ok(())
    }

    /// One random operation, chosen among those possible now.
    pub(crate) fn step(&mut self) -> Check {
        let ns = self.sessions.len();
        let si = (ns > 0).then(|| self.rng.below(ns));
        let early = si.filter(|&i| !self.sessions[i].established);
        let can_stream = si.filter(|&i| {
            let s = &self.sessions[i];
            s.established && s.streams.len() < if s.h2 { MAX_H2_STREAMS } else { 1 }
        });
        let with_stream = si.and_then(|i| {
            let n = self.sessions[i].streams.len();
            (n > 0).then(|| (i, self.rng.below(n)))
        });
        match self.rng.below(100) {
            0..=7 if ns < MAX_SESSIONS => self.accept(),
            8..=21 if early.is_some() => self.session_track(early.unwrap_or_default()),
            22..=27 if early.is_some() => self.establish(early.unwrap_or_default()),
            28..=39 if can_stream.is_some() => self.start_stream(can_stream.unwrap_or_default()),
            40..=53 if with_stream.is_some() => {
                let (i, j) = with_stream.unwrap_or_default();
                self.stream_track(i, j)
            }
            54..=61 if with_stream.is_some() => {
                let (i, j) = with_stream.unwrap_or_default();
                self.stream_request(i, j)
            }
            62..=64 if with_stream.is_some() => {
                let (i, j) = with_stream.unwrap_or_default();
                self.stream_gpc0(i, j)
            }
            65..=74 if with_stream.is_some() => {
                let (i, j) = with_stream.unwrap_or_default();
                self.end_stream(i, j)
            }
            // a rejected connection, a client gone between requests, or an
            // abort with streams in flight
            75..=79 if si.is_some() => self.end_session(si.unwrap_or_default()),
            80..=85 => self.advance(),
            86..=89 => self.clear_key(),
            90 => self.clear_all(),
            91..=99 => self.by_key(),
            _ => self.advance(),
        }
    }

    /// Ends everything still open: every entry must be back at 0/0.
    pub(crate) fn close_all(&mut self) -> Check {
        while !self.sessions.is_empty() {
            let i = self.sessions.len() - 1;
            self.end_session(i)?;
            self.check()?;
        }
        for (ti, spec) in SPECS.iter().enumerate() {
            let t = self.table(ti);
            for k in 0..KEYS {
                let refs = t.trackers(key(ti, k));
                ensure!(refs.is_none_or(|r| r == 0), "{}: use={refs:?} after close", spec.name);
                let cur = t.get(key(ti, k), DataType::ConnCur, self.now);
                ensure!(cur.is_none_or(|c| c == 0), "{}: conn_cur={cur:?} after close", spec.name);
                ensure!(self.model[ti][k].live == 0, "model: trackers left after close");
            }
        }
        Ok(())
    }
}
