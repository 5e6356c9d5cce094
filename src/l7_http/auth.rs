//! `http_auth(list)` / `http_auth_group(list) G...`: the request's
//! `Authorization: Basic` credentials checked against a `userlist`
//! (crypt(3) hashes through the `pwhash` crate, or an insecure plain
//! password). Anything malformed is simply not authenticated.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::cfg::{Password, Userlist};

/// Whether `authorization` (the header's value) names a user of `list`
/// with the right password, in one of `groups` when given.
pub fn check(list: &Userlist, authorization: &[u8], groups: Option<&[Box<str>]>) -> bool {
    let Some((user, pass)) = basic_credentials(authorization) else { return false };
    let Some(u) = list.users.iter().find(|u| u.name.as_bytes() == user.as_slice()) else { return false };
    if let Some(groups) = groups
        && !groups.iter().any(|g| u.groups.iter().any(|ug| ug == &**g))
    {
        return false;
    }
    match &u.password {
        Password::Plain(p) => p.as_bytes() == pass.as_slice(),
        Password::Crypt(h) => std::str::from_utf8(&pass).is_ok_and(|p| pwhash::unix::verify(p, h)),
        Password::Unset => false,
    }
}

/// `Basic base64(user:pass)` → (user, pass).
fn basic_credentials(v: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    let v = v.trim_ascii();
    let scheme_end = v.iter().position(|c| *c == b' ')?;
    if !v[..scheme_end].eq_ignore_ascii_case(b"basic") {
        return None;
    }
    let decoded = STANDARD.decode(v[scheme_end..].trim_ascii()).ok()?;
    let colon = decoded.iter().position(|&c| c == b':')?;
    Some((decoded[..colon].to_vec(), decoded[colon + 1..].to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cfg::User;

    #[test]
    fn basic_credentials_against_hashes() {
        let list = Userlist {
            name: "l".into(),
            users: vec![
                User { name: "a".into(), password: Password::Plain("pw".into()), groups: vec!["g".into()] },
                User {
                    name: "b".into(),
                    password: Password::Crypt("$1$saltsalt$ZliGyAN3DciDHEkDboonh/".into()),
                    groups: vec![],
                },
                User { name: "c".into(), password: Password::Unset, groups: vec!["g".into()] },
            ],
            ..Userlist::default()
        };
        assert!(check(&list, b"Basic YTpwdw==", None)); // a:pw
        assert!(check(&list, b"basic   YTpwdw== ", None));
        assert!(!check(&list, b"Basic YTpwdg==", None)); // a:pv
        assert!(check(&list, b"Basic YjpodW50ZXIy", None)); // b:hunter2
        assert!(!check(&list, b"Basic Yjpodw50ZXIz", None));
        assert!(!check(&list, b"Basic Yzo=", None)); // c: (empty password, group-only user)
        let g: [Box<str>; 1] = ["g".into()];
        assert!(check(&list, b"Basic YTpwdw==", Some(&g)));
        assert!(!check(&list, b"Basic YjpodW50ZXIy", Some(&g)));
        for bad in [&b""[..], b"Basic", b"Basic !!!", b"Bearer YTpwdw==", b"Basic YQ=="] {
            assert!(!check(&list, bad, None));
        }
    }
}
