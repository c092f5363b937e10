//! The console's signing key and key statements (issue 20, part 1;
//! crypto/FORMAT.md#key-statements): `init` makes a signing key beside the
//! ring and signs the first key's statement, `key rotate` signs the next one
//! continuing the chain, and a real platform (the server's admin library on
//! a real database) accepts both and refuses a replayed one.

use std::os::unix::fs::PermissionsExt;

use crate::support::Console;
use quietline_crypto::keys::PublicKey;
use quietline_crypto::statement::{SignedStatement, SignerKey, SignerSet};

fn line_after<'a>(out: &'a str, prefix: &str) -> &'a str {
    out.lines()
        .find_map(|l| l.trim().strip_prefix(prefix))
        .unwrap_or_else(|| panic!("no line starting {prefix:?} in:\n{out}"))
        .trim()
}

#[test]
fn init_signs_and_rotation_continues_the_chain() {
    let server = crate::support::start_server();
    server.add_force("north", "North Constabulary");
    let mut console = Console::new();
    let out = console.ok(&["init", "--force", "north"]);
    let pk = PublicKey::from_base64url(line_after(&out, "public key: ")).unwrap();
    let signer = SignerKey::from_base64url(line_after(&out, "signing key: ")).unwrap();
    assert_eq!(line_after(&out, "fingerprint: "), signer.fingerprint());
    let s1_text = line_after(&out, "quietline force key add north --statement ").to_owned();
    let s1 = SignedStatement::from_base64url(&s1_text).unwrap();
    let set = SignerSet::single(signer.clone());
    let st = s1.verify(&set, "north").unwrap();
    assert_eq!(st.public_key, pk);
    assert_eq!(st.sequence, 0);
    st.follows(None).unwrap();

    // The signing key is sealed beside the ring, 0600; the statement kept.
    let signing = console
        .home
        .join("signing")
        .join(format!("{}.key", signer.signer_id()));
    let meta = std::fs::metadata(&signing).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let text = std::fs::read_to_string(&signing).unwrap();
    assert!(text.starts_with("quietline-signing-key-v1\n"), "{text}");
    let kept = std::fs::read_to_string(
        console
            .home
            .join("statements")
            .join(format!("{:020}.statement", 0)),
    )
    .unwrap();
    assert_eq!(kept.trim(), s1_text);

    server.set_signers("north", &[signer.to_base64url()], 1);
    server.add_statement("north", &s1_text).unwrap();
    let token = server.token("north", "h");
    console.login(&server.base, &token);
    assert!(console.ok(&["pull"]).contains("Pulled 0 new envelope(s)"));

    // Rotation: the next statement, chained to the first.
    let out = console.ok(&["key", "rotate"]);
    let new = PublicKey::from_base64url(line_after(&out, "public key: ")).unwrap();
    let s2_text = line_after(&out, "quietline force key add north --statement ").to_owned();
    let s2 = SignedStatement::from_base64url(&s2_text).unwrap();
    let st2 = s2.verify(&set, "north").unwrap();
    assert_eq!(st2.public_key, new);
    st2.follows(Some(s1.statement())).unwrap();
    // Replaying the first statement is refused by the platform; the second is taken.
    let e = server.add_statement("north", &s1_text).unwrap_err();
    assert!(e.contains("broken_chain"), "{e}");
    server.add_statement("north", &s2_text).unwrap();
    let o = console.run(&["pull"]);
    assert!(o.ok && !o.stderr.contains("warning"), "{o:?}");

    let audit = console.ok(&["audit"]);
    assert!(
        audit.contains(&format!("signing key {}", signer.signer_id())),
        "{audit}"
    );
}
