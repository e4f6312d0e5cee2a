//! Notifying the citizen (and agencies, and operators): messages rendered in Vietnamese with
//! an English version, sent through gateways — SMS, e-mail, VNeID in-app — that are
//! simulated here and real by configuration. A gateway failure returns an error, which
//! leaves the notification in the engine's outbox for a later attempt; it never holds up the
//! dossier, whose transition has already committed.

use crate::simulator::behaviour::roll;
use chrono::DateTime;
use lienthong_engine::machine::{Audience, DossierId, Effect, Template};
use lienthong_engine::runtime::Notifier;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// How a message travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Sms,
    Email,
    Vneid,
    /// The agency's or operators' work queue.
    Queue,
}

/// One message handed to a gateway.
#[derive(Debug, Clone, Serialize)]
pub struct Sent {
    pub dossier: String,
    pub channel: Channel,
    pub template: String,
    pub vi: String,
    pub en: String,
}

/// Renders a notification: (Vietnamese, English).
pub fn render(template: &Template, data: &Value) -> (String, String) {
    let code = data["code"].as_str().unwrap_or("");
    let date = |field: &str| {
        data[field]
            .as_str()
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
            .map(|d| d.format("%d/%m/%Y").to_string())
            .unwrap_or_else(|| "—".into())
    };
    let reason = data["reason"].as_str().unwrap_or("");
    match template {
        Template::Receipt => (
            format!(
                "Hồ sơ {code} đã được tiếp nhận. Ngày hẹn trả kết quả: {}.",
                date("appointment")
            ),
            format!(
                "Dossier {code} received. Results expected on {}.",
                date("appointment")
            ),
        ),
        Template::SupplementRequested => (
            format!(
                "Hồ sơ {code} cần bổ sung: {reason}. Hạn bổ sung: {}.",
                date("until")
            ),
            format!(
                "Dossier {code} needs more papers: {reason}. Supply them by {}.",
                date("until")
            ),
        ),
        Template::Refused => (
            format!("Hồ sơ {code} không được tiếp nhận: {reason}."),
            format!("Dossier {code} was not accepted: {reason}."),
        ),
        Template::DeadlineWarning => (
            format!("Hồ sơ {code} sắp đến hạn xử lý."),
            format!("Dossier {code} is close to its deadline."),
        ),
        Template::ApologySlip => (
            format!(
                "Phiếu xin lỗi và hẹn lại ngày trả kết quả: hồ sơ {code} bị chậm. Ngày hẹn mới: {}.",
                date("new_appointment")
            ),
            format!(
                "Apology slip: dossier {code} is late. New appointment date: {}.",
                date("new_appointment")
            ),
        ),
        Template::IncidentOpened => (
            format!(
                "Sự cố khi xử lý hồ sơ {code}: {}.",
                data["message"].as_str().unwrap_or("")
            ),
            format!(
                "Incident on dossier {code}: {}.",
                data["message"].as_str().unwrap_or("")
            ),
        ),
        Template::Stopped => (
            format!("Hồ sơ {code} dừng xử lý: {reason}."),
            format!("Processing of dossier {code} stopped: {reason}."),
        ),
        Template::Withdrawn => (
            format!("Hồ sơ {code} đã được rút theo yêu cầu."),
            format!("Dossier {code} withdrawn at your request."),
        ),
        Template::Decided => (
            format!("Hồ sơ {code} đã có kết quả."),
            format!("The results of dossier {code} are ready."),
        ),
    }
}

/// A notifier over simulated gateways, failing `fail_percent` of sends (seeded).
#[derive(Debug)]
pub struct GatewayNotifier {
    /// The channels a citizen is reached on.
    pub citizen_channels: Vec<Channel>,
    fail_percent: u64,
    seed: u64,
    attempts: AtomicU64,
    failures: AtomicU64,
    sent: Mutex<Vec<Sent>>,
    /// Notifications delivered, once each whatever the number of channels.
    delivered: Mutex<BTreeMap<String, u64>>,
}

impl GatewayNotifier {
    pub fn new(seed: u64, fail_percent: u64) -> Self {
        GatewayNotifier {
            citizen_channels: vec![Channel::Vneid, Channel::Sms],
            fail_percent,
            seed,
            attempts: AtomicU64::new(0),
            failures: AtomicU64::new(0),
            sent: Mutex::new(Vec::new()),
            delivered: Mutex::new(BTreeMap::new()),
        }
    }

    /// Messages delivered so far.
    pub fn sent(&self) -> Vec<Sent> {
        self.sent.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Gateway failures so far (each was retried from the outbox).
    pub fn failures(&self) -> u64 {
        self.failures.load(Ordering::Relaxed)
    }

    /// Notifications delivered per template (each counted once, not once per channel).
    pub fn by_template(&self) -> BTreeMap<String, u64> {
        self.delivered.lock().map(|d| d.clone()).unwrap_or_default()
    }
}

impl Notifier for GatewayNotifier {
    fn send(&self, dossier: &DossierId, effect: &Effect) -> Result<(), String> {
        let Effect::Notify {
            audience,
            template,
            data,
            ..
        } = effect
        else {
            return Ok(());
        };
        let n = self.attempts.fetch_add(1, Ordering::Relaxed);
        if roll(self.seed, &["gateway", &dossier.0], n, 100) < self.fail_percent {
            self.failures.fetch_add(1, Ordering::Relaxed);
            return Err("gateway unavailable (simulated)".into());
        }
        let (vi, en) = render(template, data);
        let name = serde_json::to_value(template)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        let channels = match audience {
            Audience::Citizen => self.citizen_channels.clone(),
            Audience::Agency | Audience::Operators => vec![Channel::Queue],
        };
        if let Ok(mut d) = self.delivered.lock() {
            *d.entry(name.clone()).or_default() += 1;
        }
        let Ok(mut sent) = self.sent.lock() else {
            return Err("notifier poisoned".into());
        };
        for channel in channels {
            sent.push(Sent {
                dossier: dossier.0.clone(),
                channel,
                template: name.clone(),
                vi: vi.clone(),
                en: en.clone(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn apology_slips_carry_the_new_date_in_vietnamese() {
        let (vi, en) = render(
            &Template::ApologySlip,
            &json!({"code": "G22-261207-0001", "new_appointment": "2026-12-10T17:00:00+07:00"}),
        );
        assert!(vi.contains("xin lỗi") && vi.contains("10/12/2026"), "{vi}");
        assert!(en.contains("10/12/2026"), "{en}");
    }

    #[test]
    fn failed_sends_are_errors_and_not_recorded() {
        let n = GatewayNotifier::new(1, 100);
        let e = Effect::Notify {
            audience: Audience::Citizen,
            template: Template::Decided,
            step: None,
            data: json!({"code": "X"}),
        };
        assert!(n.send(&DossierId("d".into()), &e).is_err());
        assert!(n.sent().is_empty());
        let ok = GatewayNotifier::new(1, 0);
        assert!(ok.send(&DossierId("d".into()), &e).is_ok());
        assert_eq!(ok.sent().len(), 2, "VNeID and SMS");
        assert_eq!(
            ok.by_template().get("decided"),
            Some(&1),
            "one notification"
        );
    }
}
