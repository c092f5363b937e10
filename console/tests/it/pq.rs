//! The post-quantum hybrid suite in the console (issue 21): a key ring and a
//! vault holding both suites, rotation from X25519 to X-Wing, and replies
//! sealed to a hybrid reply key derived from the 12-word code.

use crate::support::{Console, Reporter, short};
use quietline_crypto::keys::{PublicKey, Suite};
use quietline_crypto::payload::Payload;

fn public_key_in(out: &str) -> PublicKey {
    PublicKey::from_base64url(
        out.lines()
            .find_map(|l| l.strip_prefix("public key: "))
            .expect("public key line"),
    )
    .unwrap()
}

/// A reporter whose reply key has the suite of the force key it seals to.
fn reporter_for(suite: Suite) -> Reporter {
    let r = Reporter::new();
    let secrets = r.code.derive_for(suite);
    Reporter {
        code: r.code,
        secrets,
    }
}

#[test]
fn init_makes_an_xwing_key_unless_told_x25519() {
    let c = Console::new();
    let out = c.ok(&["init", "--force", "north"]);
    assert_eq!(public_key_in(&out).suite(), Suite::XWing, "{out}");
    assert!(out.contains("suite:      xwing"), "{out}");
    let c = Console::new();
    let out = c.ok(&["init", "--force", "north", "--suite", "x25519"]);
    assert_eq!(public_key_in(&out).suite(), Suite::X25519, "{out}");
    let e = Console::new().fails(&["init", "--force", "north", "--suite", "kyber"]);
    assert!(e.contains("unknown suite \"kyber\""), "{e}");
}

#[test]
fn vault_holds_both_suites_after_rotation_from_x25519_to_xwing() {
    let server = crate::support::start_server();
    server.add_force("north", "North Constabulary");
    let mut console = Console::new();
    let old = public_key_in(&console.ok(&["init", "--force", "north", "--suite", "x25519"]));
    assert_eq!(old.suite(), Suite::X25519);
    server.add_key("north", &old);
    let token = server.token("north", "h");
    console.login(&server.base, &token);

    // A report sealed to the X25519 key before the rotation.
    let classic = reporter_for(Suite::X25519);
    let a =
        server.submit(classic.seal("north", &old, &classic.report_payload("to the x25519 key")));
    assert!(console.ok(&["pull"]).contains("1 opened, 0 flagged"));

    let out = console.ok(&["key", "rotate", "--suite", "xwing"]);
    let new = public_key_in(&out);
    assert_eq!(new.suite(), Suite::XWing, "{out}");
    server.add_key("north", &new);
    let listed = console.ok(&["key", "list"]);
    assert!(listed.contains(&old.to_base64url()) && listed.contains(&new.to_base64url()));

    // Reports to both keys, pulled together: the ring opens each suite.
    let hybrid = reporter_for(Suite::XWing);
    assert_eq!(hybrid.secrets.reply_pk.suite(), Suite::XWing);
    let b = server.submit(hybrid.seal("north", &new, &hybrid.report_payload("to the xwing key")));
    let c = server.submit(classic.seal("north", &old, &classic.report_payload("late, old key")));
    assert!(console.ok(&["pull"]).contains("2 opened, 0 flagged"));
    assert!(
        console
            .ok(&["show", short(&a)])
            .contains("to the x25519 key")
    );
    assert!(
        console
            .ok(&["show", short(&b)])
            .contains("to the xwing key")
    );
    assert!(console.ok(&["show", short(&c)]).contains("late, old key"));

    // Replies go to each reporter's own reply key, in its suite.
    let o = console.ok(&["reply", short(&b), "--message", "hybrid reply"]);
    assert!(o.contains("Reply sent to slot 0"), "{o}");
    match hybrid.read_reply(&server, 0).unwrap() {
        Payload::Reply(r) => assert_eq!(r.message, "hybrid reply"),
        other => panic!("not a reply: {other:?}"),
    }
    let o = console.ok(&["reply", short(&a), "--message", "classic reply"]);
    assert!(o.contains("Reply sent to slot 0"), "{o}");
    match classic.read_reply(&server, 0).unwrap() {
        Payload::Reply(r) => assert_eq!(r.message, "classic reply"),
        other => panic!("not a reply: {other:?}"),
    }

    // A follow-up on the hybrid thread joins it.
    server.submit(hybrid.seal("north", &new, &hybrid.follow_up_payload("more, hybrid")));
    assert!(console.ok(&["pull"]).contains("1 opened, 0 flagged"));
    assert!(console.ok(&["show", short(&b)]).contains("more, hybrid"));
}
