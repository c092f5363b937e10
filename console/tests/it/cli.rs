//! CLI snapshots (trycmd): `--help` of every command, and error output that
//! needs no server. Regenerate after a deliberate change with
//! `TRYCMD=overwrite cargo test -p quietline-console --test it cli::`.

#[test]
fn cli_snapshots() {
    trycmd::TestCases::new()
        .register_bin(
            "quietline-console",
            trycmd::cargo::cargo_bin!("quietline-console"),
        )
        .case("tests/cmd/*.md");
}
