//! `stats show-modules`: the "Extra modules" columns of the HTML stats
//! page, as HAProxy 2.6 draws them — one cell per statistics module
//! (`ssl`, `h2`, `h1`), its counters in a tooltip, empty where the
//! module has no counters for the line's kind (a server has no h1/h2
//! counters). The values are the module fields of `show stat`.

use crate::cli::fields::STAT_FIELDS;
use crate::cli::stat::StatLine;
use std::fmt::Write;

/// The modules in HAProxy's order, each with the prefix of its fields.
const MODULES: [(&str, &str); 3] = [("ssl", "ssl_"), ("h2", "h2_"), ("h1", "h1_")];

/// The group title closing the first title row.
pub fn group_title(s: &mut String) {
    let _ = write!(s, "<th colspan={}>Extra modules</th>", MODULES.len());
}

/// The module names closing the second title row.
pub fn names(s: &mut String) {
    s.push('\n');
    for (name, _) in MODULES {
        let _ = write!(s, "<th>{name}</th>");
    }
}

/// The cells of one frontend, backend or server line.
pub fn cells(s: &mut String, l: &StatLine) {
    for (name, prefix) in MODULES {
        let mut fields = STAT_FIELDS.iter().filter(|f| f.name.starts_with(prefix)).peekable();
        if fields.peek().is_none_or(|f| l.get(f.name).is_empty()) {
            s.push_str("<td></td>");
            continue;
        }
        let _ = write!(s, "<td><u>{name}<div class=tips><table class=det>");
        for f in fields {
            let _ = write!(s, "<tr><th>{}</th><td>{}</td></tr>", f.desc, l.get(f.name));
        }
        s.push_str("</table></div></u></td>");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::stat::Kind;

    #[test]
    fn a_server_shows_only_its_ssl_counters() {
        let l = StatLine::new(Kind::Server, "be", "s1", 2, 1, true);
        let mut s = String::new();
        cells(&mut s, &l);
        assert!(s.starts_with("<td><u>ssl<div class=tips>"), "{s}");
        assert!(s.contains("<tr><th>Total number of failed handshake</th><td>0</td></tr>"), "{s}");
        assert!(s.ends_with("</table></div></u></td><td></td><td></td>"), "{s}");
    }

    #[test]
    fn a_frontend_shows_every_module() {
        let l = StatLine::new(Kind::Frontend, "fe", "FRONTEND", 1, 0, true);
        let mut s = String::new();
        cells(&mut s, &l);
        assert_eq!(s.matches("<div class=tips>").count(), 3, "{s}");
        assert!(s.contains("<u>h1<div class=tips>"), "{s}");
    }
}
