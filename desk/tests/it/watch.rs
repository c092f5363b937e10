//! The key alarm at the desk (issue 20, part 4): a key swapped in the intake
//! server's database behind the force's back fails the next pull, raises
//! the alarm in the vault and puts the banner on every page (supervisors:
//! what was seen and an acknowledge button, in English and Welsh; handlers:
//! a plainer notice) until a supervisor acknowledges it, audited. On both
//! vault backends (the alarm lives in the vault, shared by every desk).

use quietline_casework::desk::Role;
use quietline_testkit::server::rng;

use crate::support::*;
use crate::work::{Work, pull};

async fn the_banner_stays_until_a_supervisor_acknowledges(td: TestDesk) {
    let w = Work::on(td).await;
    let (mut sam, _, _) = signed_in(&w.td, "sam", Role::Supervisor).await;
    let (mut ann, _, _) = signed_in(&w.td, "ann", Role::Handler).await;
    // A normal pull raises nothing.
    pull(&mut ann, 0).await;
    assert!(!sam.get("/").await.body.contains("id=\"key-alarm\""));

    // Someone with the platform's database makes a key of theirs current.
    let (_, theirs) = quietline_crypto::keys::generate_keypair(&mut rng());
    quietline::admin::add_force_key(w.server.storage.as_ref(), FORCE_ID, &theirs)
        .await
        .unwrap();
    let csrf = ann.get("/").await.csrf();
    let r = ann.post("/pull", &[("csrf", &csrf)]).await;
    assert_eq!(r.status, 502, "{}", r.body);
    assert!(
        r.body.contains("The pull was stopped: key alarm")
            && r.body.contains("KEY SUBSTITUTION")
            && r.body.contains("id=\"key-alarm\""),
        "{}",
        r.body
    );

    // Every page a supervisor opens carries the banner, with what was seen.
    for path in ["/", "/search", "/audit", "/account", "/pull"] {
        let page = sam.get(path).await;
        assert_eq!(page.status, 200, "{path}: {}", page.body);
        let b = &page.body;
        assert!(
            b.contains("id=\"key-alarm\"")
                && b.contains("role=\"alert\"")
                && b.contains("directory-key")
                && b.contains(&theirs.key_id().to_hex())
                && b.contains("Acknowledge the key alarm")
                && b.contains("lang=\"cy\"")
                && b.contains("out of band"),
            "{path}: {b}"
        );
        // The banner names public ids only, not even a public key (the pull
        // state's last error quotes the whole substitution message).
        if path != "/pull" {
            assert!(!b.contains(&theirs.to_base64url()), "{path}");
        }
    }
    // Handlers get the plainer notice, and may not acknowledge.
    let page = ann.get("/").await;
    assert!(
        page.body.contains("id=\"key-alarm\"")
            && page.body.contains("Tell a supervisor now")
            && !page.body.contains("Acknowledge the key alarm")
            && !page.body.contains(&theirs.key_id().to_hex()),
        "{}",
        page.body
    );
    let r = ann
        .post("/key-alarm/acknowledge", &[("csrf", &page.csrf())])
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(sam.get("/").await.body.contains("id=\"key-alarm\""));

    // A supervisor acknowledges: audited, and the banner is gone.
    let csrf = sam.get("/").await.csrf();
    let r = sam.post("/key-alarm/acknowledge", &[("csrf", &csrf)]).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("Key alarm acknowledged"), "{}", r.body);
    assert!(!r.body.contains("id=\"key-alarm\""), "{}", r.body);
    assert!(!ann.get("/").await.body.contains("id=\"key-alarm\""));
    let audit = sam.get("/audit").await.body;
    assert!(
        audit.contains("key-mismatch") && audit.contains("key-alarm-ack"),
        "{audit}"
    );
    // The platform still serves the other key: the next pull raises it again.
    let csrf = ann.get("/").await.csrf();
    assert_eq!(ann.post("/pull", &[("csrf", &csrf)]).await.status, 502);
    assert!(sam.get("/").await.body.contains("id=\"key-alarm\""));
    w.stop().await;
}

#[tokio::test]
async fn a_swapped_key_puts_the_key_alarm_on_every_page_until_acknowledged() {
    the_banner_stays_until_a_supervisor_acknowledges(TestDesk::start().await).await;
}

#[tokio::test]
async fn postgres_a_swapped_key_puts_the_key_alarm_on_every_page_until_acknowledged() {
    let Some(pg) = quietline_testkit::pg::fresh_database().await else {
        return;
    };
    let td = TestDesk::start_on(pg.url(), quietline_casework::clock::Clock::set_at(T0)).await;
    the_banner_stays_until_a_supervisor_acknowledges(td).await;
    pg.cleanup().await;
}

/// An alarm raised by a CLI (or another desk) sharing the vault reaches this
/// desk's pages once its copy is older than the refresh interval.
#[tokio::test]
async fn an_alarm_raised_elsewhere_reaches_the_desk() {
    use quietline_casework::watch::{self, ActiveAlarm};
    use std::time::Duration;
    let td = TestDesk::start().await;
    assert!(td.desk.key_alarm().is_none());
    let alarm = ActiveAlarm {
        at: "2026-12-07T06:00:00Z".into(),
        check: "log-shrunk".into(),
        detail: "log-shrunk: force north-shire: lost entries".into(),
    };
    let cli = quietline_casework::audit::Actor::current(Some("cli".into()));
    watch::sound(&td.vault, &cli, watch::AUDIT_ALARM, &alarm, false)
        .await
        .unwrap();
    // A fresh copy is kept (no read per page) …
    td.desk
        .refresh_key_alarm_if_older(Duration::from_secs(3600))
        .await
        .unwrap();
    assert!(td.desk.key_alarm().is_none());
    // … an old one is read again.
    td.desk
        .refresh_key_alarm_if_older(Duration::ZERO)
        .await
        .unwrap();
    assert_eq!(td.desk.key_alarm(), Some(alarm));
    td.stop().await;
}
