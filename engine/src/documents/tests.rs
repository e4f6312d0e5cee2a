use super::render;
use crate::machine::Template;
use serde_json::json;

#[test]
fn an_apology_slip_names_the_agency_the_reason_and_both_dates() {
    let (vi, en) = render(
        &Template::ApologySlip,
        &json!({
            "code": "G22-261207-0001",
            "agency": "residence",
            "reason": "Đăng ký thường trú chưa hoàn thành trong thời hạn 2 ngày làm việc",
            "reason_en": "Permanent residence registration is not finished within its 2 working days",
            "appointment": "2026-12-10T17:00:00+07:00",
            "new_appointment": "2026-12-11T17:00:00+07:00"
        }),
    );
    assert!(
        vi.starts_with("Cơ quan đăng ký cư trú (Công an) xin lỗi Ông/Bà"),
        "{vi}"
    );
    assert!(
        vi.contains("Lý do: Đăng ký thường trú chưa hoàn thành"),
        "{vi}"
    );
    assert!(
        vi.contains("(10/12/2026)") && vi.contains("kết quả: 11/12/2026"),
        "{vi}"
    );
    assert!(
        en.contains("Reason: Permanent residence") && en.contains("11/12/2026"),
        "{en}"
    );
}

#[test]
fn an_overdue_warning_says_overdue_not_due_soon() {
    let (vi, en) = render(
        &Template::DeadlineWarning,
        &json!({"code": "X", "overdue": true}),
    );
    assert_eq!(vi, "Hồ sơ X đã quá hạn xử lý.");
    assert_eq!(en, "Dossier X is overdue.");
    let (soon, _) = render(&Template::DeadlineWarning, &json!({"code": "X"}));
    assert_eq!(soon, "Hồ sơ X sắp đến hạn xử lý.");
}

#[test]
fn a_receipt_names_the_procedures_the_time_received_and_the_appointment() {
    let (vi, en) = render(
        &Template::Receipt,
        &json!({
            "code": "X",
            "group": "Nhóm",
            "procedures": [
                {"title": "Đăng ký khai sinh", "title_en": "Birth registration"},
                {"title": "Cấp thẻ bảo hiểm y tế", "title_en": "Health-insurance card"}
            ],
            "received_at": "2026-02-13T15:30:00+07:00",
            "appointment": "2026-02-26T17:00:00+07:00"
        }),
    );
    assert!(
        vi.contains("Thủ tục: Đăng ký khai sinh; Cấp thẻ bảo hiểm y tế."),
        "{vi}"
    );
    assert!(vi.contains("Tiếp nhận lúc 15:30 ngày 13/02/2026"), "{vi}");
    assert!(
        vi.contains("Hẹn trả kết quả: 17:00 ngày 26/02/2026"),
        "{vi}"
    );
    assert!(en.contains("Results by 17:00 on 26/02/2026"), "{en}");
}

#[test]
fn a_partial_decision_lists_each_procedure_and_the_refusal_reason() {
    let (vi, _) = render(
        &Template::Decided,
        &json!({"code": "X", "procedures": [
            {"title_vi": "Đăng ký khai sinh", "title_en": "Birth", "status": "decided"},
            {"title_vi": "Cấp thẻ bảo hiểm y tế", "title_en": "Card", "status": "refused", "reason": "đã có thẻ"},
            {"title_vi": "Khác", "title_en": "Other", "status": "not_requested"}
        ]}),
    );
    assert!(vi.contains("Đăng ký khai sinh: đã có kết quả"), "{vi}");
    assert!(
        vi.contains("Cấp thẻ bảo hiểm y tế: bị từ chối giải quyết (lý do: đã có thẻ)"),
        "{vi}"
    );
    assert!(
        !vi.contains("Khác"),
        "a procedure not requested is not listed: {vi}"
    );
    assert!(
        vi.contains("Bộ phận Một cửa"),
        "says where to collect: {vi}"
    );
}

#[test]
fn an_intake_refusal_lists_fields_without_english_schema_text() {
    let (vi, _) = render(
        &Template::Refused,
        &json!({"code": "X", "reason": "/child/sex: \"alien\" is not one of", "fields": ["/child/sex"]}),
    );
    assert!(
        vi.contains("/child/sex") && !vi.contains("is not one of"),
        "{vi}"
    );
}
