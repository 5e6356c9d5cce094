//! What the `global` section says about threads: how many workers run
//! (`nbthread`) and which CPUs each may run on (`cpu-map`). Read by
//! `runtime/` when it starts the workers.

/// One `cpu-map` line, resolved: the threads it names (bit `n` is thread
/// `n + 1`) and the CPUs they get. With `auto:`, the n-th named thread gets
/// the n-th CPU alone; without, every named thread gets all of them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CpuMap {
    pub threads: u64,     // thread set, bit 0 = thread 1
    pub cpus: Vec<usize>, // CPU numbers in the order written (sorted, no duplicates)
    pub auto: bool,       // `auto:` prefix: one CPU per thread, in order
}

impl CpuMap {
    /// The CPUs thread `thread` (0-based) may run on under this line, if it
    /// names the thread.
    pub fn cpus_for(&self, thread: usize) -> Option<Vec<usize>> {
        if thread >= 64 || self.threads & (1 << thread) == 0 {
            return None;
        }
        if !self.auto {
            return Some(self.cpus.clone());
        }
        let rank = (self.threads & ((1u64 << thread) - 1)).count_ones() as usize;
        self.cpus.get(rank).map(|c| vec![*c])
    }
}

/// The CPUs thread `thread` (0-based) is pinned to: the last `cpu-map`
/// line naming it wins, as in HAProxy; `None` leaves it unpinned.
pub fn cpus_for(maps: &[CpuMap], thread: usize) -> Option<Vec<usize>> {
    maps.iter().rev().find_map(|m| m.cpus_for(thread))
}
