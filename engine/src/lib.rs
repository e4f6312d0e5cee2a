//! lienthong engine: procedure definitions, the Vietnamese working-day calendar, identifiers,
//! and (later) the durable state machine.
pub mod calendar;
pub mod definition;
pub mod ident;
