//! `lienthong calendar …`: the working-day calendar for administrators and citizens.

use super::Format;
use anyhow::{Context, bail};
use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime};
use clap::{Args, Subcommand};
use lienthong_engine::calendar::{
    Calendar, DayKind, OfficeHours, VIETNAM_OFFSET, YearNotice, due, solar_to_lunar,
};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct CalendarArgs {
    #[command(subcommand)]
    command: Option<CalendarCommand>,
    /// The year to list: every holiday (also on weekends), compensatory day and working Saturday.
    year: Option<i32>,
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
    /// Read the yearly notices from this folder (`<year>.yaml` files) instead of the built-in
    /// ones, e.g. to check a new notice before it is shipped.
    #[arg(long, global = true)]
    notices: Option<PathBuf>,
}

/// The longest limit the command computes (the definitions allow 365 working days).
const MAX_WORKING_DAYS: u32 = 1_000;

#[derive(Debug, Subcommand)]
enum CalendarCommand {
    /// When a limit of N working days falls due for a dossier received at an instant.
    Due {
        /// Local time of receipt (UTC+7), `YYYY-MM-DDTHH:MM`, or RFC 3339 with an offset.
        #[arg(long)]
        received: String,
        #[arg(long)]
        working_days: u32,
        #[arg(long, value_enum, default_value = "json")]
        format: Format,
    },
    /// The Vietnamese lunar date of a solar date.
    Lunar {
        /// `YYYY-MM-DD`
        date: NaiveDate,
        #[arg(long, value_enum, default_value = "json")]
        format: Format,
    },
}

fn load_calendar(dir: Option<&Path>) -> anyhow::Result<Calendar> {
    let Some(dir) = dir else {
        return Ok(Calendar::vietnam());
    };
    let mut notices = Vec::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("--notices {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    for f in files {
        let text =
            std::fs::read_to_string(&f).with_context(|| format!("cannot read {}", f.display()))?;
        notices.push(YearNotice::from_yaml(&text, &f.display().to_string())?);
    }
    Ok(Calendar::with_notices(notices)?)
}

fn in_range(date: NaiveDate) -> anyhow::Result<()> {
    if !(1900..=2100).contains(&date.year()) {
        bail!("{date}: the calendar covers 1900–2100");
    }
    Ok(())
}

pub fn run(args: CalendarArgs) -> anyhow::Result<ExitCode> {
    let calendar = load_calendar(args.notices.as_deref())?;
    match (args.command, args.year) {
        (
            Some(CalendarCommand::Due {
                received,
                working_days,
                format,
            }),
            _,
        ) => {
            let at = parse_received(&received)?;
            in_range(at.date_naive())?;
            if working_days > MAX_WORKING_DAYS {
                bail!("--working-days {working_days}: at most {MAX_WORKING_DAYS}");
            }
            let d = due(at, working_days, &calendar, &OfficeHours::default());
            in_range(d.due.date_naive())?;
            let provisional = (at.year()..=d.due.year()).any(|y| calendar.is_provisional(y));
            match format {
                Format::Json => out!(
                    "{}",
                    json!({
                        "start_day": d.start_day.to_string(),
                        "due": d.due.to_rfc3339(),
                        "provisional": provisional,
                        "calendar_version": calendar.version(),
                    })
                ),
                Format::Text => out!(
                    "ngày bắt đầu / start day: {}\nhạn / due: {}",
                    d.start_day,
                    d.due.to_rfc3339()
                ),
            }
        }
        (Some(CalendarCommand::Lunar { date, format }), _) => {
            in_range(date)?;
            let l = solar_to_lunar(date);
            match format {
                Format::Json => out!(
                    "{}",
                    json!({"day": l.day, "month": l.month, "year": l.year, "leap_month": l.leap_month})
                ),
                Format::Text => out!(
                    "{date}: ngày {} tháng {}{} năm {} âm lịch / lunar day {}, month {}{}, year {}",
                    l.day,
                    l.month,
                    if l.leap_month { " nhuận" } else { "" },
                    l.year,
                    l.day,
                    l.month,
                    if l.leap_month { " (leap)" } else { "" },
                    l.year
                ),
            }
        }
        (None, Some(year)) => list_year(&calendar, year, args.format)?,
        (None, None) => {
            bail!("give a YEAR, or `calendar due …` / `calendar lunar DATE` (see --help)")
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn parse_received(text: &str) -> anyhow::Result<DateTime<FixedOffset>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t);
    }
    let local = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S"))
        .with_context(|| {
            format!("--received {text:?}: expected YYYY-MM-DDTHH:MM (local time, UTC+7)")
        })?;
    local
        .and_local_timezone(VIETNAM_OFFSET)
        .single()
        .with_context(|| format!("--received {text:?} is not a valid local time"))
}

fn list_year(calendar: &Calendar, year: i32, format: Format) -> anyhow::Result<()> {
    if !(1900..=2100).contains(&year) {
        bail!("YEAR {year}: the calendar covers 1900–2100");
    }
    let entries = calendar.entries(year);
    match format {
        Format::Json => out!("{}", serde_json::to_string_pretty(&entries)?),
        Format::Text => {
            let status = if calendar.is_provisional(year) {
                "tạm tính, chưa có thông báo / provisional: no official notice yet"
            } else {
                "theo thông báo chính thức / from the official notice"
            };
            out!("Lịch làm việc {year} / Working calendar {year} — {status}");
            out!(
                "{:<12} {:<4} {:<17} {:<22} tên / name",
                "ngày/date",
                "thứ",
                "loại/kind",
                "nguồn/source"
            );
            for e in &entries {
                let kind = match e.kind {
                    DayKind::Holiday => "holiday",
                    DayKind::Compensatory => "compensatory",
                    DayKind::WorkingSaturday => "working_saturday",
                };
                let source = serde_json::to_value(e)?["source"]
                    .as_str()
                    .unwrap_or("")
                    .to_string();
                out!(
                    "{:<12} {:<4} {kind:<17} {source:<22} {} / {}",
                    e.date,
                    e.date.weekday(),
                    e.name_vi,
                    e.name_en
                );
            }
        }
    }
    Ok(())
}
