//! Thin wrappers over the system calls that neither std nor mio offers:
//! user and group lookups, identity changes and `fork`. Each wrapper
//! holds its one `unsafe` block; callers stay safe code.
//!
//! Used by `cfg::parser` (names → ids, as HAProxy resolves them while
//! parsing) and by `runtime::process` (start-up only, single-threaded).

use std::ffi::{CStr, CString};
use std::io;

/// Size of the scratch buffer of `getpwnam_r`/`getgrnam_r`.
const LOOKUP_BUF: usize = 16 * 1024;

/// A user account: its uid and primary gid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Account {
    pub uid: u32,
    pub gid: u32,
}

/// Looks a user name up in the system's user database.
pub fn user_by_name(name: &str) -> Option<Account> {
    let cname = CString::new(name).ok()?;
    let mut buf = vec![0 as libc::c_char; LOOKUP_BUF];
    // SAFETY: all-zero is a valid `passwd` (null pointers, zero ids); it is only read after
    // getpwnam_r reports success, and then only its integer fields.
    let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
    let mut found: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: every pointer is valid for the call: `cname` is NUL-terminated, `pwd` and `found`
    // are live locals, `buf` has the length passed; the reentrant variant keeps no global state.
    let rc = unsafe { libc::getpwnam_r(cname.as_ptr(), &mut pwd, buf.as_mut_ptr(), buf.len(), &mut found) };
    (rc == 0 && !found.is_null()).then_some(Account { uid: pwd.pw_uid, gid: pwd.pw_gid })
}

/// Looks a group name up in the system's group database.
pub fn group_by_name(name: &str) -> Option<u32> {
    let cname = CString::new(name).ok()?;
    let mut buf = vec![0 as libc::c_char; LOOKUP_BUF];
    // SAFETY: as in `user_by_name`: a zeroed `group` is only read after success.
    let mut grp: libc::group = unsafe { std::mem::zeroed() };
    let mut found: *mut libc::group = std::ptr::null_mut();
    // SAFETY: valid, live pointers and the buffer's true length, as in `user_by_name`.
    let rc = unsafe { libc::getgrnam_r(cname.as_ptr(), &mut grp, buf.as_mut_ptr(), buf.len(), &mut found) };
    (rc == 0 && !found.is_null()).then_some(grp.gr_gid)
}

/// The name of the user `uid`, for `initgroups`.
pub fn user_name(uid: u32) -> Option<String> {
    let mut buf = vec![0 as libc::c_char; LOOKUP_BUF];
    // SAFETY: as in `user_by_name`.
    let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
    let mut found: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: valid, live pointers and the buffer's true length.
    let rc = unsafe { libc::getpwuid_r(uid, &mut pwd, buf.as_mut_ptr(), buf.len(), &mut found) };
    if rc != 0 || found.is_null() || pwd.pw_name.is_null() {
        return None;
    }
    // SAFETY: on success `pw_name` points to a NUL-terminated string inside `buf`, alive here.
    Some(unsafe { CStr::from_ptr(pwd.pw_name) }.to_string_lossy().into_owned())
}

/// The machine's host name (what syslog headers and `show info` name).
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname").map(|h| h.trim().to_owned()).unwrap_or_default()
}

fn check(rc: libc::c_int) -> io::Result<()> {
    if rc == -1 { Err(io::Error::last_os_error()) } else { Ok(()) }
}

/// Drops every supplementary group.
pub fn clear_groups() -> io::Result<()> {
    // SAFETY: a zero-length list with a null pointer is the documented way to clear them.
    check(unsafe { libc::setgroups(0, std::ptr::null()) })
}

/// Sets the supplementary groups of user `name` (plus `gid`).
pub fn init_groups(name: &str, gid: u32) -> io::Result<()> {
    let cname = CString::new(name).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
    // SAFETY: `cname` is NUL-terminated and outlives the call.
    check(unsafe { libc::initgroups(cname.as_ptr(), gid) })
}

pub fn set_gid(gid: u32) -> io::Result<()> {
    // SAFETY: plain system call on an integer.
    check(unsafe { libc::setgid(gid) })
}

pub fn set_uid(uid: u32) -> io::Result<()> {
    // SAFETY: plain system call on an integer.
    check(unsafe { libc::setuid(uid) })
}

/// Whether the process has supplementary groups.
pub fn has_groups() -> bool {
    // SAFETY: with a zero size, getgroups only returns the count and writes nothing.
    unsafe { libc::getgroups(0, std::ptr::null_mut()) > 0 }
}

/// Keeps the process dumpable (core files) after an identity change.
pub fn set_dumpable() -> io::Result<()> {
    // SAFETY: PR_SET_DUMPABLE takes one integer argument; the others are ignored.
    check(unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 1 as libc::c_ulong, 0, 0, 0) })
}

/// Result of [`fork`] in each process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Forked {
    Parent { child: u32 },
    Child,
}

/// Forks the process.
///
/// The caller must be single-threaded (strata forks at start-up, before
/// any thread exists), so the child inherits no lock held by another
/// thread.
pub fn fork() -> io::Result<Forked> {
    // SAFETY: called only while the process has one thread (see above); the child goes on
    // running ordinary Rust code, which is sound in a single-threaded fork.
    match unsafe { libc::fork() } {
        -1 => Err(io::Error::last_os_error()),
        0 => Ok(Forked::Child),
        pid => Ok(Forked::Parent { child: pid as u32 }),
    }
}

/// Starts a new session, detaching from the controlling terminal.
pub fn set_sid() -> io::Result<()> {
    // SAFETY: plain system call without arguments.
    check(unsafe { libc::setsid() })
}

/// Points standard input, output and error at `/dev/null`.
pub fn stdio_to_null() -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let null = std::fs::OpenOptions::new().read(true).write(true).open("/dev/null")?;
    for fd in 0..3 {
        // SAFETY: both descriptors are open (`null` lives until the end of the function);
        // dup2 atomically replaces fd 0..2, which nothing else in the process owns.
        check(unsafe { libc::dup2(null.as_raw_fd(), fd) })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_is_found_and_nonsense_is_not() {
        assert_eq!(user_by_name("root").map(|a| a.uid), Some(0));
        assert_eq!(group_by_name("root"), Some(0));
        assert_eq!(user_name(0).as_deref(), Some("root"));
        assert_eq!(user_by_name("no-such-user-strata"), None);
        assert_eq!(group_by_name("no-such-group-strata"), None);
        assert_eq!(user_by_name("a\0b"), None);
    }
}
