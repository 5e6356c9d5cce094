//! `userlist NAME` sections: `user NAME password HASH|insecure-password
//! PASS [groups G,...]` and `group NAME [users U,...]`, as HAProxy 2.6
//! reads them (users and groups may name each other in either order).

use super::args::Res;
use crate::cfg::model::{Config, Loc, Password, User, Userlist};

/// The section header.
pub(super) fn open(cfg: &Config, words: &[String], loc: &Loc) -> Result<Userlist, String> {
    let name = words.get(1).ok_or("'userlist' expects <name> as arguments.")?;
    if let Some(extra) = words.get(2) {
        return Err(format!("'userlist' cannot handle unexpected argument '{extra}'."));
    }
    if let Some(c) = name.chars().find(|c| !(c.is_ascii_alphanumeric() || "-_.:".contains(*c))) {
        return Err(format!("character '{c}' is not permitted in 'userlist' name '{name}'."));
    }
    if let Some(other) = cfg.userlists.iter().find(|u| u.name == *name) {
        return Err(format!(
            "userlist '{name}' has the same name as another userlist (declared at {}).",
            other.loc
        ));
    }
    Ok(Userlist { name: name.clone(), loc: loc.clone(), users: Vec::new(), groups: Vec::new() })
}

fn list(v: &str) -> impl Iterator<Item = String> + '_ {
    v.split(',').filter(|s| !s.is_empty()).map(str::to_owned)
}

/// One line of the section.
pub(super) fn keyword(l: &mut Userlist, words: &[String]) -> Res {
    match words[0].as_str() {
        "group" => {
            let name = words.get(1).ok_or("'group' expects <name> as arguments.")?;
            if l.groups.contains(name) {
                return Err(format!("duplicate group '{name}' in userlist '{}'.", l.name));
            }
            let mut i = 2;
            let mut members = Vec::new();
            while i < words.len() {
                match words[i].as_str() {
                    "users" => {
                        let v = words.get(i + 1).ok_or("'users' expects a comma-separated list.")?;
                        members.extend(list(v));
                        i += 2;
                    }
                    other => {
                        return Err(format!("'group' only supports 'users' option, got '{other}'."));
                    }
                }
            }
            l.groups.push(name.clone());
            for m in members {
                pending_member(l, &m, name);
            }
            Ok(())
        }
        "user" => {
            let name = words.get(1).ok_or("'user' expects <name> as arguments.")?;
            if l.users.iter().any(|u| u.name == *name && u.password != Password::Unset) {
                return Err(format!("duplicate user '{name}' in userlist '{}'.", l.name));
            }
            let mut password = None;
            let mut groups = Vec::new();
            let mut i = 2;
            while i < words.len() {
                let v = words.get(i + 1).ok_or(format!("'{}' expects an argument.", words[i]))?;
                match words[i].as_str() {
                    "password" => password = Some(Password::Crypt(v.clone())),
                    "insecure-password" => password = Some(Password::Plain(v.clone())),
                    "groups" => groups.extend(list(v)),
                    other => {
                        return Err(format!(
                            "'user' only supports 'password', 'insecure-password' and 'groups' options, got '{other}'."
                        ));
                    }
                }
                i += 2;
            }
            let password =
                password.ok_or(format!("'user {name}': a 'password' or 'insecure-password' is required."))?;
            if let Password::Crypt(h) = &password
                && !(h.starts_with("$1$") || h.starts_with("$5$") || h.starts_with("$6$") || h.len() == 13)
            {
                return Err(format!(
                    "'user {name}': unsupported password hash '{h}' (expects crypt(3) $1$, $5$, $6$ or DES)."
                ));
            }
            // Groups named by earlier `group ... users` lines.
            let mut all = groups;
            if let Some(p) = l.users.iter().position(|u| u.name == *name && u.password == Password::Unset) {
                all.extend(l.users.remove(p).groups);
            }
            l.users.push(User { name: name.clone(), password, groups: all });
            Ok(())
        }
        other => Err(format!("unknown keyword '{other}' in 'userlist' section")),
    }
}

/// `group G users U`: U is in G, whether it is declared before or after.
fn pending_member(l: &mut Userlist, user: &str, group: &str) {
    match l.users.iter_mut().find(|u| u.name == user) {
        Some(u) => u.groups.push(group.to_owned()),
        None => l.users.push(User {
            name: user.to_owned(),
            password: Password::Unset, // until its `user` line
            groups: vec![group.to_owned()],
        }),
    }
}
