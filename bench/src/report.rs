use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::FAILED;

#[derive(Default)]
pub(crate) struct Run {
    pub(crate) ok: u64,
    pub(crate) errors: u64,
    /// What the errors were: the API error code, or `transport: …`.
    pub(crate) codes: BTreeMap<String, u64>,
    pub(crate) secs: f64,
    /// Latencies in microseconds, successful requests.
    pub(crate) lat: Vec<u32>,
}

impl Run {
    pub(crate) fn rate(&self) -> f64 {
        self.ok as f64 / self.secs
    }
    pub(crate) fn pct(&mut self, p: f64) -> f64 {
        pct(&mut self.lat, p)
    }
    pub(crate) fn error(&mut self, code: String) {
        self.errors += 1;
        *self.codes.entry(code).or_default() += 1;
    }
    pub(crate) fn merge(&mut self, other: Run) {
        self.ok += other.ok;
        self.errors += other.errors;
        for (k, v) in other.codes {
            *self.codes.entry(k).or_default() += v;
        }
        self.lat.extend(other.lat);
    }
    /// The errors cell of a table: `0`, or the count in bold with the codes.
    /// Counts them into [`FAILED`]: a run with errors fails the process.
    pub(crate) fn errors_cell(&self) -> String {
        if self.errors == 0 {
            return "0".into();
        }
        FAILED.fetch_add(self.errors, Ordering::Relaxed);
        let codes: Vec<String> = self
            .codes
            .iter()
            .map(|(k, v)| format!("{k} ×{v}"))
            .collect();
        eprintln!(
            "ERRORS: {} requests failed: {}",
            self.errors,
            codes.join(", ")
        );
        format!("**{} ERRORS** ({})", self.errors, codes.join(", "))
    }
}

/// The `p` quantile of latencies in µs, in ms.
pub(crate) fn pct(lat: &mut [u32], p: f64) -> f64 {
    if lat.is_empty() {
        return f64::NAN;
    }
    lat.sort_unstable();
    let i = ((lat.len() as f64 * p).ceil() as usize).clamp(1, lat.len()) - 1;
    f64::from(lat[i]) / 1000.0
}

pub(crate) fn micros(d: Duration) -> u32 {
    d.as_micros().min(u128::from(u32::MAX)) as u32
}
