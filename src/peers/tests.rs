//! Seeded robustness of one connection's protocol (the fuzz target
//! `peers_messages` runs the same harness without a seed, under nightly):
//! random bytes and mutated captures of HAProxy's messages, fed in random
//! pieces, never panic, and a connection ends with a protocol error rather
//! than looping. Replay a failure with `SEED=`.

use super::proto::{Ctx, Phase, Proto};
use super::state::{Peer, Section, Shared};
use crate::stick::table::TableDef;
use crate::stick::{KeyType, Store, Table};

fn section() -> Section {
    let t = |name: &str, key_type, store: &str| Shared {
        table: Table::new(TableDef {
            name: name.into(),
            key_type,
            size: 64,
            expire: Some(60_000),
            nopurge: false,
            store: Store::parse(store).unwrap(),
            peers: Some("p".into()),
            snapshot: None,
        }),
        name: name.into(),
    };
    let tables = vec![
        t("t_p", KeyType::Ip, "conn_cur,conn_cnt,http_req_cnt,gpc0,http_req_rate(10s)"),
        t("t_str", KeyType::String { len: 16 }, "gpc0,http_req_rate(10s)"),
        t("be_stick", KeyType::Ip, "server_id,server_key"),
    ];
    Section {
        name: "p".into(),
        flags: 0,
        resync_timeout: None,
        last_change: std::time::SystemTime::UNIX_EPOCH,
        task_calls: 0,
        peers: vec![Peer::new("a".into(), None, true, 3), Peer::new("friend".into(), None, false, 3)],
        local: 0,
        tables,
        listen: None,
        listen_fd: None,
    }
}

/// HAProxy's own messages (golden P1 and tests/interop/capture).
const CAPTURED: &str = "0a82100103745f700404f456f0971c0af0e2030a8012000000017f00000100010100f5e5a85e0000\
0a800f000000027f00000100010101010100000400010003\
0a82120505745f7374720611f431f0971c0af0e2030a800e000000010568656c6c6f03020500\
0a8213010862655f737469636b0404f1f1fe00f0971c0a800e000000017f000001010401027331\
0a84050500000001";

fn hex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

#[test]
fn peers_connection_survives_garbage_and_mutated_messages() {
    let seed = std::env::var("SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0x5eed_1234_u64);
    println!("SEED={seed}");
    let mut rng = Rng(seed | 1);
    let base = hex(CAPTURED);
    for round in 0..3000 {
        let mut s = section();
        let ctx = Ctx { local_name: "a", pid: 1, stopping: round % 7 == 0, now: 5_000_000, rand: 3, link: 1 };
        let mut p = Proto::accepted();
        if round % 5 != 0 {
            p.input.extend_from_slice(b"HAProxyS 2.1\na\nfriend 1 1\n");
        }
        let mut data = if round % 3 == 0 {
            (0..rng.below(400)).map(|_| rng.next() as u8).collect()
        } else {
            base.clone()
        };
        for _ in 0..rng.below(6) {
            if data.is_empty() {
                break;
            }
            let i = rng.below(data.len());
            match rng.below(3) {
                0 => data[i] = rng.next() as u8,
                1 => data.truncate(i),
                _ => data.insert(i, rng.next() as u8),
            }
        }
        let mut at = 0;
        while at < data.len() {
            let n = 1 + rng.below(64);
            let end = (at + n).min(data.len());
            p.input.extend_from_slice(&data[at..end]);
            at = end;
            p.on_input(&mut s, &ctx);
            p.produce(&mut s, &ctx);
            assert!(p.out.len() < 1 << 20, "round {round}: unbounded output");
            p.out.clear();
            if p.phase == Phase::End {
                break;
            }
        }
        assert!(p.input.len() <= data.len() + 64, "round {round}: input kept growing");
    }
}
