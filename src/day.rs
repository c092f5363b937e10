//! The UTC calendar day: the finest time the server ever stores or shows.
//!
//! It owns the server's one clock ([`Clock`]: the system's, or a set time that
//! tests inject so that nothing depends on when they run), converting "now" to
//! a [`Day`] and a day to `YYYY-MM-DD`. It does not read time zones or format
//! times of day: nothing in the server needs an hour or a minute, and keeping
//! them out of the code keeps them out of the data. It imports no other module
//! of the crate: it is the bottom of the server's layers (`ARCHITECTURE.md`).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// A UTC calendar day, as whole days since 1970-01-01. The finest time the
/// server ever stores (also `crate::storage::Day`).
pub type Day = i32;

/// Seconds in a UTC day (leap seconds do not exist in Unix time).
const SECS_PER_DAY: u64 = 86_400;

/// Where the server reads the time: the system clock, or (tests) a time set
/// by hand. Cheap to clone; clones of a set clock share its time.
#[derive(Debug, Clone, Default)]
pub struct Clock(Option<Arc<AtomicU64>>);

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Self(None)
    }

    /// A clock stopped at `unix_secs` until [`Clock::set`] moves it.
    pub fn set_at(unix_secs: u64) -> Self {
        Self(Some(Arc::new(AtomicU64::new(unix_secs))))
    }

    /// Move a set clock to `unix_secs`; the system clock cannot be moved.
    pub fn set(&self, unix_secs: u64) {
        if let Some(t) = &self.0 {
            t.store(unix_secs, Ordering::Relaxed);
        }
    }

    /// Unix seconds now.
    pub fn now_secs(&self) -> u64 {
        match &self.0 {
            Some(t) => t.load(Ordering::Relaxed),
            // A clock before 1970 is a broken clock; 0 is as good an answer as
            // any and keeps intake working rather than failing every request.
            None => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
        }
    }

    /// Today's UTC day, as whole days since 1970-01-01.
    pub fn today(&self) -> Day {
        day_of(self.now_secs())
    }
}

/// The UTC day a Unix time falls on.
pub fn day_of(unix_secs: u64) -> Day {
    Day::try_from(unix_secs / SECS_PER_DAY).unwrap_or(Day::MAX)
}

/// Today's UTC day by the system clock.
pub fn today() -> Day {
    Clock::system().today()
}

/// `YYYY-MM-DD` for a day since 1970-01-01 (proleptic Gregorian calendar).
pub fn format_day(day: Day) -> String {
    let (y, m, d) = civil_from_days(i64::from(day));
    format!("{y:04}-{m:02}-{d:02}")
}

/// Howard Hinnant's `civil_from_days`: days since 1970-01-01 to (year, month, day).
/// Written out here rather than pulling a date-time crate, so the server carries
/// no code that could format a time of day.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // [0, 146096]
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11]
    let d = doy - (153 * mp + 2) / 5 + 1; // [1, 31]
    let m = if mp < 10 { mp + 3 } else { mp - 9 }; // [1, 12]
    let y = yoe + era * 400 + i64::from(m <= 2);
    // Both are in range by construction (see the bounds above).
    (y, m as u32, d as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_days() {
        assert_eq!(format_day(0), "1970-01-01");
        assert_eq!(format_day(31), "1970-02-01");
        assert_eq!(format_day(59), "1970-03-01");
        assert_eq!(format_day(10_957), "2000-01-01");
        assert_eq!(format_day(11_016), "2000-02-29");
        assert_eq!(format_day(19_723), "2024-01-01");
        assert_eq!(format_day(19_782), "2024-02-29");
        assert_eq!(format_day(-1), "1969-12-31");
    }

    #[test]
    fn a_set_clock_is_shared_by_its_clones_and_days_turn_at_midnight_utc() {
        // 2026-12-06T23:59:59Z (day 20,793), then one second later.
        let clock = Clock::set_at(20_794 * SECS_PER_DAY - 1);
        let clone = clock.clone();
        assert_eq!(format_day(clone.today()), "2026-12-06");
        clock.set(20_794 * SECS_PER_DAY);
        assert_eq!(format_day(clone.today()), "2026-12-07");
        // The system clock ignores `set`.
        let system = Clock::system();
        system.set(0);
        assert!(system.now_secs() > 0);
    }
}
