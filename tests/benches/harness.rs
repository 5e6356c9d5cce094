//! A minimal timing harness for the micro-benchmarks (`harness = false`):
//! runs a closure in batches, reports the median time per operation of
//! several rounds. Shared by the bench binaries with `#[path]`.

use std::hint::black_box;
use std::time::{Duration, Instant};

/// Rounds per measurement; the median is reported.
const ROUNDS: usize = 7;

/// Times `op` over `n` iterations per round and prints
/// `name: <median ns>/op (min .. max)`. Returns the median.
pub fn bench<R>(name: &str, n: u64, mut op: impl FnMut(u64) -> R) -> Duration {
    // warm-up round, not counted
    for i in 0..n.min(10_000) {
        black_box(op(i));
    }
    let mut per_op: Vec<f64> = (0..ROUNDS)
        .map(|_| {
            let start = Instant::now();
            for i in 0..n {
                black_box(op(i));
            }
            start.elapsed().as_nanos() as f64 / n as f64
        })
        .collect();
    per_op.sort_by(f64::total_cmp);
    let median = per_op[ROUNDS / 2];
    println!("{name:<44} {median:>10.1} ns/op  (min {:.1}, max {:.1})", per_op[0], per_op[ROUNDS - 1]);
    Duration::from_nanos(median as u64)
}
