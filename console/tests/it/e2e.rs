//! End to end on loopback against a real `quietline` server: init → register
//! the key → token → a sealed report → pull → show → reply → the reporter
//! opens the reply from its slot → a follow-up joins the thread → list,
//! status, note, export, audit; and the tamper cases.

use crate::support::{Console, Reporter, short};
use quietline_crypto::payload::Payload;

#[test]
fn whole_loop_report_reply_follow_up() {
    let server = crate::support::start_server();
    server.add_force("north", "North Constabulary");
    let mut console = Console::new();
    let out = console.ok(&["init", "--force", "north"]);
    let pk_line = out
        .lines()
        .find_map(|l| l.strip_prefix("public key: "))
        .unwrap()
        .trim()
        .to_owned();
    // The operator's two commands: the signing key once, then the key as a
    // signed statement (crypto/FORMAT.md#key-statements).
    let signer = out
        .lines()
        .find_map(|l| l.strip_prefix("signing key: "))
        .unwrap()
        .trim()
        .to_owned();
    assert!(
        out.contains(&format!(
            "quietline force signer set north --public-key {signer}"
        )),
        "{out}"
    );
    let statement = out
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("quietline force key add north --statement ")
        })
        .unwrap()
        .trim()
        .to_owned();
    let pk = quietline_crypto::keys::PublicKey::from_base64url(&pk_line).unwrap();
    server.set_signers("north", &[signer], 1);
    server.add_statement("north", &statement).unwrap();
    let token = server.token("north", "handler-1");
    console.login(&server.base, &token);

    // A report sealed by the Rust crate, as the page would seal it.
    let reporter = Reporter::new();
    let details = "Dealing from a silver Ford most nights; quietword-alpha";
    let id = server.submit(reporter.seal("north", &pk, &reporter.report_payload(details)));

    let pulled = console.ok(&["pull"]);
    assert!(
        pulled.contains(
            "Pulled 1 new envelope(s): 1 opened, 0 flagged; 0 already in the vault; 0 refused"
        ),
        "{pulled}"
    );
    let again = console.ok(&["pull"]);
    assert!(
        again.contains("Pulled 0 new envelope(s): 0 opened, 0 flagged; 1 already in the vault"),
        "{again}"
    );

    let shown = console.ok(&["show", &id[..8]]);
    for want in [
        &format!("Report {id} for force north"),
        "[1] report",
        "sent 2026-11-27T19:45:00Z (reporter's clock) · language en",
        "Category: Drugs",
        "Details:\n        Dealing from a silver Ford most nights; quietword-alpha",
        "Where: Behind the Co-op on Mill Lane",
        "When: 2026-11-20 22:30 (still happening) — most Friday nights",
        "Person 1: Tall Dave — about 30, red cap",
        "Vehicle 1: AB12 CDE, Ford Focus, silver — dent in the rear door",
        "How known: I saw it — from my window",
        "status new",
        "Notes: none",
    ] {
        assert!(shown.contains(want), "missing {want:?} in:\n{shown}");
    }

    // Reply; the reporter derives slot 0 from the reply code and opens it.
    let sent = console.ok(&[
        "--handler",
        "Sgt Jones",
        "reply",
        short(&id),
        "--message",
        "Thank you. Can you describe the car's owner? quietword-bravo",
    ]);
    assert!(sent.contains("Reply sent to slot 0"), "{sent}");
    let typed = reporter.code.to_mnemonic();
    let derived = quietline_crypto::reply_code::ReplyCode::from_mnemonic(&typed)
        .unwrap()
        .derive();
    assert_eq!(
        derived.slot_key.address(0),
        reporter.secrets.slot_key.address(0)
    );
    match reporter
        .read_reply(&server, 0)
        .expect("slot 0 holds the reply")
    {
        Payload::Reply(r) => {
            assert_eq!(r.from, "North Constabulary");
            assert_eq!(
                r.message,
                "Thank you. Can you describe the car's owner? quietword-bravo"
            );
            assert_eq!(r.common.lang, "en");
        }
        other => panic!("not a reply: {other:?}"),
    }
    assert!(reporter.read_reply(&server, 1).is_none());

    // A follow-up joins the same thread.
    let fu = server.submit(reporter.seal(
        "north",
        &pk,
        &reporter.follow_up_payload("He drives a blue van too. quietword-charlie"),
    ));
    console.ok(&["pull"]);
    let list = console.ok(&["list"]);
    let thread = hex::encode(&reporter.secrets.thread_id[..4]);
    // A report and its follow-ups are one case (issue 16): one row, one status.
    let report_line = list
        .lines()
        .find(|l| l.starts_with(short(&id)))
        .expect("report in list");
    assert!(
        !list.lines().any(|l| l.starts_with(short(&fu))),
        "the follow-up is inside its case: {list}"
    );
    assert!(
        report_line.contains("Drugs")
            && report_line.contains("Behind the Co-op")
            && report_line.contains("Dealing from"),
        "{list}"
    );
    assert!(
        report_line.contains(&thread) && report_line.contains("new · 1 follow-up"),
        "{list}"
    );
    assert!(
        list.contains("1 shown of 1 in the vault (0 flagged)."),
        "{list}"
    );

    let shown = console.ok(&["show", short(&fu)]);
    let r = shown.find("[1] report").unwrap();
    let rep = shown.find("[2] reply from North Constabulary").unwrap();
    let f = shown.find("[3] follow-up").unwrap();
    assert!(r < rep && rep < f, "{shown}");
    assert!(
        shown.contains("He drives a blue van too.") && shown.contains("by Sgt Jones"),
        "{shown}"
    );

    // Slot 1 taken by someone else: the next reply moves to slot 2.
    let filler = quietline_crypto::seal::seal_reply(
        &mut crate::support::rng(),
        reporter.secrets.slot_key.address(1),
        &reporter.secrets.reply_pk,
        &Payload::Reply(quietline_crypto::payload::Reply {
            common: quietline_crypto::payload::Common {
                v: 1,
                sent_at: "2026-11-28T09:00:00Z".into(),
                lang: "en".into(),
            },
            from: "someone else".into(),
            force: None,
            message: "first".into(),
        })
        .to_json(),
    )
    .unwrap();
    assert_eq!(
        server.put_slot(&token, &reporter.secrets.slot_key.address(1), filler),
        201
    );
    let o = console.run(&["reply", short(&fu), "--message", "Thanks, noted."]);
    assert!(o.ok, "{o:?}");
    assert!(
        o.stderr.contains("reply slot 1 was already taken (409"),
        "{o:?}"
    );
    assert!(o.stdout.contains("Reply sent to slot 2"), "{o:?}");
    match reporter.read_reply(&server, 2).unwrap() {
        Payload::Reply(r) => assert_eq!(r.message, "Thanks, noted."),
        other => panic!("{other:?}"),
    }

    // Status and notes, sealed at rest, shown and exported.
    assert!(
        console
            .ok(&["status", short(&id), "triaged"])
            .contains("is now triaged")
    );
    console.ok(&[
        "note",
        short(&id),
        "Passed",
        "to",
        "the",
        "neighbourhood",
        "team.",
        "quietword-delta",
    ]);
    // Assign and labels, as the desk does them (issue 16, CLI parity):
    // only an active account can be given a case; labels are sealed.
    console.ok(&["account", "add", "ann", "--role", "handler"]);
    let err = console.fails(&["assign", short(&id), "nobody-here"]);
    assert!(err.contains("no active account has that name"), "{err}");
    assert!(
        console
            .ok(&["assign", short(&id), "ann"])
            .contains("is now assigned to ann")
    );
    assert!(
        console
            .ok(&["assign", short(&id), "ann"])
            .contains("is already assigned to ann")
    );
    assert!(
        console
            .ok(&[
                "label",
                short(&id),
                "--add",
                "quietword-echo",
                "--add",
                "vehicle"
            ])
            .contains("Labels of report")
    );
    console.ok(&["label", short(&id), "--remove", "vehicle"]);
    let err = console.fails(&["label", short(&id)]);
    assert!(err.contains("--add"), "{err}");
    let shown = console.ok(&["show", short(&id)]);
    assert!(
        shown.contains("assigned it to ann")
            && shown.contains("quietword-echo")
            && shown.contains("vehicle"),
        "{shown}"
    );
    assert!(
        console
            .ok(&["assign", short(&id), "--nobody"])
            .contains("is now assigned to nobody")
    );
    let shown = console.ok(&["show", short(&id)]);
    assert!(
        shown.contains("status triaged")
            && shown.contains("Passed to the neighbourhood team. quietword-delta"),
        "{shown}"
    );
    assert!(
        console
            .ok(&["list", "--status", "triaged"])
            .contains("1 shown of 1")
    );
    assert!(
        console
            .ok(&["list", "--search", "BLUE VAN"])
            .contains(short(&id))
    );
    // Every field a reporter can fill: a person's name, a registration.
    for needle in ["tall dave", "AB12CDE", "ab12 cde"] {
        let found = console.ok(&["list", "--search", needle]);
        assert!(
            found.contains(short(&id)) && found.contains("1 shown of 1"),
            "{needle}: {found}"
        );
    }
    assert!(
        console
            .ok(&["list", "--search", "nobody here"])
            .contains("0 shown of 1")
    );
    assert!(
        console
            .ok(&["list", "--since", "2999-01-01"])
            .contains("0 shown of 1")
    );

    let json = console.ok(&[
        "export",
        short(&id),
        "--reason",
        "records",
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["report"]["id"], id.as_str());
    assert_eq!(v["report"]["status"], "triaged");
    assert_eq!(
        v["report"]["payload"]["report"]["vehicles"][0]["registration"],
        "AB12 CDE"
    );
    assert_eq!(v["thread"].as_array().unwrap().len(), 4);
    assert_eq!(
        v["notes"][0]["text"],
        "Passed to the neighbourhood team. quietword-delta"
    );
    let html_path = console.dir.path().join("out.html");
    console.ok(&[
        "export",
        short(&id),
        "--reason",
        "records",
        "--format",
        "html",
        "--output",
        html_path.to_str().unwrap(),
    ]);
    let html = std::fs::read_to_string(&html_path).unwrap();
    assert!(
        html.contains("Behind the Co-op on Mill Lane") && html.contains("<dt>Vehicle 1</dt>"),
        "{html}"
    );
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&html_path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert!(
        !console
            .run(&[
                "export",
                short(&id),
                "--reason",
                "records",
                "--format",
                "html",
                "--output",
                html_path.to_str().unwrap()
            ])
            .ok,
        "never overwrites"
    );

    // The audit log has every look, and verifies.
    let audit = console.ok(&["audit"]);
    for action in [
        "init", "pull", "show", "reply", "status", "note", "export", "queue", "assign", "label",
    ] {
        assert!(
            audit.contains(action),
            "{action} missing from audit:\n{audit}"
        );
    }
    assert!(audit.contains("Sgt Jones"), "{audit}");
    assert!(audit.contains("to ann"), "{audit}");
    assert!(
        !audit.contains("quietword-echo"),
        "a label is never in the log"
    );
    assert!(
        console
            .ok(&["audit", "verify"])
            .contains("The audit log is intact")
    );

    // Nothing readable at rest: no reporter or handler text in the vault files.
    let mut bytes = Vec::new();
    for entry in std::fs::read_dir(&console.home).unwrap() {
        let p = entry.unwrap().path();
        if p.is_file() {
            bytes.extend(std::fs::read(&p).unwrap());
        }
    }
    for canary in [
        "quietword-alpha",
        "quietword-bravo",
        "quietword-charlie",
        "quietword-delta",
        "quietword-echo",
        "Mill Lane",
        "triaged",
    ] {
        assert!(
            !bytes.windows(canary.len()).any(|w| w == canary.as_bytes()),
            "{canary} readable at rest"
        );
    }
}

#[test]
fn tampered_moved_and_unknown_key_envelopes_are_flagged_and_kept() {
    let server = crate::support::start_server();
    server.add_force("north", "North Constabulary");
    server.add_force("south", "South Constabulary");
    let mut console = Console::new();
    let pk = console.init("north");
    let reporter = Reporter::new();
    // A key that was registered and later retired, never in this key ring:
    // registered before ours, so that ours, registered next, is current (the
    // console refuses a directory that serves any other key).
    let (_, retired) = quietline_crypto::keys::generate_keypair(&mut crate::support::rng());
    server.add_key("north", &retired);
    let retired_id =
        server.submit(reporter.seal("north", &retired, &reporter.report_payload("retired key")));
    // Only a key that is not current can be retired: ours takes over.
    server.add_key("north", &pk);
    server.retire_key("north", &retired);
    let (_, south_pk) = quietline_crypto::keys::generate_keypair(&mut crate::support::rng());
    server.add_key("south", &south_pk);
    let token = server.token("north", "h");
    console.login(&server.base, &token);

    let good = server.submit(reporter.seal("north", &pk, &reporter.report_payload("a good one")));
    // Flipped bits in the ciphertext: the server checks shape only and accepts it.
    let mut flipped = reporter.seal("north", &pk, &reporter.report_payload("flipped"));
    let n = flipped.len();
    flipped[n - 40] ^= 0x01;
    let flipped_id = server.submit(flipped);
    // Moved from another force's inbox (a hostile server could do this).
    let moved_id = server.insert_raw(
        "north",
        &pk,
        reporter.seal("south", &south_pk, &reporter.report_payload("for south")),
    );
    // Routing swapped to another force in the header of OUR envelope.
    let mut swapped = reporter.seal("north", &pk, &reporter.report_payload("swapped"));
    let at = quietline_crypto::envelope::FIXED_HEADER_LEN;
    swapped[at..at + 5].copy_from_slice(b"south");
    let swapped_id = server.insert_raw("north", &pk, swapped);

    let out = console.ok(&["pull"]);
    assert!(
        out.contains("Pulled 5 new envelope(s): 1 opened, 4 flagged"),
        "{out}"
    );
    assert!(
        out.contains("1 tampered")
            && out.contains("2 other_force")
            && out.contains("1 unknown_key"),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "{}  sealed to key {}",
            short(&retired_id),
            retired.key_id()
        )),
        "{out}"
    );
    // Idempotent: nothing new, nothing lost.
    let out = console.ok(&["pull"]);
    assert!(
        out.contains("Pulled 0 new envelope(s)")
            && out.contains("5 already in the vault")
            && out.contains("The vault holds 5"),
        "{out}"
    );

    let flagged = console.ok(&["list", "--flagged"]);
    assert!(
        flagged.contains("4 shown of 5 in the vault (4 flagged)"),
        "{flagged}"
    );
    for id in [&flipped_id, &moved_id, &swapped_id, &retired_id] {
        assert!(flagged.contains(short(id)), "{flagged}");
    }
    assert!(!flagged.contains(short(&good)));
    let e = console.fails(&["show", short(&retired_id)]);
    assert!(
        e.contains("cannot be read: sealed to key") && e.contains("not in this key ring"),
        "{e}"
    );
    let e = console.fails(&["show", short(&flipped_id)]);
    assert!(e.contains("does not decrypt: altered"), "{e}");
    let e = console.fails(&["show", short(&moved_id)]);
    assert!(e.contains("routed to another force (\"south\")"), "{e}");
    assert!(console.ok(&["show", short(&good)]).contains("a good one"));
}

#[test]
fn rotated_keys_still_decrypt() {
    let server = crate::support::start_server();
    server.add_force("north", "North Constabulary");
    let mut console = Console::new();
    let old = console.init("north");
    server.add_key("north", &old);
    let out = console.ok(&["key", "rotate"]);
    let new = quietline_crypto::keys::PublicKey::from_base64url(
        out.lines()
            .find_map(|l| l.strip_prefix("public key: "))
            .unwrap(),
    )
    .unwrap();
    assert!(
        out.contains(&format!(
            "quietline force key retire north --key-id {}",
            old.key_id()
        )),
        "{out}"
    );
    server.add_key("north", &new);
    let token = server.token("north", "h");
    console.login(&server.base, &token);
    let reporter = Reporter::new();
    let a = server.submit(reporter.seal("north", &old, &reporter.report_payload("to the old key")));
    let b = server.submit(reporter.seal("north", &new, &reporter.report_payload("to the new key")));
    assert!(console.ok(&["pull"]).contains("2 opened, 0 flagged"));
    assert!(console.ok(&["show", short(&a)]).contains("to the old key"));
    assert!(console.ok(&["show", short(&b)]).contains("to the new key"));
    // A reply written in $EDITOR: comment lines dropped, the draft removed.
    let editor = console.dir.path().join("editor.sh");
    std::fs::write(
        &editor,
        "#!/bin/sh\nprintf 'Written in the editor.\\n# not sent\\n' > \"$1\"\n",
    )
    .unwrap();
    let mut cmd = console.command();
    // Run through `sh` (not exec'd directly: no "text file busy" races with
    // other tests forking while the script is being written).
    cmd.env("EDITOR", format!("sh {}", editor.display()));
    let o = console.run_with(cmd, &["reply", short(&b)]);
    assert!(o.ok && o.stdout.contains("Reply sent to slot 0"), "{o:?}");
    match reporter.read_reply(&server, 0).unwrap() {
        quietline_crypto::payload::Payload::Reply(r) => {
            assert_eq!(r.message, "Written in the editor.")
        }
        other => panic!("{other:?}"),
    }
    let leftovers: Vec<_> = std::fs::read_dir(&console.home)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with("reply-"))
        .collect();
    assert!(leftovers.is_empty(), "the draft is removed");

    let keys = console.ok(&["key", "list"]);
    assert_eq!(keys.lines().count(), 3, "{keys}");
    assert!(
        keys.lines()
            .any(|l| l.starts_with(&new.key_id().to_hex()) && l.contains("yes")),
        "{keys}"
    );
}

#[test]
fn a_substituted_directory_key_stops_login_pull_and_reply_with_exit_code_3() {
    let server = crate::support::start_server();
    server.add_force("north", "North Constabulary");
    let mut console = Console::new();
    let pk = console.init("north");
    server.add_key("north", &pk);
    let token = server.token("north", "h");
    console.login(&server.base, &token);
    let reporter = Reporter::new();
    let id = server.submit(reporter.seal("north", &pk, &reporter.report_payload("before")));
    assert!(console.ok(&["pull"]).contains("1 opened"));

    // The server's database gets another key for the force (an operator, a
    // compromised host): the directory now serves it, and reporters seal to it.
    let (_, theirs) = quietline_crypto::keys::generate_keypair(&mut crate::support::rng());
    server.add_key("north", &theirs);
    let later = server.submit(reporter.seal("north", &theirs, &reporter.report_payload("after")));

    for args in [
        vec!["pull"],
        vec!["reply", short(&id), "--message", "hello"],
    ] {
        let o = console.run(&args);
        assert_eq!(o.code, Some(3), "{args:?}: {o:?}");
        for want in [
            "KEY SUBSTITUTION",
            &format!("publishes key id {}", theirs.key_id()),
            &format!("current key for force north is key id {}", pk.key_id()),
        ] {
            assert!(o.stderr.contains(want), "{args:?}: {want:?} missing: {o:?}");
        }
        // Keys by id: no 1,216-byte public key buries the message.
        for key in [&theirs, &pk] {
            assert!(!o.stderr.contains(&key.to_base64url()), "{args:?}: {o:?}");
        }
    }
    let path = console.dir.path().join("token");
    let o = console.run(&[
        "login",
        "--server",
        &server.base,
        "--token-file",
        path.to_str().unwrap(),
    ]);
    assert_eq!(o.code, Some(3), "{o:?}");
    // Nothing of the substituted key's reports was pulled, no reply was sent.
    assert!(!console.ok(&["list"]).contains(short(&later)));
    assert!(reporter.read_reply(&server, 0).is_none());
    let audit = console.ok(&["audit"]);
    assert_eq!(audit.matches("key-mismatch").count(), 3, "{audit}");
    assert!(console.ok(&["audit", "verify"]).contains("intact"));
    // Other errors keep exit code 1.
    assert_eq!(console.run(&["show", "ffff"]).code, Some(1));
}

#[test]
fn a_rotation_not_yet_registered_warns_and_then_ends() {
    let server = crate::support::start_server();
    server.add_force("north", "North Constabulary");
    let mut console = Console::new();
    let old = console.init("north");
    server.add_key("north", &old);
    let token = server.token("north", "h");
    console.login(&server.base, &token);
    let out = console.ok(&["key", "rotate"]);
    let new = quietline_crypto::keys::PublicKey::from_base64url(
        out.lines()
            .find_map(|l| l.strip_prefix("public key: "))
            .unwrap(),
    )
    .unwrap();
    // The directory still serves the old key, which this console holds.
    let o = console.run(&["pull"]);
    assert!(o.ok, "{o:?}");
    assert!(
        o.stderr.contains(&format!(
            "the server still publishes key {} for force north",
            old.key_id()
        )) && o.stderr.contains(&format!(
            "quietline force key add north --public-key {}",
            new.to_base64url()
        )),
        "{o:?}"
    );
    server.add_key("north", &new);
    let o = console.run(&["pull"]);
    assert!(o.ok && !o.stderr.contains("warning"), "{o:?}");
    // The rotation is over: the old key served again is a substitution.
    let config = std::fs::read_to_string(console.home.join("config.toml")).unwrap();
    assert!(!config.contains("previous_key"), "{config}");
}
