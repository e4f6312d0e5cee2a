//! The demo's dossiers: a realistic, seeded mix of the shipped groups — Vietnamese names,
//! valid 12-digit personal ID numbers, the bundles citizens choose — arriving over the first
//! working days, some after the 15:00 cut-off.

use chrono::{Duration, NaiveDate};
use lienthong_adapters::simulator::behaviour::roll;
use lienthong_engine::ident::{PersonalId, Sex};
use lienthong_engine::machine::Channel;
use serde_json::{Value, json};

const FAMILY: &[&str] = &[
    "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ",
    "Hồ", "Ngô", "Dương", "Lý",
];
const MIDDLE_M: &[&str] = &["Văn", "Minh", "Đức", "Hữu", "Gia", "Quốc", "Thành"];
const MIDDLE_F: &[&str] = &["Thị", "Ngọc", "Thu", "Bảo", "Thanh", "Phương", "Khánh"];
const GIVEN_M: &[&str] = &[
    "An", "Bình", "Dũng", "Hải", "Khang", "Long", "Nam", "Phúc", "Quân", "Tuấn", "Sơn", "Trung",
];
const GIVEN_F: &[&str] = &[
    "Chi", "Hà", "Hạnh", "Hương", "Lan", "Linh", "Mai", "Tâm", "Thảo", "Trang", "Vy", "Yến",
];
/// (province code, commune, street).
/// Where people live: the province (its 2-digit code since 1 July 2025 is also the 3-digit
/// code of personal ID numbers, zero-padded), the commune's code and name, a street.
const PLACES: &[(u16, &str, &str, &str)] = &[
    (1, "00070", "Phường Hoàn Kiếm", "12 Hàng Bài"),
    (79, "26743", "Phường Bến Thành", "45 Lê Lợi"),
    (48, "20242", "Phường Hải Châu", "8 Bạch Đằng"),
    (31, "11383", "Phường Lê Chân", "21 Tô Hiệu"),
    (92, "31135", "Phường Ninh Kiều", "3 Hai Bà Trưng"),
    (46, "19789", "Phường Thuận Hóa", "17 Lê Lợi"),
];

/// The procedure groups, as the demo names them.
pub const BIRTH: &str = "birth-residence-bhyt";
pub const BIRTH_RECOGNITION: &str = "birth-recognition-residence-bhyt";
pub const DEATH: &str = "death-residence-funeral-survivor";
pub const MARRIAGE: &str = "marital-status-marriage";
pub const JUDICIAL_RECORD: &str = "judicial-record-vneid";

/// One dossier to file.
#[derive(Debug, Clone)]
pub struct Planned {
    pub procedure: &'static str,
    pub bundle: Option<String>,
    pub form: Value,
    /// Minutes after the demo's first morning (07:30 on its first day) when it is filed.
    pub arrival_minutes: i64,
    pub key: String,
    /// Online through the portal, or handed in at a one-stop desk.
    pub channel: Channel,
}

struct Dice {
    seed: u64,
    i: u64,
    n: u64,
}

impl Dice {
    fn below(&mut self, modulo: u64) -> u64 {
        self.n += 1;
        roll(self.seed, &["mix"], self.i * 1_000 + self.n, modulo)
    }
    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        let k = usize::try_from(self.below(from.len() as u64)).unwrap_or(0);
        from[k]
    }
    fn percent(&mut self, p: u64) -> bool {
        self.below(100) < p
    }
}

/// A person of `sex`, born between `min_days` and `min_days + span` days before `today`;
/// `family` or a drawn family name.
fn person(
    d: &mut Dice,
    sex: Sex,
    family: Option<&str>,
    (today, min_days, span): (NaiveDate, u64, u64),
    place: usize,
) -> Value {
    let family = family.map_or_else(|| d.pick(FAMILY).to_string(), str::to_string);
    let birth = date(today, min_days + d.below(span));
    let (province, commune_code, commune, street) = PLACES[place];
    let (middle, given) = match sex {
        Sex::Male => (d.pick(MIDDLE_M), d.pick(GIVEN_M)),
        Sex::Female => (d.pick(MIDDLE_F), d.pick(GIVEN_F)),
    };
    let serial = u32::try_from(d.below(1_000_000)).unwrap_or(0);
    let id = PersonalId::compose(province, sex, birth, serial)
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    json!({
        "full_name": format!("{family} {middle} {given}"),
        "personal_id": id,
        "birth_date": birth.to_string(),
        "sex": if sex == Sex::Male { "male" } else { "female" },
        "ethnicity": "Kinh",
        "nationality": "Việt Nam",
        "residence": {
            "province_code": format!("{province:02}"),
            "commune_code": commune_code,
            "commune": commune,
            "street": street,
        },
    })
}

fn document(kind: &str, key: &str, seed: u64) -> Value {
    let sha: String = (0..4)
        .map(|i| format!("{:016x}", roll(seed, &[kind, key], i, u64::MAX)))
        .collect();
    json!({"kind": kind, "uri": format!("urn:lienthong-demo:{kind}:{key}"), "sha256": sha})
}

fn date(base: NaiveDate, days_before: u64) -> NaiveDate {
    base - Duration::days(i64::try_from(days_before).unwrap_or(0))
}

fn birth(d: &mut Dice, today: NaiveDate, key: &str) -> (Option<String>, Value) {
    let family = d.pick(FAMILY);
    let place = usize::try_from(d.below(PLACES.len() as u64)).unwrap_or(0);
    let mother = person(d, Sex::Female, None, (today, 9_000, 4_000), place);
    let father = person(d, Sex::Male, Some(family), (today, 9_500, 4_000), place);
    let sex = if d.percent(50) { "male" } else { "female" };
    let given = if sex == "male" {
        d.pick(GIVEN_M)
    } else {
        d.pick(GIVEN_F)
    };
    let middle = if sex == "male" {
        d.pick(MIDDLE_M)
    } else {
        d.pick(MIDDLE_F)
    };
    let child_birth = date(today, 3 + d.below(40));
    let bundle = match d.below(10) {
        0..=5 => "full",
        6 | 7 => "birth_bhyt",
        _ => "birth_residence",
    };
    let (_, _, commune, _) = PLACES[place];
    let form = json!({
        "child": {
            "family_name": family, "middle_name": middle, "given_name": given,
            "birth_date": child_birth.to_string(), "sex": sex,
            "place_of_birth": format!("Bệnh viện Phụ sản, {commune}"),
            "home_town": commune, "ethnicity": "Kinh", "nationality": "Việt Nam",
        },
        "parents": {"mother": mother, "father": father},
        "declarant": {
            "full_name": father["full_name"], "personal_id": father["personal_id"],
            "relationship": "cha", "phone": format!("09{:08}", d.below(100_000_000)),
        },
        "birth_certificate": document("giay_chung_sinh", key, d.seed),
        "residence": {
            "address": mother["residence"],
            "household_head_personal_id": father["personal_id"],
            "relationship_to_head": "con",
            "collective_household": false,
        },
        "insurance": {"initial_care_facility": format!("Trạm y tế {commune}")},
        "delivery": {"method": if d.percent(70) { "vneid" } else { "one_stop_desk" }},
    });
    (Some(bundle.to_string()), form)
}

/// A birth filed with the father's recognition of the child (the parents are not married).
fn birth_recognition(d: &mut Dice, today: NaiveDate, key: &str) -> (Option<String>, Value) {
    let (bundle, mut form) = birth(d, today, key);
    if let Some(m) = form.as_object_mut() {
        m.insert(
            "recognition".into(),
            json!({
                "recognising_parent": "father",
                "evidence": [document("ket_qua_giam_dinh_adn", key, d.seed)],
                "parties_will_appear": true,
            }),
        );
    }
    (bundle, form)
}

fn death(d: &mut Dice, today: NaiveDate, key: &str) -> (Option<String>, Value) {
    let family = d.pick(FAMILY);
    let place = usize::try_from(d.below(PLACES.len() as u64)).unwrap_or(0);
    let sex = if d.percent(55) {
        Sex::Male
    } else {
        Sex::Female
    };
    let mut deceased = person(d, sex, Some(family), (today, 22_000, 10_000), place);
    let insured = d.percent(50);
    // Funeral support is for social-assistance beneficiaries who were not insured.
    let beneficiary = !insured && d.percent(60);
    let child = person(d, Sex::Female, Some(family), (today, 12_000, 3_000), place);
    if let Some(m) = deceased.as_object_mut() {
        m.remove("ethnicity");
        m.remove("nationality");
        m.insert(
            "date_of_death".into(),
            json!(date(today, 1 + d.below(20)).to_string()),
        );
        m.insert("place_of_death".into(), json!("tại nhà riêng"));
        m.insert("insured".into(), json!(insured));
        m.insert("social_assistance_beneficiary".into(), json!(beneficiary));
        if insured {
            m.insert(
                "social_insurance_number".into(),
                json!(format!("{:010}", d.below(10_000_000_000))),
            );
        }
    }
    let bundle = match d.below(10) {
        0..=3 => "two",
        4..=6 => "three",
        _ => "four",
    };
    let form = json!({
        "deceased": deceased,
        "declarant": {
            "full_name": child["full_name"], "personal_id": child["personal_id"],
            "relationship": "con", "phone": format!("09{:08}", d.below(100_000_000)),
        },
        "death_notice": document("giay_bao_tu", key, d.seed),
        "survivors": [{
            "full_name": child["full_name"], "personal_id": child["personal_id"],
            "relationship": "con", "birth_date": child["birth_date"],
        }],
        "benefit": {
            "kind": if d.percent(70) { "one_off" } else { "monthly" },
            "representative_personal_id": child["personal_id"],
            "representative_confirmed_in_vneid": true,
        },
    });
    (Some(bundle.to_string()), form)
}

fn marriage(d: &mut Dice, today: NaiveDate) -> (Option<String>, Value) {
    let place = usize::try_from(d.below(PLACES.len() as u64)).unwrap_or(0);
    let strip = |mut p: Value| {
        if let Some(m) = p.as_object_mut() {
            m.remove("ethnicity");
            m.remove("residence");
        }
        p
    };
    let a = strip(person(d, Sex::Male, None, (today, 8_000, 3_000), place));
    let b = strip(person(d, Sex::Female, None, (today, 7_500, 3_000), place));
    let form = json!({
        "partner_a": a, "partner_b": b,
        "consent": {"partner_a": true, "partner_b": true},
        "registration_commune": PLACES[place].2,
        "ceremony_date": (today + Duration::days(14)).to_string(),
    });
    (None, form)
}

/// A judicial-record certificate asked for through VNeID.
fn judicial_record(d: &mut Dice, today: NaiveDate) -> (Option<String>, Value) {
    let place = usize::try_from(d.below(PLACES.len() as u64)).unwrap_or(0);
    let sex = if d.percent(50) {
        Sex::Male
    } else {
        Sex::Female
    };
    let mut p = person(d, sex, None, (today, 7_000, 12_000), place);
    if let Some(m) = p.as_object_mut() {
        m.remove("ethnicity");
        m.remove("nationality");
    }
    let purpose = [
        "bổ sung hồ sơ xin việc",
        "xin cấp thị thực",
        "đăng ký kinh doanh",
    ];
    let form = json!({
        "applicant": p,
        "certificate": {
            "form": if d.percent(80) { "phieu_so_1" } else { "phieu_so_2" },
            "purpose": d.pick(&purpose),
            "copies": 1 + d.below(2),
        },
        "identity": {"vneid_level": 2},
        "delivery": {"method": if d.percent(85) { "vneid" } else { "post" }},
    });
    (None, form)
}

/// `n` dossiers, seeded, arriving over the first `days` days of the demo (working hours).
pub fn plan(n: usize, seed: u64, first_day: NaiveDate, days: i64) -> Vec<Planned> {
    (0..n)
        .map(|i| {
            let mut d = Dice {
                seed,
                i: i as u64,
                n: 0,
            };
            let key = format!("demo-{seed}-{i}");
            let day =
                i64::try_from(i).unwrap_or(0) * days.max(1) / i64::try_from(n.max(1)).unwrap_or(1);
            let today = first_day + Duration::days(day);
            let (procedure, (bundle, form)) = match d.below(100) {
                0..=34 => (BIRTH, birth(&mut d, today, &key)),
                35..=44 => (BIRTH_RECOGNITION, birth_recognition(&mut d, today, &key)),
                45..=69 => (DEATH, death(&mut d, today, &key)),
                70..=84 => (MARRIAGE, marriage(&mut d, today)),
                _ => (JUDICIAL_RECORD, judicial_record(&mut d, today)),
            };
            // Office hours 07:30-17:00; about one in six after the 15:00 cut-off.
            let minute = i64::try_from(d.below(570)).unwrap_or(0);
            // The judicial record is filed in VNeID; of the others, two in five at a desk.
            let channel = if procedure != JUDICIAL_RECORD && d.percent(40) {
                Channel::InPerson
            } else {
                Channel::Online
            };
            Planned {
                procedure,
                bundle,
                form,
                arrival_minutes: day * 24 * 60 + minute,
                key,
                channel,
            }
        })
        .collect()
}
