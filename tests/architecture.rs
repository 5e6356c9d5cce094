//! Imports go downward only (docs/architecture.md): a module of `src/`
//! may use only the modules listed before it in `ORDER`. This test reads every
//! source file and fails on an upward `crate::` import, so a layer cannot
//! quietly start reaching into its owner.

use std::fs;
use std::path::Path;

/// Top-level modules, lowest layer first: each may import only modules
/// listed before it.
const ORDER: &[&str] = &[
    "core",
    "stick",
    "cfg",
    "acl",
    "l4_conn",
    "peers",
    "backend",
    "l7_http",
    "l6_stream",
    "l5_session",
    "cli",
    "service",
    "runtime",
];

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in fs::read_dir(dir).expect("read src dir") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Top-level modules named in `crate::X` paths of one file.
fn crate_imports(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (i, _) in text.match_indices("crate::") {
        let rest = &text[i + "crate::".len()..];
        let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
        if !name.is_empty() && !found.contains(&name) {
            found.push(name);
        }
    }
    found
}

#[test]
fn layers_import_only_downward() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut violations = Vec::new();
    let mut checked = 0;
    for (rank, module) in ORDER.iter().enumerate() {
        let allowed = &ORDER[..rank];
        let dir = src.join(module);
        assert!(dir.is_dir(), "src/{module}/ is missing");
        let mut files = Vec::new();
        rust_files(&dir, &mut files);
        for file in files {
            let text = fs::read_to_string(&file).expect("read source");
            checked += 1;
            for import in crate_imports(&text) {
                if import != *module && !allowed.contains(&import.as_str()) {
                    violations.push(format!("{} imports crate::{import}", file.display()));
                }
            }
        }
    }
    assert!(checked > 10, "walked too few files ({checked})");
    assert!(violations.is_empty(), "upward imports:\n{}", violations.join("\n"));
}

#[test]
fn every_top_level_module_is_classified() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    for entry in fs::read_dir(&src).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
            assert!(
                ORDER.contains(&name.as_str()),
                "src/{name}/ has no place in the import rules of tests/architecture.rs"
            );
        }
    }
}

#[test]
fn the_checker_sees_an_upward_import() {
    let imports = crate_imports("use crate::l5_session::Session;\nuse crate::core::x;");
    assert_eq!(imports, vec!["l5_session".to_owned(), "core".to_owned()]);
}
