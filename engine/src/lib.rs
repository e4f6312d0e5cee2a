//! lienthong engine: procedure definitions, identifiers, and (later) the durable state machine.
pub mod definition;
pub mod ident;
