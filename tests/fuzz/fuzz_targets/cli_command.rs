//! The stats-port conversation never panics: any bytes, in any pieces, at
//! any level, against a process with a stick table and a backend.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use strata::backend::Backends;
use strata::cfg::{AccessLevel, Config, Diagnostics, load_str};
use strata::cli::stat::StatLine;
use strata::cli::{CliData, Conversation, ProcessInfo};
use strata::l5_session::Session;
use strata::stick::Registry;

const CFG: &str = "global\n    stats socket ipv4@127.0.0.1:1 level admin\n\
defaults\n    mode http\n\
frontend fe\n    bind 127.0.0.1:2\n    default_backend be\n\
backend be\n    server s1 127.0.0.1:3 check\n    server s2 127.0.0.1:4 backup\n\
backend t_ip\n    stick-table type ip size 10 expire 60s store conn_cur,conn_cnt,gpc0,http_req_rate(10s)\n\
backend t_str\n    stick-table type string len 8 size 10 store gpc0,gpt0\n";

fn config() -> &'static Config {
    static CFG_ONCE: OnceLock<Config> = OnceLock::new();
    CFG_ONCE.get_or_init(|| load_str(&[("fuzz.cfg".to_owned(), CFG.to_owned())], &mut Diagnostics::default()))
}

struct Fake {
    tables: Registry,
    backends: Backends,
}

impl CliData for Fake {
    fn process_info(&self) -> ProcessInfo {
        ProcessInfo::default()
    }
    fn tables(&self) -> &Registry {
        &self.tables
    }
    fn now_ms(&self) -> u64 {
        2_000_000_000
    }
    fn config(&self) -> &Config {
        config()
    }
    fn backends_mut(&mut self) -> &mut Backends {
        &mut self.backends
    }
    fn stat_lines(&self) -> Vec<StatLine> {
        Vec::new()
    }
    fn clear_counters(&mut self, _: bool) {}
    fn set_maxconn(&mut self, _: Option<usize>, _: u32) {}
    fn set_rate_limit(&mut self, _: strata::cli::commands::RateLimit, _: u32) {}
    fn for_each_session(&self, _: &mut dyn FnMut(&Session)) {}
    fn now(&self) -> std::time::Instant {
        std::time::Instant::now()
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, input)) = data.split_first() else { return };
    let level = match first % 3 {
        0 => AccessLevel::User,
        1 => AccessLevel::Operator,
        _ => AccessLevel::Admin,
    };
    let cfg = config();
    let mut fake = Fake {
        tables: Registry::new(cfg.proxies.iter().map(|p| p.stick_table.clone())),
        backends: Backends::new(cfg),
    };
    let mut conv = Conversation::new(level, Default::default(), 4096);
    let mut out = Vec::new();
    let cut = usize::from(first).min(input.len());
    for part in [&input[..cut], &input[cut..]] {
        if conv.feed(part, &mut fake, &mut out) == strata::cli::Flow::Close {
            return;
        }
    }
    conv.finish(&mut fake, &mut out);
});
