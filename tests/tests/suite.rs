//! The integration suite, one test binary: each module is one concern's tests (linking one
//! binary instead of one per file saves CI most of its link time). Shared helpers live in
//! the `*support` modules.

mod api_support;
mod store_support;
mod support;
mod web_support;

mod agencies;
mod api_access;
mod api_admin_scope;
mod api_flow;
mod api_observe;
mod api_refusals;
mod api_units;
mod callbacks;
mod corpus;
mod crashes;
mod filing;
mod graph;
mod group_commit;
mod handover;
mod hostile;
mod interleavings;
mod layout;
mod runtime;
mod schedules;
mod schema;
mod store;
mod supplements;
mod tasks;
mod web;
mod web_security;
mod zombie;
