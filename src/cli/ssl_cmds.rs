//! `show ssl cert [FILE]`: the certificates strata loaded (sorted by file
//! name, as HAProxy lists them), or one certificate's details in HAProxy
//! 2.6's layout (serial, validity, names, algorithm, fingerprint, subject,
//! issuer, chain).

use super::commands::CliData;
use crate::cfg::AccessLevel;
use std::fmt::Write;

pub fn show_ssl_cert(words: &[&str], _: AccessLevel, data: &mut dyn CliData, out: &mut Vec<u8>) {
    let certs = data.ssl_certs();
    let mut s = String::new();
    match words.get(3).filter(|w| !w.is_empty()) {
        None => {
            s.push_str("# filename\n");
            let mut names: Vec<&str> = certs.iter().map(|c| c.path.as_str()).collect();
            names.sort_unstable();
            for n in names {
                let _ = writeln!(s, "{n}");
            }
        }
        Some(file) => match certs.iter().find(|c| c.path == *file) {
            None => s.push_str("Can't display the certificate: Not found or the certificate is a bundle!\n"),
            Some(c) => {
                let _ = writeln!(s, "Filename: {}", c.path);
                s.push_str("Status: Used\n");
                let _ = writeln!(s, "Serial: {}", c.serial);
                let _ = writeln!(s, "notBefore: {}", c.not_before);
                let _ = writeln!(s, "notAfter: {}", c.not_after);
                let _ = writeln!(s, "Subject Alternative Name: {}", c.sans.join(", "));
                let _ = writeln!(s, "Algorithm: {}", c.algorithm);
                let _ = writeln!(s, "SHA1 FingerPrint: {}", c.sha1);
                let _ = writeln!(s, "Subject: {}", c.subject);
                let _ = writeln!(s, "Issuer: {}", c.issuer);
                for (subject, issuer) in &c.chain {
                    let _ = writeln!(s, "Chain Subject: {subject}");
                    let _ = writeln!(s, "Chain Issuer: {issuer}");
                }
                s.push_str("OCSP Response Key: \n");
            }
        },
    }
    s.push('\n');
    out.extend_from_slice(s.as_bytes());
}
