//! Reading an agency's callback body: which request it answers, and the answer. Agencies on
//! a built-in API answer in their envelope (`ma_ho_so`, `ma_yeu_cau`, `trang_thai`,
//! `ket_qua` or `ly_do`); agencies on the generic API in the engine's wire format
//! (`dossier_code`, `idempotency_key`, and an [`adapter::Response`] under `answer`).

use crate::agency::{self, table};
use lienthong_engine::adapter::{self, Response};
use serde_json::Value;

/// `(dossier code, idempotency key)` of the request a callback answers.
pub fn ids(body: &Value) -> Result<(String, String), String> {
    let get = |a: &str, b: &str| {
        body.get(a)
            .or_else(|| body.get(b))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let code = get("ma_ho_so", "dossier_code")
        .ok_or("the callback names no dossier (`ma_ho_so` or `dossier_code`)")?;
    let key = get("ma_yeu_cau", "idempotency_key")
        .ok_or("the callback names no request (`ma_yeu_cau` or `idempotency_key`)")?;
    Ok((code, key))
}

/// The answer a callback carries for `agency`'s `action`.
pub fn answer(agency: &str, action: &str, body: &Value) -> Result<Response, String> {
    if body.get("trang_thai").is_some() {
        let spec = table::find(agency, action)
            .ok_or_else(|| format!("agency `{agency}` has no action `{action}`"))?;
        return agency::from_agency(spec, body).map_err(|e| match e {
            adapter::Error::Permanent { message } | adapter::Error::Retryable { message, .. } => {
                message
            }
        });
    }
    let a = body
        .get("answer")
        .ok_or("the callback carries no answer (`trang_thai` or `answer`)")?;
    serde_json::from_value(a.clone()).map_err(|e| format!("answer: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn both_formats_are_read() {
        let b = json!({"ma_ho_so": "C", "ma_yeu_cau": "K", "trang_thai": "hoan_thanh",
                       "ket_qua": {"ma_ho_so_cu_tru": "CT-1"}});
        assert_eq!(ids(&b), Ok(("C".into(), "K".into())));
        let Ok(Response::Completed { outputs }) =
            answer("residence", "register_permanent_residence", &b)
        else {
            panic!("completed expected");
        };
        assert_eq!(outputs["residence_record_id"], "CT-1");
        let g = json!({"dossier_code": "C", "idempotency_key": "K",
                       "answer": {"outcome": "rejected", "reason": "no"}});
        assert_eq!(
            answer("land", "x", &g),
            Ok(Response::Rejected {
                reason: "no".into()
            })
        );
        assert!(ids(&json!({"ma_ho_so": "C"})).is_err());
        assert!(answer("residence", "nope", &b).is_err());
    }
}
