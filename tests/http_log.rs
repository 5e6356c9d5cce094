//! HTTP mode access log (`option httplog`, `log stdout format raw`): one
//! line per request in HAProxy's format, checked field by field with a
//! small parser, for a normal exchange and for each way a request can end
//! badly (termination state, `<NOSRV>`, `<BADREQ>`, -1 timers).
//! The proxy's stdout is read through the launcher (`Proxy::stdout_text`);
//! HAProxy writes the same lines there under `-db`, and every assertion
//! holds for HAProxy 2.6 too (`STRATA_BIN=haproxy`).

mod support;

use std::time::Duration;

use support::*;

/// One parsed line (the date is checked by the parser, not kept):
/// `127.0.0.1:PORT [DD/Mon/YYYY:HH:MM:SS.mmm] fe be/s1 TR/Tw/Tc/Tr/Ta 200 BYTES - - ---- 1/1/0/0/0 0/0 "GET /path HTTP/1.1"`
///
/// BYTES is HAProxy's count of the response (its internal message size in
/// HTTP mode, e.g. 60 for a 49-byte response), so it is only checked to
/// cover the body.
#[derive(Debug)]
struct LogLine {
    client: String,       // `127.0.0.1:PORT`
    frontend: String,     // `fe`
    backend: String,      // `be`, or `fe` for a refused request
    server: String,       // `s1`, or `<NOSRV>`
    timers: [i64; 5],     // TR/Tw/Tc/Tr/Ta, -1 when the phase never happened
    status: u16,          // 200
    bytes: u64,           // bytes sent to the client
    cookies: [String; 2], // captured request/response cookies, `-`
    term: String,         // four characters, `----`
    conns: [u64; 5],      // actconn/feconn/beconn/srv_conn/retries
    queues: [u64; 2],     // srv_queue/backend_queue
    request: String,      // the request line, or `<BADREQ>`
}

/// Parse one httplog line; an error says which field is wrong.
fn parse_line(line: &str) -> Result<LogLine, String> {
    let (fields, request) = line.split_once(" \"").ok_or("no quoted request line")?;
    let request = request.strip_suffix('"').ok_or("request line not closed by a quote")?.to_string();
    let f: Vec<&str> = fields.split(' ').collect();
    if f.len() != 12 {
        return Err(format!("{} space-separated fields before the request line, not 12", f.len()));
    }
    let (ip, port) = f[0].rsplit_once(':').ok_or("client without port")?;
    if ip != "127.0.0.1" || port.parse::<u16>().is_err() {
        return Err(format!("client {:?}", f[0]));
    }
    let date = f[1].strip_prefix('[').and_then(|d| d.strip_suffix(']')).ok_or("date not in brackets")?;
    check_date(date)?;
    let (backend, server) = f[3].split_once('/').ok_or("backend/server")?;
    let timers = numbers::<i64, 5>(f[4], '/', "timers")?;
    if timers.iter().any(|&t| t < -1) {
        return Err(format!("timers {:?}", f[4]));
    }
    let term = f[9].to_string();
    if term.len() != 4 {
        return Err(format!("termination state {term:?}"));
    }
    Ok(LogLine {
        client: f[0].to_string(),
        frontend: f[2].to_string(),
        backend: backend.to_string(),
        server: server.to_string(),
        timers,
        status: f[5].parse().map_err(|_| format!("status {:?}", f[5]))?,
        bytes: f[6].parse().map_err(|_| format!("bytes {:?}", f[6]))?,
        cookies: [f[7].to_string(), f[8].to_string()],
        term,
        conns: numbers::<u64, 5>(f[10], '/', "connection counts")?,
        queues: numbers::<u64, 2>(f[11], '/', "queues")?,
        request,
    })
}

/// `N` numbers separated by `sep`.
fn numbers<T: std::str::FromStr + Copy + Default, const N: usize>(
    s: &str,
    sep: char,
    what: &str,
) -> Result<[T; N], String> {
    let parts: Vec<&str> = s.split(sep).collect();
    if parts.len() != N {
        return Err(format!("{what} {s:?}: {} parts, not {N}", parts.len()));
    }
    let mut out = [T::default(); N];
    for (o, p) in out.iter_mut().zip(parts) {
        *o = p.parse().map_err(|_| format!("{what} {s:?}: {p:?} is not a number"))?;
    }
    Ok(out)
}

/// `DD/Mon/YYYY:HH:MM:SS.mmm`.
fn check_date(d: &str) -> Result<(), String> {
    const MONTHS: [&str; 12] =
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let bad = || format!("date {d:?}");
    let (day, rest) = d.split_once('/').ok_or_else(bad)?;
    let (month, rest) = rest.split_once('/').ok_or_else(bad)?;
    let (year, time) = rest.split_once(':').ok_or_else(bad)?;
    let (hms, millis) = time.split_once('.').ok_or_else(bad)?;
    let hms = numbers::<u32, 3>(hms, ':', "time")?;
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    let ok = digits(day, 2)
        && MONTHS.contains(&month)
        && digits(year, 4)
        && digits(millis, 3)
        && hms[0] < 24
        && hms[1] < 60
        && hms[2] < 61;
    ok.then_some(()).ok_or_else(bad)
}

/// Wait until the proxy's stdout holds `n` lines; all of its lines.
fn log_lines(proxy: &Proxy, n: usize) -> Vec<String> {
    let lines = || proxy.stdout_text().lines().map(str::to_string).collect::<Vec<_>>();
    wait_until(ms(5_000), || lines().len() >= n);
    std::thread::sleep(ms(100)); // a line too many would show now
    lines()
}

/// Parse every line, panicking with the line on a format error.
fn parsed(lines: &[String]) -> Vec<LogLine> {
    lines.iter().map(|l| parse_line(l).unwrap_or_else(|e| panic!("log line {l:?}: {e}"))).collect()
}

/// Three requests on one keep-alive connection: their responses and the log.
fn three_requests_logged() -> (Vec<Response>, Vec<String>, u16) {
    let backend = HttpBackend::start();
    let port = free_port();
    let proxy = Proxy::start(&HttpCfg::new(port, Some(backend.port())).httplog().render());
    let mut c = HttpConn::connect(port);
    let client_port = c.stream().local_addr().expect("local addr").port();
    let responses = ["/size/10", "/chunked/3000", "/status/404"]
        .iter()
        .map(|p| c.request(&get(p)).expect("response"))
        .collect();
    (responses, log_lines(&proxy, 3), client_port)
}

#[test]
fn each_request_logs_one_line_in_haproxys_httplog_format() {
    let (responses, lines, client_port) = three_requests_logged();
    assert_eq!(lines.len(), 3, "one line per request: {lines:#?}");
    let logs = parsed(&lines);
    let paths = ["/size/10", "/chunked/3000", "/status/404"];
    for ((l, r), path) in logs.iter().zip(&responses).zip(paths) {
        assert_eq!(l.client, format!("127.0.0.1:{client_port}"));
        assert_eq!((l.frontend.as_str(), l.backend.as_str(), l.server.as_str()), ("fe", "be", "s1"));
        assert!(l.timers.iter().all(|&t| t >= 0), "all phases happened: {:?}", l.timers);
        assert!(l.timers[4] >= l.timers[3], "Ta covers Tr: {:?}", l.timers);
        assert_eq!(l.status, r.status);
        assert!(l.bytes as usize >= r.body.len(), "bytes {} for a {}-byte body", l.bytes, r.body.len());
        assert_eq!(l.cookies, ["-", "-"]);
        assert_eq!(l.term, "----");
        assert!(l.conns[0] >= 1 && l.conns[1] >= 1, "this connection counts: {:?}", l.conns);
        assert_eq!(l.conns[4], 0, "no retries");
        assert_eq!(l.queues, [0, 0]);
        assert_eq!(l.request, format!("GET {path} HTTP/1.1"));
    }
}

/// A proxy built by `cfg`, one request `raw`; the client's bytes, the log.
fn logged_exchange(cfg: impl FnOnce(u16) -> HttpCfg, raw: &[u8]) -> (Vec<u8>, Vec<String>) {
    let port = free_port();
    let proxy = Proxy::start(&cfg(port).httplog().render());
    let mut c = HttpConn::connect(port);
    c.send(raw).expect("send");
    let (got, _) = c.read_until_closed(ms(5_000));
    drop(c);
    (got, log_lines(&proxy, 1))
}

/// The only log line, parsed.
fn only(lines: &[String]) -> LogLine {
    assert_eq!(lines.len(), 1, "one line: {lines:#?}");
    parsed(lines).remove(0)
}

#[test]
fn server_reset_mid_response_logs_sd() {
    let backend = HttpBackend::start();
    let (_, lines) = logged_exchange(|p| HttpCfg::new(p, Some(backend.port())), &get("/reset-body"));
    let l = only(&lines);
    assert_eq!(l.status, 200, "the head had been forwarded");
    assert!(l.term.starts_with("SD"), "termination state {:?}", l.term);
    assert_eq!((l.backend.as_str(), l.server.as_str()), ("be", "s1"));
    assert_eq!(l.request, "GET /reset-body HTTP/1.1");
}

#[test]
fn server_timeout_logs_504_and_sh() {
    let backend = HttpBackend::start();
    let delay = scaled(Duration::from_millis(3_000)).as_millis();
    let (_, lines) = logged_exchange(
        |p| {
            HttpCfg::new(p, Some(backend.port()))
                .backend(&format!("timeout server {}", cfg_time(Duration::from_millis(300))))
        },
        &request("GET", &format!("/delay/{delay}"), &["Connection: close"], b""),
    );
    let l = only(&lines);
    assert_eq!(l.status, 504);
    assert!(l.term.starts_with("sH"), "termination state {:?}", l.term);
    assert_eq!(l.timers[3], -1, "no response: Tr is -1");
    assert_eq!((l.backend.as_str(), l.server.as_str()), ("be", "s1"));
}

#[test]
fn no_server_logs_503_and_sc() {
    let (_, lines) =
        logged_exchange(|p| HttpCfg::new(p, None), &request("GET", "/", &["Connection: close"], b""));
    let l = only(&lines);
    assert_eq!(l.status, 503);
    assert!(l.term.starts_with("SC"), "termination state {:?}", l.term);
    assert_eq!(l.timers[2..4], [-1, -1], "never connected: Tc and Tr are -1");
    assert_eq!((l.backend.as_str(), l.server.as_str()), ("be", "<NOSRV>"));
    assert_eq!(l.request, "GET / HTTP/1.1");
}

#[test]
fn bad_request_logs_badreq_and_pr() {
    let backend = HttpBackend::start();
    let (got, lines) = logged_exchange(
        |p| HttpCfg::new(p, Some(backend.port())),
        b"GET /a b HTTP/1.1\r\nHost: test\r\n\r\n",
    );
    assert!(got.starts_with(b"HTTP/1.1 400 "), "{}", String::from_utf8_lossy(&got));
    let l = only(&lines);
    assert_eq!(l.status, 400);
    assert_eq!(l.term, "PR--");
    assert_eq!(l.timers[..4], [-1, -1, -1, -1], "no complete head, no server: {:?}", l.timers);
    assert_eq!(l.bytes, 0, "HAProxy counts nothing for its own 400");
    assert_eq!((l.frontend.as_str(), l.backend.as_str(), l.server.as_str()), ("fe", "fe", "<NOSRV>"));
    assert_eq!(l.request, "<BADREQ>");
}
