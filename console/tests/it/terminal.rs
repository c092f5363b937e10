//! A reporter's text cannot drive the handler's terminal or reorder a printed
//! line: `export --format json` to standard output escapes C1 controls (the
//! 8-bit CSI and OSC), DEL and bidirectional overrides and isolates; the HTML
//! export and `show` / `list` replace them.

use crate::support::{Console, Reporter, short};

/// C1 CSI (clear screen), C1 OSC (window title) with BEL, DEL, a 7-bit
/// escape, a right-to-left override and an isolate.
const HOSTILE: &str = "start \u{9b}2J \u{9d}0;pwned\u{7} del\u{7f} esc\u{1b}[31m rlo\u{202e}txt.exe lri\u{2066}x\u{2069} end";

fn raw_controls(s: &str) -> Vec<String> {
    s.chars()
        .filter(|&c| {
            (c.is_control() && c != '\n' && c != '\t')
                || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
        })
        .map(|c| format!("U+{:04X}", c as u32))
        .collect()
}

#[test]
fn export_show_and_list_never_write_raw_controls_or_bidi_overrides() {
    let server = crate::support::start_server();
    server.add_force("north", "North Constabulary");
    let mut c = Console::new();
    let pk = c.init("north");
    server.add_key("north", &pk);
    let token = server.token("north", "h");
    c.login(&server.base, &token);
    let reporter = Reporter::new();
    let id = server.submit(reporter.seal("north", &pk, &reporter.report_payload(HOSTILE)));
    c.ok(&["pull"]);

    let json = c.ok(&["export", short(&id), "--reason", "test", "--format", "json"]);
    assert_eq!(raw_controls(&json), Vec::<String>::new(), "{json:?}");
    for esc in [
        "\\u009b", "\\u009d", "\\u0007", "\\u007f", "\\u001b", "\\u202e", "\\u2066", "\\u2069",
    ] {
        assert!(json.contains(esc), "{esc} missing: {json}");
    }
    // Escaping changes nothing for a JSON reader.
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["report"]["payload"]["report"]["details"], HOSTILE);

    let path = c.dir.path().join("out.json");
    c.ok(&[
        "export",
        short(&id),
        "--reason",
        "test",
        "--format",
        "json",
        "--output",
        path.to_str().unwrap(),
    ]);
    let file = std::fs::read_to_string(&path).unwrap();
    assert_eq!(raw_controls(&file), Vec::<String>::new());

    let html = c.ok(&["export", short(&id), "--reason", "test", "--format", "html"]);
    assert_eq!(raw_controls(&html), Vec::<String>::new(), "{html:?}");
    assert!(html.contains("start \u{FFFD}2J"), "{html}");

    for args in [vec!["show", short(&id)], vec!["list"]] {
        let o = c.run(&args);
        assert!(o.ok, "{o:?}");
        assert_eq!(
            raw_controls(&o.stdout),
            Vec::<String>::new(),
            "{args:?}: {o:?}"
        );
        assert_eq!(
            raw_controls(&o.stderr),
            Vec::<String>::new(),
            "{args:?}: {o:?}"
        );
    }
}
