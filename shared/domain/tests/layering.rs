//! The domain's top-level modules (`src/NAME.rs` or `src/NAME/`) import each other in no circle
//! (issue 14): `text` at the bottom, then `model`, `ports`, `matching`, `research`, `ingest`.
//!
//! Read from the source, not the compiler: for each top-level module, every reference its
//! non-test code makes to another one, as `use crate::NAME`, an inline path `crate::NAME::...`
//! (in code, attributes and strings alike), a group `crate::{NAME::..}`, a `super::` that climbs
//! to the crate root, or a crate-root re-export of lib.rs (`crate::Payment`). Comment lines and
//! test code (`tests.rs` files, `#[cfg(test)] mod NAME { ... }` blocks) are left out.
//!
//! `LAYERING_SRC=DIR` points the check at another source tree (an older layout, to see it fail).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// Top-level module -> the other top-level modules its non-test code refers to.
type Graph = BTreeMap<String, BTreeSet<String>>;

#[test]
fn top_level_modules_import_each_other_in_no_circle() {
    let src = match std::env::var_os("LAYERING_SRC") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
    };
    let graph = module_graph(&src);
    assert!(graph.len() > 1, "no top-level modules found in {}", src.display());
    if let Some(cycle) = find_cycle(&graph) {
        panic!(
            "import circle between the domain's top-level modules: {}\n{}",
            cycle.join(" -> "),
            describe(&graph)
        );
    }
    println!("{}", describe(&graph));
}

/// The same for the crates around the domain (issue 14 found `ingest` and `chunks` of the
/// functions crate importing each other): each crate's top-level modules form no circle.
#[test]
fn no_crate_of_the_workspace_has_an_import_circle() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let crates = [
        "functions/src",
        "remit/src",
        "shared/aws/src",
        "shared/formats/src",
        "shared/ops-api/src",
        "shared/store-dynamodb/src",
        "shared/store-sqlite/src",
    ];
    for dir in crates {
        let graph = module_graph(&root.join(dir));
        if let Some(cycle) = find_cycle(&graph) {
            panic!("import circle in {dir}: {}\n{}", cycle.join(" -> "), describe(&graph));
        }
    }
}

/// The check itself fails on a circle, whichever way it is written.
#[test]
fn a_circle_is_found() {
    let dir = std::env::temp_dir().join(format!("remit-layering-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(dir.join("b")).unwrap();
    fs::write(dir.join("lib.rs"), "pub mod a;\npub mod b;\npub mod c;\npub use c::{Gamma, Delta};\n")
        .unwrap();
    fs::write(dir.join("a.rs"), "// use crate::c;\nuse crate::{\n    b::Beta,\n};\n").unwrap();
    fs::write(dir.join("b/mod.rs"), "mod inner;\n#[cfg(test)]\nmod tests {\n    use crate::a::Alpha;\n}\n")
        .unwrap();
    fs::write(dir.join("b/inner.rs"), "fn f() -> super::super::Delta { todo!() }\n").unwrap();
    fs::write(dir.join("b/tests.rs"), "use crate::a::Alpha;\n").unwrap();
    fs::write(dir.join("c.rs"), "#[serde(with = \"crate::a::alpha\")]\nstruct Gamma;\n").unwrap();
    let graph = module_graph(&dir);
    let edges = |m: &str| graph[m].iter().cloned().collect::<Vec<_>>();
    assert_eq!(edges("a"), ["b"], "the comment line is skipped");
    assert_eq!(edges("b"), ["c"], "test code is skipped; super::super:: climbs to a re-export of c");
    assert_eq!(edges("c"), ["a"], "a path in an attribute's string counts");
    assert_eq!(find_cycle(&graph).unwrap(), ["a", "b", "c", "a"]);
    fs::remove_dir_all(&dir).unwrap();
}

/// The graph of the top-level modules under `src` (a crate's source root, holding lib.rs).
fn module_graph(src: &Path) -> Graph {
    let mut modules: BTreeMap<String, Vec<(PathBuf, Vec<String>)>> = BTreeMap::new();
    for entry in fs::read_dir(src).unwrap_or_else(|e| panic!("{}: {e}", src.display())) {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            let files = modules.entry(name.clone()).or_default();
            for file in rs_files(&path) {
                let rel = file.strip_prefix(&path).unwrap();
                let mut segments: Vec<String> =
                    rel.iter().map(|s| s.to_string_lossy().trim_end_matches(".rs").to_string()).collect();
                if segments.last().is_some_and(|s| s == "mod") {
                    segments.pop();
                }
                segments.insert(0, name.clone());
                files.push((file, segments));
            }
        } else if path.extension().is_some_and(|e| e == "rs") && name != "lib" && name != "main" {
            modules.entry(name.clone()).or_default().push((path, vec![name]));
        }
    }
    let names: BTreeSet<String> = modules.keys().cloned().collect();
    let reexports = root_reexports(&src.join("lib.rs"), &names);
    let resolve = |name: &str| -> Option<String> {
        if names.contains(name) {
            Some(name.to_string())
        } else {
            reexports.get(name).cloned()
        }
    };
    let mut graph = Graph::new();
    for (module, files) in &modules {
        let edges = graph.entry(module.clone()).or_default();
        for (file, segments) in files {
            if file.file_name().is_some_and(|f| f == "tests.rs") {
                continue;
            }
            let code = non_test_code(&fs::read_to_string(file).unwrap());
            for target in references(&code, segments.len()) {
                if let Some(t) = resolve(&target).filter(|t| t != module) {
                    edges.insert(t);
                }
            }
        }
    }
    graph
}

/// Every `.rs` file under `dir`, in a stable order.
fn rs_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut entries: Vec<PathBuf> = fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            out.extend(rs_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out
}

/// The names lib.rs re-exports at the crate root (`pub use model::payment::{Payment, ..};`),
/// each to the top-level module it comes from.
fn root_reexports(lib: &Path, modules: &BTreeSet<String>) -> BTreeMap<String, String> {
    let text = non_test_code(&fs::read_to_string(lib).unwrap_or_default());
    let mut out = BTreeMap::new();
    for statement in text.split(';') {
        let Some(rest) = statement.trim().strip_prefix("pub use ") else { continue };
        let rest = rest.trim_start_matches("crate::").trim_start_matches("self::");
        let words = identifiers(rest);
        let Some(first) = words.first().filter(|w| modules.contains(*w)) else { continue };
        for w in &words[1..] {
            out.insert(w.clone(), first.clone());
        }
    }
    out
}

/// The file's lines without comment lines and without `#[cfg(test)] mod NAME { ... }` blocks
/// (rustfmt puts the closing brace alone on a line at the block's indentation), joined.
fn non_test_code(text: &str) -> String {
    let mut out = String::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("//") {
            continue;
        }
        if trimmed == "#[cfg(test)]" {
            let next = lines.peek().map(|l| l.trim_start()).unwrap_or("");
            if next.starts_with("mod ") || next.starts_with("pub mod ") {
                let block = lines.next().unwrap_or_default();
                if block.trim_end().ends_with('{') {
                    let close = format!("{}}}", &line[..line.len() - trimmed.len()]);
                    for inner in lines.by_ref() {
                        if inner.trim_end() == close {
                            break;
                        }
                    }
                }
                continue;
            }
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// The crate-root names `code` refers to: after `crate::` (one name, or each name of a
/// `crate::{..}` group at its first level), and after as many `super::` as climb from a module
/// `depth` levels deep to the root.
fn references(code: &str, depth: usize) -> Vec<String> {
    let mut out = Vec::new();
    let bytes = code.as_bytes();
    let mut i = 0;
    while i < code.len() {
        let rest = &code[i..];
        let boundary = i == 0 || !is_ident_byte(bytes[i - 1]);
        if boundary && rest.starts_with("crate::") {
            let after = &rest["crate::".len()..];
            if let Some(group) = after.strip_prefix('{') {
                out.extend(group_heads(group));
            } else if let Some(w) = identifiers(after).first() {
                out.push(w.clone());
            }
            i += "crate::".len();
        } else if boundary && rest.starts_with("super::") {
            let mut climbs = 0;
            let mut tail = rest;
            while let Some(t) = tail.strip_prefix("super::") {
                climbs += 1;
                tail = t;
            }
            if climbs >= depth {
                if let Some(w) = identifiers(tail).first() {
                    out.push(w.clone());
                }
            }
            i += rest.len() - tail.len();
        } else {
            i += rest.chars().next().map_or(1, char::len_utf8);
        }
    }
    out
}

/// The first name of each path in a `{a::b, c::{d, e}, f}` group (its text after the `{`).
fn group_heads(group: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0;
    let mut expect_head = true;
    let mut word = String::new();
    for c in group.chars() {
        if is_ident_byte(c as u8) && c.is_ascii() {
            word.push(c);
            continue;
        }
        if !word.is_empty() {
            if expect_head && depth == 0 {
                out.push(std::mem::take(&mut word));
            }
            word.clear();
            expect_head = false;
        }
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => break,
            '}' => depth -= 1,
            ',' if depth == 0 => expect_head = true,
            _ => {}
        }
    }
    out
}

/// The identifiers of a path, in order (`a::b::{C, D}` gives a, b, C, D), up to its end.
fn identifiers(text: &str) -> Vec<String> {
    let end =
        text.find(|c: char| !(c.is_ascii_alphanumeric() || "_:{}, \n\t".contains(c))).unwrap_or(text.len());
    text[..end]
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty() && !matches!(*w, "self" | "super" | "crate" | "as"))
        .map(str::to_string)
        .collect()
}

fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// A circle in `graph`, as the modules along it with the first one again at the end.
fn find_cycle(graph: &Graph) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &Graph,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|p| p == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph.keys().find_map(|start| visit(start, graph, &mut Vec::new(), &mut done))
}

/// The graph, one module a line: `ingest -> matching, model, ports`.
fn describe(graph: &Graph) -> String {
    graph
        .iter()
        .map(|(m, deps)| format!("{m} -> {}", deps.iter().cloned().collect::<Vec<_>>().join(", ")))
        .collect::<Vec<_>>()
        .join("\n")
}
