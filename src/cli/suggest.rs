//! HAProxy's answer to an unknown command (`cli_gen_usage_msg` in 2.6):
//! the words that match a command exactly are kept, the rest of the line
//! is compared with the rest of each such command by letter-transition
//! fingerprints, and the closest few are proposed; with no close one, every
//! command sharing the matched words is listed.

/// Candidates kept (HAProxy's `CLI_MAX_MATCHES`).
const MAX_MATCHES: usize = 5;

/// Counts of transitions between character classes (0..25 letters, 26
/// digit, 27 other, 28 word start, 29 word end), 32 x 32.
struct Fingerprint([u8; 1024]);

impl Fingerprint {
    fn new() -> Fingerprint {
        Fingerprint([0; 1024])
    }

    fn add(&mut self, word: &str) {
        let mut from = 28;
        for b in word.bytes() {
            let to = match b.to_ascii_lowercase() {
                c @ b'a'..=b'z' => usize::from(c - b'a'),
                b'0'..=b'9' => 26,
                _ => 27,
            };
            self.0[32 * from + to] = self.0[32 * from + to].wrapping_add(1);
            from = to;
        }
        self.0[32 * from + 29] = self.0[32 * from + 29].wrapping_add(1);
    }

    fn distance(&self, other: &Fingerprint) -> usize {
        self.0.iter().zip(other.0.iter()).map(|(a, b)| usize::from(a.abs_diff(*b))).sum()
    }
}

/// Number of leading words of `line` that match `cmd` exactly.
fn common_prefix(cmd: &[&str], line: &[&str]) -> usize {
    cmd.iter().zip(line).take_while(|(c, l)| c == l).count()
}

/// What to print for an unknown command `line` among `commands` (their
/// words, in `help` order): whether the line was empty (HAProxy's "Please
/// enter one of the following commands only"), and the indices of the
/// commands to list, in `help` order.
pub fn suggest(commands: &[&[&str]], line: &[&str]) -> (bool, Vec<usize>) {
    let length = commands.iter().map(|c| common_prefix(c, line)).max().unwrap_or(0);
    let empty = length == 0 && line.is_empty();
    let mut matches: Vec<(usize, usize)> = Vec::with_capacity(MAX_MATCHES); // (distance, index)
    if length < line.len() {
        let mut typed = Fingerprint::new();
        let typed_len: usize = line[length..].iter().map(|w| w.len()).sum();
        line[length..].iter().for_each(|w| typed.add(w));
        for (i, cmd) in commands.iter().enumerate() {
            if cmd.len() < length || common_prefix(cmd, line) < length {
                continue;
            }
            let mut known = Fingerprint::new();
            cmd[length..].iter().for_each(|w| known.add(w));
            let total = typed_len + cmd[length..].iter().map(|w| w.len()).sum::<usize>();
            let dist = typed.distance(&known);
            // Kept when close enough; among equals the earlier command stays.
            if dist < 5 * total / 2 && (matches.len() < MAX_MATCHES || dist < matches[MAX_MATCHES - 1].0) {
                let at = matches.partition_point(|m| m.0 <= dist);
                matches.insert(at, (dist, i));
                matches.truncate(MAX_MATCHES);
            }
        }
    }
    let mut listed: Vec<usize> = match matches.first() {
        Some(&(best, _)) => matches.iter().take_while(|m| m.0 <= 5 * best / 2).map(|m| m.1).collect(),
        None => (0..commands.len()).filter(|&i| common_prefix(commands[i], line) == length).collect(),
    };
    listed.sort_unstable();
    (empty, listed)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Part of HAProxy 2.6's command list, in its `help` order, and the
    /// suggestions it printed for `foo` and `show tabel`
    /// (haproxy-golden/CLI).
    const HAPROXY: &[&[&str]] = &[
        &["add", "acl"],
        &["clear", "counters"],
        &["clear", "table"],
        &["disable", "server"],
        &["get", "weight"],
        &["set", "table"],
        &["show", "acl"],
        &["show", "fd"],
        &["show", "info"],
        &["show", "stat"],
        &["show", "table"],
        &["show", "tasks"],
        &["trace"],
        &["user"],
    ];

    fn names(listed: &[usize]) -> Vec<String> {
        listed.iter().map(|&i| HAPROXY[i].join(" ")).collect()
    }

    #[test]
    fn unknown_word_gets_haproxys_fuzzy_candidates() {
        let (empty, listed) = suggest(HAPROXY, &["foo"]);
        assert!(!empty);
        assert_eq!(names(&listed), ["add acl", "show fd", "show info", "trace", "user"]);
    }

    #[test]
    fn typo_after_a_known_word_stays_within_that_word() {
        let (_, listed) = suggest(HAPROXY, &["show", "tabel"]);
        let names = names(&listed);
        assert!(names.contains(&"show table".to_owned()), "{names:?}");
        assert!(names.iter().all(|n| n.starts_with("show ")), "{names:?}");
    }

    #[test]
    fn empty_line_lists_everything() {
        let (empty, listed) = suggest(HAPROXY, &[]);
        assert!(empty);
        assert_eq!(listed.len(), HAPROXY.len());
    }
}
