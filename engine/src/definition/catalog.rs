//! The agency roles and actions a definition may name, and the calendars it may count in.
//!
//! Agencies are roles, not bodies: the 2025 reorganisations moved several of them, and the
//! adapter bound to a role can change without touching a definition. The built-in catalogue
//! covers the shipped procedure groups; a definition adds roles of its own under `agencies:`
//! (served by the generic HTTP adapter), and [`Catalog::for_procedure`] is what its steps are
//! checked against.

use super::ids::{ActionId, RoleId};
use super::model::{Mode, Procedure, Text};

/// One action an agency can perform, and in which modes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Action {
    pub id: ActionId,
    pub modes: Vec<Mode>,
}

/// An agency role (vai trò cơ quan).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgencyRole {
    pub id: RoleId,
    pub name: Text,
    pub actions: Vec<Action>,
}

/// What definitions may refer to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Catalog {
    pub agencies: Vec<AgencyRole>,
    pub calendars: Vec<String>,
}

const BOTH: &[Mode] = &[Mode::Automated, Mode::Human];
const AUTO: &[Mode] = &[Mode::Automated];
const HUMAN: &[Mode] = &[Mode::Human];

type RoleSpec = (
    &'static str,
    &'static str,
    &'static str,
    &'static [(&'static str, &'static [Mode])],
);

const BUILTIN: &[RoleSpec] = &[
    (
        "civil_status",
        "Công chức tư pháp - hộ tịch cấp xã",
        "Commune civil-status officer",
        &[
            ("register_birth", BOTH),
            ("register_birth_with_recognition", HUMAN),
            ("register_death", BOTH),
            ("check_marital_status", BOTH),
            ("issue_marital_status_certificate", HUMAN),
            ("register_marriage", HUMAN),
            ("hand_over_marriage_certificate", HUMAN),
        ],
    ),
    (
        "population_db",
        "Cơ sở dữ liệu quốc gia về dân cư",
        "National population database",
        &[
            ("issue_personal_id", AUTO),
            ("mark_deceased", AUTO),
            ("lookup_marital_status", AUTO),
        ],
    ),
    (
        "residence",
        "Cơ quan đăng ký cư trú (Công an)",
        "Police residence registration",
        &[
            ("register_permanent_residence", BOTH),
            ("remove_permanent_residence", BOTH),
        ],
    ),
    (
        "social_insurance",
        "Bảo hiểm xã hội Việt Nam",
        "Vietnam Social Security",
        &[
            ("issue_bhyt_card", BOTH),
            ("funeral_allowance", BOTH),
            ("survivor_benefit", BOTH),
        ],
    ),
    (
        "funeral_support",
        "Chủ tịch Ủy ban nhân dân cấp xã (hỗ trợ chi phí mai táng)",
        "Commune People's Committee chairman (funeral support)",
        &[("funeral_support_decision", BOTH)],
    ),
    (
        "health_facility",
        "Cơ sở khám bệnh, chữa bệnh",
        "Health facility",
        &[
            ("fetch_birth_certificate", AUTO),
            ("fetch_death_notice", AUTO),
        ],
    ),
];

impl Catalog {
    /// The roles and actions of the shipped procedure groups, and the national calendar `vn`.
    pub fn builtin() -> Self {
        let agencies = BUILTIN
            .iter()
            .map(|(id, vi, en, actions)| AgencyRole {
                id: RoleId::from(*id),
                name: Text {
                    vi: (*vi).to_string(),
                    en: (*en).to_string(),
                },
                actions: actions
                    .iter()
                    .map(|(a, modes)| Action {
                        id: ActionId::from(*a),
                        modes: modes.to_vec(),
                    })
                    .collect(),
            })
            .collect();
        Catalog {
            agencies,
            calendars: vec!["vn".to_string()],
        }
    }

    pub fn agency(&self, id: &str) -> Option<&AgencyRole> {
        self.agencies.iter().find(|a| a.id == id)
    }

    /// This catalogue with the roles `p` declares (a role already here is kept as it is:
    /// the checker refuses such a declaration).
    pub fn for_procedure(&self, p: &Procedure) -> Catalog {
        let mut out = self.clone();
        for d in &p.agencies {
            if out.agency(&d.id).is_some() {
                continue;
            }
            out.agencies.push(AgencyRole {
                id: d.id.clone(),
                name: d.name.clone(),
                actions: d
                    .actions
                    .iter()
                    .map(|a| Action {
                        id: a.id.clone(),
                        modes: a.modes.clone(),
                    })
                    .collect(),
            });
        }
        out
    }

    /// The name of a role, from `p`'s declarations or the built-in catalogue.
    pub fn role_name(p: &Procedure, role: &str) -> Option<Text> {
        p.agencies
            .iter()
            .find(|d| d.id == role)
            .map(|d| d.name.clone())
            .or_else(|| Self::builtin_name(role))
    }

    /// The name of a built-in role.
    pub fn builtin_name(role: &str) -> Option<Text> {
        BUILTIN
            .iter()
            .find(|(id, ..)| *id == role)
            .map(|(_, vi, en, _)| Text {
                vi: (*vi).to_string(),
                en: (*en).to_string(),
            })
    }
}

impl AgencyRole {
    pub fn action(&self, id: &str) -> Option<&Action> {
        self.actions.iter().find(|a| a.id == id)
    }
}
