//! Agency adapters for the lienthong engine.
//!
//! One module per agency role will implement the engine's adapter contract. Until the
//! durable engine exists this crate only exposes the agency roles the engine knows, so the
//! dependency direction `server → adapters → engine` is in place from the start.

pub use lienthong_engine::definition::catalog::{AgencyRole, Catalog};
