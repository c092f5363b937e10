//! `account add|list|disable|reset`: the desk's accounts from the command
//! line, on the console's vault, without a passphrase.

use std::os::unix::fs::PermissionsExt;

use crate::support::Console;

#[test]
fn account_commands_add_list_disable_reset_without_a_passphrase() {
    let c = Console::new();
    c.init("north-shire");
    // No passphrase file: the account commands must not need one.
    let bare = || {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_quietline-console"));
        cmd.env_remove("QUIETLINE_PASSPHRASE_FILE")
            .arg("--home")
            .arg(&c.home)
            .stdin(std::process::Stdio::null());
        cmd
    };
    let out = c.run_with(bare(), &["account", "add", "ann", "--role", "supervisor"]);
    assert!(out.ok, "{out:?}");
    assert!(
        out.stdout.contains("Account ann (supervisor) added."),
        "{}",
        out.stdout
    );
    let pw = out
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("One-time password (shown once; hand it over in person): "))
        .expect("the one-time password, printed once");
    assert_eq!(pw.len(), 23);

    let file = c.dir.path().join("bob-password");
    let out = c.run_with(
        bare(),
        &[
            "account",
            "add",
            "bob",
            "--role",
            "handler",
            "--password-file",
            file.to_str().unwrap(),
        ],
    );
    assert!(out.ok, "{out:?}");
    let written = std::fs::read_to_string(&file).unwrap();
    assert_eq!(written.trim().len(), 23);
    assert!(
        !out.stdout.contains(written.trim()),
        "written to the file, not printed"
    );
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    // The file is never overwritten.
    let out = c.run_with(
        bare(),
        &[
            "account",
            "reset",
            "bob",
            "--password-file",
            file.to_str().unwrap(),
        ],
    );
    assert!(
        !out.ok && out.stderr.contains("must not exist yet"),
        "{out:?}"
    );
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        written,
        "nothing was changed"
    );

    let err = c.fails(&["account", "add", "ann", "--role", "handler"]);
    assert!(err.contains("ann"), "{err}");
    let nope = c.dir.path().join("nope");
    let err = c.fails(&[
        "account",
        "add",
        "Bad Name",
        "--role",
        "handler",
        "--password-file",
        nope.to_str().unwrap(),
    ]);
    assert!(!nope.exists(), "no file left behind by a refused command");
    assert!(err.contains("account name"), "{err}");
    let err = c.fails(&["account", "add", "cy", "--role", "chief"]);
    assert!(err.contains("handler, supervisor or custodian"), "{err}");

    let list = c.ok(&["account", "list"]);
    assert!(
        list.contains("ann")
            && list.contains("supervisor")
            && list.contains("must sign in and enrol"),
        "{list}"
    );
    assert!(
        list.contains("bob") && list.contains("not enrolled"),
        "{list}"
    );
    assert!(!list.contains(pw), "no password in the list");

    let out = c.ok(&["account", "disable", "bob"]);
    assert!(out.contains("Account bob is disabled"), "{out}");
    assert!(c.ok(&["account", "list"]).contains("disabled"));
    let err = c.fails(&["account", "disable", "nobody"]);
    assert!(err.contains("nobody"), "{err}");

    let out = c.ok(&["account", "reset", "bob"]);
    assert!(out.contains("One-time password"), "{out}");
    let list = c.ok(&["account", "list"]);
    assert!(
        !list.contains("disabled"),
        "reset enables the account: {list}"
    );

    // Each command is in the audit log, naming the account; no password.
    let log = c.ok(&["audit"]);
    for want in [
        "account-add",
        "account ann, role supervisor",
        "account-disa",
        "account bob",
        "account-reset",
    ] {
        assert!(log.contains(want), "{want}: {log}");
    }
    assert!(!log.contains(pw));
}
