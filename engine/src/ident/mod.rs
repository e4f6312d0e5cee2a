//! Identifiers: the 12-digit personal identification number, the dossier code, and the
//! administrative units in force.
pub mod dossier_code;
pub mod personal_id;
mod provinces;
pub mod units;

pub use dossier_code::DossierCode;
pub use personal_id::{PersonalId, Sex};
