//! The console's clock: the system clock, or one a test sets and moves. Every
//! rule that reads the time (session idle and absolute timeouts, login
//! throttling, TOTP, response targets, the time written into records and
//! audit entries) reads it through a [`Clock`], so tests need no sleeps and
//! no faked system time. It owns nothing else.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// The system clock, or a clock set by a test (shared by its clones).
#[derive(Debug, Clone, Default)]
pub struct Clock(Option<Arc<AtomicU64>>);

impl Clock {
    /// The system clock.
    pub fn system() -> Clock {
        Clock(None)
    }

    /// A clock stopped at `unix_secs` until [`Clock::set`] moves it.
    pub fn set_at(unix_secs: u64) -> Clock {
        Clock(Some(Arc::new(AtomicU64::new(unix_secs))))
    }

    /// Move a set clock (no effect on the system clock).
    pub fn set(&self, unix_secs: u64) {
        if let Some(t) = &self.0 {
            t.store(unix_secs, Ordering::SeqCst);
        }
    }

    /// Move a set clock forward by `secs`.
    pub fn advance(&self, secs: u64) {
        if let Some(t) = &self.0 {
            t.fetch_add(secs, Ordering::SeqCst);
        }
    }

    /// Seconds since the Unix epoch.
    pub fn now_secs(&self) -> u64 {
        match &self.0 {
            Some(t) => t.load(Ordering::SeqCst),
            None => std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0),
        }
    }

    /// The time as RFC 3339 UTC to the second, e.g. `2026-12-06T23:59:59Z`.
    pub fn now_rfc3339(&self) -> String {
        let t = time::OffsetDateTime::from_unix_timestamp(self.now_secs() as i64)
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
        t.format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_else(|_| "1970-01-01T00:00:00Z".into())
    }

    /// Today's UTC day, `YYYY-MM-DD`.
    pub fn today(&self) -> String {
        self.now_rfc3339()
            .get(..10)
            .unwrap_or("1970-01-01")
            .to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_clock_moves_only_when_told_and_is_shared_by_clones() {
        let c = Clock::set_at(1_796_601_599); // 2026-12-06T23:59:59Z
        let d = c.clone();
        assert_eq!(c.now_rfc3339(), "2026-12-06T23:59:59Z");
        d.advance(1);
        assert_eq!(c.today(), "2026-12-07");
        assert!(Clock::system().now_secs() > 1_700_000_000);
    }
}
