//! One adapter per agency role. Each maps the step's request (only the fields the step
//! reads) onto its agency's API as [`table`] describes it, passes the idempotency key on
//! every call, and maps the agency's answer back onto the step's outputs. Transport,
//! time-outs, the response cap and the retryable/permanent classification are the generic
//! HTTP adapter's ([`crate::http`]); which hosts may be called is the allow-list's
//! ([`crate::allow`]).
//!
//! Every agency answers in one envelope: `{"trang_thai": "hoan_thanh", "ket_qua": {…}}`
//! (done), `"tu_choi"` with `"ly_do"` (rejected), `"yeu_cau_bo_sung"` with `"ly_do"`
//! (supplement needed) or `"da_tiep_nhan"` (accepted, the answer follows by callback).

pub mod table;

use crate::allow::Allowlist;
use crate::http::{HttpAdapter, HttpConfig, permanent};
use lienthong_engine::adapter::{self, Adapter, CallFuture, Request, Response};
use serde_json::{Map, Value};
use std::time::Duration;
pub use table::{ACTIONS, ActionSpec, ROLES};

/// The envelope's status values.
pub mod status {
    pub const DONE: &str = "hoan_thanh";
    pub const REJECTED: &str = "tu_choi";
    pub const SUPPLEMENT: &str = "yeu_cau_bo_sung";
    pub const ACCEPTED: &str = "da_tiep_nhan";
}

/// How to reach one agency.
#[derive(Debug, Clone)]
pub struct AgencySettings {
    pub timeout: Duration,
    pub max_response_bytes: usize,
    pub node: String,
    pub auth: crate::auth::Auth,
}

impl Default for AgencySettings {
    fn default() -> Self {
        AgencySettings {
            timeout: Duration::from_secs(5),
            max_response_bytes: 1 << 20,
            node: String::new(),
            auth: crate::auth::Auth::None,
        }
    }
}

/// The adapter for one agency role.
#[derive(Debug, Clone)]
pub struct AgencyAdapter {
    http: HttpAdapter,
}

impl AgencyAdapter {
    /// An adapter for `role` at `base_url`, which must be on the allow-list.
    pub fn new(
        role: &str,
        base_url: &str,
        allow: &Allowlist,
        settings: &AgencySettings,
    ) -> Result<Self, String> {
        if !ROLES.contains(&role) {
            return Err(format!(
                "no adapter for agency role `{role}` (known: {})",
                ROLES.join(", ")
            ));
        }
        allow.check(base_url).map_err(|e| format!("{role}: {e}"))?;
        let mut config = HttpConfig::new(role, base_url);
        config.timeout = settings.timeout;
        config.max_response_bytes = settings.max_response_bytes;
        config.node = settings.node.clone();
        config.auth = settings.auth.clone();
        Ok(AgencyAdapter {
            http: HttpAdapter::new(config)?,
        })
    }

    async fn send(&self, r: &Request) -> adapter::Result<Response> {
        let role = self.agency();
        let spec = table::find(role, &r.action)
            .ok_or_else(|| permanent(format!("agency `{role}` has no action `{}`", r.action)))?;
        let body = to_agency(spec, r);
        let (code, bytes) = self.http.post(spec.path, &r.idempotency_key, &body).await?;
        if code == 202 && bytes.is_empty() {
            return Ok(Response::Accepted);
        }
        let answer: Value = serde_json::from_slice(&bytes).map_err(|e| {
            permanent(format!(
                "{role} answered {code} with a body that is not JSON: {e}"
            ))
        })?;
        from_agency(spec, &answer)
    }
}

impl Adapter for AgencyAdapter {
    fn agency(&self) -> &str {
        &self.http.config().agency
    }

    fn call<'a>(&'a self, request: &'a Request) -> CallFuture<'a> {
        Box::pin(self.send(request))
    }
}

fn lookup<'v>(root: &'v Value, path: &str) -> Option<&'v Value> {
    path.split('.').try_fold(root, |v, seg| v.get(seg))
}

/// The agency's request body: its own field names, filled from the step's request.
pub fn to_agency(spec: &ActionSpec, r: &Request) -> Value {
    let mut body = Map::new();
    body.insert(
        "ma_yeu_cau".into(),
        Value::String(r.idempotency_key.clone()),
    );
    for (field, path) in spec.request {
        let value = if *path == "dossier.code" {
            Some(Value::String(r.dossier_code.clone()))
        } else {
            lookup(&r.payload, path).cloned()
        };
        if let Some(v) = value {
            body.insert((*field).to_string(), v);
        }
    }
    Value::Object(body)
}

/// The engine's answer from the agency's envelope.
pub fn from_agency(spec: &ActionSpec, answer: &Value) -> adapter::Result<Response> {
    let reason = || {
        answer
            .get("ly_do")
            .and_then(Value::as_str)
            .unwrap_or("(no reason given)")
            .to_string()
    };
    match answer.get("trang_thai").and_then(Value::as_str) {
        Some(status::DONE) => {
            let result = answer.get("ket_qua").cloned().unwrap_or(Value::Null);
            let mut outputs = Map::new();
            for (output, field) in spec.response {
                let v = result.get(*field).ok_or_else(|| {
                    permanent(format!(
                        "{} answered `{}` without `ket_qua.{field}` (needed for `{output}`)",
                        spec.role, spec.action
                    ))
                })?;
                outputs.insert((*output).to_string(), v.clone());
            }
            Ok(Response::Completed { outputs })
        }
        Some(status::REJECTED) => Ok(Response::Rejected { reason: reason() }),
        Some(status::SUPPLEMENT) => Ok(Response::SupplementRequested { reason: reason() }),
        Some(status::ACCEPTED) => Ok(Response::Accepted),
        other => Err(permanent(format!(
            "{} answered `{}` with an unknown `trang_thai`: {other:?}",
            spec.role, spec.action
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn request(action: &str, payload: Value) -> Request {
        Request {
            dossier_code: "G22.99.08-261207-0001".into(),
            step: "register_birth".into(),
            agency: "civil_status".into(),
            action: action.into(),
            idempotency_key: "k1".into(),
            payload,
            attempt: 1,
        }
    }

    #[test]
    fn request_and_answer_are_translated() {
        let spec = table::find("civil_status", "register_birth").expect("spec");
        let r = request(
            "register_birth",
            json!({"form": {"child": {"given_name": "An"}, "declarant": {"full_name": "B"}}}),
        );
        let body = to_agency(spec, &r);
        assert_eq!(body["tre_em"]["given_name"], "An");
        assert_eq!(body["ma_ho_so"], "G22.99.08-261207-0001");
        assert_eq!(body["ma_yeu_cau"], "k1");
        assert!(
            body.get("giay_chung_sinh").is_none(),
            "absent reads are not sent"
        );
        let done = json!({"trang_thai": "hoan_thanh", "ket_qua": {"so_dang_ky": "12/2026", "trich_luc": {"uri": "x"}}});
        let Ok(Response::Completed { outputs }) = from_agency(spec, &done) else {
            panic!("completed expected");
        };
        assert_eq!(outputs["birth_registration_number"], "12/2026");
        let missing = json!({"trang_thai": "hoan_thanh", "ket_qua": {}});
        let e = from_agency(spec, &missing).expect_err("missing field");
        assert!(e.to_string().contains("so_dang_ky"), "{e}");
        assert!(!e.is_retryable());
        let no = json!({"trang_thai": "tu_choi", "ly_do": "sai thông tin"});
        assert_eq!(
            from_agency(spec, &no).ok(),
            Some(Response::Rejected {
                reason: "sai thông tin".into()
            })
        );
        assert!(from_agency(spec, &json!({"trang_thai": "?"})).is_err());
    }

    #[test]
    fn every_role_has_actions_and_unknown_roles_are_refused() {
        for role in ROLES {
            assert!(ACTIONS.iter().any(|a| a.role == *role), "{role}");
        }
        let allow = Allowlist::new(["127.0.0.1:9"]).expect("list");
        let e = AgencyAdapter::new(
            "tax",
            "http://127.0.0.1:9",
            &allow,
            &AgencySettings::default(),
        )
        .expect_err("unknown role");
        assert!(e.contains("tax"), "{e}");
        let e = AgencyAdapter::new(
            "residence",
            "http://localhost:9",
            &allow,
            &AgencySettings::default(),
        )
        .expect_err("not listed");
        assert!(e.contains("residence") && e.contains("allow-list"), "{e}");
    }
}
