//! The key alarm at the desk (issue 20, part 4): raising it when a pull's
//! checks fail (an audit entry, the alarm kept in the vault for every desk
//! and CLI sharing it), showing it ([`Desk::key_alarm`], read by the web
//! layer's banner on every page) and a supervisor's acknowledgement
//! ([`Desk::acknowledge_key_alarm`], audited).
//!
//! The checks themselves are [`crate::watch`] and [`crate::directory`]; when
//! they run is [`super::pull`].

use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::pull::BACKGROUND_ACCOUNT;
use super::{Desk, DeskError, Handler};
use crate::audit::Actor;
use crate::watch::{self, ActiveAlarm, KeyAlarm};

/// The alarm as last read from the vault, and when it was read.
pub(crate) type AlarmCell = Mutex<(Option<ActiveAlarm>, Option<Instant>)>;

/// How old the desk's copy of the raised alarm may get before a signed-in
/// page reads it again ([`Desk::refresh_key_alarm_if_older`]): an alarm a
/// CLI or another desk raised, or a supervisor acknowledged elsewhere, shows
/// on this desk's pages within this time.
pub const ALARM_REFRESH: Duration = Duration::from_secs(5);

impl Desk {
    /// The raised, unacknowledged key alarm, as this desk last read it from
    /// the vault (at open, on every pull, and when it raises or lowers one).
    /// Every role may know there is one (handlers are shown a plainer
    /// notice); only supervisors acknowledge it.
    pub fn key_alarm(&self) -> Option<ActiveAlarm> {
        self.inner.key_alarm.lock().ok().and_then(|a| a.0.clone())
    }

    /// [`Desk::refresh_key_alarm`] if this desk's copy is older than `max_age`
    /// (the web layer calls it before each signed-in page, with
    /// [`ALARM_REFRESH`]): one small read of the vault every few seconds.
    pub async fn refresh_key_alarm_if_older(&self, max_age: Duration) -> Result<(), DeskError> {
        let stale = self
            .inner
            .key_alarm
            .lock()
            .map(|a| a.1.is_none_or(|t| t.elapsed() >= max_age))
            .unwrap_or(true);
        if stale {
            self.refresh_key_alarm().await?;
        }
        Ok(())
    }

    /// Read the raised alarm from the vault again (another desk or a CLI
    /// sharing the vault may have raised or lowered it).
    pub async fn refresh_key_alarm(&self) -> Result<Option<ActiveAlarm>, DeskError> {
        let now = watch::active(self.vault()).await?;
        self.set_alarm_cell(now.clone());
        Ok(now)
    }

    fn set_alarm_cell(&self, value: Option<ActiveAlarm>) {
        if let Ok(mut a) = self.inner.key_alarm.lock() {
            *a = (value, Some(Instant::now()));
        }
    }

    /// Raise `alarm` as `who`: the audit entry (`action`), then the alarm
    /// kept in the vault. The background loop does not write a second entry
    /// for an alarm already raised with the same words.
    pub(crate) async fn sound_key_alarm(
        &self,
        who: &Handler,
        action: &str,
        alarm: &KeyAlarm,
    ) -> Result<(), DeskError> {
        let active = alarm.active(self.clock().now_rfc3339());
        let actor = Actor {
            os_user: self.inner.os_user.clone(),
            handler: Some(who.account.clone()),
        };
        watch::sound(
            self.vault(),
            &actor,
            action,
            &active,
            who.account == BACKGROUND_ACCOUNT,
        )
        .await
        .map_err(DeskError::Audit)?;
        self.set_alarm_cell(Some(active));
        Ok(())
    }

    /// A supervisor acknowledges the raised alarm: audited (with the alarm's
    /// words) before it is lowered. `Ok(false)` when none was raised. The
    /// next pull raises it again if the platform still serves what raised it.
    pub async fn acknowledge_key_alarm(&self, who: &Handler) -> Result<bool, DeskError> {
        if !who.role.supervises() {
            return Err(DeskError::Forbidden {
                role: who.role,
                what: "acknowledge a key alarm",
            });
        }
        let Some(active) = self.refresh_key_alarm().await? else {
            return Ok(false);
        };
        self.record_audit(
            who,
            watch::AUDIT_ACK,
            None,
            Some(format!("{} (raised {})", active.detail, active.at)),
        )
        .await?;
        watch::clear(self.vault()).await?;
        self.set_alarm_cell(None);
        Ok(true)
    }
}
