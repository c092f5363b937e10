//! The import graph of `src/`, read from the source and checked against the
//! one written in `ARCHITECTURE.md`: no circle, every arrow points down the
//! list of layers, and nothing but the server's lifecycle imports the HTTP
//! layer. Also: the files inside `http/` and `intake/` form no circle either,
//! and none of them reaches back into its own `mod.rs`.
//!
//! An arrow is any path to another module in code: `use`, or a path in an
//! expression or a type (`crate::pow::FORGET_INTERVAL`), tests included.
//! Comments (doc links too) and string literals are not imports and are
//! skipped. The crate root (`lib.rs`, which declares every module and
//! re-exports `run` and `ServerSettings`) and the binary (`main.rs`, which
//! sees only the library's public paths) are not nodes.
//!
//! No parser crate: the scanner below knows just enough Rust — comments,
//! string, raw string and character literals, lifetimes, inline `mod` blocks,
//! `crate::`, `super::`, `self::` and child-module paths, `{…}` groups — for
//! this source tree, and fails loudly on a path it cannot place.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A module path from the crate root: `["http", "api"]`.
type ModPath = Vec<String>;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Ident(String),
    PathSep,
    Open,
    Close,
    Comma,
    Semi,
    Other,
}

/// Rust source to tokens, without comments and literals.
fn tokens(src: &str) -> Vec<Tok> {
    let c: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    // Skip a "…" string body starting at the opening quote; returns the index
    // after the closing quote.
    let skip_string = |mut i: usize| -> usize {
        i += 1;
        while i < c.len() && c[i] != '"' {
            if c[i] == '\\' {
                i += 1;
            }
            i += 1;
        }
        i + 1
    };
    while i < c.len() {
        let ch = c[i];
        let next = c.get(i + 1).copied();
        if ch.is_whitespace() {
            i += 1;
        } else if ch == '/' && next == Some('/') {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if ch == '/' && next == Some('*') {
            let mut depth = 0;
            while i < c.len() {
                if c[i] == '/' && c.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if c[i] == '*' && c.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if ch == '"' {
            i = skip_string(i);
            out.push(Tok::Other);
        } else if ch == '\'' {
            if next == Some('\\') {
                // An escaped character literal: '\n', '\'', '\u{..}'.
                i += 2;
                while i < c.len() && c[i] != '\'' {
                    i += 1;
                }
                i += 1;
                out.push(Tok::Other);
            } else if c.get(i + 2) == Some(&'\'') {
                i += 3;
                out.push(Tok::Other);
            } else {
                // A lifetime: its name is read as an identifier, harmlessly.
                i += 1;
            }
        } else if ch.is_alphabetic() || ch == '_' {
            let start = i;
            while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_') {
                i += 1;
            }
            let word: String = c[start..i].iter().collect();
            let at = c.get(i).copied();
            if matches!(word.as_str(), "r" | "br") && matches!(at, Some('#' | '"')) {
                // Raw string: r#"…"# with any number of #.
                let mut hashes = 0;
                while c.get(i) == Some(&'#') {
                    hashes += 1;
                    i += 1;
                }
                i += 1;
                loop {
                    if i >= c.len() {
                        break;
                    }
                    if c[i] == '"' && (1..=hashes).all(|k| c.get(i + k) == Some(&'#')) {
                        i += 1 + hashes;
                        break;
                    }
                    i += 1;
                }
                out.push(Tok::Other);
            } else if word == "b" && at == Some('"') {
                i = skip_string(i);
                out.push(Tok::Other);
            } else if word == "b" && at == Some('\'') {
                i += 1;
                if c.get(i) == Some(&'\\') {
                    i += 1;
                }
                i += 2;
                out.push(Tok::Other);
            } else {
                out.push(Tok::Ident(word));
            }
        } else if ch == ':' && next == Some(':') {
            out.push(Tok::PathSep);
            i += 2;
        } else {
            out.push(match ch {
                '{' => Tok::Open,
                '}' => Tok::Close,
                ',' => Tok::Comma,
                ';' => Tok::Semi,
                _ => Tok::Other,
            });
            i += 1;
        }
    }
    out
}

/// Every `.rs` file under `dir`.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src/") {
        let path = entry.expect("read src/").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The module a file defines: `src/http/api.rs` → `http::api`,
/// `src/http/mod.rs` → `http`.
fn module_of(src: &Path, file: &Path) -> ModPath {
    let rel = file.strip_prefix(src).expect("under src/");
    let mut parts: ModPath = rel
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().expect("a file name");
    let stem = last.trim_end_matches(".rs");
    if stem != "mod" {
        parts.push(stem.to_owned());
    }
    parts
}

/// The paths a file uses, as absolute module paths (possibly with an item
/// name at the end), each with the line of tokens it came from for errors.
fn paths_used(module: &ModPath, toks: &[Tok]) -> Vec<ModPath> {
    // Child modules declared with `mod x;` in this file.
    let mut children = BTreeSet::new();
    for w in toks.windows(3) {
        if let [Tok::Ident(m), Tok::Ident(name), Tok::Semi] = w
            && m == "mod"
        {
            children.insert(name.clone());
        }
    }
    let mut used = Vec::new();
    // Inline modules (`mod tests { … }`): name and the depth inside them.
    let mut inline: Vec<(String, usize)> = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    while i < toks.len() {
        match &toks[i] {
            Tok::Open => depth += 1,
            Tok::Close => {
                if inline.last().is_some_and(|(_, d)| *d == depth) {
                    inline.pop();
                }
                depth -= 1;
            }
            Tok::Ident(m)
                if m == "mod"
                    && matches!(toks.get(i + 1), Some(Tok::Ident(_)))
                    && toks.get(i + 2) == Some(&Tok::Open) =>
            {
                let Some(Tok::Ident(name)) = toks.get(i + 1) else {
                    unreachable!()
                };
                inline.push((name.clone(), depth + 1));
            }
            _ => {}
        }
        let starts_path = matches!(toks.get(i + 1), Some(Tok::PathSep))
            && (i == 0 || toks[i - 1] != Tok::PathSep);
        if let (true, Tok::Ident(first)) = (starts_path, &toks[i]) {
            let mut here = module.clone();
            here.extend(inline.iter().map(|(n, _)| n.clone()));
            let base = match first.as_str() {
                "crate" => Some(Vec::new()),
                "self" => Some(here.clone()),
                "super" => {
                    let mut b = here.clone();
                    b.pop();
                    // `super::super::…`
                    while toks.get(i + 2) == Some(&Tok::Ident("super".into()))
                        && toks.get(i + 3) == Some(&Tok::PathSep)
                    {
                        b.pop();
                        i += 2;
                    }
                    Some(b)
                }
                name if inline.is_empty() && children.contains(name) => {
                    let mut b = here.clone();
                    b.push(name.to_owned());
                    Some(b)
                }
                _ => None,
            };
            if let Some(base) = base {
                i += 2;
                let mut path = base;
                // Segments `a::b::…`, then maybe a `{…}` group.
                loop {
                    match (toks.get(i), toks.get(i + 1)) {
                        (Some(Tok::Ident(seg)), Some(Tok::PathSep)) => {
                            path.push(seg.clone());
                            i += 2;
                        }
                        (Some(Tok::Ident(seg)), _) => {
                            path.push(seg.clone());
                            used.push(path);
                            break;
                        }
                        (Some(Tok::Open), _) => {
                            // A group: the first segment of each item.
                            let mut level = 0;
                            let mut item_start = true;
                            while i < toks.len() {
                                match &toks[i] {
                                    Tok::Open => {
                                        level += 1;
                                        item_start = level == 1;
                                    }
                                    Tok::Close => {
                                        level -= 1;
                                        if level == 0 {
                                            break;
                                        }
                                    }
                                    Tok::Comma if level == 1 => item_start = true,
                                    Tok::Ident(seg) if item_start => {
                                        let mut p = path.clone();
                                        if seg != "self" {
                                            p.push(seg.clone());
                                        }
                                        used.push(p);
                                        item_start = false;
                                    }
                                    _ => {}
                                }
                                i += 1;
                            }
                            break;
                        }
                        _ => {
                            // `use super::*;`, `crate::x::*`
                            used.push(path);
                            break;
                        }
                    }
                }
                i += 1;
                continue;
            }
        }
        i += 1;
    }
    used
}

/// File modules and the file modules each one imports.
fn file_graph() -> BTreeMap<ModPath, BTreeSet<ModPath>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.retain(|f| {
        let name = f.strip_prefix(&src).unwrap().to_string_lossy().into_owned();
        !matches!(name.as_str(), "lib.rs" | "main.rs" | "import_graph.rs")
    });
    let modules: BTreeMap<ModPath, PathBuf> = files
        .iter()
        .map(|f| (module_of(&src, f), f.clone()))
        .collect();
    let mut graph = BTreeMap::new();
    for (module, file) in &modules {
        let text = std::fs::read_to_string(file).expect("read a source file");
        let mut targets = BTreeSet::new();
        for path in paths_used(module, &tokens(&text)) {
            // The longest prefix that is a file module.
            let target = (1..=path.len())
                .rev()
                .map(|n| path[..n].to_vec())
                .find(|p| modules.contains_key(p))
                .unwrap_or_else(|| {
                    panic!(
                        "{}: cannot place the path {} in a module of src/",
                        file.display(),
                        path.join("::")
                    )
                });
            if &target != module {
                targets.insert(target);
            }
        }
        graph.insert(module.clone(), targets);
    }
    graph
}

/// The graph between the crate's top-level modules (the rooms).
fn room_graph(files: &BTreeMap<ModPath, BTreeSet<ModPath>>) -> BTreeMap<String, BTreeSet<String>> {
    let mut rooms: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (from, targets) in files {
        let entry = rooms.entry(from[0].clone()).or_default();
        for t in targets {
            if t[0] != from[0] {
                entry.insert(t[0].clone());
            }
        }
    }
    rooms
}

/// The graph as written in ARCHITECTURE.md, in its order (top layer first).
fn documented() -> Vec<(String, BTreeSet<String>)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("ARCHITECTURE.md");
    let text = std::fs::read_to_string(&path).expect("read ARCHITECTURE.md");
    let begin = text
        .find("<!-- import-graph begin -->")
        .expect("ARCHITECTURE.md has an import-graph block");
    let end = text
        .find("<!-- import-graph end -->")
        .expect("the import-graph block ends");
    text[begin..end]
        .lines()
        // The marker line itself contains "->".
        .skip(1)
        .filter_map(|line| {
            let (from, to) = line.split_once("->")?;
            let to = to.trim();
            let targets = if to == "(nothing)" {
                BTreeSet::new()
            } else {
                to.split(',').map(|t| t.trim().to_owned()).collect()
            };
            Some((from.trim().to_owned(), targets))
        })
        .collect()
}

/// A circle in `graph`, if there is one.
fn find_circle<N: Ord + Clone>(graph: &BTreeMap<N, BTreeSet<N>>) -> Option<Vec<N>> {
    fn visit<N: Ord + Clone>(
        n: &N,
        graph: &BTreeMap<N, BTreeSet<N>>,
        done: &mut BTreeSet<N>,
        stack: &mut Vec<N>,
    ) -> Option<Vec<N>> {
        if let Some(at) = stack.iter().position(|s| s == n) {
            let mut circle = stack[at..].to_vec();
            circle.push(n.clone());
            return Some(circle);
        }
        if done.contains(n) {
            return None;
        }
        stack.push(n.clone());
        for next in graph.get(n).into_iter().flatten() {
            if let Some(c) = visit(next, graph, done, stack) {
                return Some(c);
            }
        }
        stack.pop();
        done.insert(n.clone());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|n| visit(n, graph, &mut done, &mut Vec::new()))
}

#[test]
fn the_modules_of_src_import_each_other_as_architecture_md_says() {
    let rooms = room_graph(&file_graph());
    let written = documented();
    let as_written: BTreeMap<String, BTreeSet<String>> = written.iter().cloned().collect();
    assert_eq!(
        rooms, as_written,
        "the import graph of src/ (left) differs from ARCHITECTURE.md's (right): update one or the other"
    );
}

#[test]
fn no_module_of_src_imports_one_above_it_so_there_is_no_circle() {
    let rooms = room_graph(&file_graph());
    if let Some(circle) = find_circle(&rooms) {
        panic!("import circle in src/: {}", circle.join(" -> "));
    }
    // ARCHITECTURE.md lists the modules top layer first: each arrow points to
    // a module further down the list.
    let order: Vec<String> = documented().into_iter().map(|(m, _)| m).collect();
    for (from, targets) in &rooms {
        let at = order.iter().position(|m| m == from);
        for t in targets {
            let to = order.iter().position(|m| m == t);
            assert!(
                at < to,
                "{from} imports {t}, which ARCHITECTURE.md lists above it"
            );
        }
    }
    // Nothing below the server's lifecycle reaches up into the HTTP layer.
    let into_http: Vec<&String> = rooms
        .iter()
        .filter(|(_, t)| t.contains("http"))
        .map(|(m, _)| m)
        .collect();
    assert_eq!(into_http, ["server"], "only server may import http");
}

#[test]
fn the_files_of_http_and_intake_form_no_circle() {
    let files = file_graph();
    for room in ["http", "intake"] {
        let inside: BTreeMap<ModPath, BTreeSet<ModPath>> = files
            .iter()
            .filter(|(m, _)| m[0] == room)
            .map(|(m, t)| {
                let t = t.iter().filter(|t| t[0] == room).cloned().collect();
                (m.clone(), t)
            })
            .collect();
        assert!(
            inside.values().any(|t| !t.is_empty()),
            "the scanner found the imports between the files of {room}/"
        );
        if let Some(circle) = find_circle(&inside) {
            let names: Vec<String> = circle.iter().map(|m| m.join("::")).collect();
            panic!("import circle inside {room}/: {}", names.join(" -> "));
        }
    }
}

#[test]
fn the_scanner_sees_paths_and_skips_comments_and_literals() {
    let src = r##"
        //! [`crate::http`] in a doc comment is no import
        use super::{error::ApiError, state::AppState};
        use crate::storage::{self, Storage};
        use keys::KnownKeys;
        mod keys;
        /* crate::server::run */
        fn f<'a>(x: &'a str) -> char {
            let _ = "crate::admin::x";
            let _ = r#"crate::demo "quoted" x"#;
            let _ = crate::pow::FORGET_INTERVAL;
            '"'
        }
        #[cfg(test)]
        mod tests {
            use super::*;
            use crate::day::Clock;
        }
    "##;
    let module: ModPath = vec!["intake".into()];
    let found: BTreeSet<String> = paths_used(&module, &tokens(src))
        .into_iter()
        .map(|p| p.join("::"))
        .collect();
    let expected: BTreeSet<String> = [
        "error",
        "state",
        "storage",
        "storage::Storage",
        "intake::keys::KnownKeys",
        "pow::FORGET_INTERVAL",
        "intake",
        "day::Clock",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(found, expected);
}
