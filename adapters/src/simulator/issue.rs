//! What each simulated agency issues when it files a request: registration numbers, valid
//! 12-digit personal ID numbers, residence records, BHYT cards and social-insurance
//! numbers, death extracts, benefit decisions.

use super::behaviour::roll;
use chrono::{Datelike, NaiveDate};
use lienthong_engine::ident::{PersonalId, Sex};
use serde_json::{Value, json};

/// The statutory reference level used for benefit amounts (VND per month, from 1 Jul 2024).
const REFERENCE_LEVEL_VND: i64 = 2_340_000;
/// The social-assistance standard (VND per month, from 1 Jul 2024; Decree 76/2024).
const ASSISTANCE_STANDARD_VND: i64 = 500_000;

/// The fields an agency requires for each action, besides `ma_ho_so`.
fn required(action: &str) -> &'static [&'static str] {
    match action {
        "register_birth" => &["tre_em", "nguoi_yeu_cau", "giay_chung_sinh"],
        "register_death" => &["nguoi_chet", "nguoi_yeu_cau", "giay_bao_tu"],
        "register_marriage" => &["ben_a", "ben_b", "dong_y"],
        "issue_personal_id" => &["cong_dan", "so_dang_ky_khai_sinh"],
        "mark_deceased" => &["so_dinh_danh", "so_dang_ky_khai_tu"],
        "register_permanent_residence" => &["cong_dan", "so_dinh_danh"],
        "remove_permanent_residence" => &["so_dinh_danh", "trich_luc_khai_tu"],
        "issue_bhyt_card" => &["tre_em", "so_dinh_danh"],
        "funeral_allowance" | "survivor_benefit" | "funeral_support_decision" => {
            &["nguoi_chet", "trich_luc_khai_tu"]
        }
        "confirm_birth_certificate" => &["giay_chung_sinh"],
        "confirm_death_notice" => &["giay_bao_tu"],
        _ => &[],
    }
}

/// Checks the agency's required fields; the error names the missing one.
pub fn check(action: &str, body: &Value) -> Result<(), String> {
    for field in std::iter::once(&"ma_ho_so").chain(required(action)) {
        if body.get(*field).is_none_or(Value::is_null) {
            return Err(format!("thiếu trường `{field}` (missing field `{field}`)"));
        }
    }
    if action == "check_marital_status" && body.get("ben_a").or(body.get("ben_b")).is_none() {
        return Err("thiếu trường `ben_a` hoặc `ben_b` (missing partner)".into());
    }
    Ok(())
}

fn date(v: Option<&Value>) -> Option<NaiveDate> {
    v.and_then(Value::as_str)
        .and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
}

fn document(kind: &str, code: &str, seq: u64) -> Value {
    let digest: String = (0..4)
        .map(|i| format!("{:016x}", roll(seq, &[kind, code], i, u64::MAX)))
        .collect();
    json!({"loai": kind, "uri": format!("urn:lienthong-sim:{kind}:{code}"), "sha256": digest})
}

/// The last day of a child's free health-insurance card (Decree 146/2018, Art. 13(2)): the
/// child reaches 72 months; when that falls on or before 30 September the card runs to 30
/// September of that year (the school year has not begun), otherwise to the end of that month.
pub fn bhyt_card_end(birth: NaiveDate) -> Option<NaiveDate> {
    let sixth = birth
        .with_year(birth.year() + 6)
        .or_else(|| NaiveDate::from_ymd_opt(birth.year() + 6, 3, 1))?;
    let september = NaiveDate::from_ymd_opt(sixth.year(), 9, 30)?;
    if sixth <= september {
        return Some(september);
    }
    let (y, m) = if sixth.month() == 12 {
        (sixth.year() + 1, 1)
    } else {
        (sixth.year(), sixth.month() + 1)
    };
    NaiveDate::from_ymd_opt(y, m, 1)?.pred_opt()
}

/// The result an agency files for `action`, the `seq`-th filing of that agency.
pub fn result(action: &str, body: &Value, seq: u64, today: NaiveDate, seed: u64) -> Value {
    let code = body["ma_ho_so"].as_str().unwrap_or("");
    let year = today.year();
    match action {
        "register_birth" => json!({
            "so_dang_ky": format!("{seq}/{year}/KS"),
            "trich_luc": document("trich_luc_khai_sinh", code, seq),
        }),
        "register_death" => json!({
            "so_dang_ky": format!("{seq}/{year}/KT"),
            "trich_luc": document("trich_luc_khai_tu", code, seq),
        }),
        "check_marital_status" => {
            let who = body
                .get("ben_a")
                .or(body.get("ben_b"))
                .cloned()
                .unwrap_or(Value::Null);
            let pid = who["personal_id"].as_str().unwrap_or(code);
            let r = roll(seed, &["marital", pid], 0, 100);
            let status = match r {
                0..=79 => "single",
                80..=91 => "divorced",
                92..=95 => "widowed",
                _ => "married",
            };
            let source = if roll(seed, &["source", pid], 0, 100) < 15 {
                "verification"
            } else {
                "database"
            };
            // The dated record of the lookup the registrar keeps (Decree 07/2025).
            json!({
                "tinh_trang": status,
                "nguon": source,
                "thoi_diem_tra_cuu": format!("{today}T09:00:00+07:00"),
                "so_phieu_tra_cuu": format!("TC-{year}-{seq:06}"),
            })
        }
        "register_marriage" => json!({
            "so_giay_chung_nhan": format!("{seq}/{year}/KH"),
            "ngay_dang_ky": today.to_string(),
            "hoan_trao_giay": false,
        }),
        "issue_personal_id" => {
            let child = &body["cong_dan"];
            let sex = if child["sex"].as_str() == Some("female") {
                Sex::Female
            } else {
                Sex::Male
            };
            let birth = date(child.get("birth_date")).unwrap_or(today);
            let province = body["cha_me"]["mother"]["residence"]["province_code"]
                .as_str()
                .and_then(|p| p.parse::<u16>().ok())
                .unwrap_or(1);
            let serial = u32::try_from(seq % 1_000_000).unwrap_or(0);
            let id = PersonalId::compose(province, sex, birth, serial)
                .or_else(|| PersonalId::compose(1, sex, birth, serial))
                .map(|p| p.as_str().to_string())
                .unwrap_or_default();
            json!({"so_dinh_danh": id})
        }
        "mark_deceased" => json!({"da_cap_nhat": true}),
        "register_permanent_residence" => json!({"ma_ho_so_cu_tru": format!("CT-{year}-{seq:08}")}),
        "remove_permanent_residence" => json!({"da_xoa": true}),
        "issue_bhyt_card" => {
            let birth = date(body["tre_em"].get("birth_date")).unwrap_or(today);
            let valid_until = bhyt_card_end(birth).unwrap_or(today);
            let number = format!("{:02}{:08}", seq % 100, seq % 100_000_000);
            json!({
                "ma_so_bhxh": number,
                "so_the_bhyt": format!("TE1{number}"),
                "han_the_den": valid_until.to_string(),
            })
        }
        "funeral_allowance" => json!({
            "so_quyet_dinh": format!("{seq}/QĐ-BHXH"),
            "so_tien": 10 * REFERENCE_LEVEL_VND,
        }),
        "survivor_benefit" => {
            let kind = body["che_do"]["kind"].as_str().unwrap_or("one_off");
            let amount = if kind == "monthly" {
                REFERENCE_LEVEL_VND / 2
            } else {
                36 * REFERENCE_LEVEL_VND / 2
            };
            json!({"so_quyet_dinh": format!("{seq}/QĐ-BHXH-TT"), "loai_tro_cap": kind, "so_tien": amount})
        }
        "funeral_support_decision" => json!({
            "so_quyet_dinh": format!("{seq}/QĐ-UBND"),
            "so_tien": 20 * ASSISTANCE_STANDARD_VND,
        }),
        "confirm_birth_certificate" | "confirm_death_notice" => json!({
            "xac_nhan": true,
            "ma_co_so": format!("{:05}", roll(seed, &["facility", code], 0, 100_000)),
        }),
        _ => json!({}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn personal_ids_are_valid_and_cards_run_as_decree_146_says() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 7).expect("date");
        let body = json!({
            "ma_ho_so": "X",
            "cong_dan": {"sex": "female", "birth_date": "2026-12-01"},
            "cha_me": {"mother": {"residence": {"province_code": "79", "commune_code": "26743"}}},
            "so_dang_ky_khai_sinh": "1/2026/KS"
        });
        let r = result("issue_personal_id", &body, 42, today, 1);
        let id = r["so_dinh_danh"].as_str().expect("id");
        let birth = NaiveDate::from_ymd_opt(2026, 12, 1).expect("date");
        assert!(
            PersonalId::parse("id", id, Sex::Female, birth).is_ok(),
            "{id}"
        );
        assert!(id.starts_with("079"));
        let card = result(
            "issue_bhyt_card",
            &json!({"ma_ho_so": "X", "tre_em": {"birth_date": "2026-12-01"}}),
            7,
            today,
            1,
        );
        assert_eq!(
            card["han_the_den"], "2032-12-31",
            "72 months after 30 Sep: month end"
        );
        let spring = NaiveDate::from_ymd_opt(2026, 3, 15).expect("date");
        assert_eq!(
            bhyt_card_end(spring),
            NaiveDate::from_ymd_opt(2032, 9, 30),
            "72 months before the school year: 30 September"
        );
        assert_eq!(card["ma_so_bhxh"].as_str().map(str::len), Some(10));
        let e = check("register_birth", &json!({"ma_ho_so": "X"})).expect_err("missing");
        assert!(e.contains("tre_em"), "{e}");
    }
}
