//! How a simulated agency misbehaves, and the seeded dice that decide each call.

use serde::{Deserialize, Serialize};

/// One agency's behaviour. Percentages are out of 100 calls (faults) or 100 first filings
/// (rejections, supplement requests).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Behaviour {
    /// HTTP 500 before anything is filed.
    pub fail_percent: u32,
    /// Filed, then HTTP 500: the answer was lost on the way back.
    pub lost_percent: u32,
    /// HTTP 429 with `Retry-After: 1`.
    pub throttle_percent: u32,
    /// The request hangs for `hang_ms`, then fails (the engine's time-out fires first).
    pub hang_percent: u32,
    /// The agency refuses the filing (`tu_choi`).
    pub reject_percent: u32,
    /// The agency asks the citizen for more papers (`yeu_cau_bo_sung`), once per dossier.
    pub supplement_percent: u32,
    /// Each answer takes between these many milliseconds.
    pub latency_ms: (u64, u64),
    pub hang_ms: u64,
    /// The agency accepts the request (`da_tiep_nhan`) and answers later by callback
    /// (when the simulators have a callback target).
    pub accept_percent: u32,
    /// A callback follows the acceptance after between these many milliseconds.
    pub callback_delay_ms: (u64, u64),
}

impl Default for Behaviour {
    fn default() -> Self {
        Behaviour {
            fail_percent: 0,
            lost_percent: 0,
            throttle_percent: 0,
            hang_percent: 0,
            reject_percent: 0,
            supplement_percent: 0,
            latency_ms: (0, 0),
            hang_ms: 3_000,
            accept_percent: 0,
            callback_delay_ms: (0, 0),
        }
    }
}

impl Behaviour {
    /// `percent` of calls failing, spread over 500s, lost answers, hangs and 429s.
    pub fn failing(percent: u32) -> Self {
        let quarter = percent / 4;
        Behaviour {
            fail_percent: percent - 3 * quarter,
            lost_percent: quarter,
            hang_percent: quarter,
            throttle_percent: quarter,
            ..Behaviour::default()
        }
    }

    /// Checks the figures; the error names the field.
    pub fn validate(&self, agency: &str) -> Result<(), String> {
        let faults =
            self.fail_percent + self.lost_percent + self.throttle_percent + self.hang_percent;
        if faults > 100 {
            return Err(format!(
                "{agency}: fail, lost, throttle and hang percentages add up to {faults} (> 100)"
            ));
        }
        if self.reject_percent + self.supplement_percent + self.accept_percent > 100 {
            return Err(format!(
                "{agency}: reject_percent + supplement_percent + accept_percent is over 100"
            ));
        }
        if self.callback_delay_ms.0 > self.callback_delay_ms.1 {
            return Err(format!(
                "{agency}: callback_delay_ms minimum is above its maximum"
            ));
        }
        if self.latency_ms.0 > self.latency_ms.1 {
            return Err(format!("{agency}: latency_ms minimum is above its maximum"));
        }
        Ok(())
    }
}

/// A fault drawn for one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    None,
    Fail,
    Lost,
    Throttle,
    Hang,
}

impl Behaviour {
    pub fn fault(&self, roll: u32) -> Fault {
        let mut edge = self.fail_percent;
        if roll < edge {
            return Fault::Fail;
        }
        edge += self.lost_percent;
        if roll < edge {
            return Fault::Lost;
        }
        edge += self.throttle_percent;
        if roll < edge {
            return Fault::Throttle;
        }
        edge += self.hang_percent;
        if roll < edge {
            return Fault::Hang;
        }
        Fault::None
    }
}

/// A die in 0..modulo from the seed and whatever identifies the throw: the same inputs give
/// the same throw, so a run can be replayed from its seed.
pub fn roll(seed: u64, parts: &[&str], n: u64, modulo: u64) -> u64 {
    // FNV-1a over the parts, then splitmix64 to spread it.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ seed;
    for p in parts {
        for b in p.bytes().chain([0xff]) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    let mut z = h ^ n.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    if modulo == 0 { 0 } else { z % modulo }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dice_are_seeded_and_spread() {
        assert_eq!(roll(1, &["a", "b"], 3, 100), roll(1, &["a", "b"], 3, 100));
        let hits = (0..10_000)
            .filter(|i| roll(7, &["x"], *i, 100) < 30)
            .count();
        assert!((2_700..3_300).contains(&hits), "{hits}");
        let b = Behaviour::failing(30);
        let faults = (0..10_000)
            .filter(|i| {
                b.fault(u32::try_from(roll(9, &["y"], *i, 100)).unwrap_or(0)) != Fault::None
            })
            .count();
        assert!((2_700..3_300).contains(&faults), "{faults}");
        assert!(
            Behaviour {
                fail_percent: 90,
                lost_percent: 20,
                ..Behaviour::default()
            }
            .validate("x")
            .is_err()
        );
    }
}
