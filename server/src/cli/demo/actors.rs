//! The people around the engine in the demo: officers who work the human steps in their
//! agency's queue (the social-assistance office's funeral support, the commune registrar's
//! marriages), citizens who answer supplement requests (or let them lapse), and an operator
//! who retries incidents. Each takes a seeded number of working hours, so some finish late
//! and the engine's warnings, breaches and apology slips happen.

use lienthong_adapters::simulator::behaviour::roll;
use lienthong_engine::calendar::{Calendar, OfficeHours, VIETNAM_OFFSET, working_hours_between};
use lienthong_engine::clock::Millis;
use lienthong_engine::machine::{DossierId, Event, Resolution, StepStatus};
use lienthong_engine::runtime::{Runtime, TaskQuery, TaskStatus};
use lienthong_engine::store::Store;
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::sync::Arc;

/// What an officer or citizen will do, and when (in working hours after `since`).
#[derive(Debug, Clone)]
struct Plan {
    since: Millis,
    hours: f64,
    act: Act,
}

#[derive(Debug, Clone, PartialEq)]
enum Act {
    Complete,
    Reject(String),
    /// Start verification now, complete after `hours`.
    Verify,
    Supplement,
    Never,
    RetryIncident,
}

/// The demo's people, acting on every pass.
#[derive(Debug)]
pub struct Actors {
    seed: u64,
    calendar: Arc<Calendar>,
    plans: HashMap<(String, String), Plan>,
    verified: HashMap<(String, String), bool>,
    /// Actions taken, by kind.
    pub counts: std::collections::BTreeMap<&'static str, u64>,
}

fn local_date(ms: Millis) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.with_timezone(&VIETNAM_OFFSET).date_naive().to_string())
        .unwrap_or_default()
}

impl Actors {
    pub fn new(seed: u64, calendar: Arc<Calendar>) -> Self {
        Actors {
            seed,
            calendar,
            plans: HashMap::new(),
            verified: HashMap::new(),
            counts: Default::default(),
        }
    }

    fn hours_since(&self, since: Millis, now: Millis) -> f64 {
        let office = OfficeHours::default();
        let hours = |ms: Millis| {
            chrono::DateTime::from_timestamp_millis(ms).map(|t| t.with_timezone(&VIETNAM_OFFSET))
        };
        match (hours(since), hours(now)) {
            (Some(a), Some(b)) if b > a => {
                working_hours_between(a, b, &self.calendar, &office).num_minutes() as f64 / 60.0
            }
            _ => 0.0,
        }
    }

    fn dice(&self, parts: &[&str], modulo: u64) -> u64 {
        roll(self.seed, parts, 0, modulo)
    }

    /// Hours between `lo` and `hi`, seeded by `parts`.
    fn hours(&self, parts: &[&str], lo: u64, hi: u64) -> f64 {
        (lo * 10 + self.dice(parts, (hi - lo) * 10 + 1)) as f64 / 10.0
    }

    /// One pass over the queues and the open dossiers.
    pub async fn act<S: Store>(
        &mut self,
        rt: &Runtime<S>,
        open: &[DossierId],
    ) -> anyhow::Result<()> {
        self.officers(rt).await?;
        self.citizens_and_operator(rt, open).await
    }

    async fn officers<S: Store>(&mut self, rt: &Runtime<S>) -> anyhow::Result<()> {
        let now = rt.now();
        for agency in ["funeral_support", "civil_status", "judicial_records"] {
            let officer = match agency {
                "civil_status" => "Công chức tư pháp - hộ tịch",
                "judicial_records" => "Cán bộ Công an tỉnh (lý lịch tư pháp)",
                _ => "Cán bộ bảo trợ xã hội",
            };
            let query = TaskQuery {
                limit: 200,
                ..TaskQuery::default()
            };
            for task in rt.open_tasks(agency, &query).await? {
                let key = (task.dossier.0.clone(), task.step.clone());
                if task.status == TaskStatus::Queued.as_str() {
                    rt.claim_task(agency, &task.dossier, &task.step, officer)
                        .await?;
                    // A task back in the queue (its claim lapsed) keeps the officer's plan.
                    if !self.plans.contains_key(&key) {
                        let plan = self.officer_plan(&key, &task.action, &task.request, now);
                        self.plans.insert(key, plan);
                    }
                    *self.counts.entry("tasks_claimed").or_default() += 1;
                    continue;
                }
                let Some(plan) = self.plans.get(&key).cloned() else {
                    continue;
                };
                if plan.act == Act::Verify && !self.verified.contains_key(&key) {
                    rt.start_verification(
                        agency,
                        &task.dossier,
                        &task.step,
                        officer,
                        "Luật Hộ tịch 2014, Điều 18: cần xác minh điều kiện kết hôn",
                    )
                    .await?;
                    self.verified.insert(key.clone(), true);
                    *self.counts.entry("verifications").or_default() += 1;
                    continue;
                }
                if self.hours_since(plan.since, now) < plan.hours {
                    continue;
                }
                match &plan.act {
                    Act::Reject(reason) => {
                        rt.reject_task(agency, &task.dossier, &task.step, officer, reason)
                            .await?;
                        *self.counts.entry("tasks_rejected").or_default() += 1;
                    }
                    _ => {
                        let outputs = outputs(&task.action, now, &key.0);
                        rt.complete_task(agency, &task.dossier, &task.step, officer, &outputs)
                            .await?;
                        *self.counts.entry("tasks_completed").or_default() += 1;
                    }
                }
                self.plans.remove(&key);
            }
        }
        Ok(())
    }

    fn officer_plan(
        &self,
        key: &(String, String),
        action: &str,
        request: &Value,
        now: Millis,
    ) -> Plan {
        let parts = [key.0.as_str(), key.1.as_str()];
        let d = self.dice(&parts, 100);
        if action == "register_marriage" {
            let married = ["check_status_a", "check_status_b"]
                .iter()
                .any(|s| request["steps"][s]["marital_status"] == "married");
            if married {
                return Plan {
                    since: now,
                    hours: 1.0,
                    act: Act::Reject(
                        "Một bên đang có vợ hoặc chồng (Luật Hôn nhân và gia đình, Điều 5) — a partner is still married"
                            .into(),
                    ),
                };
            }
            // Same day mostly; some need verification (5 days); some slip to the next day.
            let (hours, act) = match d {
                0..=64 => (self.hours(&[parts[0], "m"], 0, 2), Act::Complete),
                65..=84 => (self.hours(&[parts[0], "m"], 8, 30), Act::Verify),
                _ => (self.hours(&[parts[0], "m"], 6, 12), Act::Complete),
            };
            return Plan {
                since: now,
                hours,
                act,
            };
        }
        // Funeral support, recognition, certificates: most within their limits, some late.
        let hours = match d {
            0..=74 => self.hours(&[parts[0], "f"], 2, 20),
            _ => self.hours(&[parts[0], "f"], 26, 40),
        };
        Plan {
            since: now,
            hours,
            act: Act::Complete,
        }
    }

    async fn citizens_and_operator<S: Store>(
        &mut self,
        rt: &Runtime<S>,
        open: &[DossierId],
    ) -> anyhow::Result<()> {
        let now = rt.now();
        for id in open {
            let Some(d) = rt.load(id).await? else {
                continue;
            };
            if d.status.is_closed() {
                continue;
            }
            for (step, s) in &d.steps {
                let key = (id.0.clone(), step.to_string());
                let act = match s.status {
                    StepStatus::Supplement => Act::Supplement,
                    StepStatus::Incident => Act::RetryIncident,
                    _ => continue,
                };
                let plan = match self.plans.get(&key) {
                    Some(p) if p.act == act || p.act == Act::Never => p.clone(),
                    _ => {
                        let p = self.citizen_plan(&key, act, now);
                        self.plans.insert(key.clone(), p.clone());
                        p
                    }
                };
                if plan.act == Act::Never || self.hours_since(plan.since, now) < plan.hours {
                    continue;
                }
                let event = match plan.act {
                    Act::Supplement => {
                        let mut data = Map::new();
                        if d.procedure.id == super::mix::MARRIAGE {
                            // The registrar reads the ceremony date: the couple confirm it.
                            let day = d.form["ceremony_date"].clone();
                            data.insert("ceremony_date".into(), day);
                        } else {
                            data.insert("documents".into(), json!([{
                                "kind": "ban_sao_giay_to_tuy_than",
                                "uri": format!("urn:lienthong-demo:bo-sung:{}", d.code),
                                "sha256": format!("{:064x}", roll(self.seed, &[&d.code], 0, u64::MAX)),
                            }]));
                        }
                        *self.counts.entry("supplements_provided").or_default() += 1;
                        Event::SupplementProvided {
                            step: step.clone(),
                            data,
                        }
                    }
                    _ => {
                        *self.counts.entry("incidents_retried").or_default() += 1;
                        Event::IncidentResolved {
                            step: step.clone(),
                            resolution: Resolution::Retry,
                            by: "Quản trị viên hệ thống (demo)".into(),
                            reason: "Cơ quan đã khắc phục sự cố — the agency fixed its system"
                                .into(),
                        }
                    }
                };
                rt.handle(id, &event, None).await?;
                self.plans.remove(&key);
            }
        }
        Ok(())
    }

    fn citizen_plan(&self, key: &(String, String), act: Act, now: Millis) -> Plan {
        let parts = [key.0.as_str(), key.1.as_str(), "citizen"];
        if act == Act::Supplement && self.dice(&parts, 100) < 10 {
            // Some citizens never come back: the window lapses and the dossier is refused.
            return Plan {
                since: now,
                hours: 0.0,
                act: Act::Never,
            };
        }
        let hours = match act {
            Act::Supplement => self.hours(&parts, 2, 24),
            _ => self.hours(&parts, 1, 4),
        };
        Plan {
            since: now,
            hours,
            act,
        }
    }
}

/// The outputs an officer records for a human step.
fn outputs(action: &str, now: Millis, dossier: &str) -> Map<String, Value> {
    let n = roll(7, &[dossier], 0, 9_000) + 1_000;
    let v = match action {
        "register_birth_with_recognition" => json!({
            "birth_registration_number": format!("{n}/2026"),
            "recognition_registration_number": format!("{n}/2026/NCMC"),
        }),
        "issue_judicial_record" => json!({
            "certificate_number": format!("{n}/2026/LLTP"),
            "signed_at": chrono::DateTime::from_timestamp_millis(now)
                .map(|t| t.with_timezone(&VIETNAM_OFFSET).to_rfc3339())
                .unwrap_or_default(),
        }),
        // One couple in four cannot both be there to sign: the certificate is kept for
        // them (at most 60 days) and handed over when they come.
        "register_marriage" => json!({
            "marriage_certificate_number": format!("{n}/2026/KH"),
            "registered_on": local_date(now),
            "handover_deferred": roll(11, &[dossier], 0, 4) == 0,
        }),
        "hand_over_marriage_certificate" => json!({"handed_over_on": local_date(now)}),
        _ => json!({"decision_number": format!("{n}/QĐ-UBND"), "amount_vnd": 10_000_000}),
    };
    v.as_object().cloned().unwrap_or_default()
}
