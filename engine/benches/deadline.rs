//! 1,000,000 deadline computations (`due`), with receipt instants spread over 2019–2030 and
//! limits of 0 to 9 working days. Target: under one second for the whole batch.

use std::hint::black_box;

use chrono::{DateTime, FixedOffset, TimeDelta};
use criterion::{Criterion, criterion_group, criterion_main};
use lienthong_engine::calendar::{Calendar, OfficeHours, VIETNAM_OFFSET, due};

const CALLS: usize = 1_000_000;

/// Deterministic receipt instants across twelve years (a linear congruential sequence, so that
/// consecutive calls do not walk the index in order) and limits 0..10.
fn inputs() -> Vec<(DateTime<FixedOffset>, u32)> {
    // 2019-01-01T00:00:00+07:00.
    let base =
        DateTime::UNIX_EPOCH.with_timezone(&VIETNAM_OFFSET) + TimeDelta::seconds(1_546_275_600);
    let span: u64 = 12 * 365 * 86_400;
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    (0..CALLS)
        .map(|i| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let seconds = i64::try_from((state >> 16) % span).unwrap_or(0);
            let limit = u32::try_from(i % 10).unwrap_or(0);
            (base + TimeDelta::seconds(seconds), limit)
        })
        .collect()
}

fn deadlines(c: &mut Criterion) {
    let calendar = Calendar::vietnam();
    let office = OfficeHours::default();
    let inputs = inputs();
    let mut group = c.benchmark_group("deadline");
    group.sample_size(10);
    group.bench_function("due x 1,000,000", |b| {
        b.iter(|| {
            let mut checksum = 0i64;
            for &(received, limit) in &inputs {
                let due = due(black_box(received), black_box(limit), &calendar, &office);
                checksum ^= due.due.timestamp();
            }
            checksum
        });
    });
    group.bench_function("Calendar::vietnam() (index 1900-2100)", |b| {
        b.iter(Calendar::vietnam)
    });
    group.finish();
}

criterion_group!(benches, deadlines);
criterion_main!(benches);
