//! The health counter and intervals, as HAProxy 2.6 moves them.

use super::program::Program;
use super::status::{Outcome, Status};
use super::*;

fn check(rise: u32, fall: u32) -> Check {
    let spec = CheckSpec {
        backend: 0,
        server: 0,
        agent: false,
        port: 1,
        inter: Duration::from_secs(2),
        fastinter: None,
        downinter: None,
        rise,
        fall,
        timeout_connect: None,
        timeout_check: None,
        program: Arc::new(Program::build(&crate::cfg::ProxyChecks::default())),
        tls: None,
        proxy_header: None,
        unix: None,
    };
    Check::new(spec, Instant::now(), Duration::ZERO)
}

fn pass() -> Outcome {
    Outcome::new(Status::L4Ok, "")
}

fn fail() -> Outcome {
    Outcome::new(Status::L4Con, "Connection refused")
}

#[test]
fn starts_up_and_first_failure_takes_it_down_as_haproxy() {
    let mut c = check(2, 3);
    assert!(c.is_up());
    assert!(c.apply(&fail()));
    assert!(!c.is_up());
    assert_eq!(c.health, 0);
}

#[test]
fn rise_successes_bring_it_up_and_fall_failures_down() {
    let mut c = check(2, 3);
    c.apply(&fail());
    c.apply(&pass());
    assert!(!c.is_up(), "1 of 2");
    c.apply(&pass());
    assert!(c.is_up());
    assert_eq!(c.health, 4);
    c.apply(&fail());
    c.apply(&fail());
    assert!(c.is_up(), "2 failures of 3");
    c.apply(&fail());
    assert!(!c.is_up(), "down after 3");
    assert!(!c.apply(&fail()), "stays down, the counter does not move");
}

/// chkfail counts a failure whenever the health counter is above 0, as
/// HAProxy's `set_server_check_status` does.
#[test]
fn chkfail_counts_failures_while_health_is_above_zero() {
    let mut c = check(2, 2);
    c.apply(&pass());
    assert_eq!(c.health, 3, "fully UP");
    c.apply(&fail());
    c.apply(&fail());
    assert_eq!((c.is_up(), c.failures), (false, 2), "DOWN after fall 2");
    c.apply(&fail());
    assert_eq!(c.failures, 2, "a failure at health 0 is not counted");
    c.apply(&pass());
    assert_eq!((c.is_up(), c.health), (false, 1), "DOWN, 1 of rise 2");
    c.apply(&fail());
    assert_eq!((c.health, c.failures), (0, 3), "a failure while part way up is counted");
}

#[test]
fn an_agent_that_does_not_answer_is_not_held_against_the_server() {
    let mut c = check(2, 3);
    c.spec.agent = true;
    assert!(!c.apply(&fail()), "L4CON from an agent changes nothing");
    assert!(c.apply(&Outcome::new(Status::L7Sts, "via agent : down")));
    assert!(!c.apply(&Outcome::new(Status::Checked, "")), "a neutral reply");
}

#[test]
fn intervals_follow_the_health_counter() {
    let mut c = check(2, 3);
    c.spec.fastinter = Some(Duration::from_millis(100));
    c.spec.downinter = Some(Duration::from_secs(10));
    assert_eq!(c.interval(), Duration::from_millis(100), "not yet checked: fastinter");
    c.health = 4;
    assert_eq!(c.interval(), Duration::from_secs(2), "fully up");
    c.health = 3;
    assert_eq!(c.interval(), Duration::from_millis(100), "going down");
    c.health = 0;
    assert_eq!(c.interval(), Duration::from_secs(10), "fully down");
    c.spec.downinter = None;
    assert_eq!(c.interval(), Duration::from_secs(2));
}

#[test]
fn reasons_are_written_as_haproxy_writes_them() {
    let mut o = Outcome::new(Status::L7Sts, "Internal \"Error\"");
    o.code = Some(500);
    assert_eq!(o.reason(), "Layer7 wrong status, code: 500, info: \"Internal <22>Error<22>\"");
    assert_eq!(Outcome::new(Status::L4Ok, "").reason(), "Layer4 check passed");
}
