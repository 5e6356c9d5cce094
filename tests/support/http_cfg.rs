//! HTTP-mode test configs: one frontend `fe` → one backend `be` with at
//! most one server `s1`, plus whatever lines a test adds per section and
//! whole extra sections (more backends).

use std::time::Duration;

use super::time::cfg_time;

/// A config under construction; [`HttpCfg::render`] writes it out.
pub struct HttpCfg {
    fe_port: u16,          // `bind 127.0.0.1:{fe_port}`
    server: Option<u16>,   // `server s1 127.0.0.1:{port}`, none if `None`
    global: Vec<String>,   // extra `global` lines
    defaults: Vec<String>, // extra `defaults` lines (after the timeouts)
    frontend: Vec<String>, // extra `frontend fe` lines
    backend: Vec<String>,  // extra `backend be` lines
    sections: Vec<String>, // whole extra sections, after `be`
}

impl HttpCfg {
    /// `global maxconn 1000`; `defaults` `mode http`, `timeout connect 1s`,
    /// `timeout client 5s`, `timeout server 5s` (scaled); `fe` on
    /// `fe_port`; `be` with `s1` on `server` if given.
    pub fn new(fe_port: u16, server: Option<u16>) -> HttpCfg {
        HttpCfg {
            fe_port,
            server,
            global: Vec::new(),
            defaults: Vec::new(),
            frontend: Vec::new(),
            backend: Vec::new(),
            sections: Vec::new(),
        }
    }

    pub fn global(mut self, line: &str) -> HttpCfg {
        self.global.push(line.to_string());
        self
    }

    pub fn defaults(mut self, line: &str) -> HttpCfg {
        self.defaults.push(line.to_string());
        self
    }

    pub fn frontend(mut self, line: &str) -> HttpCfg {
        self.frontend.push(line.to_string());
        self
    }

    pub fn backend(mut self, line: &str) -> HttpCfg {
        self.backend.push(line.to_string());
        self
    }

    /// An extra section after `be`: `header` (e.g. `backend b1`) then
    /// `lines`, indented.
    pub fn section(mut self, header: &str, lines: &[&str]) -> HttpCfg {
        let mut text = format!("{header}\n");
        for l in lines {
            text.push_str(&format!("    {l}\n"));
        }
        self.sections.push(text);
        self
    }

    /// `log stdout format raw local0` in `global`, `log global` and
    /// `option httplog` in `defaults`: one access-log line per request on
    /// the proxy's stdout.
    pub fn httplog(self) -> HttpCfg {
        self.global("log stdout format raw local0").defaults("log global").defaults("option httplog")
    }

    pub fn render(&self) -> String {
        let section = |out: &mut String, lines: &[String]| {
            for l in lines {
                out.push_str(&format!("    {l}\n"));
            }
        };
        let mut out = String::from("global\n    maxconn 1000\n");
        section(&mut out, &self.global);
        out.push_str(&format!(
            "defaults\n    mode http\n    timeout connect {}\n    timeout client {}\n    timeout server {}\n",
            cfg_time(Duration::from_secs(1)),
            cfg_time(Duration::from_secs(5)),
            cfg_time(Duration::from_secs(5)),
        ));
        section(&mut out, &self.defaults);
        out.push_str(&format!("frontend fe\n    bind 127.0.0.1:{}\n    default_backend be\n", self.fe_port));
        section(&mut out, &self.frontend);
        out.push_str("backend be\n");
        if let Some(p) = self.server {
            out.push_str(&format!("    server s1 127.0.0.1:{p}\n"));
        }
        section(&mut out, &self.backend);
        for s in &self.sections {
            out.push_str(s);
        }
        out
    }
}

/// A `global` section with `lines`, then an HTTP frontend on a free port
/// that answers 200 by itself: (config text, that port).
pub fn global_with_answering_frontend<S: AsRef<str>>(lines: &[S]) -> (String, u16) {
    let fe = super::free_port();
    let mut text = String::from("global\n");
    for l in lines {
        text.push_str(&format!("    {}\n", l.as_ref()));
    }
    text.push_str(&format!(
        "defaults\n    mode http\n    timeout client 10s\n    timeout server 10s\n    timeout connect 5s\n\
         frontend fe\n    bind 127.0.0.1:{fe}\n    http-request return status 200\n"
    ));
    (text, fe)
}
