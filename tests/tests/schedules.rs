//! Periodic jobs on SQLite and PostgreSQL: one run per tick across nodes, one run after a
//! downtime however many ticks it spanned, working-day schedules skipping Sundays and Tết,
//! and jobs doing their work (digests, reminders, daily figures from real dossiers).
//!
//! (A cron with a numeric day of the week never reaches the scheduler: the validator refuses
//! it, see `tests/corpus/invalid/cron-numeric-weekday.yaml`.)

use crate::support;

use chrono::NaiveDate;
use lienthong_engine::clock::ManualClock;
use lienthong_engine::machine::{Audience, DossierId, Effect, Template};
use lienthong_engine::runtime::{RecordingNotifier, Runtime};
use lienthong_engine::store::{JobRun, RunOutcome, Scope, Store};
use serde_json::{Map, Value, json};
use std::sync::Arc;
use support::{DEATH, MARRIAGE, at, file_until_queued, load, marriage_form, node, sent};

const CIVIL: &str = "civil_status";
const REGISTER: &str = "register_marriage";
const MARRIAGE_ID: &str = "marital-status-marriage";
const SWEEP: &str = "marital-status-marriage/overdue_sweep";
const FIGURES: &str = "marital-status-marriage/daily_figures";
const ENGINE_SWEEP: &str = "engine:overdue_sweep";
const ENGINE_FIGURES: &str = "engine:daily_figures";

/// The marriage procedure with other schedules.
fn marriage_with(schedules: &str) -> String {
    let head = MARRIAGE.split("schedules:\n").next().expect("head");
    format!("{head}schedules:\n{schedules}")
}

async fn runs<S: Store>(store: &S, name: &str) -> Vec<JobRun> {
    store.job_runs(Some(name), 1_000).await.expect("job runs")
}

fn outcomes(runs: &[JobRun]) -> Vec<RunOutcome> {
    runs.iter().map(|r| r.outcome).collect()
}

/// Agency digests of one kind (`overdue`, `due_soon`) a notifier received.
fn digests(n: &RecordingNotifier, kind: &str) -> Vec<Value> {
    sent(n)
        .into_iter()
        .filter_map(|(_, e)| match e {
            Effect::Notify {
                audience: Audience::Agency,
                data,
                ..
            } if data["digest"] == kind => Some(data),
            _ => None,
        })
        .collect()
}

fn certificate() -> Map<String, Value> {
    json!({"marriage_certificate_number": "KH-1", "registered_on": "2026-11-23", "handover_deferred": false})
        .as_object()
        .cloned()
        .expect("object")
}

async fn register<S: Store>(rt: &Runtime<S>, id: &DossierId) {
    rt.claim_task(CIVIL, id, REGISTER, "officer-a")
        .await
        .expect("claim");
    rt.complete_task(CIVIL, id, REGISTER, "officer-a", &certificate())
        .await
        .expect("complete");
}

async fn each_tick_runs_once_across_nodes<S: Store>(store: S) {
    store.migrate().await.expect("migrate");
    let clock = ManualClock::new(at(2026, 11, 20, 9, 0));
    let (a, notified_a) = node(store.clone(), &clock, "node-a");
    let (b, notified_b) = node(store.clone(), &clock, "node-b");
    a.publish(&load(MARRIAGE)).await.expect("publish");
    // Due on Friday at 17:00, still waiting on Monday: overdue.
    let late = file_until_queued(&a, MARRIAGE_ID, None, marriage_form(), "late", REGISTER).await;
    clock.set(at(2026, 11, 23, 6, 30));
    assert_eq!(
        a.run_schedules().await.expect("run"),
        0,
        "first sight: nothing due yet"
    );
    assert_eq!(b.run_schedules().await.expect("run"), 0);
    let (a, b) = (Arc::new(a), Arc::new(b));
    let instants = [
        (at(2026, 11, 23, 7, 0), 2),         // both sweeps
        (at(2026, 11, 23, 23, 0), 2),        // both figures
        (at(2026, 11, 24, 7, 0), 2),         // both sweeps
        (at(2026, 11, 24, 7, 0) + 1_000, 0), // nothing new
        (at(2026, 11, 25, 7, 0), 4),         // Tuesday's figures, then Wednesday's sweeps
    ];
    for (instant, expected) in instants {
        clock.set(instant);
        let (ra, rb) = (a.clone(), b.clone());
        let first = tokio::spawn(async move { ra.run_schedules().await.expect("node a") });
        let second = tokio::spawn(async move { rb.run_schedules().await.expect("node b") });
        let (x, y) = (first.await.expect("join"), second.await.expect("join"));
        assert_eq!(x + y, expected, "runs at {instant}: node a {x}, node b {y}");
    }
    let all = a.store().job_runs(None, 1_000).await.expect("runs");
    assert_eq!(all.len(), 10);
    assert!(all.iter().all(|r| r.outcome == RunOutcome::Ran), "{all:?}");
    for name in [SWEEP, ENGINE_SWEEP, FIGURES, ENGINE_FIGURES] {
        let dues: Vec<i64> = runs(a.store(), name)
            .await
            .iter()
            .map(|r| r.due_at)
            .collect();
        let mut unique = dues.clone();
        unique.dedup();
        assert_eq!(dues, unique, "{name}: one run per tick");
    }
    let mut overdue = digests(&notified_a, "overdue");
    overdue.extend(digests(&notified_b, "overdue"));
    assert_eq!(
        overdue.len(),
        6,
        "one digest per sweep run (3 ticks, 2 sweeps)"
    );
    for d in &overdue {
        assert_eq!(d["agency"], CIVIL);
        assert_eq!(d["count"], 1);
        assert_eq!(d["steps"][0]["dossier"], late.0.as_str());
        assert_eq!(d["steps"][0]["step"], REGISTER);
    }
}

async fn a_downtime_runs_the_missed_tick_once<S: Store>(store: S) {
    store.migrate().await.expect("migrate");
    let clock = ManualClock::new(at(2026, 11, 23, 6, 30));
    let (before, _) = node(store.clone(), &clock, "node-a");
    before.publish(&load(MARRIAGE)).await.expect("publish");
    assert_eq!(before.run_schedules().await.expect("run"), 0);
    drop(before);
    // Every node down from Monday 06:30 to Friday 10:00: five sweep ticks and four figure
    // ticks missed. A node starting then runs each schedule once.
    clock.set(at(2026, 11, 27, 10, 0));
    let (after, _) = node(store.clone(), &clock, "node-b");
    assert_eq!(after.run_schedules().await.expect("run"), 4);
    let sweep = runs(&store, SWEEP).await;
    assert_eq!(sweep.len(), 1);
    assert_eq!(
        sweep[0].due_at,
        at(2026, 11, 23, 7, 0),
        "recorded at the missed tick"
    );
    assert_eq!(sweep[0].ran_at, at(2026, 11, 27, 10, 0));
    assert_eq!(sweep[0].node, "node-b");
    assert_eq!(sweep[0].outcome, RunOutcome::Ran);
    assert!(
        sweep[0].summary["scanned"].is_number(),
        "{:?}",
        sweep[0].summary
    );
    assert_eq!(runs(&store, FIGURES).await.len(), 1);
    assert_eq!(
        after.run_schedules().await.expect("again"),
        0,
        "nothing left to catch up"
    );
    // The next sweep tick is the first after the restart: Monday 30 November, 07:00.
    clock.set(at(2026, 11, 30, 6, 59));
    after.run_schedules().await.expect("run");
    assert_eq!(runs(&store, SWEEP).await.len(), 1);
    clock.set(at(2026, 11, 30, 7, 0));
    after.run_schedules().await.expect("run");
    let dues: Vec<i64> = runs(&store, SWEEP).await.iter().map(|r| r.due_at).collect();
    assert_eq!(dues, [at(2026, 11, 23, 7, 0), at(2026, 11, 30, 7, 0)]);
}

const DAILY_SWEEP: &str = "  - id: morning_sweep\n    cron: \"0 0 7 * * *\"\n    job: overdue_sweep\n    working_days_only: true\n";
const MORNING: &str = "marital-status-marriage/morning_sweep";

async fn working_day_schedules_skip_a_sunday<S: Store>(store: S) {
    store.migrate().await.expect("migrate");
    let clock = ManualClock::new(at(2026, 11, 21, 23, 30));
    let (rt, _) = node(store.clone(), &clock, "node-a");
    rt.publish(&load(&marriage_with(DAILY_SWEEP)))
        .await
        .expect("publish");
    rt.run_schedules().await.expect("register");
    clock.set(at(2026, 11, 22, 7, 0));
    assert_eq!(
        rt.run_schedules().await.expect("run"),
        1,
        "only the engine's daily sweep"
    );
    let sunday = runs(&store, MORNING).await;
    assert_eq!(outcomes(&sunday), [RunOutcome::Skipped]);
    assert_eq!(
        sunday[0].summary["reason"],
        "2026-11-22 is not a working day"
    );
    assert_eq!(
        runs(&store, ENGINE_SWEEP).await.len(),
        1,
        "built-ins run every day"
    );
    assert_eq!(
        rt.run_schedules().await.expect("again"),
        0,
        "the skipped tick was claimed"
    );
    clock.set(at(2026, 11, 23, 7, 0));
    rt.run_schedules().await.expect("run");
    let monday = runs(&store, MORNING).await;
    assert_eq!(outcomes(&monday), [RunOutcome::Skipped, RunOutcome::Ran]);
}

async fn working_day_schedules_skip_tet<S: Store>(store: S) {
    store.migrate().await.expect("migrate");
    let clock = ManualClock::new(at(2026, 2, 12, 12, 0));
    let (rt, _) = node(store.clone(), &clock, "node-a");
    rt.publish(&load(&marriage_with(DAILY_SWEEP)))
        .await
        .expect("publish");
    rt.run_schedules().await.expect("register");
    for day in 13..=23 {
        clock.set(at(2026, 2, day, 7, 0));
        rt.run_schedules().await.expect("run");
    }
    let got: Vec<(NaiveDate, RunOutcome)> = runs(&store, MORNING)
        .await
        .iter()
        .map(|r| {
            let day = chrono::DateTime::from_timestamp_millis(r.due_at).expect("instant");
            (day.date_naive(), r.outcome)
        })
        .collect();
    let (ran, skipped) = (RunOutcome::Ran, RunOutcome::Skipped);
    // 13 Feb is a Friday; 14–15 a weekend; 16–20 the Tết days off (Notice 9441/TB-BNV);
    // 21–22 a weekend; 23 Feb the first working day after. (07:00 in Hà Nội is 00:00 UTC.)
    let want: Vec<(NaiveDate, RunOutcome)> = (13..=23)
        .map(|d| {
            let date = NaiveDate::from_ymd_opt(2026, 2, d).expect("date");
            (date, if d == 13 || d == 23 { ran } else { skipped })
        })
        .collect();
    assert_eq!(got, want);
    let tet = runs(&store, MORNING).await;
    assert_eq!(tet[4].summary["reason"], "2026-02-17 is not a working day");
}

async fn daily_figures_come_from_the_dossiers<S: Store>(store: S) {
    store.migrate().await.expect("migrate");
    let clock = ManualClock::new(at(2026, 11, 20, 9, 0));
    let (rt, _) = node(store.clone(), &clock, "node-a");
    rt.publish(&load(MARRIAGE)).await.expect("publish");
    rt.publish(&load(DEATH)).await.expect("publish");
    let file = |key: &'static str| {
        file_until_queued(&rt, MARRIAGE_ID, None, marriage_form(), key, REGISTER)
    };
    let friday = file("d1").await;
    clock.set(at(2026, 11, 23, 6, 0));
    assert_eq!(rt.run_schedules().await.expect("register"), 0);
    clock.set(at(2026, 11, 23, 9, 0));
    let (on_time, rejected, evening) = (file("d2").await, file("d3").await, file("d4").await);
    clock.set(at(2026, 11, 23, 10, 0));
    register(&rt, &friday).await; // due Friday 17:00: late, one working day
    register(&rt, &on_time).await; // due today 17:00: on time, the same day
    rt.claim_task(CIVIL, &rejected, REGISTER, "officer-a")
        .await
        .expect("claim");
    rt.reject_task(CIVIL, &rejected, REGISTER, "officer-a", "Chưa đủ tuổi")
        .await
        .expect("reject");
    clock.set(at(2026, 11, 23, 23, 0));
    // The engine's sweep and figures, the marriage group's too, and the death group's sweep,
    // supplement reminders and figures.
    assert_eq!(rt.run_schedules().await.expect("run"), 7);
    let monday = NaiveDate::from_ymd_opt(2026, 11, 23).expect("date");
    let figures = store
        .daily_figures(MARRIAGE_ID, monday)
        .await
        .expect("read")
        .expect("row");
    assert_eq!(
        figures["by_status"],
        json!({"decided": 2, "processing": 1, "stopped": 1})
    );
    assert_eq!(figures["closed"], json!({"decided": 2, "stopped": 1}));
    assert_eq!(figures["decided"], 2);
    assert_eq!(figures["on_time"], 1);
    assert_eq!(figures["on_time_rate"], 0.5);
    // Friday 09:00 → Monday 10:00 is 9 working hours, Monday 09:00 → 10:00 one: the mean
    // of 1.125 and 0.125 working days.
    assert_eq!(figures["median_working_days"], 0.6, "9 and 1 working hours");
    assert_eq!(
        figures["resolved"],
        json!({"early": 0, "on_time": 1, "late": 1})
    );
    // The API's figures, the dashboard and the demo's report read the runtime's report: over
    // the same dossiers it gives the numbers the daily job stored.
    let days = Some((
        NaiveDate::from_ymd_opt(2026, 11, 20).expect("date"),
        NaiveDate::from_ymd_opt(2026, 11, 24).expect("date"),
    ));
    let everywhere = Scope::default();
    let live = rt
        .report(&everywhere, Some(MARRIAGE_ID), days)
        .await
        .expect("report");
    let g = &live.summary.groups[0];
    assert_eq!(g.procedure, MARRIAGE_ID);
    assert_eq!(g.dossiers, 4);
    assert_eq!(json!(g.decided), figures["decided"]);
    assert_eq!(json!(g.resolved), figures["resolved"]);
    assert_eq!(json!(g.on_time_rate), figures["on_time_rate"]);
    assert_eq!(json!(g.median_working_days), figures["median_working_days"]);
    assert_eq!(json!(g.p90_working_days), figures["p90_working_days"]);
    let death = store
        .daily_figures("death-residence-funeral-survivor", monday)
        .await
        .expect("read");
    let death = death.expect("a row for every procedure in force");
    assert_eq!(
        (death["decided"].clone(), death["on_time_rate"].clone()),
        (json!(0), Value::Null)
    );
    // Registered after the night's run: counted in Monday's row by Tuesday's run.
    clock.set(at(2026, 11, 23, 23, 30));
    register(&rt, &evening).await;
    let before = rt
        .report(&everywhere, Some(MARRIAGE_ID), days)
        .await
        .expect("report");
    assert_eq!(
        before.live, 4,
        "nothing stored yet: every dossier counted live"
    );
    clock.set(at(2026, 11, 24, 23, 0));
    rt.run_schedules().await.expect("run");
    let monday_final = store
        .daily_figures(MARRIAGE_ID, monday)
        .await
        .expect("read")
        .expect("row");
    assert_eq!(monday_final["decided"], 3);
    assert_eq!(monday_final["on_time"], 1);
    // Registered at 23:30, after the day's deadline: late, 7 working hours.
    assert_eq!(
        monday_final["median_working_days"], 0.9,
        "the middle of 1, 7 and 9 hours"
    );
    assert_eq!(monday_final["resolved"]["late"], 2);
    assert_eq!(
        monday_final["by_status"], figures["by_status"],
        "Monday's snapshot stays"
    );
    let tuesday = NaiveDate::from_ymd_opt(2026, 11, 24).expect("date");
    let tuesday = store
        .daily_figures(MARRIAGE_ID, tuesday)
        .await
        .expect("read")
        .expect("row");
    assert_eq!(tuesday["by_status"], json!({"decided": 3, "stopped": 1}));
    assert_eq!(tuesday["decided"], 0);
    // Tuesday's run stored the tallies of Monday's closings: the same report now reads them
    // from the stored tallies instead of the dossiers, with the same numbers, and agrees
    // with Monday's final row.
    let after = rt
        .report(&everywhere, Some(MARRIAGE_ID), days)
        .await
        .expect("report");
    assert_eq!(after.live, 0, "every dossier read from the stored tallies");
    assert!(after.stored_until > before.stored_until);
    assert_eq!(after.summary, before.summary);
    assert_eq!(after.weeks, before.weeks);
    assert_eq!(after.months, before.months);
    assert_eq!(after.provinces, before.provinces);
    assert_eq!(after.communes, before.communes);
    assert_eq!(after.late, before.late);
    let g = &after.summary.groups[0];
    assert_eq!(json!(g.decided), monday_final["decided"]);
    assert_eq!(json!(g.resolved), monday_final["resolved"]);
    assert_eq!(
        json!(g.median_working_days),
        monday_final["median_working_days"]
    );
    assert_eq!(g.carried_over, Some(0));
    // A second rollup of the same span stores nothing twice.
    assert_eq!(rt.roll_up().await.expect("again").dossiers, 0);
    let again = rt
        .report(&everywhere, Some(MARRIAGE_ID), days)
        .await
        .expect("report");
    assert_eq!(again.summary, after.summary);
}

const NOTICES: &str = "  - id: deadline_warnings\n    cron: \"0 0 8 * * MON-FRI\"\n    job: deadline_warnings\n    working_days_only: true\n  - id: supplement_reminders\n    cron: \"0 30 8 * * MON-FRI\"\n    job: supplement_reminders\n    working_days_only: true\n";

async fn warnings_and_reminders_are_sent<S: Store>(store: S) {
    store.migrate().await.expect("migrate");
    let clock = ManualClock::new(at(2026, 11, 23, 7, 30));
    let (rt, notifier) = node(store.clone(), &clock, "node-a");
    rt.publish(&load(&marriage_with(NOTICES)))
        .await
        .expect("publish");
    rt.run_schedules().await.expect("register");
    let due_today = file_until_queued(&rt, MARRIAGE_ID, None, marriage_form(), "a", REGISTER).await;
    let waiting = file_until_queued(&rt, MARRIAGE_ID, None, marriage_form(), "b", REGISTER).await;
    rt.claim_task(CIVIL, &waiting, REGISTER, "officer-a")
        .await
        .expect("claim");
    rt.request_supplement(CIVIL, &waiting, REGISTER, "officer-a", "Thiếu giấy tờ")
        .await
        .expect("supplement"); // seven working days: until Wednesday 2 December, 17:00
    clock.set(at(2026, 11, 23, 8, 0));
    assert_eq!(rt.run_schedules().await.expect("warnings"), 1);
    let soon = digests(&notifier, "due_soon");
    assert_eq!(soon.len(), 1);
    assert_eq!(soon[0]["agency"], CIVIL);
    assert_eq!(
        soon[0]["count"], 1,
        "the step waiting for a supplement is paused"
    );
    assert_eq!(soon[0]["steps"][0]["dossier"], due_today.0.as_str());
    assert_eq!(soon[0]["steps"][0]["deadline"], "2026-11-23T17:00:00+07:00");
    let reminders = |n: &RecordingNotifier| -> Vec<DossierId> {
        sent(n)
            .into_iter()
            .filter(|(_, e)| {
                matches!(e, Effect::Notify { audience: Audience::Citizen, template: Template::SupplementRequested, data, .. }
                    if data["reminder"] == true)
            })
            .map(|(id, _)| id)
            .collect()
    };
    clock.set(at(2026, 11, 23, 8, 30));
    assert_eq!(rt.run_schedules().await.expect("reminders"), 1);
    assert!(
        reminders(&notifier).is_empty(),
        "the window closes in more than a working day"
    );
    clock.set(at(2026, 12, 1, 8, 30));
    rt.run_schedules().await.expect("reminders");
    assert_eq!(reminders(&notifier), [waiting]);
    let run = runs(&store, "marital-status-marriage/supplement_reminders").await;
    assert_eq!(
        run.last().map(|r| r.summary["reminded"].clone()),
        Some(json!(1))
    );
}

support::on_both_stores!(
    each_tick_runs_once_across_nodes,
    a_downtime_runs_the_missed_tick_once,
    working_day_schedules_skip_a_sunday,
    working_day_schedules_skip_tet,
    daily_figures_come_from_the_dossiers,
    warnings_and_reminders_are_sent,
);
