//! The generic HTTP/JSON adapter: one agency reached over HTTP with the engine's wire format.
//!
//! A call is `POST {base}/{action}` with the JSON body
//! `{"idempotency_key", "dossier_code", "step", "attempt", "payload"}` and the headers
//! `Idempotency-Key` (the same on every retry of a step's round) and `X-Lienthong-Node`.
//! The agency answers with an [`adapter::Response`] in JSON (`{"outcome": "completed",
//! "outputs": {…}}`, `accepted`, `rejected` with a `reason`, `supplement_requested` with a
//! `reason`); `202 Accepted` with no body means accepted.
//!
//! Failures are classified for the engine's retry policy: connection errors, time-outs, 408,
//! 429 (with its `Retry-After`) and 5xx are retryable; other 4xx, redirects (never followed),
//! oversized or malformed answers are permanent.

use crate::auth::{self, Auth};
use lienthong_engine::adapter::{self, Adapter, CallFuture, Request, Response};
use lienthong_engine::clock::{Clock, SystemClock};
use serde_json::json;
use std::time::Duration;

/// Where and how to reach one agency.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// The agency role served (e.g. `civil_status`).
    pub agency: String,
    /// Base URL, without a trailing slash (e.g. `http://127.0.0.1:7001/civil_status`).
    pub base_url: String,
    /// Longest wait for one answer, connection included.
    pub timeout: Duration,
    /// Largest answer accepted, in bytes.
    pub max_response_bytes: usize,
    /// The calling node's name, sent for the agency's logs.
    pub node: String,
    /// How the engine proves who it is.
    pub auth: Auth,
}

impl HttpConfig {
    pub fn new(agency: &str, base_url: &str) -> Self {
        HttpConfig {
            agency: agency.to_string(),
            base_url: base_url.trim_end_matches('/').to_string(),
            timeout: Duration::from_secs(5),
            max_response_bytes: 1 << 20,
            node: String::new(),
            auth: Auth::None,
        }
    }
}

/// An agency over HTTP/JSON.
#[derive(Debug, Clone)]
pub struct HttpAdapter {
    config: HttpConfig,
    client: reqwest::Client,
}

impl HttpAdapter {
    pub fn new(config: HttpConfig) -> Result<Self, String> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .no_proxy()
            .build()
            .map_err(|e| format!("HTTP client for `{}`: {e}", config.agency))?;
        Ok(HttpAdapter { config, client })
    }

    /// The configuration this adapter was built with.
    pub fn config(&self) -> &HttpConfig {
        &self.config
    }

    async fn send(&self, r: &Request) -> adapter::Result<Response> {
        let body = json!({
            "idempotency_key": r.idempotency_key,
            "dossier_code": r.dossier_code,
            "step": r.step,
            "attempt": r.attempt,
            "payload": r.payload,
        });
        let (code, bytes) = self.post(&r.action, &r.idempotency_key, &body).await?;
        if code == 202 && bytes.is_empty() {
            return Ok(Response::Accepted);
        }
        serde_json::from_slice(&bytes).map_err(|e| {
            permanent(format!(
                "{} answered {code} with a body that is not an answer: {e}",
                self.config.agency
            ))
        })
    }

    /// `POST {base}/{path}` with a JSON body and the idempotency key; the answer's status
    /// and body when the agency answered 2xx, a classified error otherwise.
    pub async fn post(
        &self,
        path: &str,
        idempotency_key: &str,
        body: &serde_json::Value,
    ) -> adapter::Result<(u16, Vec<u8>)> {
        let url = format!("{}/{}", self.config.base_url, path.trim_start_matches('/'));
        let bytes = serde_json::to_vec(body).map_err(|e| {
            permanent(format!(
                "{}: request not serialisable: {e}",
                self.config.agency
            ))
        })?;
        let mut request = self
            .client
            .post(&url)
            .header("Idempotency-Key", idempotency_key)
            .header("X-Lienthong-Node", &self.config.node)
            .header(reqwest::header::CONTENT_TYPE, "application/json");
        match &self.config.auth {
            Auth::None => {}
            Auth::ApiKey { header, key } => request = request.header(header.as_str(), key.expose()),
            Auth::Hmac { key_id, secret } => {
                let signed_path = reqwest::Url::parse(&url)
                    .map(|u| u.path().to_string())
                    .map_err(|e| permanent(format!("{}: {e}", self.config.agency)))?;
                let ts = SystemClock.now() / 1_000;
                request = request
                    .header(auth::KEY_ID, key_id.as_str())
                    .header(auth::TIMESTAMP, ts.to_string())
                    .header(
                        auth::SIGNATURE,
                        auth::sign(secret, ts, "POST", &signed_path, &bytes),
                    );
            }
        }
        let mut answer = request
            .body(bytes)
            .send()
            .await
            .map_err(|e| retryable(format!("{}: {e}", self.config.agency), None))?;
        let status = answer.status();
        let retry_after = answer
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        // Read at most the cap, chunk by chunk: an agency cannot make the engine buffer more.
        let mut bytes = Vec::new();
        loop {
            match answer.chunk().await {
                Ok(Some(chunk)) => {
                    if bytes.len() + chunk.len() > self.config.max_response_bytes {
                        return Err(permanent(format!(
                            "{} answered more than {} bytes",
                            self.config.agency, self.config.max_response_bytes
                        )));
                    }
                    bytes.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => {
                    return Err(retryable(
                        format!("{}: answer cut off: {e}", self.config.agency),
                        None,
                    ));
                }
            }
        }
        let code = status.as_u16();
        match code {
            200..=299 => Ok((code, bytes)),
            408 | 429 | 500..=599 => Err(retryable(
                format!("{} answered {code}", self.config.agency),
                retry_after,
            )),
            300..=399 => Err(permanent(format!(
                "{} answered a redirect ({code}); redirects are not followed",
                self.config.agency
            ))),
            _ => Err(permanent(format!(
                "{} refused the request ({code}): {}",
                self.config.agency,
                String::from_utf8_lossy(&bytes[..bytes.len().min(200)])
            ))),
        }
    }
}

pub(crate) fn retryable(message: String, retry_after: Option<Duration>) -> adapter::Error {
    adapter::Error::Retryable {
        message,
        retry_after,
    }
}

pub(crate) fn permanent(message: String) -> adapter::Error {
    adapter::Error::Permanent { message }
}

impl Adapter for HttpAdapter {
    fn agency(&self) -> &str {
        &self.config.agency
    }

    fn call<'a>(&'a self, request: &'a Request) -> CallFuture<'a> {
        Box::pin(self.send(request))
    }
}
