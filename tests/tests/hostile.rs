//! Hostile definitions are refused fast and with bounded memory: each case must be refused
//! with its code in under 100 ms, using under 32 MiB more than before it started.
//!
//! Memory is the process's real peak (VmHWM from /proc), reset before each case by writing
//! `5` to /proc/self/clear_refs. The cases run one after another in this one test, alone in
//! its process (nextest, the README's runner, gives each test a process of its own), so no
//! other test's allocations are counted.

use lienthong_engine::definition::{Catalog, Code, validate_source};
use std::time::{Duration, Instant};

const MAX_TIME: Duration = Duration::from_millis(100);
const MAX_EXTRA_KIB: u64 = 32 * 1024;

fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("field in /proc/self/status")
}

fn billion_laughs() -> Vec<u8> {
    let mut t = String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..10 {
        let refs = vec![format!("*a{}", i - 1); 9].join(", ");
        t.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
    }
    t.into_bytes()
}

fn deep_block() -> Vec<u8> {
    let mut t = String::new();
    for i in 0..300 {
        t.push_str(&" ".repeat(i));
        t.push_str("a:\n");
    }
    t.into_bytes()
}

fn duplicate_keys() -> Vec<u8> {
    "id: x\n".repeat(50_000).into_bytes()
}

fn many_keys() -> Vec<u8> {
    (0..60_000)
        .map(|i| format!("k{i}: 1\n"))
        .collect::<String>()
        .into_bytes()
}

fn many_nodes() -> Vec<u8> {
    "- 1\n".repeat(250_000).into_bytes()
}

fn non_utf8() -> Vec<u8> {
    let mut t = "id: x\n".repeat(1000).into_bytes();
    t.extend_from_slice(b"title: \xc3\x28\n");
    t
}

/// One 200 KB string copied by 3,000 aliases: few nodes, 600 MB of text if expanded.
fn string_bomb() -> Vec<u8> {
    let mut t = format!("s: &s \"{}\"\nl: [", "x".repeat(200_000));
    t.push_str(&vec!["*s"; 3_000].join(", "));
    t.push_str("]\n");
    t.into_bytes()
}

/// Each anchor nests the previous one a level deeper: the copies exceed the nesting limit.
fn alias_nesting() -> Vec<u8> {
    let mut t = String::from("a0: &a0 [x]\n");
    for i in 1..80 {
        t.push_str(&format!("a{i}: &a{i} [*a{}]\n", i - 1));
    }
    t.into_bytes()
}

/// The valid corpus definition with a condition of 900 nested parentheses.
fn deep_condition() -> Vec<u8> {
    let base = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/corpus/valid/base.yaml"
    ))
    .expect("base definition");
    let when = "    when: \"form.residence.collective_household != true\"";
    assert!(base.contains(when));
    base.replace(
        when,
        &format!("    when: \"{}true{}\"", "(".repeat(900), ")".repeat(900)),
    )
    .into_bytes()
}

#[test]
fn hostile_inputs_are_refused_fast_with_bounded_memory() {
    let catalog = Catalog::builtin();
    let cases: Vec<(&str, Vec<u8>, Code)> = vec![
        (
            "over the size cap",
            "a: b\n".repeat(1_000_000).into_bytes(),
            Code::E001,
        ),
        ("not UTF-8", non_utf8(), Code::E002),
        ("billion laughs", billion_laughs(), Code::E005),
        (
            "deep flow nesting",
            "[".repeat(500_000).into_bytes(),
            Code::E004,
        ),
        ("deep block nesting", deep_block(), Code::E004),
        ("duplicate keys", duplicate_keys(), Code::E006),
        ("many distinct keys", many_keys(), Code::E005),
        ("many small nodes", many_nodes(), Code::E005),
        ("deep condition", deep_condition(), Code::E050),
        ("alias copies of a long string", string_bomb(), Code::E005),
        ("alias copies nesting too deep", alias_nesting(), Code::E004),
    ];
    for (name, bytes, code) in cases {
        std::fs::write("/proc/self/clear_refs", "5").expect("reset the peak-memory counter");
        let before = status_kib("VmRSS:");
        let start = Instant::now();
        let v = validate_source(name, &bytes, &Catalog::clone(&catalog));
        let took = start.elapsed();
        let extra = status_kib("VmHWM:").saturating_sub(before);
        println!("{name}: {took:?}, +{extra} KiB");
        assert!(!v.is_valid(), "{name}: accepted");
        assert!(
            v.diagnostics.iter().any(|d| d.code == code),
            "{name}: expected {code}, got {:?}",
            v.diagnostics
                .iter()
                .take(3)
                .map(ToString::to_string)
                .collect::<Vec<_>>()
        );
        assert!(took < MAX_TIME, "{name}: took {took:?}");
        assert!(extra < MAX_EXTRA_KIB, "{name}: used {extra} KiB more");
    }
}
