//! The demo's closing report: dossiers per group and status, processing time in working
//! days against the legal limit and the pre-reform baseline, the on-time rate, the time each
//! agency held the files, notifications sent, and the effects per step from the simulators'
//! own ledgers (which count duplicates independently of the engine).

use lienthong_adapters::simulator::ActionFigures;
use lienthong_engine::machine::DossierStatus;
use lienthong_server::figures::pairs;
pub use lienthong_server::figures::{AgencyHeld, GroupReport};
use serde::Serialize;
use std::collections::BTreeMap;

/// The portal's Vietnamese label of a dossier status, from its API name.
fn status_label(name: &str) -> &'static str {
    serde_json::from_value::<DossierStatus>(serde_json::Value::from(name))
        .map_or("", DossierStatus::label_vi)
}

/// Days to one decimal, or a dash when there is nothing to measure.
fn days(d: Option<f64>) -> String {
    d.map_or("—".to_string(), |d| format!("{d:.1}"))
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub dossiers: usize,
    pub final_state: usize,
    pub groups: Vec<GroupReport>,
    pub agencies: Vec<AgencyHeld>,
    pub effects: Vec<ActionFigures>,
    pub total_effects: u64,
    pub duplicate_effects: u64,
    pub agency_calls: u64,
    pub notifications: BTreeMap<String, u64>,
    pub notification_failures_retried: u64,
    pub people: BTreeMap<&'static str, u64>,
    pub simulated_days: f64,
    pub elapsed_s: f64,
}

impl Report {
    /// The report as text, in Vietnamese with English alongside.
    pub fn text(&self) -> String {
        let mut o = String::new();
        let line = |o: &mut String, s: String| {
            o.push_str(&s);
            o.push('\n');
        };
        line(&mut o, "══ Báo cáo demo lienthong — demo report ══".into());
        line(
            &mut o,
            format!(
                "Hồ sơ / dossiers: {} · kết thúc / in a final state: {} · {:.1} ngày mô phỏng / simulated days in {:.0} s",
                self.dossiers, self.final_state, self.simulated_days, self.elapsed_s
            ),
        );
        for g in &self.groups {
            line(&mut o, String::new());
            line(&mut o, format!("▸ {} ({})", g.title_vi, g.procedure));
            let statuses = g
                .by_status
                .iter()
                .map(|(name, n)| format!("{} / {name} {n}", status_label(name)))
                .collect::<Vec<_>>()
                .join(", ");
            line(
                &mut o,
                format!("  hồ sơ / dossiers: {} — {}", g.dossiers, statuses),
            );
            line(
                &mut o,
                format!(
                    "  thời gian xử lý (ngày làm việc) / processing time (working days): trung vị / median {}, p90 {} — hạn luật định / legal limit {}, trước cải cách / before the reform {}",
                    days(g.median_working_days),
                    days(g.p90_working_days),
                    if g.legal_limit_days == 0 {
                        "0 (trong ngày / same day)".to_string()
                    } else {
                        g.legal_limit_days.to_string()
                    },
                    g.baseline_days.map_or("—".to_string(), |b| b.to_string())
                ),
            );
            let late = pairs(&g.breaches);
            line(
                &mut o,
                format!(
                    "  tỷ lệ đúng hạn, gồm trước hạn / on-time rate, early included: {} (trước hạn / early {}, đúng hạn / on time {}, quá hạn / late {}) — bước quá hạn / steps past their limit: {}",
                    g.on_time_rate
                        .map_or("—".to_string(), |r| format!("{:.0}%", r * 100.0)),
                    g.resolved.early,
                    g.resolved.on_time,
                    g.resolved.late,
                    if late.is_empty() {
                        "—".to_string()
                    } else {
                        late
                    }
                ),
            );
        }
        line(&mut o, String::new());
        line(
            &mut o,
            "Thời gian mỗi cơ quan giữ hồ sơ / time held by each agency (working days):".into(),
        );
        for a in &self.agencies {
            line(
                &mut o,
                format!(
                    "  {:<18} {:>4} bước / steps · tổng / total {:>6.1} · trung bình / mean {:.2}",
                    a.agency, a.steps, a.working_days, a.mean_per_step
                ),
            );
        }
        line(&mut o, String::new());
        line(
            &mut o,
            "Sổ hiệu lực của cơ quan (mô phỏng) / effects per step, from the simulators' ledgers:"
                .into(),
        );
        for f in &self.effects {
            line(
                &mut o,
                format!(
                    "  {:<18} {:<30} lượt gọi / calls {:>4} · hiệu lực / effects {:>4} · trùng / duplicates {}",
                    f.agency, f.action, f.calls, f.effects, f.duplicate_effects
                ),
            );
        }
        line(
            &mut o,
            format!(
                "  tổng / total: {} lượt gọi / calls, {} hiệu lực / effects, {} trùng lặp / duplicate effects",
                self.agency_calls, self.total_effects, self.duplicate_effects
            ),
        );
        line(&mut o, String::new());
        let notes = pairs(&self.notifications);
        line(
            &mut o,
            format!(
                "Thông báo / notifications: {} (lỗi cổng đã gửi lại / gateway failures retried: {})",
                notes, self.notification_failures_retried
            ),
        );
        let people = pairs(&self.people);
        line(
            &mut o,
            format!("Cán bộ và công dân / officers and citizens: {}", people),
        );
        o
    }
}
