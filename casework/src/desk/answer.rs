//! Answering the reporter from the desk: the reply form (default language,
//! templates, how many replies the handler has seen), the preview (exactly
//! what the reporter will read) and sending, with ONE reply sequence per
//! thread shared by every handler and every desk on the vault.
//!
//! The rule: a reply is sent only if the handler has seen every reply
//! already sent (`seen_replies`), and only into a slot its desk claimed in
//! the vault first (`claim_slot`, atomic on both backends). If another
//! handler's reply arrived since the form was shown, or their claim won,
//! nothing is sent and [`DeskError::ReplyRace`] carries their reply so the
//! handler can choose (send anyway = call again with the new count). A claim
//! is released if the server refused before storing.
//!
//! Reply templates are per force, in English and Welsh: the file
//! `templates.toml` in the console home (a default set is written by
//! `init`; without the file the defaults apply). It does not render.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::index::account_of;
use super::{Desk, DeskError, Handler};
use crate::client::{Client, SlotPut};
use crate::home::Home;
use crate::records::RecordBody;
use crate::reply::{self, MAX_SLOT_TRIES, Outgoing, ReplyError};

/// The templates file in the console home.
pub const TEMPLATES_FILE: &str = "templates.toml";
/// The longest reply, in characters.
pub const MAX_REPLY: usize = 10_000;
/// The claim's account for a slot the server said was already taken (`409`):
/// no desk reply is coming there, later replies skip it.
pub const TAKEN_ON_SERVER: &str = "(taken on the server)";
/// How long a handler whose claim lost waits for the winner's reply to be
/// recorded, so it can be shown.
const WAIT_FOR_WINNER: std::time::Duration = std::time::Duration::from_secs(10);

/// A reply template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyTemplate {
    /// Short name shown in the picker.
    pub name: String,
    /// Language tag: `en` or `cy`.
    pub lang: String,
    /// The text.
    pub text: String,
}

#[derive(Serialize, Deserialize)]
struct TemplateFile {
    #[serde(default)]
    template: Vec<ReplyTemplate>,
}

/// The default templates (English and Welsh).
pub fn default_templates() -> Vec<ReplyTemplate> {
    let t = |name: &str, lang: &str, text: &str| ReplyTemplate {
        name: name.into(),
        lang: lang.into(),
        text: text.into(),
    };
    vec![
        t(
            "Thank you",
            "en",
            "Thank you for your report. We have received it and will look at it carefully.",
        ),
        t(
            "Diolch",
            "cy",
            "Diolch am eich adroddiad. Rydym wedi'i dderbyn a byddwn yn edrych arno'n ofalus.",
        ),
        t(
            "More details",
            "en",
            "Thank you. Can you tell us more about where and when this happened?",
        ),
        t(
            "Rhagor o fanylion",
            "cy",
            "Diolch. Allwch chi ddweud mwy wrthym am ble a phryd y digwyddodd hyn?",
        ),
        t(
            "Passed on",
            "en",
            "Thank you. We have passed your information to the team who deal with this.",
        ),
        t(
            "Wedi'i drosglwyddo",
            "cy",
            "Diolch. Rydym wedi trosglwyddo eich gwybodaeth i'r tîm sy'n delio â hyn.",
        ),
        t(
            "Danger",
            "en",
            "If anyone is in immediate danger, call 999 now.",
        ),
        t(
            "Perygl",
            "cy",
            "Os oes unrhyw un mewn perygl uniongyrchol, ffoniwch 999 nawr.",
        ),
    ]
}

/// Write the default templates into `home` unless a file is there (mode 0600).
pub fn write_default_templates(home: &Home) -> Result<(), DeskError> {
    let path = home.root().join(TEMPLATES_FILE);
    if path.exists() {
        return Ok(());
    }
    let text = toml::to_string(&TemplateFile {
        template: default_templates(),
    })
    .map_err(|e| DeskError::Invalid(format!("cannot write the reply templates: {e}")))?;
    let text = format!(
        "# Reply templates of this force, offered on the desk's reply form.\n# Each: name, lang (en or cy), text.\n\n{text}"
    );
    crate::home::write_private_atomic(&path, text.as_bytes())?;
    Ok(())
}

/// The templates of `home` (the defaults without a file).
pub fn load_templates(home: &Home) -> Result<Vec<ReplyTemplate>, DeskError> {
    load_templates_from(&home.root().join(TEMPLATES_FILE))
}

fn load_templates_from(path: &Path) -> Result<Vec<ReplyTemplate>, DeskError> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(default_templates()),
        Err(e) => {
            return Err(DeskError::Invalid(format!(
                "cannot read the reply templates {}: {e}",
                path.display()
            )));
        }
    };
    let file: TemplateFile = toml::from_str(&text).map_err(|e| {
        DeskError::Invalid(format!(
            "the reply templates {} are not valid ({}): fix or remove the file",
            path.display(),
            e.message()
        ))
    })?;
    Ok(file.template)
}

/// What the reply form needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyForm {
    /// The case.
    pub case_id: String,
    /// Its short id.
    pub short_id: String,
    /// `from` as the reporter will read it (the force's name).
    pub from: String,
    /// The language chosen by default: the report's (`cy` for Welsh), else `en`.
    pub lang: String,
    /// Replies sent so far: give it back to [`Desk::reply`] as `seen_replies`.
    pub replies: u32,
    /// The templates, the default language's first.
    pub templates: Vec<ReplyTemplate>,
    /// Why the reporter cannot be answered, if they cannot.
    pub blocked: Option<String>,
}

/// Exactly what the reporter will read.
#[derive(Clone, PartialEq, Eq)]
pub struct ReplyPreview {
    /// The case.
    pub case_id: String,
    /// `from`.
    pub from: String,
    /// The message, as it will be sent.
    pub message: String,
    /// The language tag.
    pub lang: String,
}

impl std::fmt::Debug for ReplyPreview {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReplyPreview")
            .field("case_id", &self.case_id)
            .field("lang", &self.lang)
            .finish_non_exhaustive()
    }
}

/// A reply was sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplySent {
    /// The case.
    pub case_id: String,
    /// The slot it went to.
    pub slot: u32,
    /// Slots found taken on the server on the way (someone outside the desk).
    pub skipped: Vec<u32>,
    /// Replies the case has now.
    pub replies: u32,
    /// The short thread id.
    pub thread: String,
}

/// Another handler's reply, shown when a reply was refused.
#[derive(Clone, PartialEq, Eq)]
pub struct OtherReply {
    /// Its slot.
    pub slot: u32,
    /// The account that sent it.
    pub by: String,
    /// When (desk time, RFC 3339).
    pub at: String,
    /// `from` as the reporter read it.
    pub from: String,
    /// Its language tag, if recorded.
    pub lang: Option<String>,
    /// The message.
    pub message: String,
}

impl std::fmt::Debug for OtherReply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OtherReply")
            .field("slot", &self.slot)
            .field("by", &self.by)
            .finish_non_exhaustive()
    }
}

/// Why a reply was refused: someone else answered first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyRace {
    /// Replies the case has now (send anyway = pass this as `seen_replies`).
    pub replies_now: u32,
    /// The replies sent since the form was shown, oldest first.
    pub others: Vec<OtherReply>,
    /// Another handler is sending into the next slot right now (their reply
    /// may not be in `others` yet).
    pub in_flight: Option<String>,
}

/// hex SHA-256 of a thread id: the vault's key for its reply claims (the
/// thread id itself is not kept in plaintext).
pub fn thread_key(thread: &[u8; 16]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(thread))
}

fn default_lang(report_lang: &str) -> String {
    if report_lang.to_ascii_lowercase().starts_with("cy") {
        "cy".into()
    } else {
        "en".into()
    }
}

fn check_lang(lang: &str) -> Result<(), DeskError> {
    let ok = !lang.is_empty()
        && lang.len() <= 35
        && lang.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(DeskError::Invalid(
            "the reply's language must be a language tag such as en or cy".into(),
        ))
    }
}

impl Desk {
    /// The force's name as the reporter reads it.
    pub(crate) fn reply_from(&self) -> String {
        self.home()
            .load_config()
            .ok()
            .and_then(|c| c.force_name)
            .unwrap_or_else(|| self.force_id().to_owned())
    }

    /// A client for the server in the home's config.
    pub(crate) fn client(&self) -> Result<Client, DeskError> {
        let config = self.home().load_config()?;
        let token = config.token()?;
        Ok(Client::new(config.server()?, Some(&token))?)
    }

    /// The reply templates.
    pub fn reply_templates(&self) -> Result<Vec<ReplyTemplate>, DeskError> {
        load_templates(self.home())
    }

    /// The reply form for a case. Audited (`show`, "to reply"): it reads the
    /// case.
    pub async fn reply_form(&self, who: &Handler, id: &str) -> Result<ReplyForm, DeskError> {
        let case_id = self.resolve(who, id).await?;
        self.record_audit(who, "show", Some(&case_id), Some("to reply".into()))
            .await?;
        let data = self.open_case(&case_id).await?;
        let lang = default_lang(&data.report.payload.common().lang);
        let mut templates = self.reply_templates()?;
        templates.sort_by_key(|t| t.lang != lang);
        let view = super::case::view_of(&data, self.force_id(), &who.account);
        Ok(ReplyForm {
            short_id: view.short_id,
            case_id,
            from: self.reply_from(),
            lang,
            replies: data.entry.replies,
            templates,
            blocked: view.reply_blocked,
        })
    }

    /// Exactly what the reporter will read if `text` is sent in `lang`.
    /// Reveals nothing of the case (only the handler's own words and the
    /// force's name), so it writes no audit entry.
    pub async fn reply_preview(
        &self,
        who: &Handler,
        id: &str,
        text: &str,
        lang: &str,
    ) -> Result<ReplyPreview, DeskError> {
        check_lang(lang)?;
        if text.trim().is_empty() {
            return Err(ReplyError::Empty.into());
        }
        let case_id = self.resolve(who, id).await?;
        Ok(ReplyPreview {
            case_id,
            from: self.reply_from(),
            message: text.to_owned(),
            lang: lang.to_owned(),
        })
    }

    /// The replies of a case after the first `after`, oldest first.
    async fn replies_after(&self, case_id: &str, after: u32) -> Result<Vec<OtherReply>, DeskError> {
        let data = self.open_case(case_id).await?;
        Ok(data
            .events
            .iter()
            .filter_map(|e| match e {
                super::index::Event::Record { record, .. } => match &record.body {
                    RecordBody::Reply {
                        slot,
                        from,
                        message,
                        lang,
                        ..
                    } => Some(OtherReply {
                        slot: *slot,
                        by: account_of(&record.by),
                        at: record.at.clone(),
                        from: from.clone(),
                        lang: lang.clone(),
                        message: message.clone(),
                    }),
                    _ => None,
                },
                _ => None,
            })
            .skip(after as usize)
            .collect())
    }

    /// Send a reply to the reporter of case `id`. `seen_replies` is the
    /// number of replies the handler saw when writing it
    /// ([`ReplyForm::replies`], [`super::CaseView::replies`]). Audited
    /// (`show` "to reply" before the case is opened, `reply` once sent).
    pub async fn reply(
        &self,
        who: &Handler,
        id: &str,
        text: &str,
        lang: &str,
        seen_replies: u32,
    ) -> Result<ReplySent, DeskError> {
        check_lang(lang)?;
        if text.trim().is_empty() {
            return Err(ReplyError::Empty.into());
        }
        if text.chars().count() > MAX_REPLY {
            return Err(DeskError::Invalid(format!(
                "the reply is longer than {MAX_REPLY} characters; nothing was sent"
            )));
        }
        let case_id = self.resolve(who, id).await?;
        let client = self.client()?;
        // The directory gives the force's name for `from`, and must serve our key.
        self.check_directory(who, &client).await?;
        self.record_audit(who, "show", Some(&case_id), Some("to reply".into()))
            .await?;
        let was_current = self.is_current(&case_id, &who.account);
        let data = self.open_case(&case_id).await?;
        let replies_now = data.entry.replies;
        if seen_replies < replies_now {
            return Err(DeskError::ReplyRace(Box::new(ReplyRace {
                replies_now,
                others: self.replies_after(&case_id, seen_replies).await?,
                in_flight: None,
            })));
        }
        let ring = self.ring()?;
        let at = self.clock().now_rfc3339();
        let from = self.reply_from();
        let out = Outgoing {
            from: &from,
            force: self.force_id(),
            message: text,
            lang,
            sent_at: &at,
            by: &who.account,
        };
        let prepared = reply::prepare(&data.report, &out)?;
        let key = thread_key(&prepared.thread_id());
        let first = data.entry.next_slot;
        let mut skipped = Vec::new();
        for slot in first..first.saturating_add(MAX_SLOT_TRIES) {
            if !self.claim_slot(&key, slot, &who.account).await? {
                let holder = self.slot_holder(&key, slot).await?;
                if holder.as_deref() == Some(TAKEN_ON_SERVER) {
                    // Found taken on the server by an earlier attempt.
                    skipped.push(slot);
                    continue;
                }
                // Another handler is answering right now: wait (briefly) for
                // their reply to be recorded, to show it.
                let deadline = tokio::time::Instant::now() + WAIT_FOR_WINNER;
                loop {
                    self.sync().await?;
                    let now = self
                        .index_read()?
                        .get(&case_id)
                        .map(|c| c.replies)
                        .unwrap_or(replies_now);
                    if now > replies_now || tokio::time::Instant::now() >= deadline {
                        return Err(DeskError::ReplyRace(Box::new(ReplyRace {
                            replies_now: now,
                            others: self.replies_after(&case_id, seen_replies).await?,
                            in_flight: (now == replies_now).then_some(holder).flatten(),
                        })));
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
            }
            match reply::post(&client, &prepared, slot).await {
                // Taken on the server by someone outside the desk: the slot
                // stays claimed, marked so later replies pass it by, and the
                // next one is tried.
                Ok(SlotPut::Taken) => {
                    self.release_slot(&key, slot).await?;
                    self.claim_slot(&key, slot, TAKEN_ON_SERVER).await?;
                    skipped.push(slot);
                }
                Ok(SlotPut::Stored) => {
                    reply::keep_copy(self.vault(), &ring, &prepared, &data.report.id, slot, &out)
                        .await?;
                    self.record_audit(who, "reply", Some(&case_id), Some(format!("slot {slot}")))
                        .await?;
                    self.sync().await?;
                    self.keep_current(&case_id, &who.account, was_current)
                        .await?;
                    let replies = self
                        .index_read()?
                        .get(&case_id)
                        .map(|c| c.replies)
                        .unwrap_or(replies_now + 1);
                    return Ok(ReplySent {
                        case_id,
                        slot,
                        skipped,
                        replies,
                        thread: crate::render::short_thread(Some(prepared.thread_id())),
                    });
                }
                Err(e) => {
                    // Refused before storing: the slot is free again.
                    self.release_slot(&key, slot).await?;
                    return Err(e.into());
                }
            }
        }
        Err(ReplyError::AllTaken {
            first,
            last: first.saturating_add(MAX_SLOT_TRIES - 1),
        }
        .into())
    }

    /// Claim reply slot `slot` of a thread for `account` in the vault
    /// (shared by every desk on it): false if someone has it.
    async fn claim_slot(&self, key: &str, slot: u32, account: &str) -> Result<bool, DeskError> {
        Ok(self.vault().claim_slot(key, slot, account).await?)
    }

    async fn slot_holder(&self, key: &str, slot: u32) -> Result<Option<String>, DeskError> {
        Ok(self
            .vault()
            .claims_of(key)
            .await?
            .into_iter()
            .find(|(s, _)| *s == slot)
            .map(|(_, a)| a))
    }

    async fn release_slot(&self, key: &str, slot: u32) -> Result<(), DeskError> {
        self.vault().release_slot(key, slot).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use quietline_crypto::envelope::Kind;
    use quietline_crypto::payload::Payload;
    use quietline_testkit::server::TestServer;

    use super::super::testing::*;
    use super::super::{DeskError, QueueQuery, View};
    use super::*;

    async fn slot(server: &TestServer, r: &Reporter, i: u32) -> Option<Payload> {
        let address = r.secrets.slot_key.address(i);
        let res = server
            .http
            .get(server.url(&format!("/api/v1/slots/{}", hex::encode(address))))
            .send()
            .await
            .unwrap();
        if res.status().as_u16() == 404 {
            return None;
        }
        let bytes = res.bytes().await.unwrap();
        let plain = quietline_crypto::open::open(&r.secrets.reply_sk, Kind::Reply, &bytes).unwrap();
        Some(Payload::from_json(&plain).unwrap())
    }

    #[tokio::test]
    async fn two_handlers_replying_at_once_send_exactly_one_reply_and_the_other_sees_it() {
        let (server, t, r, id) = served().await;
        let desk = t.desk().await;
        let ann = handler("ann");
        let bob = handler("bob");
        let run = desk.pull_now(&ann).await.unwrap();
        assert_eq!(run.summary.new, 1);
        let form = desk.reply_form(&ann, &id).await.unwrap();
        assert_eq!(
            (form.lang.as_str(), form.replies),
            ("cy", 0),
            "the report's language by default"
        );
        assert_eq!(form.templates[0].lang, "cy");
        assert_eq!(form.from, "North Constabulary");
        let preview = desk
            .reply_preview(&ann, &id, "Diolch.", "cy")
            .await
            .unwrap();
        assert_eq!(
            (preview.from.as_str(), preview.message.as_str()),
            ("North Constabulary", "Diolch.")
        );

        let (a, b) = tokio::join!(
            desk.reply(&ann, &id, "From Ann", "en", 0),
            desk.reply(&bob, &id, "From Bob", "en", 0)
        );
        let (winner, loser, race) = match (a, b) {
            (Ok(sent), Err(DeskError::ReplyRace(race))) => ("From Ann", "bob", (sent, race)),
            (Err(DeskError::ReplyRace(race)), Ok(sent)) => ("From Bob", "ann", (sent, race)),
            other => panic!("exactly one reply must be sent: {other:?}"),
        };
        let (sent, race) = race;
        assert_eq!(sent.slot, 0);
        assert_eq!(race.replies_now, 1);
        assert_eq!(race.others.len(), 1, "{race:?}");
        assert_eq!(race.others[0].message, winner);
        assert_ne!(race.others[0].by, loser);
        match slot(&server, &r, 0).await {
            Some(Payload::Reply(p)) => assert_eq!(p.message, winner),
            other => panic!("{other:?}"),
        }
        assert!(
            slot(&server, &r, 1).await.is_none(),
            "nothing else was posted"
        );

        // A stale form is refused too; sending anyway (the new count) goes to slot 1.
        let e = desk
            .reply(&handler(loser), &id, "Mine", "en", 0)
            .await
            .unwrap_err();
        assert!(matches!(e, DeskError::ReplyRace(_)));
        assert!(
            !e.to_string().contains(winner),
            "the error's words never quote a reply"
        );
        let sent = desk
            .reply(&handler(loser), &id, "Mine", "en", 1)
            .await
            .unwrap();
        assert_eq!((sent.slot, sent.replies), (1, 2));
        match slot(&server, &r, 1).await {
            Some(Payload::Reply(p)) => {
                assert_eq!((p.message.as_str(), p.common.lang.as_str()), ("Mine", "en"))
            }
            other => panic!("{other:?}"),
        }
        let view = desk.case(&ann, &id).await.unwrap();
        assert_eq!(view.replies, 2);
        let _ = server.shutdown().await;
    }

    /// Two desks on one vault (two desk processes of one force): the slot
    /// claims are the vault's, so still exactly one reply goes out.
    async fn two_desks_replying_at_once(backend: Backend) {
        let (server, t, r, id) = served().await;
        let Some((v1, v2, _db)) = shared_vaults(&t, backend).await else {
            return;
        };
        let d1 = t.desk_on(v1).await;
        let d2 = t.desk_on(v2).await;
        let (ann, bob) = (handler("ann"), handler("bob"));
        d1.pull_now(&ann).await.unwrap();
        let (a, b) = tokio::join!(
            d1.reply(&ann, &id, "From Ann", "en", 0),
            d2.reply(&bob, &id, "From Bob", "en", 0)
        );
        let (sent, race) = match (a, b) {
            (Ok(sent), Err(DeskError::ReplyRace(race)))
            | (Err(DeskError::ReplyRace(race)), Ok(sent)) => (sent, race),
            other => panic!("exactly one reply must be sent: {other:?}"),
        };
        assert_eq!(sent.slot, 0);
        let first = match slot(&server, &r, 0).await {
            Some(Payload::Reply(p)) => p.message,
            other => panic!("{other:?}"),
        };
        assert!(slot(&server, &r, 1).await.is_none());
        assert_eq!(race.others.len(), 1, "{race:?}");
        assert_eq!(race.others[0].message, first);
        let _ = server.shutdown().await;
    }

    use quietline_testkit::server::Backend;
    quietline_testkit::on_both_backends!(two_desks_replying_at_once);

    #[tokio::test]
    async fn a_slot_taken_outside_the_desk_is_skipped_now_and_later() {
        let (server, t, r, id) = served().await;
        let desk = t.desk().await;
        let ann = handler("ann");
        desk.pull_now(&ann).await.unwrap();
        // Someone with the force's token fills slot 0 behind the desk's back.
        let filler = quietline_crypto::seal::seal_reply(
            &mut rng(),
            r.secrets.slot_key.address(0),
            &r.secrets.reply_pk,
            b"{}",
        )
        .unwrap();
        let stored = desk
            .client()
            .unwrap()
            .put_slot(&r.secrets.slot_key.address(0), filler)
            .await
            .unwrap();
        assert_eq!(stored, SlotPut::Stored);
        let sent = desk.reply(&ann, &id, "one", "en", 0).await.unwrap();
        assert_eq!((sent.slot, sent.skipped.clone()), (1, vec![0]));
        let started = std::time::Instant::now();
        let sent = desk.reply(&ann, &id, "two", "en", 1).await.unwrap();
        assert_eq!(sent.slot, 2);
        assert!(
            started.elapsed() < WAIT_FOR_WINNER,
            "no wait for a reply that is not coming"
        );
        let _ = server.shutdown().await;
    }

    #[tokio::test]
    async fn a_refused_post_releases_its_claim() {
        let (server, t, _r, id) = served().await;
        let desk = t.desk().await;
        let ann = handler("ann");
        desk.pull_now(&ann).await.unwrap();
        // The token stops working: the server refuses before storing.
        let mut config = t.home.load_config().unwrap();
        config.token = Some(format!("{}x", config.token.unwrap()));
        t.home.save_config(&config).unwrap();
        assert!(desk.reply(&ann, &id, "hello", "en", 0).await.is_err());
        let key = thread_key(&desk.index_read().unwrap().get(&id).unwrap().thread.unwrap());
        assert!(desk.vault().claims_of(&key).await.unwrap().is_empty());
        let _ = server.shutdown().await;
    }

    #[tokio::test]
    async fn templates_default_and_from_the_home() {
        let t = TestHome::new("north");
        assert_eq!(load_templates(&t.home).unwrap(), default_templates());
        write_default_templates(&t.home).unwrap();
        let text = std::fs::read_to_string(t.home.root().join(TEMPLATES_FILE)).unwrap();
        assert!(text.contains("Diolch"));
        std::fs::write(
            t.home.root().join(TEMPLATES_FILE),
            "[[template]]\nname = \"Hi\"\nlang = \"en\"\ntext = \"Hello\"\n",
        )
        .unwrap();
        assert_eq!(load_templates(&t.home).unwrap().len(), 1);
        std::fs::write(
            t.home.root().join(TEMPLATES_FILE),
            "[[template]]\nname = 1\n",
        )
        .unwrap();
        assert!(
            load_templates(&t.home)
                .unwrap_err()
                .to_string()
                .contains("not valid")
        );
        let _ = (QueueQuery::default(), View::All);
    }
}
