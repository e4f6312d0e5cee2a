//! Shared fixtures: the birth, death and marriage groups, a realistic form for each, and the
//! outputs each agency action writes back.

use lienthong_engine::definition::{Catalog, Procedure, validate_source};
use serde_json::{Map, Value, json};

/// The birth, death and marriage groups, as shipped in `workflows/`.
pub const WORKFLOWS: [(&str, &str); 3] = [
    (
        "birth-residence-bhyt.yaml",
        include_str!("../../workflows/birth-residence-bhyt.yaml"),
    ),
    (
        "death-residence-funeral-survivor.yaml",
        include_str!("../../workflows/death-residence-funeral-survivor.yaml"),
    ),
    (
        "marital-status-marriage.yaml",
        include_str!("../../workflows/marital-status-marriage.yaml"),
    ),
];

/// Every definition file under `workflows/` (every version; not the `*.test.yaml` cases
/// nor the calendar notices under `workflows/calendar/`), sorted.
pub fn definition_files() -> Vec<std::path::PathBuf> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../workflows");
    let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(dir)
        .map(|entries| entries.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.retain(|p| {
        p.extension().is_some_and(|e| e == "yaml") && !p.to_string_lossy().ends_with(".test.yaml")
    });
    files.sort();
    files
}

/// Every agency role with an adapter (the adapters crate's list).
pub use lienthong_adapters::agency::ROLES;

/// Those groups, validated. Panics if a shipped definition is invalid (a test failure).
pub fn procedures() -> Vec<Procedure> {
    WORKFLOWS
        .iter()
        .map(|(name, text)| {
            validate_source(name, text.as_bytes(), &Catalog::builtin())
                .procedure
                .unwrap_or_else(|| panic!("{name} is invalid"))
        })
        .collect()
}

/// A valid filing of each group: `(procedure id, bundle, form)`.
pub fn forms() -> Vec<(&'static str, Option<&'static str>, Value)> {
    let birth = json!({
        "child": {"family_name": "Nguyễn", "given_name": "An", "birth_date": "2026-11-20", "sex": "female",
                  "place_of_birth": "Hà Nội", "home_town": "Nam Định", "ethnicity": "Kinh", "nationality": "Việt Nam"},
        "parents": {"mother": {"full_name": "Trần Thị Bình", "nationality": "Việt Nam"}},
        "declarant": {"full_name": "Trần Thị Bình", "personal_id": "001190012345", "relationship": "mẹ"},
        "birth_certificate": {"kind": "giay_chung_sinh", "uri": "doc://1", "sha256": "a".repeat(64)}
    });
    let death = json!({
        "deceased": {"full_name": "Hoàng Văn Em", "personal_id": "036048012345", "birth_date": "1948-05-01", "sex": "male",
                     "date_of_death": "2026-11-20", "place_of_death": "Nam Định", "insured": true},
        "declarant": {"full_name": "Hoàng Thị Gấm", "personal_id": "036175012345", "relationship": "con"},
        "death_notice": {"kind": "giay_bao_tu", "uri": "doc://2", "sha256": "b".repeat(64)}
    });
    let marriage = json!({
        "partner_a": {"full_name": "Lê Văn Cường", "personal_id": "079095012345", "birth_date": "1995-03-02", "sex": "male"},
        "partner_b": {"full_name": "Phạm Thị Dung", "personal_id": "079197012345", "birth_date": "1997-07-09", "sex": "female"},
        "consent": {"partner_a": true, "partner_b": true}
    });
    vec![
        ("birth-residence-bhyt", None, birth),
        ("death-residence-funeral-survivor", Some("four"), death),
        ("marital-status-marriage", None, marriage),
    ]
}

/// What an agency writes back for an action (matching the steps' declared `writes`).
pub fn outputs(action: &str) -> Map<String, Value> {
    let v = match action {
        "register_birth" => json!({"birth_registration_number": "KS-1"}),
        "issue_personal_id" => json!({"personal_id": "001326012345"}),
        "register_permanent_residence" => json!({"residence_record_id": "CT-1"}),
        "issue_bhyt_card" => {
            json!({"social_insurance_number": "0123456789", "bhyt_card_number": "TE1"})
        }
        "register_death" => json!({"death_registration_number": "KT-1"}),
        "funeral_allowance" | "survivor_benefit" | "funeral_support_decision" => {
            json!({"decision_number": "QD-1", "amount_vnd": 1000})
        }
        "check_marital_status" => json!({"marital_status": "single", "source": "database"}),
        "register_marriage" => {
            json!({"marriage_certificate_number": "KH-1", "registered_on": "2026-11-24", "handover_deferred": false})
        }
        _ => json!({}),
    };
    v.as_object().cloned().unwrap_or_default()
}
