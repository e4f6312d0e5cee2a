//! The one-stop-shop documents and notifications, rendered for people: the receipt and
//! appointment slip, the supplement request, the refusals, the apology slip, the result, in
//! Vietnamese (authoritative) and English. Pure functions of a template and its data; the
//! notification adapters send what these return, the API and `lienthong test` show it.

use crate::definition::catalog::Catalog;
use crate::machine::Template;
use chrono::DateTime;
use serde_json::Value;

/// An agency's name (Vietnamese, English): the one the document carries (a role the
/// definition declared), else the built-in catalogue's, else the role id.
fn agency_name(data: &Value) -> (String, String) {
    let role = data["agency"].as_str().unwrap_or("");
    if let (Some(vi), Some(en)) = (
        data["agency_name"].as_str(),
        data["agency_name_en"].as_str(),
    ) {
        return (vi.to_string(), en.to_string());
    }
    match Catalog::builtin_name(role) {
        Some(t) => (t.vi, t.en),
        None => (role.to_string(), role.to_string()),
    }
}

/// `dd/mm/yyyy` of an RFC 3339 field, or `—`.
fn date(data: &Value, field: &str) -> String {
    instant(data, field, "%d/%m/%Y")
}

/// `HH:MM ngày dd/mm/yyyy` (or `HH:MM on dd/mm/yyyy`) of an RFC 3339 field.
fn moment(data: &Value, field: &str, en: bool) -> String {
    instant(
        data,
        field,
        if en {
            "%H:%M on %d/%m/%Y"
        } else {
            "%H:%M ngày %d/%m/%Y"
        },
    )
}

fn instant(data: &Value, field: &str, format: &str) -> String {
    data[field]
        .as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|d| d.format(format).to_string())
        .unwrap_or_else(|| "—".into())
}

/// The strings of the list `data[key]`, joined with commas.
fn joined(data: &Value, key: &str) -> String {
    data[key]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

/// The titles of the procedures listed in `data.procedures`, joined.
fn titles(data: &Value, key: &str) -> String {
    data["procedures"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|p| p[key].as_str())
                .collect::<Vec<_>>()
                .join("; ")
        })
        .unwrap_or_default()
}

/// Each procedure's outcome: `title: status` (and the reason of a refusal).
fn outcomes(data: &Value, en: bool) -> String {
    let Some(list) = data["procedures"].as_array() else {
        return String::new();
    };
    list.iter()
        .filter(|p| p["status"].as_str() != Some("not_requested"))
        .map(|p| {
            let title = p[if en { "title_en" } else { "title_vi" }]
                .as_str()
                .unwrap_or("");
            let status = p["status"].as_str().unwrap_or("");
            let label = match (status, en) {
                ("decided", false) => "đã có kết quả",
                ("decided", true) => "decided",
                ("refused", false) => "bị từ chối giải quyết",
                ("refused", true) => "refused",
                ("stopped", false) => "dừng xử lý",
                ("stopped", true) => "stopped",
                ("not_applicable", false) => "không thuộc diện giải quyết",
                ("not_applicable", true) => "not eligible",
                (_, false) => "đang xử lý",
                (_, true) => "in progress",
            };
            match p["reason"].as_str().filter(|_| status == "refused") {
                Some(r) if !en => format!("{title}: {label} (lý do: {r})"),
                Some(r) => format!("{title}: {label} (reason: {r})"),
                None => format!("{title}: {label}"),
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Renders a document or notification: (Vietnamese, English).
pub fn render(template: &Template, data: &Value) -> (String, String) {
    let code = data["code"].as_str().unwrap_or("");
    let reason = data["reason"].as_str().unwrap_or("");
    match template {
        Template::Receipt => {
            let group = data["group"].as_str().unwrap_or("");
            let group_en = data["group_en"].as_str().unwrap_or("");
            let (what, what_en) = match (titles(data, "title"), titles(data, "title_en")) {
                (vi, en) if !vi.is_empty() => (vi, en),
                _ => (group.to_string(), group_en.to_string()),
            };
            (
                format!(
                    "Giấy tiếp nhận hồ sơ và hẹn trả kết quả. Mã hồ sơ: {code}. Thủ tục: {what}. \
                     Tiếp nhận lúc {}. Hẹn trả kết quả: {}.",
                    moment(data, "received_at", false),
                    moment(data, "appointment", false)
                ),
                format!(
                    "Receipt and appointment slip. Dossier {code}. Procedures: {what_en}. \
                     Received at {}. Results by {}.",
                    moment(data, "received_at", true),
                    moment(data, "appointment", true)
                ),
            )
        }
        Template::SupplementRequested => (
            format!(
                "Hồ sơ {code} cần bổ sung, hoàn thiện: {reason}. Hạn bổ sung: {}. Quá hạn mà \
                 không bổ sung, thủ tục sẽ bị từ chối giải quyết.",
                date(data, "until")
            ),
            format!(
                "Dossier {code} needs to be completed: {reason}. Complete it by {}; otherwise \
                 the procedure will be refused.",
                date(data, "until")
            ),
        ),
        Template::Refused => {
            let fields = joined(data, "fields");
            (
                format!(
                    "Hồ sơ {code} không được tiếp nhận vì thông tin chưa hợp lệ: {fields}. Đề \
                     nghị Ông/Bà kiểm tra và nộp lại."
                ),
                format!(
                    "Dossier {code} was not accepted: the information is not valid ({fields}). \
                     Please check it and file again."
                ),
            )
        }
        Template::ProcedureRefused => (
            format!(
                "Thủ tục {} của hồ sơ {code} bị từ chối giải quyết. Lý do: {reason}.",
                data["procedure"].as_str().unwrap_or("")
            ),
            format!(
                "The procedure {} of dossier {code} was refused. Reason: {reason}.",
                data["procedure_en"].as_str().unwrap_or("")
            ),
        ),
        Template::DeadlineWarning if data["overdue"] == Value::Bool(true) => (
            format!("Hồ sơ {code} đã quá hạn xử lý."),
            format!("Dossier {code} is overdue."),
        ),
        Template::DeadlineWarning => (
            format!("Hồ sơ {code} sắp đến hạn xử lý."),
            format!("Dossier {code} is close to its deadline."),
        ),
        Template::ApologySlip => {
            let (agency, agency_en) = agency_name(data);
            let reason_en = data["reason_en"].as_str().unwrap_or(reason);
            (
                format!(
                    "{agency} xin lỗi Ông/Bà vì hồ sơ {code} chưa được giải quyết đúng hẹn \
                     ({}). Lý do: {reason}. Xin hẹn lại ngày trả kết quả: {}.",
                    date(data, "appointment"),
                    date(data, "new_appointment")
                ),
                format!(
                    "{agency_en} apologises: dossier {code} will not be resolved by the \
                     appointment ({}). Reason: {reason_en}. New appointment: {}.",
                    date(data, "appointment"),
                    date(data, "new_appointment")
                ),
            )
        }
        Template::VerificationExtended => (
            format!(
                "Hồ sơ {code} cần được xác minh để giải quyết ({}: {}). Thời hạn giải quyết \
                 được kéo dài theo quy định; ngày hẹn trả kết quả mới là {} (thay cho ngày {}).",
                data["step_name"].as_str().unwrap_or(""),
                data["basis"].as_str().unwrap_or(""),
                date(data, "new_appointment"),
                date(data, "appointment")
            ),
            format!(
                "Dossier {code} needs verification ({}: {}). The time limit is extended as \
                 the law allows; the new appointment is {} (instead of {}).",
                data["step_name_en"].as_str().unwrap_or(""),
                data["basis"].as_str().unwrap_or(""),
                date(data, "new_appointment"),
                date(data, "appointment")
            ),
        ),
        Template::IncidentOpened => (
            format!(
                "Sự cố khi xử lý hồ sơ {code}: {}.",
                data["message"].as_str().unwrap_or("")
            ),
            format!(
                "Incident on dossier {code}: {}.",
                data["message"].as_str().unwrap_or("")
            ),
        ),
        Template::InputsChanged => {
            let fields = joined(data, "fields");
            (
                format!(
                    "Hồ sơ {code}: công dân đã bổ sung, thay đổi thông tin ({fields}) mà kết quả \
                     đã giải quyết dựa vào. Đề nghị kiểm tra lại kết quả."
                ),
                format!(
                    "Dossier {code}: the citizen's supplement changed information ({fields}) \
                     the result was based on. Please re-examine the result."
                ),
            )
        }
        Template::Stopped => (
            format!("Hồ sơ {code} đã bị dừng xử lý: {reason}."),
            format!("Processing of dossier {code} was stopped: {reason}."),
        ),
        Template::Withdrawn => (
            format!("Hồ sơ {code} đã được rút theo yêu cầu của Ông/Bà."),
            format!("Dossier {code} was withdrawn at your request."),
        ),
        Template::Decided => {
            let (vi, en) = (outcomes(data, false), outcomes(data, true));
            let (vi, en) = if vi.is_empty() {
                (String::new(), String::new())
            } else {
                (format!(" {vi}."), format!(" {en}."))
            };
            (
                format!(
                    "Hồ sơ {code} đã có kết quả.{vi} Ông/Bà nhận kết quả điện tử trên VNeID \
                     hoặc Cổng Dịch vụ công quốc gia, bản giấy tại Bộ phận Một cửa nơi nộp hồ sơ."
                ),
                format!(
                    "The results of dossier {code} are ready.{en} Electronic results are in \
                     VNeID or on the national public-service portal; paper copies at the \
                     one-stop desk where the dossier was filed."
                ),
            )
        }
    }
}

pub mod control;

#[cfg(test)]
mod tests;
