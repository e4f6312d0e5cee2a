//! The lienthong server: the REST API with authentication, authorisation, limits and audit
//! (`http`), the figures it reports (`figures`), the masking of personal data in everything
//! it writes out (`mask`), traces, metrics and logs (`telemetry`), the audit check
//! (`audit`) and the server's configuration (`config`).

pub mod audit;
pub mod config;
pub mod figures;
pub mod http;
pub mod mask;
pub mod telemetry;
pub mod web;
