//! Stick-counter actions shared by every rule set (`tcp-request
//! connection|session|content`, `http-request`): `track-scN KEY [table T]`,
//! `sc-inc-gpc0(N)`, `sc-inc-gpc1(N)`, `sc-set-gpt0(N) V`, and the
//! `tcp-request` rule list itself (`accept`, `reject`, `silent-drop`, those actions).
//!
//! Running an action needs the slots of whoever runs it: the session's own
//! trackers (connection and session rules) or a stream's slots (content and
//! HTTP rules). [`TrackSlots`] is that seam; the owner decides what "slot N
//! is used" means (a stream also counts a slot its session holds), and only
//! the owner ever holds the resulting [`Tracker`].

use crate::acl::{AclSet, ArgValue, Condition, Sample, SampleExpr, SampleSource, compile};
use crate::cfg::{Cond, Loc, RuleLine};
use crate::stick::{DataType, Key, KeyType, Registry, Tracker, Update};
use std::net::IpAddr;

/// Number of stick counters (HAProxy 2.6: sc0, sc1, sc2).
pub const SLOTS: usize = 3;

/// `track-scN KEY [table T]`.
#[derive(Clone, Debug)]
pub struct TrackSpec {
    pub slot: usize,
    pub key: SampleExpr,
    pub table: usize, // index in the table registry (a proxy index)
}

/// A stick-counter action.
#[derive(Clone, Debug)]
pub enum ScAction {
    Track(TrackSpec),
    IncGpc0(usize),
    IncGpc1(usize),
    SetGpt0(usize, u32),
}

/// A `tcp-request` action.
#[derive(Clone, Debug)]
pub enum TcpAction {
    Accept,
    Reject,
    SilentDrop, // `silent-drop`: the connection vanishes, the client is told nothing
    Sc(ScAction),
    Var(crate::acl::VarAction),                // set-var / unset-var
    VarFmt(crate::acl::VarTarget, VarFormat),  // set-var-fmt(NAME[,COND...]) FMT
    ExpectProxy, // `expect-proxy layer4` (connection rules only): read a PROXY header first
    SwitchHttp(Option<crate::cfg::BindProto>), // `switch-mode http [proto h1|h2]` (content rules only)
}

/// One compiled `tcp-request` rule.
#[derive(Clone, Debug)]
pub struct TcpRule {
    pub action: TcpAction,
    pub cond: Option<Condition>,
    pub loc: Loc,
}

/// The verdict of a rule pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Continue,                                  // no accept/reject rule fired: go on
    Accept,                                    // stop evaluating this rule set, accept
    Reject,                                    // close the connection
    SilentDrop,                                // `silent-drop`: close it without telling the client
    SwitchHttp(Option<crate::cfg::BindProto>), // `switch-mode http`: stop, the stream goes on as HTTP (`proto` forced or not)
}

/// Where track actions put their trackers, and where sc actions find them.
pub trait TrackSlots {
    /// Slot `n` already holds a tracker (its own, or inherited): a new
    /// track on it does nothing (HAProxy: the first tracker wins).
    fn used(&self, slot: usize) -> bool;
    /// The tracker serving slot `n` (own first, else inherited).
    fn tracker(&self, slot: usize) -> Option<&Tracker>;
    /// Stores a new tracker in slot `n` (only called when not `used`).
    fn install(&mut self, slot: usize, tracker: Tracker);
    /// `expect-proxy layer4` fired; only a session's connection rules
    /// can have it.
    fn expect_proxy(&mut self) {}
}

/// What rules run against: a holder of slots that is also what conditions
/// and keys read (so a condition sees a tracker installed by an earlier
/// rule of the same pass).
pub trait RuleTarget: TrackSlots + SampleSource {
    /// Renders a `set-var-fmt` format as this target sees it. The format
    /// is opaque at this layer (log-format belongs to the HTTP layer, above
    /// it): the implementer, which knows the format's type and can be read
    /// as a log source, renders it; None when it cannot.
    fn render(&self, fmt: &VarFormat) -> Option<Vec<u8>>;
}

/// A compiled `set-var-fmt` format of a `tcp-request` rule. It is built
/// by the compiler the caller of [`compile_tcp_rules`] passes in (the
/// stream layer's, a log-format) and read back only by a [`RuleTarget`].
pub type VarFormat = std::sync::Arc<dyn std::any::Any + Send + Sync>;

/// Compiles the format text of a `set-var-fmt` action.
pub type FormatCompiler<'a> = &'a dyn Fn(&str) -> Result<VarFormat, String>;

/// Resolves `table T` (or the rule's own proxy's table) to a registry index.
pub type TableLookup<'a> = &'a dyn Fn(Option<&str>) -> Result<usize, String>;

/// Parses a stick-counter action at the start of `words` (`track-sc1 src
/// table t`, `sc-inc-gpc0(0)`...). `Ok(None)`: not such an action. Returns
/// the action and how many words it used.
pub fn parse_sc_action(
    words: &[String],
    tables: TableLookup<'_>,
) -> Result<Option<(ScAction, usize)>, String> {
    let Some(first) = words.first() else { return Ok(None) };
    if let Some(n) = first.strip_prefix("track-sc") {
        let slot = slot_number(n, first)?;
        let key_word = words.get(1).ok_or_else(|| format!("'{first}' expects a sample expression"))?;
        let key = SampleExpr::parse(key_word).map_err(|e| format!("'{first}': {e}"))?;
        let (table, used) = if words.get(2).map(String::as_str) == Some("table") {
            let name = words.get(3).ok_or_else(|| format!("'{first}': missing table name"))?;
            (tables(Some(name))?, 4)
        } else {
            (tables(None)?, 2)
        };
        return Ok(Some((ScAction::Track(TrackSpec { slot, key, table }), used)));
    }
    let counter = |prefix: &str| -> Result<Option<usize>, String> {
        let Some(rest) = first.strip_prefix(prefix) else { return Ok(None) };
        let n = rest.strip_prefix('(').and_then(|r| r.strip_suffix(')')).unwrap_or(rest);
        slot_number(n, first).map(Some)
    };
    if let Some(slot) = counter("sc-inc-gpc0")? {
        return Ok(Some((ScAction::IncGpc0(slot), 1)));
    }
    if let Some(slot) = counter("sc-inc-gpc1")? {
        return Ok(Some((ScAction::IncGpc1(slot), 1)));
    }
    if let Some(slot) = counter("sc-set-gpt0")? {
        let v = words.get(1).ok_or_else(|| format!("'{first}' expects an integer value"))?;
        let v =
            v.parse::<u32>().map_err(|_| format!("'{first}': invalid value '{v}' (expects an integer)"))?;
        return Ok(Some((ScAction::SetGpt0(slot, v), 2)));
    }
    Ok(None)
}

fn slot_number(n: &str, word: &str) -> Result<usize, String> {
    match n.parse::<usize>() {
        Ok(s) if s < SLOTS => Ok(s),
        _ => Err(format!("'{word}': invalid stick counter (must be 0 to {})", SLOTS - 1)),
    }
}

/// Compiles `tcp-request <layer>` lines (words after the layer name).
pub fn compile_tcp_rules(
    lines: &[RuleLine],
    layer: &str,
    acls: &AclSet,
    tables: TableLookup<'_>,
    formats: FormatCompiler<'_>,
) -> Result<Vec<TcpRule>, Vec<(Loc, String)>> {
    let mut rules = Vec::new();
    let mut errors = Vec::new();
    for line in lines {
        match compile_tcp_rule(line, layer, acls, (tables, formats)) {
            Ok(r) => rules.push(r),
            Err(e) => errors.push((line.loc.clone(), e)),
        }
    }
    if errors.is_empty() { Ok(rules) } else { Err(errors) }
}

fn compile_tcp_rule(
    line: &RuleLine,
    layer: &str,
    acls: &AclSet,
    (tables, formats): (TableLookup<'_>, FormatCompiler<'_>),
) -> Result<TcpRule, String> {
    let words = &line.words;
    let split = words.iter().position(|w| w == "if" || w == "unless").unwrap_or(words.len());
    let (action_words, cond_words) = words.split_at(split);
    let action = match action_words.first().map(String::as_str) {
        Some("accept") => (TcpAction::Accept, 1),
        Some("reject") => (TcpAction::Reject, 1),
        Some("silent-drop") => (TcpAction::SilentDrop, 1),
        Some("switch-mode") if layer == "content" => {
            (TcpAction::SwitchHttp(switch_mode(action_words)?), action_words.len().min(4))
        }
        Some("expect-proxy") if layer == "connection" => match action_words.get(1).map(String::as_str) {
            Some("layer4") => (TcpAction::ExpectProxy, 2),
            _ => return Err("'tcp-request connection expect-proxy' expects 'layer4'".into()),
        },
        Some(kw) if kw.starts_with("set-var-fmt(") => {
            let (target, fmt) =
                var_fmt(action_words, formats).map_err(|e| format!("'tcp-request {layer}': {e}"))?;
            (TcpAction::VarFmt(target, fmt), 2)
        }
        _ => match parse_sc_action(action_words, tables)? {
            Some((a, used)) => (TcpAction::Sc(a), used),
            None if crate::acl::parse_var_action(action_words).is_some() => {
                let parsed = crate::acl::parse_var_action(action_words).unwrap_or(Err(String::new()));
                let (a, used) = parsed.map_err(|e| format!("'tcp-request {layer}': {e}"))?;
                (TcpAction::Var(a), used)
            }
            None => {
                let kw = action_words.first().map_or("", String::as_str);
                return Err(format!(
                    "'tcp-request {layer}' expects 'accept', 'reject', 'silent-drop', 'track-sc0', 'track-sc1', 'track-sc2', 'sc-inc-gpc0', 'sc-inc-gpc1', 'sc-set-gpt0', 'set-var', 'set-var-fmt', 'unset-var' but got '{kw}'"
                ));
            }
        },
    };
    if let Some(extra) = action_words.get(action.1) {
        return Err(format!("'tcp-request {layer}': unexpected argument '{extra}'"));
    }
    let cond = match cond_words.split_first() {
        None => None,
        Some((kw, rest)) => {
            let c = Cond { negate: kw == "unless", words: rest.to_vec(), loc: line.loc.clone() };
            Some(compile(&c, acls).map_err(|e| {
                format!("error detected while parsing 'tcp-request {layer}' condition : {e}.")
            })?)
        }
    };
    Ok(TcpRule { action: action.0, cond, loc: line.loc.clone() })
}

/// `switch-mode http [proto h1|h2]`: the forced mux, if any (HAProxy's messages).
fn switch_mode(words: &[String]) -> Result<Option<crate::cfg::BindProto>, String> {
    match words.get(1).map(String::as_str) {
        None | Some("") => return Err("'tcp-request switch-mode' expects a mode as argument.".into()),
        Some("http") => {}
        Some(other) => {
            return Err(format!("'tcp-request switch-mode' expects a valid mode (got '{other}')."));
        }
    }
    match words.get(2).map(String::as_str) {
        None => Ok(None),
        Some("proto") => match words.get(3).map(String::as_str) {
            Some("h1") => Ok(Some(crate::cfg::BindProto::H1)),
            Some("h2") => Ok(Some(crate::cfg::BindProto::H2)),
            other => Err(format!(
                "'tcp-request switch-mode': 'proto' expects a valid MUX protocol, if specified (got '{}')",
                other.unwrap_or("")
            )),
        },
        Some(other) => Err(format!("'tcp-request switch-mode': unexpected argument '{other}'")),
    }
}

/// `set-var-fmt(NAME[,COND...]) FMT`.
pub fn var_fmt(
    words: &[String],
    formats: FormatCompiler<'_>,
) -> Result<(crate::acl::VarTarget, VarFormat), String> {
    let inner = &words[0]["set-var-fmt(".len()..];
    let inner = inner.strip_suffix(')').ok_or("'set-var-fmt' expects 'set-var-fmt(<var-name>)'")?;
    let args: Vec<&str> = inner.split(',').collect();
    let target = crate::acl::VarTarget::parse(&args)?;
    let text = words.get(1).ok_or("'set-var-fmt' expects a log-format string")?;
    Ok((target, formats(text)?))
}

/// Runs a `set-var-fmt` action: the format rendered by `target`, stored
/// as a string.
pub fn run_var_fmt(var: &crate::acl::VarTarget, fmt: &VarFormat, target: &dyn RuleTarget) {
    if let Some(text) = target.render(fmt) {
        crate::acl::assign_var(target, var, Sample::Str(&text));
    }
}

/// Runs `tcp-request` rules in order until an accept, reject or silent-drop fires.
pub fn run_tcp_rules(
    rules: &[TcpRule],
    target: &mut dyn RuleTarget,
    tables: &Registry,
    now_ms: u64,
) -> Verdict {
    run_tcp_rules_noting(rules, target, tables, now_ms).0
}

/// The same, with the index of the rule that gave the verdict, if one did
/// (`last_rule_file`, `last_rule_line`).
pub fn run_tcp_rules_noting(
    rules: &[TcpRule],
    target: &mut dyn RuleTarget,
    tables: &Registry,
    now_ms: u64,
) -> (Verdict, Option<usize>) {
    for (i, rule) in rules.iter().enumerate() {
        if !rule.cond.as_ref().is_none_or(|c| c.eval(&*target)) {
            continue;
        }
        match &rule.action {
            TcpAction::Accept => return (Verdict::Accept, Some(i)),
            TcpAction::Reject => return (Verdict::Reject, Some(i)),
            TcpAction::SilentDrop => return (Verdict::SilentDrop, Some(i)),
            TcpAction::Sc(a) => {
                run_sc_action(a, target, tables, now_ms);
            }
            TcpAction::Var(a) => a.run(&*target),
            TcpAction::VarFmt(var, fmt) => run_var_fmt(var, fmt, &*target),
            TcpAction::ExpectProxy => target.expect_proxy(),
            TcpAction::SwitchHttp(proto) => return (Verdict::SwitchHttp(*proto), Some(i)),
        }
    }
    (Verdict::Continue, None)
}

/// Runs one stick-counter action. Returns true when it started tracking.
pub fn run_sc_action(action: &ScAction, target: &mut dyn RuleTarget, tables: &Registry, now_ms: u64) -> bool {
    let slots: &dyn TrackSlots = &*target;
    match action {
        ScAction::Track(spec) => {
            if slots.used(spec.slot) {
                return false; // first tracker wins
            }
            let Some(table) = tables.get(spec.table) else { return false };
            let sample: &dyn SampleSource = &*target;
            let tracker =
                spec.key.with_value(sample, |s| with_key(s, table.key_type(), |k| table.track(k, now_ms)));
            match tracker.flatten().flatten() {
                Some(t) => {
                    target.install(spec.slot, t);
                    true
                }
                None => false, // no key, or table full: served untracked
            }
        }
        ScAction::IncGpc0(n) => {
            if let Some(t) = slots.tracker(*n) {
                t.inc_gpc0(now_ms);
            }
            false
        }
        ScAction::IncGpc1(n) => {
            if let Some(t) = slots.tracker(*n) {
                t.inc_gpc1(now_ms);
            }
            false
        }
        ScAction::SetGpt0(n, v) => {
            if let Some(t) = slots.tracker(*n) {
                t.set_gpt0(*v, now_ms);
            }
            false
        }
    }
}

/// Converts a sample to a key of type `kt` (HAProxy's casts: address ↔
/// text, integer ↔ text) and calls `f` with it; None if it does not convert.
pub fn with_key<R>(s: Sample<'_>, kt: KeyType, f: impl FnOnce(Key<'_>) -> R) -> Option<R> {
    let mut text = [0u8; 48];
    match (kt, s) {
        (KeyType::Ip, Sample::Ip(IpAddr::V4(a))) => Some(f(Key::Ip(a))),
        (KeyType::Ip, Sample::Ip(IpAddr::V6(a))) => a.to_ipv4_mapped().map(|a| f(Key::Ip(a))),
        (KeyType::Ipv6, Sample::Ip(IpAddr::V6(a))) => Some(f(Key::Ipv6(a))),
        (KeyType::Ipv6, Sample::Ip(IpAddr::V4(a))) => Some(f(Key::Ipv6(a.to_ipv6_mapped()))),
        (KeyType::Ip | KeyType::Ipv6, Sample::Str(t)) => {
            let ip: IpAddr = std::str::from_utf8(t).ok()?.trim().parse().ok()?;
            with_key(Sample::Ip(ip), kt, f)
        }
        (KeyType::Integer, Sample::Int(i)) => u32::try_from(i).ok().map(|i| f(Key::Integer(i))),
        (KeyType::Integer, Sample::Str(t)) => {
            std::str::from_utf8(t).ok()?.trim().parse::<u32>().ok().map(|i| f(Key::Integer(i)))
        }
        (KeyType::String { .. }, Sample::Str(t)) => Some(f(Key::Str(t))),
        (KeyType::String { .. }, Sample::Bin(t)) => {
            Some(f(Key::Str(t.iter().position(|&c| c == 0).map_or(t, |n| &t[..n]))))
        }
        (KeyType::Binary { .. }, Sample::Str(t) | Sample::Bin(t)) => Some(f(Key::Bin(t))),
        (KeyType::String { .. } | KeyType::Binary { .. }, other) => {
            let n = render(other, &mut text)?;
            let bytes = &text[..n];
            Some(f(if matches!(kt, KeyType::String { .. }) { Key::Str(bytes) } else { Key::Bin(bytes) }))
        }
        _ => None,
    }
}

/// Writes a non-string sample as text into `out`; returns its length.
fn render(s: Sample<'_>, out: &mut [u8; 48]) -> Option<usize> {
    use std::io::Write;
    let mut c = std::io::Cursor::new(&mut out[..]);
    match s {
        Sample::Ip(a) => write!(c, "{a}").ok()?,
        Sample::Int(i) => write!(c, "{i}").ok()?,
        Sample::Bool(b) => write!(c, "{}", u8::from(b)).ok()?,
        Sample::Str(_) | Sample::Bin(_) => return None,
    }
    Some(c.position() as usize)
}

/// Answers the stick-counter fetches (`sc0_conn_cur`, `sc_http_req_rate(1)`,
/// `src_conn_cur(t)`, `table_cnt`...) for whoever holds `slots`. `own_table`
/// is the table of the proxy the rule is written in (`src_*` default).
pub fn stick_fetch(
    name: &str,
    args: &[ArgValue],
    slots: &dyn TrackSlots,
    src: Option<IpAddr>,
    own_table: Option<usize>,
    tables: &Registry,
    now_ms: u64,
) -> Option<Sample<'static>> {
    let arg_str = |i: usize| match args.get(i) {
        Some(ArgValue::Str(s)) => Some(s.as_str()),
        _ => None,
    };
    let table_of = |name: Option<&str>| match name {
        Some(n) => tables.find(n).map(|(_, t)| t),
        None => own_table.and_then(|i| tables.get(i)),
    };
    if name == "table_cnt" || name == "table_avl" {
        let t = table_of(arg_str(0))?;
        let v = if name == "table_cnt" { t.used() } else { t.size().saturating_sub(t.used()) };
        return Some(Sample::Int(i64::from(v)));
    }
    if let Some(what) = name.strip_prefix("src_") {
        let t = table_of(arg_str(0))?;
        let ip = src?;
        let v = with_key(Sample::Ip(ip), t.key_type(), |k| match what {
            "inc_gpc0" => Some(t.update(k, Update::IncGpc0, now_ms).unwrap_or(0)),
            "inc_gpc1" => Some(t.update(k, Update::IncGpc1, now_ms).unwrap_or(0)),
            "clr_gpc0" => t.update(k, Update::ClrGpc0, now_ms),
            "clr_gpc1" => t.update(k, Update::ClrGpc1, now_ms),
            _ => lookup_by_key(t, k, what, now_ms),
        })?;
        return v.map(|v| Sample::Int(v as i64));
    }
    let (slot, what, table_arg) = if let Some(rest) = name.strip_prefix("sc_") {
        let n = match args.first() {
            Some(ArgValue::Int(n)) => usize::try_from(*n).ok().filter(|n| *n < SLOTS)?,
            _ => return None,
        };
        (n, rest, arg_str(1))
    } else {
        let n = name.get(2..3).and_then(|d| d.parse::<usize>().ok()).filter(|n| *n < SLOTS)?;
        (n, name.get(4..)?, arg_str(0))
    };
    if what == "tracked" {
        return Some(Sample::Bool(slots.tracker(slot).is_some()));
    }
    let tracker = slots.tracker(slot)?;
    if let Some(other) = table_arg {
        // The tracked key, looked up (never created) in another table.
        let t = tables.find(other).map(|(_, t)| t)?;
        let key = tracker.key();
        let k = key.as_key();
        let v = match what {
            "inc_gpc0" | "inc_gpc1" | "clr_gpc0" | "clr_gpc1" if t.trackers(k).is_none() => Some(0),
            "inc_gpc0" => Some(t.update(k, Update::IncGpc0, now_ms).unwrap_or(0)),
            "inc_gpc1" => Some(t.update(k, Update::IncGpc1, now_ms).unwrap_or(0)),
            "clr_gpc0" => t.update(k, Update::ClrGpc0, now_ms),
            "clr_gpc1" => t.update(k, Update::ClrGpc1, now_ms),
            _ => lookup_by_key(t, k, what, now_ms),
        };
        return v.map(|v| Sample::Int(v as i64));
    }
    let v = match what {
        "trackers" => Some(u64::from(tracker.trackers())),
        // HAProxy: an increment succeeds with 0 when gpc0/gpc1 is not stored.
        "inc_gpc0" => Some(tracker.inc_gpc0(now_ms).unwrap_or(0)),
        "inc_gpc1" => Some(tracker.inc_gpc1(now_ms).unwrap_or(0)),
        "clr_gpc0" => tracker.clr_gpc0(now_ms),
        "clr_gpc1" => tracker.clr_gpc1(now_ms),
        _ => tracker.get(DataType::from_name(what.strip_prefix("get_").unwrap_or(what))?, now_ms),
    }?;
    Some(Sample::Int(v as i64))
}

/// A fetch on `key`'s entry found by lookup (`src_*`, `scN_*(table)`), as
/// HAProxy 2.6 answers it: an absent entry reads 0 whatever `what` is (the
/// stored types are only consulted once there is an entry); a present
/// entry fails on a type its table does not store. `trackers` is the
/// entry's reference count without the lookup's own (HAProxy's
/// `ref_cnt - 1`). Never creates nor refreshes the entry.
fn lookup_by_key(t: &crate::stick::Table, k: Key<'_>, what: &str, now_ms: u64) -> Option<u64> {
    let Some(refs) = t.trackers(k) else { return Some(0) };
    if what == "trackers" {
        return Some(u64::from(refs));
    }
    let ty = DataType::from_name(what.strip_prefix("get_").unwrap_or(what))?;
    t.get(k, ty, now_ms)
}
