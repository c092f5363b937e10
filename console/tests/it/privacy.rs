//! No part of a decrypted payload reaches anything stored unsealed, printed as
//! a flag, or logged: envelopes that decrypt (sealed with the real crate to
//! the console's key) but whose payload is refused carry a canary in every
//! place a parser could echo it, and forged vault records carry one too. The
//! canary must be absent from the vault's files, from `pull`, `list`, `show`
//! and `audit`, on stdout and stderr.

use crate::support::{Console, Reporter, short};
use quietline_crypto::payload::ReplyMaterial;
use sqlx::Connection;

/// Every canary starts with this; numeric ones are listed separately.
const CANARY: &str = "CANARYqz";
const NUMBERS: [&str; 3] = ["98765432109", "7351902468", "3141592653"];

fn assert_clean(what: &str, text: &str) {
    assert!(!text.contains(CANARY), "{what} quotes the payload:\n{text}");
    for n in NUMBERS {
        assert!(!text.contains(n), "{what} quotes the number {n}:\n{text}");
    }
}

/// Payloads that decrypt but are refused, each with a canary where serde
/// would echo it.
fn refused_payloads(reply: &ReplyMaterial) -> Vec<String> {
    let reply = serde_json::to_string(reply).unwrap();
    let common = r#""v":1,"sent_at":"2026-11-27T19:45:00Z","lang":"en""#;
    let body = r#""category":"drugs","details":"d","where":{"known":true},"how_known":"saw""#;
    let long = "A".repeat(5000);
    vec![
        // unknown enum variant (the `type` tag)
        format!(r#"{{{common},"type":"{CANARY}-variant","reply":{reply}}}"#),
        // wrong type (a string where the version number goes)
        format!(r#"{{"v":"{CANARY}-wrongtype","type":"report"}}"#),
        // an integer out of range
        format!(r#"{{"v":{},"type":"report"}}"#, NUMBERS[0]),
        // a newer version than the console knows
        format!(r#"{{"v":{},"type":"report"}}"#, NUMBERS[2]),
        // a bad date (a number where the date string goes)
        format!(
            r#"{{{common},"type":"report","report":{{{body},"when":{{"known":true,"date":{}}}}},"reply":{reply}}}"#,
            NUMBERS[1]
        ),
        // a boolean given as a string
        format!(
            r#"{{{common},"type":"report","report":{{{body},"when":{{"known":"{CANARY}-bool"}}}},"reply":{reply}}}"#
        ),
        // an unknown member name, and a required member missing
        format!(r#"{{{common},"type":"follow-up","{CANARY}-member":1,"reply":{reply}}}"#),
        // an overlong string where a number goes
        format!(r#"{{"v":"{CANARY}-long{long}","type":"report"}}"#),
        // a repeated member
        format!(
            r#"{{{common},"type":"follow-up","message":"m","message":"{CANARY}-dup","reply":{reply}}}"#
        ),
        // not JSON at all
        format!(r#"{{{common},"type":"report" {CANARY}-syntax"#),
        // a reply payload inside a report envelope
        format!(r#"{{{common},"type":"reply","from":"{CANARY}-from","message":"m"}}"#),
    ]
}

fn home_bytes(c: &Console) -> Vec<u8> {
    let mut bytes = Vec::new();
    for entry in std::fs::read_dir(&c.home).unwrap() {
        let p = entry.unwrap().path();
        if p.is_file() {
            bytes.extend(std::fs::read(&p).unwrap());
        }
    }
    bytes
}

fn assert_home_clean(c: &Console) {
    let bytes = home_bytes(c);
    for canary in std::iter::once(CANARY).chain(NUMBERS) {
        assert!(
            !bytes.windows(canary.len()).any(|w| w == canary.as_bytes()),
            "{canary} readable in the console's files (vault, -wal, config)"
        );
    }
}

#[test]
fn decrypted_text_never_reaches_a_flag_the_vault_or_the_terminal() {
    let server = crate::support::start_server();
    server.add_force("north", "North Constabulary");
    let mut c = Console::new();
    let pk = c.init("north");
    server.add_key("north", &pk);
    let token = server.token("north", "h");
    c.login(&server.base, &token);
    let reporter = Reporter::new();
    let material = ReplyMaterial::from_secrets(&reporter.secrets);
    let mut ids = Vec::new();
    for json in refused_payloads(&material) {
        let sealed = quietline_crypto::seal::seal_report(
            &mut crate::support::rng(),
            "north",
            &pk,
            json.as_bytes(),
        )
        .unwrap();
        ids.push(server.insert_raw("north", &pk, sealed));
    }
    let good = server.insert_raw(
        "north",
        &pk,
        reporter.seal("north", &pk, &reporter.report_payload("a good one")),
    );

    let o = c.run(&["pull"]);
    assert!(o.ok, "{o:?}");
    let n = ids.len();
    assert!(
        o.stdout.contains(&format!("1 opened, {n} flagged")) && o.stdout.contains("bad_payload"),
        "{o:?}"
    );
    assert!(
        o.stdout.contains("member `type` is not one of")
            && o.stdout
                .contains("member `report.when.date` must be a string or null"),
        "{o:?}"
    );
    assert_clean("pull stdout", &o.stdout);
    assert_clean("pull stderr", &o.stderr);

    let o = c.run(&["list"]);
    assert!(o.ok, "{o:?}");
    assert!(o.stdout.contains(&format!("({n} flagged)")), "{o:?}");
    assert_clean("list stdout", &o.stdout);
    assert_clean("list stderr", &o.stderr);
    let o = c.run(&["list", "--flagged"]);
    assert_clean("list --flagged", &format!("{}{}", o.stdout, o.stderr));
    for id in &ids {
        let o = c.run(&["show", short(id)]);
        assert!(
            !o.ok && o.stderr.contains("cannot be read: decrypted but"),
            "{o:?}"
        );
        assert_clean("show stdout", &o.stdout);
        assert_clean("show stderr", &o.stderr);
        let o = c.run(&["export", short(id), "--reason", "test"]);
        assert!(!o.ok, "{o:?}");
        assert_clean("export", &format!("{}{}", o.stdout, o.stderr));
    }

    // Forged records in the vault, sealed to the force's own public key (as
    // anyone who can write the vault file could): a status value and a
    // report id that the console must not echo when it refuses them.
    let forged = [
        (
            "status",
            format!(
                r#"{{"v":1,"report":"{good}","at":"2026-11-28T00:00:00Z","by":"x","type":"quietline-console/status","status":"{CANARY}-status"}}"#
            ),
        ),
        (
            "note",
            format!(
                r#"{{"v":1,"report":"{CANARY}-report","at":"2026-11-28T00:00:00Z","by":"x","type":"quietline-console/note","text":"t"}}"#
            ),
        ),
        (
            "note",
            format!(
                r#"{{"v":{},"report":"{good}","at":"2026-11-28T00:00:00Z","by":"x","type":"quietline-console/note","text":"t"}}"#,
                NUMBERS[2]
            ),
        ),
    ];
    for (kind, json) in forged {
        let sealed = quietline_crypto::seal::seal_report(
            &mut crate::support::rng(),
            "north",
            &pk,
            json.as_bytes(),
        )
        .unwrap();
        crate::support::runtime().block_on(async {
            let url = format!("sqlite://{}", c.vault_path().display());
            let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
            sqlx::query("INSERT INTO records (report_id, kind, sealed) VALUES (?, ?, ?)")
                .bind(&good)
                .bind(kind)
                .bind(sealed)
                .execute(&mut conn)
                .await
                .unwrap();
            conn.close().await.unwrap();
        });
        let o = c.run(&["show", short(&good)]);
        assert!(
            !o.ok && o.stderr.contains("is not what its row says"),
            "{o:?}"
        );
        assert_clean("a refused record", &format!("{}{}", o.stdout, o.stderr));
        let o = c.run(&["list"]);
        assert_clean(
            "list with a refused record",
            &format!("{}{}", o.stdout, o.stderr),
        );
        crate::support::runtime().block_on(async {
            let url = format!("sqlite://{}", c.vault_path().display());
            let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
            sqlx::query("DELETE FROM records")
                .execute(&mut conn)
                .await
                .unwrap();
            conn.close().await.unwrap();
        });
    }

    let o = c.run(&["audit"]);
    assert!(o.ok, "{o:?}");
    assert_clean("audit", &format!("{}{}", o.stdout, o.stderr));
    assert_home_clean(&c);
}
