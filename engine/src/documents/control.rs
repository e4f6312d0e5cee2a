//! The control sheet rendered for people: one numbered line per hand-off, the giver, the
//! receiver, what happened and, for a returned result, whether it came early, on time or
//! late. Vietnamese is authoritative; English follows the same lines.

use crate::machine::{Handing, Handoff, Holder, Timeliness};
use chrono::DateTime;

use crate::calendar::VIETNAM_OFFSET;

fn what(h: Handing, en: bool) -> &'static str {
    match (h, en) {
        (Handing::Received, false) => "tiếp nhận hồ sơ",
        (Handing::Received, true) => "dossier received",
        (Handing::Sent, false) => "chuyển hồ sơ để giải quyết",
        (Handing::Sent, true) => "sent for processing",
        (Handing::Claimed, false) => "cán bộ nhận xử lý",
        (Handing::Claimed, true) => "an officer took the task",
        (Handing::Released, false) => "hết thời hạn nhận xử lý, hồ sơ trở lại hàng chờ",
        (Handing::Released, true) => "the claim lapsed, back to the queue",
        (Handing::SupplementAsked, false) => "yêu cầu bổ sung hồ sơ",
        (Handing::SupplementAsked, true) => "supplement requested",
        (Handing::Supplied, false) => "nộp hồ sơ bổ sung",
        (Handing::Supplied, true) => "supplement provided",
        (Handing::Decided, false) => "trả kết quả giải quyết",
        (Handing::Decided, true) => "result returned",
        (Handing::Refused, false) => "từ chối giải quyết",
        (Handing::Refused, true) => "refused",
        (Handing::Recalled, false) => "dừng giải quyết, hoàn trả hồ sơ",
        (Handing::Recalled, true) => "stopped, file returned",
        (Handing::Delivered, false) => "trả kết quả cho người nộp",
        (Handing::Delivered, true) => "results handed to the applicant",
    }
}

fn timeliness(t: Timeliness, en: bool) -> &'static str {
    match (t, en) {
        (Timeliness::Early, false) => "trước hạn",
        (Timeliness::Early, true) => "early",
        (Timeliness::OnTime, false) => "đúng hạn",
        (Timeliness::OnTime, true) => "on time",
        (Timeliness::Late, false) => "quá hạn",
        (Timeliness::Late, true) => "late",
    }
}

fn holder(h: &Holder, en: bool, name: &dyn Fn(&str) -> (String, String)) -> String {
    match h {
        Holder::Citizen if en => "the applicant".into(),
        Holder::Citizen => "người nộp hồ sơ".into(),
        Holder::Desk if en => "the one-stop desk".into(),
        Holder::Desk => "Bộ phận Một cửa".into(),
        Holder::Agency { role, officer } => {
            let (vi, e) = name(role);
            match (officer, en) {
                (Some(o), true) => format!("{e}, officer {o}"),
                (Some(o), false) => format!("{vi}, cán bộ {o}"),
                (None, true) => e,
                (None, false) => vi,
            }
        }
    }
}

fn moment(ms: i64, en: bool) -> String {
    DateTime::from_timestamp_millis(ms)
        .map(|t| {
            t.with_timezone(&VIETNAM_OFFSET)
                .format(if en {
                    "%H:%M on %d/%m/%Y"
                } else {
                    "%H:%M ngày %d/%m/%Y"
                })
                .to_string()
        })
        .unwrap_or_else(|| "—".into())
}

/// How the sheet names agencies and steps, in Vietnamese and English.
pub struct Names<'a> {
    /// An agency role's name.
    pub role: &'a dyn Fn(&str) -> (String, String),
    /// A step's name, when the definition has it.
    pub step: &'a dyn Fn(&str) -> Option<(String, String)>,
}

impl std::fmt::Debug for Names<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Names")
    }
}

/// The sheet of dossier `code` in Vietnamese and English. Each line about a step names it
/// first, so that two lookups by one agency, or a hand-on between two tasks of one
/// office, read apart.
pub fn render(code: &str, rows: &[Handoff], names: &Names<'_>) -> (String, String) {
    let name = names.role;
    let mut vi = format!("PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ\nMã hồ sơ: {code}\n");
    let mut en = format!("CONTROL SHEET OF THE DOSSIER'S PROCESSING\nDossier code: {code}\n");
    for (i, r) in rows.iter().enumerate() {
        let n = i + 1;
        let (step_vi, step_en) = match r.step.as_deref().and_then(names.step) {
            Some((vi, en)) => (format!(" — bước: {vi}"), format!(" — step: {en}")),
            None => (String::new(), String::new()),
        };
        vi.push_str(&format!(
            "{n}. {}{step_vi} — bên giao: {}; bên nhận: {} — {}",
            moment(r.at, false),
            holder(&r.from, false, name),
            holder(&r.to, false, name),
            what(r.what, false)
        ));
        en.push_str(&format!(
            "{n}. {}{step_en} — from {} to {} — {}",
            moment(r.at, true),
            holder(&r.from, true, name),
            holder(&r.to, true, name),
            what(r.what, true)
        ));
        if let Some(t) = r.timeliness {
            vi.push_str(&format!(" ({})", timeliness(t, false)));
            en.push_str(&format!(" ({})", timeliness(t, true)));
        }
        vi.push('\n');
        en.push('\n');
    }
    (vi, en)
}
