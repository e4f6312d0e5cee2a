//! The Vietnamese lunisolar calendar (âm lịch), computed by the astronomical method.
//!
//! The rules are those of the Chinese calendar, evaluated at UTC+7 (Vietnam has used UTC+7 for
//! its calendar since 1968) instead of UTC+8:
//!
//! 1. A month begins on the local calendar day that contains an astronomical new moon.
//! 2. The month that contains the December solstice (sun longitude 270°) is month 11.
//! 3. When 13 months begin between one month 11 (inclusive) and the next (exclusive), the first
//!    of them after month 11 that contains no principal solar term (sun longitude a multiple of
//!    30°) is a leap month; it repeats the number of the month before it.
//!
//! The astronomy follows Jean Meeus, *Astronomical Algorithms* (2nd ed.): true new moons with
//! their periodic and planetary corrections (ch. 49), the sun's apparent longitude at low
//! accuracy, about 0.01° (ch. 25), the December solstice refined from its mean value (ch. 27),
//! and ΔT from the Espenak–Meeus polynomials to turn dynamical time into universal time.
//!
//! Results are verified for 1900–2100 (see the tests: published Tết, Hùng Kings and leap-month
//! dates, a round trip over every day, and a cross-check against `amlich-core`). Outside that
//! range the same formulas are used up to [`SUPPORTED_YEARS`]; beyond it a placeholder date is
//! returned rather than a panic. Note that before 1968 the calendar used in Vietnam followed
//! UTC+8 (the Chinese calendar); for those years this module gives the UTC+7 reckoning.

use std::ops::RangeInclusive;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

/// Years for which the formulas are evaluated at all (accuracy is verified for 1900–2100 only).
pub const SUPPORTED_YEARS: RangeInclusive<i32> = -1000..=3000;

/// Vietnam's calendar time zone, in hours east of UTC.
pub(crate) const VIETNAM_TZ_HOURS: f64 = 7.0;

/// Julian Day Number of a date = its `num_days_from_ce()` plus this.
const JDN_OFFSET_FROM_CE: i64 = 1_721_425;
/// Mean synodic month, in days (Meeus 49.1).
const SYNODIC_MONTH: f64 = 29.530_588_861;
/// JDE of the mean new moon k = 0 (6 Jan 2000).
const NEW_MOON_EPOCH: f64 = 2_451_550.097_66;
/// JDE of J2000.0.
const J2000: f64 = 2_451_545.0;

/// A date of the Vietnamese lunisolar calendar.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LunarDate {
    /// Day of the month, 1–30.
    pub day: u8,
    /// Month, 1–12 (a leap month carries the number of the month it follows).
    pub month: u8,
    /// Lunar year, named by the Gregorian year in which its first day falls.
    pub year: i32,
    /// True for the intercalary (leap) month, *tháng nhuận*.
    pub leap_month: bool,
}

impl LunarDate {
    /// A regular (non-leap) lunar date.
    pub fn new(day: u8, month: u8, year: i32) -> Self {
        Self {
            day,
            month,
            year,
            leap_month: false,
        }
    }
}

/// Converts a Gregorian date to the Vietnamese lunar date (UTC+7).
pub fn solar_to_lunar(date: NaiveDate) -> LunarDate {
    solar_to_lunar_at(date, VIETNAM_TZ_HOURS)
}

/// Converts a Vietnamese lunar date (UTC+7) to the Gregorian date.
///
/// `None` when the date does not exist: a leap month that the year does not have, day 30 of a
/// 29-day month, a month outside 1–12 or a day outside 1–30.
pub fn lunar_to_solar(l: LunarDate) -> Option<NaiveDate> {
    lunar_to_solar_at(l, VIETNAM_TZ_HOURS)
}

/// Solar date of the first day of lunar year `year` (Tết Nguyên đán), at UTC+7.
pub fn lunar_new_year(year: i32) -> Option<NaiveDate> {
    lunar_to_solar(LunarDate::new(1, 1, year))
}

/// [`solar_to_lunar`] for a calendar kept at `tz_hours` east of UTC (8.0 gives the Chinese
/// calendar since 1929).
pub(crate) fn solar_to_lunar_at(date: NaiveDate, tz_hours: f64) -> LunarDate {
    try_solar_to_lunar(date, tz_hours).unwrap_or(LunarDate {
        // Placeholder outside SUPPORTED_YEARS, where the astronomy is meaningless.
        day: 1,
        month: 1,
        year: date.year(),
        leap_month: false,
    })
}

/// [`lunar_to_solar`] for a calendar kept at `tz_hours` east of UTC.
pub(crate) fn lunar_to_solar_at(l: LunarDate, tz_hours: f64) -> Option<NaiveDate> {
    if !(1..=12).contains(&l.month) || !(1..=30).contains(&l.day) {
        return None;
    }
    // Months 11 and 12 (leap or not) of lunar year Y lie in the table that starts at the
    // month 11 of Gregorian year Y; months 1–10 in the table that ends there.
    let label = if l.month >= 11 {
        l.year.checked_add(1)?
    } else {
        l.year
    };
    let table = MonthTable::for_label(label, tz_hours)?;
    let i = (0..table.len()).find(|&i| table.name(i) == (l.month, l.leap_month, l.year))?;
    let start = table.starts[i];
    let length = table.starts[i + 1] - start;
    if i64::from(l.day) > length {
        return None;
    }
    date_from_jdn(start + i64::from(l.day) - 1)
}

fn try_solar_to_lunar(date: NaiveDate, tz_hours: f64) -> Option<LunarDate> {
    let year = date.year();
    if !SUPPORTED_YEARS.contains(&year) {
        return None;
    }
    let day = jdn(date);
    let k11 = month11_k(year, tz_hours);
    let table = if day >= new_moon_day(k11, tz_hours) {
        MonthTable::between(month11_k(year + 1, tz_hours) - k11, k11, year + 1, tz_hours)?
    } else {
        let k11_before = month11_k(year - 1, tz_hours);
        MonthTable::between(k11 - k11_before, k11_before, year, tz_hours)?
    };
    let i = table.starts[..table.len()]
        .iter()
        .rposition(|&s| s <= day)?;
    let (month, leap_month, lunar_year) = table.name(i);
    let day_of_month = u8::try_from(day - table.starts[i] + 1).ok()?;
    Some(LunarDate {
        day: day_of_month,
        month,
        year: lunar_year,
        leap_month,
    })
}

/// The months from the month 11 of Gregorian year `label - 1` (inclusive) to the month 11 of
/// Gregorian year `label` (exclusive): 12 or 13 months, among them the first day of lunar year
/// `label`.
#[derive(Debug)]
struct MonthTable {
    label: i32,
    /// Local Julian Day Numbers of the first day of each month, plus the start of the next
    /// month 11 as the last element.
    starts: Vec<i64>,
    /// Index of the leap month, if the table has 13 months.
    leap: Option<usize>,
}

impl MonthTable {
    fn for_label(label: i32, tz_hours: f64) -> Option<Self> {
        if !SUPPORTED_YEARS.contains(&label) {
            return None;
        }
        let first = month11_k(label - 1, tz_hours);
        Self::between(month11_k(label, tz_hours) - first, first, label, tz_hours)
    }

    /// `months` months starting with new moon `first_k`.
    fn between(months: i64, first_k: i64, label: i32, tz_hours: f64) -> Option<Self> {
        if !(12..=13).contains(&months) {
            return None;
        }
        let starts: Vec<i64> = (first_k..=first_k + months)
            .map(|k| new_moon_day(k, tz_hours))
            .collect();
        let leap = if months == 13 {
            let terms: Vec<i64> = starts
                .iter()
                .map(|&d| principal_term(d, tz_hours))
                .collect();
            // Month 0 is month 11, which holds the solstice; the search starts after it.
            (1..terms.len() - 1).find(|&i| terms[i] == terms[i + 1])
        } else {
            None
        };
        Some(Self {
            label,
            starts,
            leap,
        })
    }

    /// Number of months in the table.
    fn len(&self) -> usize {
        self.starts.len() - 1
    }

    /// (month number, leap, lunar year) of the i-th month of the table.
    fn name(&self, i: usize) -> (u8, bool, i32) {
        let ordinal = match self.leap {
            Some(leap) if i >= leap => i - 1,
            _ => i,
        };
        // Ordinal 0 is month 11, 1 is month 12, 2 is month 1, ...
        let month = u8::try_from((ordinal + 10) % 12 + 1).unwrap_or(1);
        let leap = self.leap == Some(i);
        // Months 11 and 12 at the head of the table belong to the previous lunar year.
        let year = if month >= 11 && i < 4 {
            self.label - 1
        } else {
            self.label
        };
        (month, leap, year)
    }
}

/// Index k of the new moon that begins month 11 of the lunar year: the last new moon whose local
/// day is on or before the local day of the December solstice of Gregorian `year`.
fn month11_k(year: i32, tz_hours: f64) -> i64 {
    let solstice = december_solstice_day(year, tz_hours);
    let mut k = ((solstice as f64 - NEW_MOON_EPOCH) / SYNODIC_MONTH).floor() as i64;
    // The true new moon is within about 0.6 day of the mean one, so a step or two is enough.
    for _ in 0..3 {
        if new_moon_day(k + 1, tz_hours) <= solstice {
            k += 1;
        } else {
            break;
        }
    }
    for _ in 0..3 {
        if new_moon_day(k, tz_hours) > solstice {
            k -= 1;
        } else {
            break;
        }
    }
    k
}

/// Julian Day Number of a Gregorian date.
pub(crate) fn jdn(date: NaiveDate) -> i64 {
    i64::from(date.num_days_from_ce()) + JDN_OFFSET_FROM_CE
}

/// Gregorian date of a Julian Day Number.
pub(crate) fn date_from_jdn(jdn: i64) -> Option<NaiveDate> {
    i32::try_from(jdn - JDN_OFFSET_FROM_CE)
        .ok()
        .and_then(NaiveDate::from_num_days_from_ce_opt)
}

/// Local Julian Day Number of the day containing the instant `jd_ut` (a Julian Date in UT).
fn local_day(jd_ut: f64, tz_hours: f64) -> i64 {
    (jd_ut + 0.5 + tz_hours / 24.0).floor() as i64
}

/// Local day of new moon number `k` (k = 0 is the new moon of 6 Jan 2000).
fn new_moon_day(k: i64, tz_hours: f64) -> i64 {
    let jde = new_moon_jde(k as f64);
    local_day(jde - delta_t_days(jde), tz_hours)
}

/// Index 0–11 of the principal term last passed at the local midnight that begins `day`
/// (`floor(sun longitude / 30°)`).
fn principal_term(day: i64, tz_hours: f64) -> i64 {
    let jd_ut = day as f64 - 0.5 - tz_hours / 24.0;
    let longitude = sun_apparent_longitude(jd_ut + delta_t_days(jd_ut));
    (longitude / 30.0).floor() as i64
}

/// Local day of the December solstice of Gregorian `year` (Meeus ch. 27).
fn december_solstice_day(year: i32, tz_hours: f64) -> i64 {
    let y = (f64::from(year) - 2000.0) / 1000.0;
    let mut jde = 2_451_900.059_52 + 365_242.740_49 * y - 0.062_23 * y * y - 0.008_23 * y * y * y
        + 0.000_32 * y * y * y * y;
    for _ in 0..10 {
        let correction = 58.0 * sin_deg(270.0 - sun_apparent_longitude(jde));
        jde += correction;
        if correction.abs() < 1e-6 {
            break;
        }
    }
    local_day(jde - delta_t_days(jde), tz_hours)
}

fn sin_deg(degrees: f64) -> f64 {
    degrees.to_radians().sin()
}

/// Apparent geocentric longitude of the sun, in degrees in [0, 360), at Julian Ephemeris Day
/// `jde` (Meeus ch. 25, low accuracy).
fn sun_apparent_longitude(jde: f64) -> f64 {
    let t = (jde - J2000) / 36_525.0;
    let mean_longitude = 280.466_46 + 36_000.769_83 * t + 0.000_303_2 * t * t;
    let mean_anomaly = 357.529_11 + 35_999.050_29 * t - 0.000_153_7 * t * t;
    let centre = (1.914_602 - 0.004_817 * t - 0.000_014 * t * t) * sin_deg(mean_anomaly)
        + (0.019_993 - 0.000_101 * t) * sin_deg(2.0 * mean_anomaly)
        + 0.000_289 * sin_deg(3.0 * mean_anomaly);
    let omega = 125.04 - 1_934.136 * t;
    let apparent = mean_longitude + centre - 0.005_69 - 0.004_78 * sin_deg(omega);
    apparent.rem_euclid(360.0)
}

/// Julian Ephemeris Day of the true new moon number `k` (Meeus ch. 49).
fn new_moon_jde(k: f64) -> f64 {
    let t = k / 1_236.85;
    let (t2, t3, t4) = (t * t, t * t * t, t * t * t * t);
    let mean = NEW_MOON_EPOCH + SYNODIC_MONTH * k + 0.000_154_37 * t2 - 0.000_000_150 * t3
        + 0.000_000_000_73 * t4;
    let e = 1.0 - 0.002_516 * t - 0.000_007_4 * t2;
    let m = 2.553_4 + 29.105_356_70 * k - 0.000_001_4 * t2 - 0.000_000_11 * t3;
    let mp =
        201.564_3 + 385.816_935_28 * k + 0.010_758_2 * t2 + 0.000_012_38 * t3 - 0.000_000_058 * t4;
    let f =
        160.710_8 + 390.670_502_84 * k - 0.001_611_8 * t2 - 0.000_002_27 * t3 + 0.000_000_011 * t4;
    let omega = 124.774_6 - 1.563_755_88 * k + 0.002_067_2 * t2 + 0.000_002_15 * t3;

    // Periodic terms of the new moon: (coefficient, power of E, multiples of M, M', F, Ω).
    const TERMS: [(f64, i32, [f64; 4]); 25] = [
        (-0.407_20, 0, [0.0, 1.0, 0.0, 0.0]),
        (0.172_41, 1, [1.0, 0.0, 0.0, 0.0]),
        (0.016_08, 0, [0.0, 2.0, 0.0, 0.0]),
        (0.010_39, 0, [0.0, 0.0, 2.0, 0.0]),
        (0.007_39, 1, [-1.0, 1.0, 0.0, 0.0]),
        (-0.005_14, 1, [1.0, 1.0, 0.0, 0.0]),
        (0.002_08, 2, [2.0, 0.0, 0.0, 0.0]),
        (-0.001_11, 0, [0.0, 1.0, -2.0, 0.0]),
        (-0.000_57, 0, [0.0, 1.0, 2.0, 0.0]),
        (0.000_56, 1, [1.0, 2.0, 0.0, 0.0]),
        (-0.000_42, 0, [0.0, 3.0, 0.0, 0.0]),
        (0.000_42, 1, [1.0, 0.0, 2.0, 0.0]),
        (0.000_38, 1, [1.0, 0.0, -2.0, 0.0]),
        (-0.000_24, 1, [-1.0, 2.0, 0.0, 0.0]),
        (-0.000_17, 0, [0.0, 0.0, 0.0, 1.0]),
        (-0.000_07, 0, [2.0, 1.0, 0.0, 0.0]),
        (0.000_04, 0, [0.0, 2.0, -2.0, 0.0]),
        (0.000_04, 0, [3.0, 0.0, 0.0, 0.0]),
        (0.000_03, 0, [1.0, 1.0, -2.0, 0.0]),
        (0.000_03, 0, [0.0, 2.0, 2.0, 0.0]),
        (-0.000_03, 0, [1.0, 1.0, 2.0, 0.0]),
        (0.000_03, 0, [-1.0, 1.0, 2.0, 0.0]),
        (-0.000_02, 0, [-1.0, 1.0, -2.0, 0.0]),
        (-0.000_02, 0, [1.0, 3.0, 0.0, 0.0]),
        (0.000_02, 0, [0.0, 4.0, 0.0, 0.0]),
    ];
    let periodic: f64 = TERMS
        .iter()
        .map(|&(coefficient, e_power, [cm, cmp, cf, co])| {
            coefficient * e.powi(e_power) * sin_deg(cm * m + cmp * mp + cf * f + co * omega)
        })
        .sum();

    // Planetary arguments A1–A14: (constant, coefficient of k, coefficient of T², amplitude).
    const PLANETARY: [(f64, f64, f64, f64); 14] = [
        (299.77, 0.107_408, -0.009_173, 0.000_325),
        (251.88, 0.016_321, 0.0, 0.000_165),
        (251.83, 26.651_886, 0.0, 0.000_164),
        (349.42, 36.412_478, 0.0, 0.000_126),
        (84.66, 18.206_239, 0.0, 0.000_110),
        (141.74, 53.303_771, 0.0, 0.000_062),
        (207.14, 2.453_732, 0.0, 0.000_060),
        (154.84, 7.306_860, 0.0, 0.000_056),
        (34.52, 27.261_239, 0.0, 0.000_047),
        (207.19, 0.121_824, 0.0, 0.000_042),
        (291.34, 1.844_379, 0.0, 0.000_040),
        (161.72, 24.198_154, 0.0, 0.000_037),
        (239.56, 25.513_099, 0.0, 0.000_035),
        (331.55, 3.592_518, 0.0, 0.000_023),
    ];
    let planetary: f64 = PLANETARY
        .iter()
        .map(|&(a0, ak, at2, amplitude)| amplitude * sin_deg(a0 + ak * k + at2 * t2))
        .sum();

    mean + periodic + planetary
}

/// ΔT = TT − UT in days at Julian Day `jd`, from the Espenak–Meeus polynomials.
fn delta_t_days(jd: f64) -> f64 {
    let y = 2000.0 + (jd - J2000) / 365.25;
    let seconds = if y < 1860.0 {
        let u = (y - 1820.0) / 100.0;
        -20.0 + 32.0 * u * u
    } else if y < 1900.0 {
        let t = y - 1860.0;
        7.62 + 0.573_7 * t - 0.251_754 * t.powi(2) + 0.016_806_68 * t.powi(3)
            - 0.000_447_362_4 * t.powi(4)
            + t.powi(5) / 233_174.0
    } else if y < 1920.0 {
        let t = y - 1900.0;
        -2.79 + 1.494_119 * t - 0.059_893_9 * t.powi(2) + 0.006_196_6 * t.powi(3)
            - 0.000_197 * t.powi(4)
    } else if y < 1941.0 {
        let t = y - 1920.0;
        21.20 + 0.844_93 * t - 0.076_100 * t.powi(2) + 0.002_093_6 * t.powi(3)
    } else if y < 1961.0 {
        let t = y - 1950.0;
        29.07 + 0.407 * t - t.powi(2) / 233.0 + t.powi(3) / 2_547.0
    } else if y < 1986.0 {
        let t = y - 1975.0;
        45.45 + 1.067 * t - t.powi(2) / 260.0 - t.powi(3) / 718.0
    } else if y < 2005.0 {
        let t = y - 2000.0;
        63.86 + 0.334_5 * t - 0.060_374 * t.powi(2)
            + 0.001_727_5 * t.powi(3)
            + 0.000_651_814 * t.powi(4)
            + 0.000_023_735_99 * t.powi(5)
    } else if y < 2050.0 {
        let t = y - 2000.0;
        62.92 + 0.322_17 * t + 0.005_589 * t.powi(2)
    } else if y < 2150.0 {
        let u = (y - 1820.0) / 100.0;
        -20.0 + 32.0 * u * u - 0.562_8 * (2150.0 - y)
    } else {
        let u = (y - 1820.0) / 100.0;
        -20.0 + 32.0 * u * u
    };
    seconds / 86_400.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn new_moon_matches_meeus_example_49a() {
        // Meeus example 49.a: the new moon of February 1977 is JDE 2443192.65118.
        assert!((new_moon_jde(-283.0) - 2_443_192.651_18).abs() < 1e-4);
    }

    #[test]
    fn december_solstice_days() {
        // 21 Dec 2000 13:37 UT; 21 Dec 2024 09:20 UT; 22 Dec 2026 03:50 UT: all before
        // local midnight at UTC+7 except none crossing; 1984's fell at 23:23 UTC+7 on the 21st.
        assert_eq!(
            date_from_jdn(december_solstice_day(2000, 7.0)),
            Some(d(2000, 12, 21))
        );
        assert_eq!(
            date_from_jdn(december_solstice_day(2024, 7.0)),
            Some(d(2024, 12, 21))
        );
        assert_eq!(
            date_from_jdn(december_solstice_day(1984, 7.0)),
            Some(d(1984, 12, 21))
        );
        assert_eq!(
            date_from_jdn(december_solstice_day(1984, 8.0)),
            Some(d(1984, 12, 22))
        );
    }

    /// Published Vietnamese New Year (Tết Nguyên đán) dates.
    const TET_VN: [(i32, u32, u32); 34] = [
        (1968, 1, 29),
        (1985, 1, 21),
        (1991, 2, 15),
        (2000, 2, 5),
        (2001, 1, 24),
        (2002, 2, 12),
        (2003, 2, 1),
        (2004, 1, 22),
        (2005, 2, 9),
        (2006, 1, 29),
        (2007, 2, 17),
        (2008, 2, 7),
        (2009, 1, 26),
        (2010, 2, 14),
        (2011, 2, 3),
        (2012, 1, 23),
        (2013, 2, 10),
        (2014, 1, 31),
        (2015, 2, 19),
        (2016, 2, 8),
        (2017, 1, 28),
        (2018, 2, 16),
        (2019, 2, 5),
        (2020, 1, 25),
        (2021, 2, 12),
        (2022, 2, 1),
        (2023, 1, 22),
        (2024, 2, 10),
        (2025, 1, 29),
        (2026, 2, 17),
        (2027, 2, 6),
        (2028, 1, 26),
        (2029, 2, 13),
        (2030, 2, 2),
    ];

    #[test]
    fn tet_dates() {
        for (year, month, day) in TET_VN {
            assert_eq!(
                lunar_new_year(year),
                Some(d(year, month, day)),
                "Tết {year}"
            );
            assert_eq!(
                solar_to_lunar(d(year, month, day)),
                LunarDate::new(1, 1, year)
            );
        }
    }

    /// Hùng Kings' Commemoration (10th day of the 3rd lunar month), as published.
    const HUNG_KINGS: [(i32, u32, u32); 21] = [
        (2010, 4, 23),
        (2011, 4, 12),
        (2012, 3, 31),
        (2013, 4, 19),
        (2014, 4, 9),
        (2015, 4, 28),
        (2016, 4, 16),
        (2017, 4, 6),
        (2018, 4, 25),
        (2019, 4, 14),
        (2020, 4, 2),
        (2021, 4, 21),
        (2022, 4, 10),
        (2023, 4, 29),
        (2024, 4, 18),
        (2025, 4, 7),
        (2026, 4, 26),
        (2027, 4, 16),
        (2028, 4, 4),
        (2029, 4, 23),
        (2030, 4, 12),
    ];

    #[test]
    fn hung_kings_dates() {
        for (year, month, day) in HUNG_KINGS {
            let date = lunar_to_solar(LunarDate::new(10, 3, year));
            assert_eq!(date, Some(d(year, month, day)), "Hùng Kings {year}");
        }
    }

    #[test]
    fn vietnamese_and_chinese_new_year_differ_only_in_known_years() {
        // (year, Vietnam at UTC+7, China at UTC+8)
        let known = [
            (1968, d(1968, 1, 29), d(1968, 1, 30)),
            (1985, d(1985, 1, 21), d(1985, 2, 20)),
            (2007, d(2007, 2, 17), d(2007, 2, 18)),
            (2030, d(2030, 2, 2), d(2030, 2, 3)),
        ];
        for (year, vn, cn) in known {
            assert_eq!(lunar_to_solar_at(LunarDate::new(1, 1, year), 7.0), Some(vn));
            assert_eq!(lunar_to_solar_at(LunarDate::new(1, 1, year), 8.0), Some(cn));
        }
        // China has used UTC+8 for its calendar since 1929.
        let differing: Vec<i32> = (1930..=2100)
            .filter(|&y| {
                let l = LunarDate::new(1, 1, y);
                lunar_to_solar_at(l, 7.0) != lunar_to_solar_at(l, 8.0)
            })
            .collect();
        assert_eq!(differing, [1935, 1965, 1968, 1969, 1985, 2007, 2030, 2053]);
    }

    #[test]
    fn leap_months() {
        // (first day of the leap month, its number)
        let known = [
            (d(2001, 5, 23), 4),
            (d(2004, 3, 21), 2),
            (d(2006, 8, 24), 7),
            (d(2009, 6, 23), 5),
            (d(2012, 5, 21), 4),
            (d(2014, 10, 24), 9),
            (d(2017, 7, 23), 6),
            (d(2020, 5, 23), 4),
            (d(2023, 3, 22), 2),
            (d(2025, 7, 25), 6),
            (d(2028, 6, 23), 5),
        ];
        for (date, month) in known {
            let l = solar_to_lunar(date);
            assert_eq!((l.day, l.month, l.leap_month), (1, month, true), "{date}");
            assert_eq!(lunar_to_solar(l), Some(date));
        }
    }

    #[test]
    fn nonexistent_dates_are_none() {
        // 2026 has no leap month; 2025 has a leap 6th month, not a leap 5th.
        assert_eq!(
            lunar_to_solar(LunarDate {
                leap_month: true,
                ..LunarDate::new(1, 5, 2026)
            }),
            None
        );
        assert_eq!(
            lunar_to_solar(LunarDate {
                leap_month: true,
                ..LunarDate::new(1, 5, 2025)
            }),
            None
        );
        assert!(
            lunar_to_solar(LunarDate {
                leap_month: true,
                ..LunarDate::new(1, 6, 2025)
            })
            .is_some()
        );
        // The 12th month of Ất Tỵ (2025) has 29 days: Tết 2026 follows its 29th.
        assert_eq!(
            lunar_to_solar(LunarDate::new(29, 12, 2025)),
            Some(d(2026, 2, 16))
        );
        assert_eq!(lunar_to_solar(LunarDate::new(30, 12, 2025)), None);
        assert_eq!(lunar_to_solar(LunarDate::new(0, 1, 2026)), None);
        assert_eq!(lunar_to_solar(LunarDate::new(31, 1, 2026)), None);
        assert_eq!(lunar_to_solar(LunarDate::new(1, 13, 2026)), None);
        assert_eq!(lunar_to_solar(LunarDate::new(1, 0, 2026)), None);
        assert_eq!(lunar_to_solar(LunarDate::new(1, 1, i32::MAX)), None);
    }

    #[test]
    fn round_trip_every_day_1900_to_2100() {
        let mut date = d(1900, 1, 1);
        let mut previous = solar_to_lunar(date - chrono::Days::new(1));
        while date <= d(2100, 12, 31) {
            let lunar = solar_to_lunar(date);
            assert_eq!(lunar_to_solar(lunar), Some(date), "{date} -> {lunar:?}");
            // Days advance by one within a month and restart at 1 with the next month.
            if lunar.day == 1 {
                assert!(
                    previous.day == 29 || previous.day == 30,
                    "{date}: {previous:?}"
                );
            } else {
                assert_eq!(lunar.day, previous.day + 1, "{date}");
                assert_eq!(
                    (lunar.month, lunar.leap_month),
                    (previous.month, previous.leap_month)
                );
            }
            previous = lunar;
            date = date.succ_opt().unwrap();
        }
    }

    #[test]
    fn far_dates_do_not_panic() {
        for date in [
            NaiveDate::MIN,
            NaiveDate::MAX,
            d(-1000, 6, 1),
            d(3000, 6, 1),
        ] {
            let _ = solar_to_lunar(date);
        }
    }
}

/// Cross-check against `amlich-core`, an independent port of Ho Ngoc Duc's algorithm, which uses
/// a lower-accuracy new-moon series. Every month boundary 1900–2100 must agree, except where our
/// new moon lies within 60 minutes of local midnight, so that the two series may legitimately
/// put it on different days (and, in a leap year, move the leap month), and except the days
/// for which amlich-core 0.1.4 answers "day 0". (Measured: the two disagree on 44 months, all
/// with our new moon between 36 minutes before and 47 minutes after local midnight; where
/// published dates exist, e.g. Tết 1991 on 15 Feb, the leap 4th month of 2020 from 23 May and
/// the leap 2nd month of 2023 from 22 Mar, they side with this implementation.)
#[cfg(test)]
mod crosscheck {
    use super::*;

    fn amlich(jdn: i64) -> LunarDate {
        let date = date_from_jdn(jdn).unwrap();
        let l = amlich_core::lunar::convert_solar_to_lunar(
            date.day() as i32,
            date.month() as i32,
            date.year(),
            VIETNAM_TZ_HOURS,
        );
        LunarDate {
            day: l.day as u8,
            month: l.month as u8,
            year: l.year,
            leap_month: l.is_leap,
        }
    }

    /// Minutes between new moon k and the nearest local midnight at UTC+7.
    fn minutes_from_midnight(k: i64) -> f64 {
        let jde = new_moon_jde(k as f64);
        let local = jde - delta_t_days(jde) + 0.5 + VIETNAM_TZ_HOURS / 24.0;
        let minutes = (local - local.floor()) * 1440.0;
        minutes.min(1440.0 - minutes)
    }

    #[test]
    fn month_boundaries_agree_with_amlich_core() {
        let (first, last) = (jdn(NaiveDate::MIN), jdn(NaiveDate::MAX));
        let range = jdn(NaiveDate::from_ymd_opt(1900, 1, 1).unwrap())
            ..=jdn(NaiveDate::from_ymd_opt(2100, 12, 31).unwrap());
        let (mut checked, mut explained, mut amlich_day_zero) = (0, Vec::new(), 0);
        for label in 1900..=2101 {
            let k_first = month11_k(label - 1, VIETNAM_TZ_HOURS);
            let table = MonthTable::for_label(label, VIETNAM_TZ_HOURS).unwrap();
            // Month starts whose new moon is within 60 minutes of midnight, for this table and
            // the month before it.
            let near_midnight: Vec<i64> = (-1..=table.len() as i64)
                .filter(|&i| minutes_from_midnight(k_first + i) < 60.0)
                .map(|i| new_moon_day(k_first + i, VIETNAM_TZ_HOURS))
                .collect();
            for i in 0..table.len() {
                let start = table.starts[i];
                let previous_start = new_moon_day(k_first + i as i64 - 1, VIETNAM_TZ_HOURS);
                let (month, leap_month, year) = table.name(i);
                let ours_first = LunarDate {
                    day: 1,
                    month,
                    year,
                    leap_month,
                };
                // The last day of the previous month is explained by either of its bounds,
                // the first day of this month by its own start.
                for (day, explaining) in [
                    (start - 1, vec![previous_start, start]),
                    (start, vec![start]),
                ] {
                    if !range.contains(&day) || day < first || day > last {
                        continue;
                    }
                    checked += 1;
                    let ours = if day == start {
                        ours_first
                    } else {
                        solar_to_lunar(date_from_jdn(day).unwrap())
                    };
                    let theirs = amlich(day);
                    if ours == theirs {
                        continue;
                    }
                    if theirs.day == 0 {
                        amlich_day_zero += 1;
                        continue;
                    }
                    let ok = if ours.day == theirs.day {
                        // Only the month's name differs: the leap month moved.
                        !near_midnight.is_empty()
                    } else {
                        explaining.iter().any(|s| near_midnight.contains(s))
                    };
                    assert!(
                        ok,
                        "{:?}: ours {ours:?}, amlich {theirs:?}",
                        date_from_jdn(day)
                    );
                    explained.push(day);
                }
            }
        }
        assert!(checked > 4_900, "{checked}");
        assert!(amlich_day_zero <= 2, "{amlich_day_zero}");
        println!("{} month boundaries differ, all explained", explained.len());
        assert!(explained.len() <= 120, "{}", explained.len());
    }
}
