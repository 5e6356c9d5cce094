//! strata's HPACK decoder against an independent one (`loona-hpack`, a
//! dev-dependency only): seeded random header blocks using every
//! representation (indexed, literals with and without indexing, never
//! indexed, raw and Huffman strings, table size updates, evictions) must
//! decode to the same fields and leave the same table behind; mutated
//! blocks must never decode to different fields; strata's encoder output
//! must decode the same in both. The seed is printed; `SEED=` replays.

use loona_hpack::Decoder as Oracle;
use std::panic::{AssertUnwindSafe, catch_unwind};
use strata::l7_http::h2::hpack::{Decoder, Encoder, huffman, table::STATIC};

/// splitmix64: small and seedable.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn seed() -> u64 {
    let seed = std::env::var("SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(1, |d| d.as_nanos() as u64)
    });
    println!("SEED={seed}");
    seed
}

type Fields = Vec<(Vec<u8>, Vec<u8>)>;

fn integer(out: &mut Vec<u8>, flags: u8, prefix: u32, value: usize) {
    let mask = (1usize << prefix) - 1;
    if value < mask {
        out.push(flags | value as u8);
        return;
    }
    out.push(flags | mask as u8);
    let mut rest = value - mask;
    while rest >= 0x80 {
        out.push((rest & 0x7f) as u8 | 0x80);
        rest >>= 7;
    }
    out.push(rest as u8);
}

fn string(rng: &mut Rng, out: &mut Vec<u8>, s: &[u8]) {
    if rng.below(2) == 0 {
        integer(out, 0x80, 7, huffman::encoded_len(s));
        huffman::encode(s, out);
    } else {
        integer(out, 0, 7, s.len());
        out.extend_from_slice(s);
    }
}

fn text(rng: &mut Rng, max: usize) -> Vec<u8> {
    let len = rng.below(max + 1);
    (0..len)
        .map(|_| match rng.below(10) {
            0 => rng.below(256) as u8,
            1..=3 => b"-_./:;=, "[rng.below(9)],
            _ => b"abcdefghijklmnopqrstuvwxyz0123456789"[rng.below(36)],
        })
        .collect()
}

/// A random valid block, given how many dynamic entries the peer's table
/// has (both decoders track the real count; this is only a hint for
/// choosing indexes, so the block is valid when `dynamic` is exact).
fn block(rng: &mut Rng, dynamic: usize, table_max: &mut usize) -> Vec<u8> {
    let mut out = Vec::new();
    if rng.below(8) == 0 {
        *table_max = [0, 64, 256, 1024, 4096][rng.below(5)];
        integer(&mut out, 0x20, 5, *table_max);
    }
    let mut dynamic = if *table_max == 0 { 0 } else { dynamic };
    for _ in 0..1 + rng.below(12) {
        let total = STATIC.len() + dynamic;
        match rng.below(5) {
            0 => integer(&mut out, 0x80, 7, 1 + rng.below(total)),
            kind => {
                let (flags, prefix) = match kind {
                    1 | 2 => (0x40, 6),
                    3 => (0x00, 4),
                    _ => (0x10, 4),
                };
                if rng.below(2) == 0 {
                    integer(&mut out, flags, prefix, 1 + rng.below(total));
                } else {
                    integer(&mut out, flags, prefix, 0);
                    let name = text(rng, 20);
                    string(rng, &mut out, &name);
                }
                let max = if rng.below(10) == 0 { 300 } else { 40 };
                let value = text(rng, max);
                string(rng, &mut out, &value);
                if flags == 0x40 {
                    dynamic += 1; // an upper bound: evictions only lower it
                }
            }
        }
    }
    out
}

fn ours(d: &mut Decoder, b: &[u8]) -> Option<Fields> {
    let mut fields = Vec::new();
    d.decode(b, usize::MAX, |n, v| fields.push((n.to_vec(), v.to_vec()))).ok()?;
    Some(fields)
}

fn oracle(d: &mut Oracle<'_>, b: &[u8]) -> Option<Option<Fields>> {
    catch_unwind(AssertUnwindSafe(|| d.decode(b).ok())).ok()
}

#[test]
fn random_valid_blocks_decode_alike() {
    let mut rng = Rng(seed());
    let (mut compared, mut decoded) = (0, 0);
    for _conn in 0..200 {
        let mut mine = Decoder::new(4096);
        let mut theirs = Oracle::new();
        let mut table_max = 4096;
        for _ in 0..30 {
            // Indexes are chosen from our table's count at the block's start:
            // an eviction inside the block can make a later one invalid, so
            // both may refuse a block, but they must agree.
            let b = block(&mut rng, mine.table().len(), &mut table_max);
            let a = ours(&mut mine, &b);
            let Some(o) = oracle(&mut theirs, &b) else { panic!("the oracle panicked on {b:02x?}") };
            assert_eq!(a, o, "block {b:02x?}");
            compared += 1;
            decoded += usize::from(a.is_some());
            if a.is_none() {
                break; // the connection would end with a COMPRESSION_ERROR
            }
        }
    }
    println!("compared {compared} blocks, {decoded} decoded");
    assert!(decoded * 10 > compared * 9, "most blocks are valid");
}

#[test]
fn mutated_blocks_never_decode_differently() {
    let mut rng = Rng(seed() ^ 0x5555);
    let (mut both_ok, mut both_err) = (0, 0);
    for _ in 0..3000 {
        let mut table_max = 4096;
        let mut b = block(&mut rng, 0, &mut table_max);
        for _ in 0..1 + rng.below(3) {
            if b.is_empty() {
                break;
            }
            let i = rng.below(b.len());
            match rng.below(3) {
                0 => b[i] = rng.below(256) as u8,
                1 => b.truncate(i),
                _ => b.insert(i, rng.below(256) as u8),
            }
        }
        let mut mine = Decoder::new(4096);
        let mut theirs = Oracle::new();
        let a = ours(&mut mine, &b);
        match oracle(&mut theirs, &b) {
            Some(Some(o)) => {
                if let Some(a) = a {
                    assert_eq!(a, o, "block {b:02x?}");
                    both_ok += 1;
                }
            }
            Some(None) => both_err += usize::from(a.is_none()),
            None => {} // the oracle panicked: strata did not, which is the point
        }
    }
    println!("both decoded {both_ok}, both refused {both_err}");
    assert!(both_ok > 100 && both_err > 100, "the mutations exercised both outcomes");
}

#[test]
fn strata_encoder_output_decodes_alike() {
    let mut rng = Rng(seed() ^ 0xaaaa);
    let mut enc = Encoder::new();
    for _ in 0..500 {
        let mut fields: Fields = Vec::new();
        let mut b = Vec::new();
        enc.begin(&mut b);
        for _ in 0..1 + rng.below(10) {
            let name = if rng.below(2) == 0 {
                STATIC[rng.below(STATIC.len())].0.to_vec()
            } else {
                let mut n = text(&mut rng, 12);
                n.make_ascii_lowercase();
                n
            };
            let value = text(&mut rng, 60);
            enc.field(&name, &value, &mut b);
            fields.push((name, value));
        }
        let mut theirs = Oracle::new();
        assert_eq!(oracle(&mut theirs, &b), Some(Some(fields.clone())));
        assert_eq!(ours(&mut Decoder::new(4096), &b), Some(fields));
    }
}
