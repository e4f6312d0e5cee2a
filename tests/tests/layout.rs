//! Architecture invariants that a test can hold: the dependency direction between our crates
//! (`server → adapters → engine`, `server → engine`; the engine depends on none of ours) and
//! small source files.

use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The `lienthong-*` crates a manifest's `[dependencies]` names.
fn our_dependencies(manifest: &str) -> Vec<String> {
    let text = std::fs::read_to_string(repo().join(manifest)).expect("manifest");
    let mut in_deps = false;
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_deps = line == "[dependencies]";
            continue;
        }
        if in_deps && line.starts_with("lienthong-") {
            out.push(line.split(['.', ' ', '=']).next().unwrap_or("").to_string());
        }
    }
    out
}

#[test]
fn dependency_direction_holds() {
    assert_eq!(
        our_dependencies("engine/Cargo.toml"),
        Vec::<String>::new(),
        "the engine depends on no crate of ours"
    );
    assert_eq!(
        our_dependencies("adapters/Cargo.toml"),
        ["lienthong-engine"]
    );
    let server = our_dependencies("server/Cargo.toml");
    assert!(
        server
            .iter()
            .all(|d| d == "lienthong-engine" || d == "lienthong-adapters"),
        "{server:?}"
    );
}

#[test]
fn source_files_stay_small() {
    let mut todo = vec![
        repo().join("engine/src"),
        repo().join("adapters/src"),
        repo().join("server/src"),
    ];
    let mut large = Vec::new();
    while let Some(dir) = todo.pop() {
        for e in std::fs::read_dir(&dir).expect("dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                todo.push(p);
            } else if p.extension().is_some_and(|e| e == "rs")
                && p.file_name().is_some_and(|n| n != "tests.rs")
            {
                // (`tests.rs` files are whole unit-test modules.)
                let text = std::fs::read_to_string(&p).expect("read");
                // Count the code before the unit tests.
                let code = text.split("#[cfg(test)]").next().unwrap_or("");
                let lines = code.lines().filter(|l| !l.trim().is_empty()).count();
                if lines > 550 {
                    large.push(format!("{} ({lines} lines)", p.display()));
                }
            }
        }
    }
    assert!(large.is_empty(), "split these files by concern: {large:?}");
}

/// The server reaches the store only through the runtime's use cases: outside its start-up
/// wiring (`main.rs` and the command line, which open a store and hand it to a runtime), no
/// file names the store module or asks a runtime for its store.
#[test]
fn the_server_reaches_the_store_only_through_the_runtime() {
    let root = repo().join("server/src");
    let mut todo = vec![root.clone()];
    let mut found = Vec::new();
    while let Some(dir) = todo.pop() {
        for e in std::fs::read_dir(&dir).expect("dir") {
            let p = e.expect("entry").path();
            let wiring = p == root.join("cli") || p == root.join("main.rs");
            // `lienthong audit verify` checks the hash chains as they are stored, beside any
            // runtime: it reads the store by design.
            let verifier = p == root.join("audit.rs");
            if wiring || verifier {
                continue;
            }
            if p.is_dir() {
                todo.push(p);
            } else if p.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&p).expect("read");
                for (n, line) in text.lines().enumerate() {
                    if line.contains("lienthong_engine::store") || line.contains(".store()") {
                        found.push(format!("{}:{}: {}", p.display(), n + 1, line.trim()));
                    }
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "call the runtime's use cases instead:\n{}",
        found.join("\n")
    );
}
