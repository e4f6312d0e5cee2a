//! Agency adapters for the lienthong engine, and simulators that stand in for the agencies.
//!
//! - [`http`]: the generic HTTP/JSON transport (idempotency key on every call, no
//!   redirects, a response cap, time-outs, retryable/permanent classification);
//! - [`allow`]: the allow-list every configured agency URL is checked against;
//! - [`auth`]: API keys and HMAC-signed requests with timestamps;
//! - [`config`]: agencies connected by a TOML file alone;
//! - [`agency`]: one adapter per agency role, translating steps to each agency's API;
//! - [`simulator`]: an HTTP server per agency with state, seeded faults and a ledger;
//! - [`notify`]: notifications to the citizen over simulated SMS, e-mail and VNeID gateways.

pub mod agency;
pub mod allow;
pub mod auth;
pub mod callback;
pub mod config;
pub mod http;
pub mod notify;
pub mod simulator;

pub use agency::{AgencyAdapter, AgencySettings};
pub use allow::Allowlist;
pub use http::{HttpAdapter, HttpConfig};
pub use lienthong_engine::definition::catalog::{AgencyRole, Catalog};
pub use simulator::{Behaviour, CallbackTarget, SimConfig, Simulators};
