//! Identifiers: the 12-digit personal identification number and the dossier code.
pub mod dossier_code;
pub mod personal_id;
mod provinces;

pub use dossier_code::DossierCode;
pub use personal_id::{PersonalId, Sex};
