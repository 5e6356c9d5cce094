//! `show stat` and the server commands of the stats port: HAProxy 2.6's
//! header and line order, exact counters after deterministic traffic
//! (`stot`, `req_tot`, `hrsp_*`, `dreq`, `ereq`, `intercepted`, `lbtot`,
//! `econ`, `wretr`), server status texts, the type filter, TCP lines,
//! `disable|enable server`, `set server state`, weights, `show servers
//! state`, `set maxconn frontend`, `clear counters [all]`.

mod support;

use std::io::Write;
use std::time::Duration;

use support::{
    Backend, HttpBackend, HttpConn, Proxy, Stat, cfg_time, cli, closed_port, expect_stat, free_port, get, ms,
    read_for, show_stat,
};

/// HAProxy 2.6's header, from `haproxy-golden/CLI/observed.txt`.
const HEADER: &str = "# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,tracked,type,rate,rate_lim,rate_max,check_status,check_code,check_duration,hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,hrsp_other,hanafail,req_rate,req_rate_max,req_tot,cli_abrt,srv_abrt,comp_in,comp_out,comp_byp,comp_rsp,lastsess,last_chk,last_agt,qtime,ctime,rtime,ttime,agent_status,agent_code,agent_duration,check_desc,agent_desc,check_rise,check_fall,check_health,agent_rise,agent_fall,agent_health,addr,cookie,mode,algo,conn_rate,conn_rate_max,conn_tot,intercepted,dcon,dses,wrew,connect,reuse,cache_lookups,cache_hits,srv_icur,src_ilim,qtime_max,ctime_max,rtime_max,ttime_max,eint,idle_conn_cur,safe_conn_cur,used_conn_cur,need_conn_est,uweight,agg_server_status,agg_server_check_status,agg_check_status,-,ssl_sess,ssl_reused_sess,ssl_failed_handshake,h2_headers_rcvd,h2_data_rcvd,h2_settings_rcvd,h2_rst_stream_rcvd,h2_goaway_rcvd,h2_detected_conn_protocol_errors,h2_detected_strm_protocol_errors,h2_rst_stream_resp,h2_goaway_resp,h2_open_connections,h2_backend_open_streams,h2_total_connections,h2_backend_total_streams,h1_open_connections,h1_open_streams,h1_total_connections,h1_total_streams,h1_bytes_in,h1_bytes_out,h1_spliced_bytes_in,h1_spliced_bytes_out,";

struct Setup {
    stats: u16,
    fe: u16,
    ft: u16,
    a: HttpBackend,
    s1: HttpBackend,
    s2: HttpBackend,
    _echo: Backend,
    _proxy: Proxy,
}

impl Setup {
    /// fe (http) → be (s1 = `a`), /closed → bc (a closed port, 2 retries),
    /// /b2 → b2 (s1, s2 named); bs holds one server per status; ft (tcp)
    /// → bt; tt is a table-only backend.
    fn start() -> Setup {
        let (stats, fe, ft) = (free_port(), free_port(), free_port());
        let (a, s1, s2, echo) =
            (HttpBackend::start(), HttpBackend::named("s1"), HttpBackend::named("s2"), Backend::echo());
        let (closed, check) = (closed_port(), cfg_time(Duration::from_millis(100)));
        let cfg = format!(
            "global\n    maxconn 1000\n    stats socket ipv4@127.0.0.1:{stats} level admin\n    stats timeout {}\n             defaults\n    mode http\n    timeout connect {}\n    timeout client {}\n    timeout server {}\n             frontend fe\n    bind 127.0.0.1:{fe}\n             \x20   http-request deny if {{ path /deny }}\n             \x20   http-request return status 200 if {{ path /ret }}\n             \x20   use_backend bc if {{ path /closed }}\n             \x20   use_backend b2 if {{ path_beg /b2 }}\n             \x20   default_backend be\n             backend be\n    server s1 127.0.0.1:{}\n             backend bc\n    retries 2\n    server dead 127.0.0.1:{closed}\n             backend b2\n    server s1 127.0.0.1:{} weight 10\n    server s2 127.0.0.1:{}\n             backend bs\n             \x20   server up 127.0.0.1:{} check inter {check} rise 1 fall 1\n             \x20   server down 127.0.0.1:{closed} check inter {check} rise 1 fall 1\n             \x20   server maint 127.0.0.1:{} disabled\n             \x20   server nc 127.0.0.1:{}\n             \x20   server bk 127.0.0.1:{} backup weight 5\n             frontend ft\n    mode tcp\n    bind 127.0.0.1:{ft}\n    default_backend bt\n             backend bt\n    mode tcp\n    server t1 127.0.0.1:{}\n             backend tt\n    stick-table type ip size 10\n",
            cfg_time(Duration::from_secs(30)),
            cfg_time(Duration::from_secs(1)),
            cfg_time(Duration::from_secs(5)),
            cfg_time(Duration::from_secs(5)),
            a.port(),
            s1.port(),
            s2.port(),
            a.port(),
            a.port(),
            a.port(),
            a.port(),
            echo.port(),
        );
        let proxy = Proxy::start(&cfg);
        Setup { stats, fe, ft, a, s1, s2, _echo: echo, _proxy: proxy }
    }

    /// One request on its own connection; the status.
    fn status_of(&self, raw: &[u8]) -> u16 {
        let mut c = HttpConn::connect(self.fe);
        c.request(raw).unwrap_or_else(|e| panic!("{:?}: {e}", String::from_utf8_lossy(raw))).status
    }

    fn stat(&self) -> Stat {
        show_stat(self.stats, "")
    }
}

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter().map(|(p, s)| (p.to_string(), s.to_string())).collect()
}

#[test]
fn header_line_order_and_tcp_lines() {
    let s = Setup::start();
    let st = s.stat();
    assert_eq!(st.header, HEADER);
    assert_eq!(st.names.len(), 128);
    assert!(st.raw.ends_with(",\n\n"), "reply must end with a line's comma and the empty line");
    for r in &st.rows {
        assert!(r.raw.ends_with(','), "no trailing comma: {}", r.raw);
        assert_eq!(r.raw.matches(',').count(), 128, "{}", r.raw);
    }
    let order = pairs(&[
        ("fe", "FRONTEND"),
        ("be", "s1"),
        ("be", "BACKEND"),
        ("bc", "dead"),
        ("bc", "BACKEND"),
        ("b2", "s1"),
        ("b2", "s2"),
        ("b2", "BACKEND"),
        ("bs", "up"),
        ("bs", "down"),
        ("bs", "maint"),
        ("bs", "nc"),
        ("bs", "bk"),
        ("bs", "BACKEND"),
        ("ft", "FRONTEND"),
        ("bt", "t1"),
        ("bt", "BACKEND"),
        ("tt", "BACKEND"),
    ]);
    assert_eq!(st.order(), order);
    // HTTP lines count responses by class; TCP lines leave them empty.
    assert_eq!(st.get("fe", "FRONTEND", "hrsp_2xx"), "0");
    assert_eq!(st.get("be", "s1", "hrsp_2xx"), "0");
    for (px, sv) in [("ft", "FRONTEND"), ("bt", "t1"), ("bt", "BACKEND")] {
        assert_eq!(st.get(px, sv, "mode"), "tcp");
        for f in ["hrsp_1xx", "hrsp_2xx", "hrsp_4xx", "hrsp_5xx", "hrsp_other"] {
            assert_eq!(st.get(px, sv, f), "", "{px}/{sv} {f}");
        }
    }
    // TCP traffic counts sessions, never responses.
    let mut c = support::connect(s.ft);
    assert_eq!(support::round_trip(&mut c, b"ping", ms(5_000)).expect("echo"), b"ping");
    drop(c);
    let st = expect_stat(s.stats, "bt", "t1", &[("stot", "1"), ("lbtot", "1"), ("scur", "0")], "tcp session");
    assert_eq!(st.get("ft", "FRONTEND", "stot"), "1");
    assert_eq!(st.get("ft", "FRONTEND", "hrsp_2xx"), "");
    // `-1 4 -1`: servers only.
    let servers = show_stat(s.stats, "-1 4 -1");
    assert_eq!(servers.header, HEADER);
    let only: Vec<_> = order.into_iter().filter(|(_, sv)| sv != "FRONTEND" && sv != "BACKEND").collect();
    assert_eq!(servers.order(), only);
}

#[test]
fn server_status_weight_act_bck() {
    let s = Setup::start();
    expect_stat(s.stats, "bs", "up", &[("status", "UP")], "checked server on a live port");
    expect_stat(s.stats, "bs", "down", &[("status", "DOWN")], "checked server on a closed port");
    let st = s.stat();
    assert_eq!(st.get("bs", "maint", "status"), "MAINT");
    assert_eq!(st.get("bs", "nc", "status"), "no check");
    assert_eq!(st.get("be", "BACKEND", "status"), "UP");
    for (sv, weight, act, bck) in [("up", "1", "1", "0"), ("nc", "1", "1", "0"), ("bk", "5", "0", "1")] {
        assert_eq!(
            (st.get("bs", sv, "weight"), st.get("bs", sv, "act"), st.get("bs", sv, "bck")),
            (weight, act, bck),
            "{sv}"
        );
    }
    assert_eq!(st.get("b2", "s1", "weight"), "10");
    // The backend line: usable active servers (up, nc) and backups (bk).
    assert_eq!((st.get("bs", "BACKEND", "act"), st.get("bs", "BACKEND", "bck")), ("2", "1"));
    assert_eq!(st.get("bs", "BACKEND", "weight"), "2");
    assert_eq!(st.get("b2", "BACKEND", "weight"), "11");
}

#[test]
fn counters_after_deterministic_traffic() {
    let s = Setup::start();
    assert_eq!(s.status_of(&get("/")), 200);
    assert_eq!(s.status_of(&get("/status/404")), 404);
    assert_eq!(s.status_of(&get("/status/503")), 503);
    assert_eq!(s.status_of(&get("/deny")), 403);
    assert_eq!(s.status_of(&get("/ret")), 200);
    assert_eq!(s.status_of(b"GET / HTTP/1.1\r\nHost: x\r\nbad header\r\n\r\n"), 400);
    let fe = [
        ("stot", "6"),
        ("req_tot", "6"),
        ("hrsp_2xx", "2"),
        ("hrsp_4xx", "3"),
        ("hrsp_5xx", "1"),
        ("dreq", "1"),
        ("ereq", "1"),
        ("intercepted", "1"),
        ("scur", "0"),
    ];
    expect_stat(s.stats, "fe", "FRONTEND", &fe, "frontend after 6 requests");
    let srv = [
        ("stot", "3"),
        ("lbtot", "3"),
        ("req_tot", "3"),
        ("hrsp_2xx", "1"),
        ("hrsp_4xx", "1"),
        ("hrsp_5xx", "1"),
        ("econ", "0"),
        ("wretr", "0"),
    ];
    expect_stat(s.stats, "be", "s1", &srv, "server");
    expect_stat(s.stats, "be", "BACKEND", &srv, "backend");
    assert_eq!(s.a.requests().len(), 3);

    // A refused connect, retried twice on the only server: one econ, two
    // wretr; the server counts every attempt in stot, load balancing chose
    // it once (lbtot), and the 503 is the proxy's, not the server's.
    assert_eq!(s.status_of(&get("/closed")), 503);
    let failed = [("econ", "1"), ("wretr", "2"), ("hrsp_5xx", "0"), ("stot", "3"), ("lbtot", "1")];
    expect_stat(s.stats, "bc", "dead", &failed, "server on a closed port");
    let failed_be = [("econ", "1"), ("wretr", "2"), ("stot", "1"), ("lbtot", "1")];
    expect_stat(s.stats, "bc", "BACKEND", &failed_be, "its backend");
    expect_stat(s.stats, "fe", "FRONTEND", &[("stot", "7"), ("hrsp_5xx", "2")], "frontend saw the 503");

    // `clear counters`: maxima only; `clear counters all`: everything.
    // smax is at least 1 (2 if a closed connection was still being torn
    // down when the next one arrived).
    assert_ne!(s.stat().get("fe", "FRONTEND", "smax"), "0");
    assert_eq!(cli(s.stats, "clear counters"), "\n");
    let st = s.stat();
    assert_eq!((st.get("fe", "FRONTEND", "smax"), st.get("fe", "FRONTEND", "stot")), ("0", "7"));
    assert_eq!(st.get("be", "s1", "stot"), "3");
    assert_eq!(cli(s.stats, "clear counters all"), "\n");
    let st = s.stat();
    for (px, sv, f) in [
        ("fe", "FRONTEND", "stot"),
        ("fe", "FRONTEND", "req_tot"),
        ("fe", "FRONTEND", "hrsp_2xx"),
        ("fe", "FRONTEND", "dreq"),
        ("fe", "FRONTEND", "ereq"),
        ("fe", "FRONTEND", "intercepted"),
        ("be", "s1", "stot"),
        ("be", "s1", "lbtot"),
        ("be", "BACKEND", "hrsp_5xx"),
        ("bc", "dead", "econ"),
        ("bc", "BACKEND", "wretr"),
    ] {
        assert_eq!(st.get(px, sv, f), "0", "{px}/{sv} {f} after clear counters all");
    }
}

#[test]
fn server_commands_steer_traffic() {
    let s = Setup::start();
    let status = |sv: &str| s.stat().get("b2", sv, "status").to_string();
    assert_eq!(cli(s.stats, "disable server b2/s1"), "\n");
    assert_eq!(status("s1"), "MAINT");
    for _ in 0..4 {
        assert_eq!(s.status_of(&get("/b2")), 404);
    }
    assert_eq!((s.s1.requests().len(), s.s2.requests().len()), (0, 4), "traffic reached a disabled server");
    assert_eq!(cli(s.stats, "enable server b2/s1"), "\n");
    assert_eq!(status("s1"), "no check");
    for _ in 0..11 {
        assert_eq!(s.status_of(&get("/b2")), 404);
    }
    assert!(!s.s1.requests().is_empty(), "enabled server gets no traffic");
    for (state, shown) in [("drain", "DRAIN"), ("maint", "MAINT"), ("ready", "no check")] {
        assert_eq!(cli(s.stats, &format!("set server b2/s1 state {state}")), "\n");
        assert_eq!(status("s1"), shown, "state {state}");
    }
    assert_eq!(
        cli(s.stats, "set server b2/s1 state bogus"),
        "'set server <srv> state' expects 'ready', 'drain' and 'maint'.\n\n"
    );
}

#[test]
fn weights_and_errors() {
    let s = Setup::start();
    let w = |cmd: &str| cli(s.stats, cmd);
    assert_eq!(w("get weight b2/s1"), "10 (initial 10)\n\n");
    assert_eq!(w("set weight b2/s1 50%"), "\n");
    assert_eq!(w("get weight b2/s1"), "5 (initial 10)\n\n");
    assert_eq!(s.stat().get("b2", "s1", "weight"), "5");
    assert_eq!(w("set weight b2/s1 150%"), "\n");
    assert_eq!(w("get weight b2/s1"), "15 (initial 10)\n\n");
    assert_eq!(w("set weight b2/s2 50%"), "\n"); // 50% of 1, rounded down
    assert_eq!(w("get weight b2/s2"), "0 (initial 1)\n\n");
    assert_eq!(w("set server b2/s1 weight 7"), "\n");
    assert_eq!(w("get weight b2/s1"), "7 (initial 10)\n\n");
    for (cmd, err) in [
        ("get weight nosuch/s1", "No such backend.\n\n"),
        ("get weight b2/nosuch", "No such server.\n\n"),
        ("get weight b2", "Require 'backend/server'.\n\n"),
        ("set weight b2", "Require 'backend/server'.\n\n"),
        ("set weight b2/s1", "Require <weight> or <weight%>.\n\n"),
        ("set weight b2/s1 300", "Absolute weight can only be between 0 and 256 inclusive.\n\n"),
        ("set weight b2/s1 -5", "Absolute weight can only be between 0 and 256 inclusive.\n\n"),
        ("set weight b2/s1 -5%", "Relative weight must be positive.\n\n"),
        ("set weight b2/s1 abc", "Empty weight string empty or preceded by garbage\n"),
        ("set weight b2/s1 5x", "Trailing garbage in weight string\n"),
        ("disable server b2", "Require 'backend/server'.\n\n"),
        ("enable server b2/nosuch", "No such server.\n\n"),
        ("set server nosuch/s1 state ready", "No such backend.\n\n"),
    ] {
        assert_eq!(w(cmd), err, "{cmd}");
    }
    assert_eq!(w("get weight b2/s1"), "7 (initial 10)\n\n", "a refused change changed the weight");
}

#[test]
fn show_servers_state_format() {
    let s = Setup::start();
    let iid = s.stat().get("b2", "BACKEND", "iid").to_string();
    assert_eq!(cli(s.stats, "disable server b2/s1"), "\n");
    assert_eq!(cli(s.stats, "set weight b2/s2 0"), "\n");
    let reply = cli(s.stats, "show servers state b2");
    let lines: Vec<&str> = reply.lines().filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 4, "{reply:?}");
    assert_eq!(lines[0], "1");
    assert_eq!(
        lines[1],
        "# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port"
    );
    // s1: stopped (0), forced maintenance (1); s2: running (2), weight 0 of 1.
    let f1: Vec<&str> = lines[2].split(' ').collect();
    let f2: Vec<&str> = lines[3].split(' ').collect();
    assert_eq!(f1.len(), 25, "{}", lines[2]);
    assert_eq!(&f1[..9], &[iid.as_str(), "b2", "1", "s1", "127.0.0.1", "0", "1", "10", "10"], "{}", lines[2]);
    assert_eq!(f1[18], s.s1.port().to_string());
    assert_eq!(&f2[..9], &[iid.as_str(), "b2", "2", "s2", "127.0.0.1", "2", "0", "0", "1"], "{}", lines[3]);
    assert!(reply.ends_with("\n\n"));
    // Every backend: one line per server.
    let all = cli(s.stats, "show servers state");
    assert_eq!(all.lines().filter(|l| !l.is_empty()).count(), 2 + 1 + 1 + 2 + 5 + 1, "{all}");
    assert_eq!(cli(s.stats, "show servers state nosuch"), "Can't find backend.\n\n");
}

#[test]
fn set_maxconn_frontend_holds_the_next_connection() {
    let s = Setup::start();
    assert_eq!(cli(s.stats, "set maxconn frontend fe 1"), "\n");
    assert_eq!(s.stat().get("fe", "FRONTEND", "slim"), "1");
    let mut first = HttpConn::connect(s.fe);
    assert_eq!(first.request(&get("/")).expect("first").status, 200); // keep-alive: still open
    let mut second = std::net::TcpStream::connect(("127.0.0.1", s.fe)).expect("connect");
    second.write_all(&get("/")).expect("send");
    // Held while the first connection lives (a safety net, not a speed bound:
    // a slow proxy could only make this pass, never fail).
    let early = read_for(&mut second, ms(300)).expect("second connection closed");
    assert!(
        early.is_empty(),
        "second connection served past maxconn 1: {:?}",
        String::from_utf8_lossy(&early)
    );
    drop(first);
    let mut second = HttpConn::from_stream(second);
    assert_eq!(
        second.read_response_within(false, ms(10_000)).expect("second after the first closed").status,
        200
    );
}

/// Bug story: `iid` and `be_id` were the declaration order plus one,
/// whatever the `id` lines said, and `bk_f_forced_id` was always 0. As
/// observed with HAProxy 2.6.12: fixed ids are kept, the others fill the
/// free ids from a counter that moves past every proxy (fe=5 forced, be
/// gets 4, be2 6, be3 keeps 3; server ids likewise within a backend).
#[test]
fn explicit_ids_in_show_stat_and_servers_state() {
    let (stats, fe, s) = (free_port(), free_port(), HttpBackend::start());
    let cfg = format!(
        "global\n    stats socket ipv4@127.0.0.1:{stats} level admin\ndefaults\n    mode http\n    timeout connect {c}\n    timeout client {c}\n    timeout server {c}\nfrontend fe\n    bind 127.0.0.1:{fe}\n    id 5\n    default_backend be\nbackend be\n    server s1 127.0.0.1:{p}\n    server s2 127.0.0.1:{p} id 1\n    server s3 127.0.0.1:{p}\nbackend be2\n    server a 127.0.0.1:{p} id 7\n    server b 127.0.0.1:{p}\nbackend be3\n    id 3\n    server a 127.0.0.1:{p}\n",
        c = cfg_time(Duration::from_secs(5)),
        p = s.port(),
    );
    let _proxy = Proxy::start(&cfg);
    let st = show_stat(stats, "");
    let ids: Vec<String> = st
        .order()
        .iter()
        .map(|(px, sv)| format!("{px}/{sv}={},{}", st.get(px, sv, "iid"), st.get(px, sv, "sid")))
        .collect();
    assert_eq!(
        ids,
        [
            "fe/FRONTEND=5,0",
            "be/s1=4,2",
            "be/s2=4,1",
            "be/s3=4,4",
            "be/BACKEND=4,0",
            "be2/a=6,7",
            "be2/b=6,2",
            "be2/BACKEND=6,0",
            "be3/a=3,1",
            "be3/BACKEND=3,0"
        ]
    );
    let state = cli(stats, "show servers state");
    let fields = |be: &str, sv: &str| -> Vec<String> {
        let line = state.lines().find(|l| l.split(' ').nth(1) == Some(be) && l.split(' ').nth(3) == Some(sv));
        let f: Vec<&str> = line.unwrap_or_else(|| panic!("{be}/{sv} in {state}")).split(' ').collect();
        [0, 2, 15, 16].iter().map(|&i| f[i].to_string()).collect()
    };
    assert_eq!(fields("be", "s2"), ["4", "1", "0", "1"], "be_id srv_id bk_f_forced_id srv_f_forced_id");
    assert_eq!(fields("be3", "a"), ["3", "1", "1", "0"]);
}
