//! Notifying the citizen (and agencies, and operators): messages rendered in Vietnamese with
//! an English version, sent through gateways — SMS, e-mail, VNeID in-app — that are
//! simulated here and real by configuration. A gateway failure returns an error, which
//! leaves the notification in the engine's outbox for a later attempt; it never holds up the
//! dossier, whose transition has already committed.

use crate::simulator::behaviour::roll;
use lienthong_engine::machine::{Audience, DossierId, Effect};
use lienthong_engine::runtime::Notifier;
use serde::Serialize;
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

/// Notifications are rendered by the engine's one-stop documents.
pub use lienthong_engine::documents::render;

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
    use lienthong_engine::machine::Template;
    use serde_json::json;

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
