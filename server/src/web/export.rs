//! The dashboard's exports: the same report as the page, as sheets of cells, written as CSV
//! (the groups sheet) or as an Excel workbook (every sheet). A cell keeps its value and how
//! the page prints it, so the two formats and the page show the same numbers.

use super::Text;
use super::chart::num1;
use crate::figures::Report;
use lienthong_engine::definition::Catalog;
use rust_xlsxwriter::{Format, Workbook, XlsxError};

/// One cell: text, a count, days to one decimal, or a rate (a fraction printed as a percentage).
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Count(usize),
    Days(Option<f64>),
    Rate(Option<f64>),
}

impl Cell {
    /// As the page writes it.
    pub fn shown(&self) -> String {
        match self {
            Cell::Text(s) => s.clone(),
            Cell::Count(n) => n.to_string(),
            Cell::Days(d) => d.map(num1).unwrap_or_default(),
            Cell::Rate(r) => r.map(|r| format!("{:.1}%", r * 100.0)).unwrap_or_default(),
        }
    }
}

/// A named table of the report.
#[derive(Debug, Clone)]
pub struct Sheet {
    pub name: &'static str,
    pub head: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

fn text(s: impl Into<String>) -> Cell {
    Cell::Text(s.into())
}

/// The report's sheets, in the page's language (`vi` picks the titles).
pub fn sheets(t: &Text, vi: bool, r: &Report) -> Vec<Sheet> {
    let pick = |a: &str, b: &str| if vi { a.to_string() } else { b.to_string() };
    let groups = Sheet {
        name: "groups",
        head: [
            "procedure",
            t.group,
            t.dossiers,
            t.decided,
            t.median_days,
            t.p90_days,
            t.legal_limit,
            t.baseline,
            t.on_time_rate,
            t.online_rate,
            t.received_online,
            t.received_in_person,
            t.resolved_early,
            t.resolved_on_time,
            t.resolved_late,
            t.in_progress_within,
            t.in_progress_overdue,
            t.carried_over,
        ]
        .map(String::from)
        .to_vec(),
        rows: r
            .summary
            .groups
            .iter()
            .map(|g| {
                vec![
                    text(&g.procedure),
                    text(pick(&g.title_vi, &g.title_en)),
                    Cell::Count(g.dossiers),
                    Cell::Count(g.decided),
                    Cell::Days(g.median_working_days),
                    Cell::Days(g.p90_working_days),
                    Cell::Count(g.legal_limit_days as usize),
                    g.baseline_days
                        .map_or(text(""), |b| Cell::Count(b as usize)),
                    Cell::Rate(g.on_time_rate),
                    Cell::Rate(g.online_rate),
                    Cell::Count(g.received.online),
                    Cell::Count(g.received.in_person),
                    Cell::Count(g.resolved.early),
                    Cell::Count(g.resolved.on_time),
                    Cell::Count(g.resolved.late),
                    Cell::Count(g.in_progress.within_time),
                    Cell::Count(g.in_progress.overdue),
                    g.carried_over.map_or(text(""), Cell::Count),
                ]
            })
            .collect(),
    };
    let agencies = Sheet {
        name: "agencies",
        head: [t.agency, t.steps_held, t.total_days, t.mean_days]
            .map(String::from)
            .to_vec(),
        rows: r
            .summary
            .agencies
            .iter()
            .map(|a| {
                let name = Catalog::builtin_name(&a.agency)
                    .map_or_else(|| a.agency.clone(), |n| pick(&n.vi, &n.en));
                vec![
                    text(name),
                    Cell::Count(a.steps),
                    Cell::Days(Some(a.working_days)),
                    Cell::Days(Some(a.mean_per_step)),
                ]
            })
            .collect(),
    };
    let trend = |name, first: &str, rows: &[crate::figures::Trend]| Sheet {
        name,
        head: [
            first,
            t.received_count,
            t.decided,
            t.median_days,
            t.on_time_rate,
        ]
        .map(String::from)
        .to_vec(),
        rows: rows
            .iter()
            .map(|w| {
                vec![
                    text(w.start.format("%Y-%m-%d").to_string()),
                    Cell::Count(w.received),
                    Cell::Count(w.decided),
                    Cell::Days(w.median_working_days),
                    Cell::Rate(w.on_time_rate),
                ]
            })
            .collect(),
    };
    let area = |name, rows: &[crate::figures::AreaRow]| Sheet {
        name,
        head: [
            t.province,
            t.commune,
            t.dossiers,
            t.decided,
            t.decided_late,
            t.in_progress_overdue,
            t.on_time_rate,
        ]
        .map(String::from)
        .to_vec(),
        rows: rows
            .iter()
            .map(|a| {
                vec![
                    text(&a.province),
                    text(a.commune.clone().unwrap_or_default()),
                    Cell::Count(a.counts.dossiers as usize),
                    Cell::Count(a.counts.decided as usize),
                    Cell::Count(a.counts.late as usize),
                    Cell::Count(a.counts.overdue as usize),
                    Cell::Rate(a.on_time_rate),
                ]
            })
            .collect(),
    };
    let late = Sheet {
        name: "late",
        head: ["code", "procedure", t.working_days, t.in_progress_overdue]
            .map(String::from)
            .to_vec(),
        rows: r
            .late
            .iter()
            .map(|l| {
                vec![
                    text(&l.code),
                    text(&l.procedure),
                    Cell::Days(Some(l.working_days)),
                    text(if l.open { "x" } else { "" }),
                ]
            })
            .collect(),
    };
    vec![
        groups,
        agencies,
        trend("weeks", t.week_of, &r.weeks),
        trend("months", t.month_of, &r.months),
        area("provinces", &r.provinces),
        area("communes", &r.communes),
        late,
    ]
}

/// Quotes a CSV field when it needs it.
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// A sheet as CSV, UTF-8 with a byte-order mark (so spreadsheet programs read the
/// Vietnamese titles right), cells as the page prints them.
pub fn csv(sheet: &Sheet) -> String {
    let mut out = String::from("\u{feff}");
    let line = |cells: Vec<String>| {
        let mut l = cells
            .iter()
            .map(|c| csv_field(c))
            .collect::<Vec<_>>()
            .join(",");
        l.push_str("\r\n");
        l
    };
    out.push_str(&line(sheet.head.clone()));
    for r in &sheet.rows {
        out.push_str(&line(r.iter().map(Cell::shown).collect()));
    }
    out
}

/// Every sheet in one workbook: counts and days as numbers, rates as percentages.
pub fn xlsx(sheets: &[Sheet]) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let days = Format::new().set_num_format("0.0");
    let percent = Format::new().set_num_format("0.0%");
    for s in sheets {
        let ws = book.add_worksheet();
        ws.set_name(s.name)?;
        for (c, h) in s.head.iter().enumerate() {
            ws.write_string_with_format(0, col(c), h, &bold)?;
        }
        for (r, cells) in s.rows.iter().enumerate() {
            let row = u32::try_from(r + 1).unwrap_or(u32::MAX);
            for (c, cell) in cells.iter().enumerate() {
                match cell {
                    Cell::Text(t) => {
                        ws.write_string(row, col(c), t)?;
                    }
                    Cell::Count(n) => {
                        ws.write_number(row, col(c), *n as f64)?;
                    }
                    Cell::Days(Some(d)) => {
                        ws.write_number_with_format(row, col(c), *d, &days)?;
                    }
                    Cell::Rate(Some(x)) => {
                        ws.write_number_with_format(row, col(c), *x, &percent)?;
                    }
                    Cell::Days(None) | Cell::Rate(None) => {}
                }
            }
        }
    }
    book.save_to_buffer()
}

fn col(c: usize) -> u16 {
    u16::try_from(c).unwrap_or(u16::MAX)
}
