//! Simulators for the agencies the shipped definitions declare as data (no built-in API):
//! one generic-wire-format agency per declared role, reached through the generic HTTP
//! adapter. The payment platform answers at once; the judicial-record office accepts each
//! lookup and answers later through a signed callback, as the built-in agencies may.

use anyhow::Context as _;
use lienthong_adapters::auth::Secret;
use lienthong_adapters::http::{HttpAdapter, HttpConfig};
use lienthong_adapters::simulator::generic::{GenericAgency, GenericSpec};
use lienthong_adapters::simulator::{ActionFigures, CallbackTarget};
use lienthong_engine::adapter::Adapter;
use lienthong_engine::definition::Procedure;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// What each declared action answers.
fn outputs(action: &str) -> Option<Value> {
    match action {
        "confirm_payment" => {
            Some(json!({"payment_reference": "TT-DEMO", "paid_amount_vnd": 200_000}))
        }
        "lookup_criminal_records" => {
            Some(json!({"has_convictions": false, "lookup_reference": "LLTP-TRA-CUU"}))
        }
        _ => None,
    }
}

/// Roles whose answers come later, by callback.
const ANSWER_LATER: &[&str] = &["judicial_records"];

/// The running declared agencies.
pub struct Declared {
    pub agencies: Vec<Arc<GenericAgency>>,
}

impl Declared {
    /// Starts one simulator per role declared in `procedures` with an automated action,
    /// and returns the adapters that reach them and the callback secrets the server needs.
    pub async fn start(
        procedures: &[Procedure],
        callbacks: &str,
        seed: u64,
        timeout: Duration,
    ) -> anyhow::Result<(Self, Vec<Arc<dyn Adapter>>, BTreeMap<String, Secret>)> {
        let mut agencies = Vec::new();
        let mut adapters: Vec<Arc<dyn Adapter>> = Vec::new();
        let mut secrets = BTreeMap::new();
        for decl in procedures.iter().flat_map(|p| p.agencies.iter()) {
            let actions: BTreeMap<String, Value> = decl
                .actions
                .iter()
                .filter_map(|a| outputs(&a.id).map(|o| (a.id.to_string(), o)))
                .collect();
            if actions.is_empty()
                || agencies
                    .iter()
                    .any(|a: &Arc<GenericAgency>| decl.id == a.spec.role)
            {
                continue;
            }
            let spec = GenericSpec {
                role: decl.id.to_string(),
                actions,
                callback_delay: Duration::from_millis(400),
            };
            let agency = GenericAgency::start(spec, 0)
                .await
                .map_err(anyhow::Error::msg)?;
            if ANSWER_LATER.contains(&decl.id.as_str()) {
                let secret = Secret::new(format!("demo-{seed}-{}", decl.id));
                secrets.insert(decl.id.to_string(), secret.clone());
                agency.answer_later(CallbackTarget {
                    url: callbacks.to_string(),
                    secrets: BTreeMap::from([(decl.id.to_string(), secret)]),
                });
            }
            let mut config = HttpConfig::new(&decl.id, &agency.base_url());
            config.timeout = timeout;
            config.node = "demo-1".into();
            let adapter = HttpAdapter::new(config)
                .map_err(anyhow::Error::msg)
                .with_context(|| format!("adapter for `{}`", decl.id))?;
            adapters.push(Arc::new(adapter));
            agencies.push(agency);
        }
        Ok((Declared { agencies }, adapters, secrets))
    }

    /// Every declared agency's figures, per action.
    pub fn figures(&self) -> Vec<ActionFigures> {
        self.agencies.iter().flat_map(|a| a.figures()).collect()
    }

    pub fn stop(&self) {
        for a in &self.agencies {
            a.stop();
        }
    }
}
