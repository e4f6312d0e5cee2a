//! Agency adapters for the lienthong engine.
//!
//! [`http`] is the generic HTTP/JSON adapter every agency connection builds on; the
//! per-agency adapters and their simulators come on top of it.

pub mod http;

pub use http::{HttpAdapter, HttpConfig};
pub use lienthong_engine::definition::catalog::{AgencyRole, Catalog};
