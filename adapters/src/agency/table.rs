//! What each agency's API looks like: for every (role, action) the engine may ask for, the
//! path on the agency's system, how the step's request maps onto the agency's fields, and
//! how the agency's answer maps back onto the step's declared outputs.
//!
//! The agencies' systems speak their own vocabulary (Vietnamese field names, as the civil
//! status, residence and social-insurance systems do); the engine's steps speak the
//! definition's. This table is the whole translation, so a reviewer can read it in one place.

/// One action of one agency.
#[derive(Debug, Clone, Copy)]
pub struct ActionSpec {
    /// Agency role (as in the catalogue).
    pub role: &'static str,
    /// The step's `action:`.
    pub action: &'static str,
    /// Path on the agency's system, appended to the configured base URL.
    pub path: &'static str,
    /// `(agency field, engine path)`: the engine path is read from the step's request
    /// (`form.…`, `steps.<step>.<output>`, `dossier.code`).
    pub request: &'static [(&'static str, &'static str)],
    /// `(step output, agency field)`: the agency's result field that fills each output.
    pub response: &'static [(&'static str, &'static str)],
}

const fn spec(
    role: &'static str,
    action: &'static str,
    path: &'static str,
    request: &'static [(&'static str, &'static str)],
    response: &'static [(&'static str, &'static str)],
) -> ActionSpec {
    ActionSpec {
        role,
        action,
        path,
        request,
        response,
    }
}

/// Every action of every agency role.
pub const ACTIONS: &[ActionSpec] = &[
    // Commune civil-status officer, on the Ministry of Justice's civil-status software.
    spec(
        "civil_status",
        "register_birth",
        "ho-tich/khai-sinh",
        &[
            ("ma_ho_so", "dossier.code"),
            ("tre_em", "form.child"),
            ("cha_me", "form.parents"),
            ("nguoi_yeu_cau", "form.declarant"),
            ("giay_chung_sinh", "form.birth_certificate"),
        ],
        &[
            ("birth_registration_number", "so_dang_ky"),
            ("birth_extract", "trich_luc"),
        ],
    ),
    spec(
        "civil_status",
        "register_death",
        "ho-tich/khai-tu",
        &[
            ("ma_ho_so", "dossier.code"),
            ("nguoi_chet", "form.deceased"),
            ("nguoi_yeu_cau", "form.declarant"),
            ("giay_bao_tu", "form.death_notice"),
        ],
        &[
            ("death_registration_number", "so_dang_ky"),
            ("death_extract", "trich_luc"),
        ],
    ),
    spec(
        "civil_status",
        "check_marital_status",
        "ho-tich/tinh-trang-hon-nhan",
        &[
            ("ma_ho_so", "dossier.code"),
            ("ben_a", "form.partner_a"),
            ("ben_b", "form.partner_b"),
        ],
        &[
            ("marital_status", "tinh_trang"),
            ("source", "nguon"),
            ("looked_up_at", "thoi_diem_tra_cuu"),
            ("lookup_reference", "so_phieu_tra_cuu"),
        ],
    ),
    spec(
        "civil_status",
        "register_marriage",
        "ho-tich/ket-hon",
        &[
            ("ma_ho_so", "dossier.code"),
            ("ben_a", "form.partner_a"),
            ("ben_b", "form.partner_b"),
            ("dong_y", "form.consent"),
            ("ngay_to_chuc", "form.ceremony_date"),
        ],
        &[
            ("marriage_certificate_number", "so_giay_chung_nhan"),
            ("registered_on", "ngay_dang_ky"),
            ("handover_deferred", "hoan_trao_giay"),
        ],
    ),
    // National population database (Ministry of Public Security).
    spec(
        "population_db",
        "issue_personal_id",
        "dan-cu/cap-so-dinh-danh",
        &[
            ("ma_ho_so", "dossier.code"),
            ("cong_dan", "form.child"),
            ("cha_me", "form.parents"),
            (
                "so_dang_ky_khai_sinh",
                "steps.register_birth.birth_registration_number",
            ),
        ],
        &[("personal_id", "so_dinh_danh")],
    ),
    spec(
        "population_db",
        "mark_deceased",
        "dan-cu/cap-nhat-da-chet",
        &[
            ("ma_ho_so", "dossier.code"),
            ("so_dinh_danh", "form.deceased.personal_id"),
            (
                "so_dang_ky_khai_tu",
                "steps.register_death.death_registration_number",
            ),
        ],
        &[],
    ),
    // Police residence management.
    spec(
        "residence",
        "register_permanent_residence",
        "cu-tru/dang-ky-thuong-tru",
        &[
            ("ma_ho_so", "dossier.code"),
            ("cong_dan", "form.child"),
            ("cha_me", "form.parents"),
            ("noi_cu_tru", "form.residence"),
            ("so_dinh_danh", "steps.issue_personal_id.personal_id"),
            (
                "so_dang_ky_khai_sinh",
                "steps.register_birth.birth_registration_number",
            ),
        ],
        &[("residence_record_id", "ma_ho_so_cu_tru")],
    ),
    spec(
        "residence",
        "remove_permanent_residence",
        "cu-tru/xoa-thuong-tru",
        &[
            ("ma_ho_so", "dossier.code"),
            ("so_dinh_danh", "form.deceased.personal_id"),
            ("noi_cu_tru", "form.deceased.residence"),
            ("trich_luc_khai_tu", "steps.register_death.death_extract"),
        ],
        &[],
    ),
    // Vietnam Social Security.
    spec(
        "social_insurance",
        "issue_bhyt_card",
        "bhxh/cap-the-bhyt-tre-em",
        &[
            ("ma_ho_so", "dossier.code"),
            ("tre_em", "form.child"),
            ("cha_me", "form.parents"),
            ("bao_hiem", "form.insurance"),
            ("so_dinh_danh", "steps.issue_personal_id.personal_id"),
            (
                "so_dang_ky_khai_sinh",
                "steps.register_birth.birth_registration_number",
            ),
        ],
        &[
            ("social_insurance_number", "ma_so_bhxh"),
            ("bhyt_card_number", "so_the_bhyt"),
            ("card_valid_until", "han_the_den"),
        ],
    ),
    spec(
        "social_insurance",
        "funeral_allowance",
        "bhxh/tro-cap-mai-tang",
        &[
            ("ma_ho_so", "dossier.code"),
            ("nguoi_chet", "form.deceased"),
            ("nguoi_yeu_cau", "form.declarant"),
            ("che_do", "form.benefit"),
            ("trich_luc_khai_tu", "steps.register_death.death_extract"),
        ],
        &[
            ("decision_number", "so_quyet_dinh"),
            ("amount_vnd", "so_tien"),
        ],
    ),
    spec(
        "social_insurance",
        "survivor_benefit",
        "bhxh/che-do-tu-tuat",
        &[
            ("ma_ho_so", "dossier.code"),
            ("nguoi_chet", "form.deceased"),
            ("than_nhan", "form.survivors"),
            ("che_do", "form.benefit"),
            ("trich_luc_khai_tu", "steps.register_death.death_extract"),
        ],
        &[
            ("decision_number", "so_quyet_dinh"),
            ("benefit_kind", "loai_tro_cap"),
            ("amount_vnd", "so_tien"),
        ],
    ),
    // Social-assistance office (commune people's committee / labour department).
    spec(
        "funeral_support",
        "funeral_support_decision",
        "bao-tro-xa-hoi/ho-tro-mai-tang",
        &[
            ("ma_ho_so", "dossier.code"),
            ("nguoi_chet", "form.deceased"),
            ("nguoi_yeu_cau", "form.declarant"),
            ("trich_luc_khai_tu", "steps.register_death.death_extract"),
        ],
        &[
            ("decision_number", "so_quyet_dinh"),
            ("amount_vnd", "so_tien"),
        ],
    ),
    // The health facility that signed the birth certificate or the death notice.
    spec(
        "health_facility",
        "confirm_birth_certificate",
        "y-te/xac-nhan-giay-chung-sinh",
        &[
            ("ma_ho_so", "dossier.code"),
            ("giay_chung_sinh", "form.birth_certificate"),
        ],
        &[("confirmed", "xac_nhan"), ("facility_code", "ma_co_so")],
    ),
    spec(
        "health_facility",
        "confirm_death_notice",
        "y-te/xac-nhan-giay-bao-tu",
        &[
            ("ma_ho_so", "dossier.code"),
            ("giay_bao_tu", "form.death_notice"),
        ],
        &[("confirmed", "xac_nhan"), ("facility_code", "ma_co_so")],
    ),
];

/// The agency roles with an adapter.
pub const ROLES: &[&str] = &[
    "civil_status",
    "population_db",
    "residence",
    "social_insurance",
    "funeral_support",
    "health_facility",
];

/// The spec of one action of one role.
pub fn find(role: &str, action: &str) -> Option<&'static ActionSpec> {
    ACTIONS
        .iter()
        .find(|a| a.role == role && a.action == action)
}

/// The spec served at `path` by `role`'s system.
pub fn by_path(role: &str, path: &str) -> Option<&'static ActionSpec> {
    ACTIONS.iter().find(|a| a.role == role && a.path == path)
}
