//! lienthong engine: procedure definitions, the Vietnamese working-day calendar, identifiers,
//! and the pure state machine that carries a dossier through its procedure.
pub mod adapter;
pub mod calendar;
pub mod cases;
pub mod clock;
pub mod definition;
pub mod documents;
pub mod ident;
pub mod machine;
pub mod report;
pub mod runtime;
pub mod store;
