//! Expiry and eviction: the purge of expired entries, the walk that frees
//! room in a full table, and the compaction of the expiry queue.

use super::*;

impl Table {
    // ----- expiry and eviction ----------------------------------------

    /// Deletes the unreferenced entries whose expiry date has passed (the
    /// expiry task). Referenced entries stay, whatever their date; entries
    /// refreshed since they were queued are re-queued at their new date.
    /// Tables without `expire` are never purged. Returns the number deleted.
    pub fn purge(&self, now: u64) -> usize {
        self.set_now(now);
        if self.expire.is_none() {
            return 0;
        }
        let mut q = lock(&self.queue);
        let mut aside = Vec::new();
        let mut n = 0;
        while let Some(&Reverse(item)) = q.peek() {
            if item.exp > now {
                break;
            }
            q.pop();
            let id = EntryId(item.id);
            let mut guard = lock(&self.shards[id.shard()]);
            let sh = &mut *guard;
            if !self.is_current(sh, id.slot(), item.stamp) {
                continue;
            }
            let e = self.entry(sh, id.slot());
            if e.refs() > 0 {
                aside.push(item);
                continue;
            }
            let exp = e.expire();
            if now < exp {
                let stamp = self.next_stamp();
                e.w[W_STAMP] = stamp;
                q.push(Reverse(QItem { exp, stamp, id: item.id }));
                continue;
            }
            self.remove_slot(sh, id.slot());
            n += 1;
        }
        q.extend(aside.into_iter().map(Reverse));
        n
    }

    /// The earliest date at which [`purge`](Self::purge) may have work: the
    /// head of the expiry queue. `None` for an empty queue or a table
    /// without `expire`.
    pub fn next_purge(&self) -> Option<u64> {
        self.expire?;
        lock(&self.queue).peek().map(|Reverse(i)| i.exp)
    }

    /// HAProxy's `__stktable_trash_oldest()` for a full table: tries to free
    /// `size/256 + 1` entries walking the expiry queue from the oldest, and
    /// visits at most twice that many entries. Referenced entries are
    /// skipped; an entry refreshed since it was queued is re-queued at its
    /// new date instead of being freed (so it may be met again in the same
    /// walk if it is still the oldest). Returns the number freed.
    pub(super) fn evict(&self) -> u32 {
        let to_batch = self.size / 256 + 1;
        let mut max_search = i64::from(to_batch) * 2;
        let mut batched = 0;
        let mut aside = Vec::new();
        let mut q = lock(&self.queue);
        while batched < to_batch {
            let Some(Reverse(item)) = q.pop() else { break };
            let id = EntryId(item.id);
            let mut guard = lock(&self.shards[id.shard()]);
            let sh = &mut *guard;
            if !self.is_current(sh, id.slot(), item.stamp) {
                continue; // deleted entries are not in HAProxy's queue at all
            }
            max_search -= 1;
            if max_search < 0 {
                q.push(Reverse(item));
                break;
            }
            let e = self.entry(sh, id.slot());
            if e.refs() > 0 {
                aside.push(item);
                continue;
            }
            let exp = e.expire();
            if exp != item.exp {
                let stamp = self.next_stamp();
                e.w[W_STAMP] = stamp;
                q.push(Reverse(QItem { exp, stamp, id: item.id }));
                continue;
            }
            self.remove_slot(sh, id.slot());
            batched += 1;
        }
        q.extend(aside.into_iter().map(Reverse));
        batched
    }

    /// Drops the stale items (deleted entries) from the queue. Deleted
    /// entries leave their item behind until a walk meets it; a table that
    /// is cleared and refilled without ever being full or purged (no
    /// `expire`) would otherwise grow its queue without bound. Called when
    /// the queue holds more than twice as many items as entries, so the cost
    /// is amortized over the insertions that made it grow.
    pub(super) fn compact_queue(&self, q: &mut BinaryHeap<Reverse<QItem>>) {
        let mut items = std::mem::take(q).into_vec();
        items.retain(|Reverse(it)| {
            let id = EntryId(it.id);
            self.is_current(&lock(&self.shards[id.shard()]), id.slot(), it.stamp)
        });
        *q = BinaryHeap::from(items);
    }

    #[cfg(test)]
    pub(super) fn queue_len(&self) -> usize {
        lock(&self.queue).len()
    }
}
