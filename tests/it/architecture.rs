//! The shape of the code, checked on its syntax tree (`cargo test --test it architecture`):
//! dependencies between the top-level modules of `src/` point one way (no import cycle), no
//! function outside tests is longer than 120 lines, no SQL text is written in `src/http` or
//! `src/web`, and `src/http`, `src/web` and `src/commands` name no module behind a service
//! (handlers, pages and commands go through the services).
//!
//! Test code (`#[cfg(test)]` items and `#[test]` functions) is left out of all four checks:
//! a unit test may reach across modules to build its fixtures.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use syn::visit::Visit;

const MAX_FN_LINES: usize = 120;

/// What the one-way-architecture work (issue 13) has still to remove. The checks fail on any
/// violation not listed here and on any listed one that is gone, so the lists only shrink.
const KNOWN_CYCLES: &[&[&str]] = &[];
const KNOWN_LONG_FNS: &[&str] = &[];
const KNOWN_SQL_FILES: &[&str] = &[];

/// Compares what was found with what is known, naming both the new and the fixed.
fn ratchet(what: &str, found: &BTreeSet<String>, known: &[String]) {
    let known: BTreeSet<String> = known.iter().cloned().collect();
    let new: Vec<_> = found.difference(&known).collect();
    let gone: Vec<_> = known.difference(found).collect();
    assert!(new.is_empty(), "new {what}: {new:#?}");
    assert!(
        gone.is_empty(),
        "fixed {what} still listed as known (remove them from the list): {gone:#?}"
    );
}

/// One parsed source file and its module path (`src/drain/dest/mod.rs` → `drain::dest`).
struct Source {
    rel: String,
    module: Vec<String>,
    file: syn::File,
}

fn sources() -> Vec<Source> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    walk(&root, &mut files);
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let rel = path
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            let text = std::fs::read_to_string(&path).unwrap();
            let file = syn::parse_file(&text).unwrap_or_else(|e| panic!("{rel}: {e}"));
            let mut module: Vec<String> = rel
                .trim_end_matches(".rs")
                .split('/')
                .map(String::from)
                .collect();
            if matches!(
                module.last().map(String::as_str),
                Some("mod" | "lib" | "main")
            ) {
                module.pop();
            }
            Source { rel, module, file }
        })
        .collect()
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            walk(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `#[cfg(test)]`, `#[test]` and `#[tokio::test]` mark code that only tests compile.
fn is_test(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        let path = a.path();
        if path.is_ident("test") || path.segments.last().is_some_and(|s| s.ident == "test") {
            return true;
        }
        if let (true, syn::Meta::List(list)) = (path.is_ident("cfg"), &a.meta) {
            let tokens = list.tokens.to_string();
            return tokens == "test" || tokens.starts_with("all (test");
        }
        false
    })
}

/// Everything one file refers to, with test code left out.
#[derive(Default)]
struct Refs {
    /// Absolute module paths referred to (`crate::…` and resolved `super::…`).
    paths: Vec<Vec<String>>,
    /// (name, first line, lines) of every function with a body.
    fns: Vec<(String, usize, usize)>,
    /// String literals, with their line.
    strings: Vec<(String, usize)>,
    module: Vec<String>,
}

impl Refs {
    fn add_path(&mut self, segments: &[String]) {
        let Some(first) = segments.first() else {
            return;
        };
        let resolved = match first.as_str() {
            "crate" => segments[1..].to_vec(),
            "super" | "self" => {
                let mut base = self.module.clone();
                let mut rest = segments;
                if rest[0] == "self" {
                    rest = &rest[1..];
                }
                while rest.first().is_some_and(|s| s == "super") {
                    base.pop();
                    rest = &rest[1..];
                }
                base.extend(rest.iter().cloned());
                base
            }
            _ => return,
        };
        if !resolved.is_empty() {
            self.paths.push(resolved);
        }
    }

    fn add_use(&mut self, prefix: &mut Vec<String>, tree: &syn::UseTree) {
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                self.add_use(prefix, &p.tree);
                prefix.pop();
            }
            syn::UseTree::Name(n) => {
                prefix.push(n.ident.to_string());
                self.add_path(&prefix.clone());
                prefix.pop();
            }
            syn::UseTree::Rename(r) => {
                prefix.push(r.ident.to_string());
                self.add_path(&prefix.clone());
                prefix.pop();
            }
            syn::UseTree::Glob(_) => self.add_path(&prefix.clone()),
            syn::UseTree::Group(g) => {
                for t in &g.items {
                    self.add_use(prefix, t);
                }
            }
        }
    }

    /// Macro bodies are token streams syn does not parse: read their paths and strings by hand.
    fn add_tokens(&mut self, tokens: proc_macro2::TokenStream) {
        let mut run: Vec<String> = Vec::new();
        let mut last_was_colons = false;
        let mut pending_colon = false;
        for tree in tokens {
            match tree {
                proc_macro2::TokenTree::Group(g) => {
                    self.flush(&mut run);
                    self.add_tokens(g.stream());
                }
                proc_macro2::TokenTree::Ident(i) => {
                    if !last_was_colons {
                        self.flush(&mut run);
                    }
                    run.push(i.to_string());
                    last_was_colons = false;
                    pending_colon = false;
                }
                proc_macro2::TokenTree::Punct(p) if p.as_char() == ':' => {
                    if pending_colon {
                        last_was_colons = true;
                        pending_colon = false;
                    } else {
                        pending_colon = true;
                    }
                }
                proc_macro2::TokenTree::Literal(l) => {
                    self.flush(&mut run);
                    if let Ok(s) = syn::parse_str::<syn::LitStr>(&l.to_string()) {
                        self.strings.push((s.value(), l.span().start().line));
                    }
                }
                proc_macro2::TokenTree::Punct(_) => {
                    self.flush(&mut run);
                    last_was_colons = false;
                    pending_colon = false;
                }
            }
        }
        self.flush(&mut run);
    }

    fn flush(&mut self, run: &mut Vec<String>) {
        if run.len() > 1 {
            self.add_path(&run.clone());
        }
        run.clear();
    }

    fn add_fn(&mut self, name: &syn::Ident, block: &syn::Block) {
        let start = name.span().start().line;
        let end = block.brace_token.span.close().end().line;
        self.fns.push((name.to_string(), start, end - start + 1));
    }
}

impl<'ast> Visit<'ast> for Refs {
    fn visit_item(&mut self, item: &'ast syn::Item) {
        let attrs = match item {
            syn::Item::Mod(m) => &m.attrs,
            syn::Item::Fn(f) => &f.attrs,
            syn::Item::Impl(i) => &i.attrs,
            syn::Item::Use(u) => &u.attrs,
            syn::Item::Const(c) => &c.attrs,
            syn::Item::Static(s) => &s.attrs,
            syn::Item::Struct(s) => &s.attrs,
            syn::Item::Enum(e) => &e.attrs,
            syn::Item::Trait(t) => &t.attrs,
            syn::Item::Macro(m) => &m.attrs,
            _ => return syn::visit::visit_item(self, item),
        };
        if !is_test(attrs) {
            syn::visit::visit_item(self, item);
        }
    }

    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        if !is_test(&f.attrs) {
            self.add_fn(&f.sig.ident, &f.block);
            syn::visit::visit_impl_item_fn(self, f);
        }
    }

    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        if !is_test(&f.attrs) {
            self.add_fn(&f.sig.ident, &f.block);
            syn::visit::visit_item_fn(self, f);
        }
    }

    fn visit_trait_item_fn(&mut self, f: &'ast syn::TraitItemFn) {
        if let Some(block) = &f.default {
            self.add_fn(&f.sig.ident, block);
        }
        syn::visit::visit_trait_item_fn(self, f);
    }

    fn visit_item_use(&mut self, u: &'ast syn::ItemUse) {
        self.add_use(&mut Vec::new(), &u.tree);
    }

    fn visit_path(&mut self, p: &'ast syn::Path) {
        let segments: Vec<String> = p.segments.iter().map(|s| s.ident.to_string()).collect();
        self.add_path(&segments);
        syn::visit::visit_path(self, p);
    }

    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        self.add_tokens(m.tokens.clone());
        syn::visit::visit_macro(self, m);
    }

    fn visit_lit_str(&mut self, s: &'ast syn::LitStr) {
        self.strings.push((s.value(), s.span().start().line));
    }
}

fn refs(source: &Source) -> Refs {
    let mut refs = Refs {
        module: source.module.clone(),
        ..Refs::default()
    };
    refs.visit_file(&source.file);
    refs
}

/// Top-level module → the top-level modules it refers to.
fn module_graph(sources: &[Source]) -> BTreeMap<String, BTreeSet<String>> {
    let tops: BTreeSet<String> = sources
        .iter()
        .filter_map(|s| s.module.first().cloned())
        .collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for source in sources {
        let Some(from) = source.module.first() else {
            continue;
        };
        let edges = graph.entry(from.clone()).or_default();
        for path in refs(source).paths {
            if let Some(to) = path.first().filter(|t| tops.contains(*t) && *t != from) {
                edges.insert(to.clone());
            }
        }
    }
    graph
}

/// Tarjan's strongly connected components; a component of more than one module is a cycle.
fn cycles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct State<'g> {
        graph: &'g BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'g str, usize>,
        low: BTreeMap<&'g str, usize>,
        stack: Vec<&'g str>,
        on_stack: BTreeSet<&'g str>,
        out: Vec<Vec<String>>,
    }
    fn visit<'g>(s: &mut State<'g>, v: &'g str) {
        let i = s.index.len();
        s.index.insert(v, i);
        s.low.insert(v, i);
        s.stack.push(v);
        s.on_stack.insert(v);
        for w in s.graph.get(v).into_iter().flatten() {
            let w = w.as_str();
            if !s.index.contains_key(w) {
                visit(s, w);
                let low = s.low[v].min(s.low[w]);
                s.low.insert(v, low);
            } else if s.on_stack.contains(w) {
                let low = s.low[v].min(s.index[w]);
                s.low.insert(v, low);
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                component.push(w.to_string());
                if w == v {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort();
                s.out.push(component);
            }
        }
    }
    let mut s = State {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in graph.keys() {
        if !s.index.contains_key(v.as_str()) {
            visit(&mut s, v);
        }
    }
    s.out
}

fn render(graph: &BTreeMap<String, BTreeSet<String>>) -> String {
    graph
        .iter()
        .map(|(from, to)| {
            format!(
                "  {from} -> {}\n",
                to.iter().cloned().collect::<Vec<_>>().join(", ")
            )
        })
        .collect()
}

#[test]
fn top_level_modules_depend_one_way() {
    let graph = module_graph(&sources());
    // `cargo test --test it architecture -- --nocapture` prints the graph.
    println!("module graph:\n{}", render(&graph));
    let found = cycles(&graph).into_iter().map(|c| c.join(" ")).collect();
    let known: Vec<String> = KNOWN_CYCLES.iter().map(|c| c.join(" ")).collect();
    ratchet("import cycles between top-level modules", &found, &known);
}

#[test]
fn cycle_detection_finds_a_cycle() {
    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("a", vec!["b"]),
        ("b", vec!["c"]),
        ("c", vec!["a"]),
        ("d", vec!["a"]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.into_iter().map(String::from).collect()))
    .collect();
    assert_eq!(
        cycles(&graph),
        vec![vec!["a".to_string(), "b".into(), "c".into()]]
    );
}

#[test]
fn no_function_outside_tests_is_longer_than_120_lines() {
    let mut long = BTreeSet::new();
    for source in sources() {
        for (name, line, lines) in refs(&source).fns {
            if lines > MAX_FN_LINES {
                println!("src/{}:{line} {name}: {lines} lines", source.rel);
                long.insert(format!("src/{} {name}", source.rel));
            }
        }
    }
    let known: Vec<String> = KNOWN_LONG_FNS.iter().map(|s| s.to_string()).collect();
    ratchet(
        &format!("functions over {MAX_FN_LINES} lines"),
        &long,
        &known,
    );
}

fn looks_like_sql(s: &str) -> bool {
    let upper = s.trim_start().to_ascii_uppercase();
    let keywords = [
        "SELECT ",
        "INSERT INTO",
        "UPDATE ",
        "DELETE FROM",
        "WITH ",
        "CREATE ",
        "ALTER ",
    ];
    keywords.iter().any(|k| upper.starts_with(k))
        && (upper.contains(" FROM ")
            || upper.contains(" SET ")
            || upper.contains("INTO ")
            || upper.contains(" TABLE "))
}

#[test]
fn handlers_and_pages_write_no_sql() {
    let mut files = BTreeSet::new();
    for source in sources() {
        if !matches!(
            source.module.first().map(String::as_str),
            Some("http" | "web")
        ) {
            continue;
        }
        for (text, line) in refs(&source).strings {
            if looks_like_sql(&text) {
                println!(
                    "src/{}:{line}: {}",
                    source.rel,
                    text.lines().next().unwrap_or("")
                );
                files.insert(format!("src/{}", source.rel));
            }
        }
    }
    let known: Vec<String> = KNOWN_SQL_FILES.iter().map(|s| s.to_string()).collect();
    ratchet("files with SQL in src/http or src/web", &files, &known);
}

#[test]
fn sql_detection_tells_sql_from_prose() {
    assert!(looks_like_sql("SELECT id FROM drains WHERE org_id = $1"));
    assert!(looks_like_sql("  update orgs SET privacy = ?"));
    assert!(!looks_like_sql("Select the teams to drain"));
    assert!(!looks_like_sql("Update the drain's destination"));
}

/// Modules behind a feature's service (its SQL): the surfaces (handlers, pages, commands)
/// reach the feature through its service (`drain::Drains`, …), never these. Add a module path
/// to extend; the types a surface needs are re-exported beside the service.
const BEHIND_SERVICES: &[&str] = &[
    "drain::repo",
    "drain::secrets",
    "drain::history",
    "export::jobs",
    "schedule::repo",
];
/// Where requests and commands come in.
const SURFACES: &[&str] = &["http", "web", "commands"];

/// `file: module` for each module of [`BEHIND_SERVICES`] that `source` names through `crate::`
/// or `super::` — in a `use` (groups and renames included), a path or a macro.
fn behind_service_refs(source: &Source) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for path in refs(source).paths {
        for module in BEHIND_SERVICES {
            let forbidden: Vec<&str> = module.split("::").collect();
            if path.len() >= forbidden.len() && path.iter().zip(&forbidden).all(|(a, b)| a == b) {
                found.insert(format!("src/{}: {module}", source.rel));
            }
        }
    }
    found
}

#[test]
fn surfaces_reach_features_only_through_their_services() {
    let mut found = BTreeSet::new();
    for source in sources() {
        let top = source.module.first().map(String::as_str).unwrap_or("");
        if SURFACES.contains(&top) {
            found.extend(behind_service_refs(&source));
        }
    }
    assert!(
        found.is_empty(),
        "src/http, src/web and src/commands must go through the services, not: {found:#?}"
    );
}

#[test]
fn behind_service_detection_sees_uses_groups_paths_and_macros() {
    let parse = |text: &str| Source {
        rel: "http/x.rs".into(),
        module: vec!["http".into(), "x".into()],
        file: syn::parse_file(text).unwrap(),
    };
    for text in [
        "use crate::drain::repo;",
        "use crate::drain::{model::Drain, repo::{self, NewAttempt}};",
        "use crate::drain::repo as drains_sql;",
        "fn f() { crate::drain::repo::list(); }",
        "fn f() { let _ = format!(\"{}\", crate::drain::repo::new_id()); }",
        "use super::super::drain::repo;",
    ] {
        assert_eq!(behind_service_refs(&parse(text)).len(), 1, "{text}");
    }
    for text in [
        "use crate::drain::Drains;",
        "use crate::drain::model::{Drain, DrainStatus};",
        "use crate::drain::repository_docs;",
        "#[cfg(test)] mod tests { use crate::drain::repo; }",
    ] {
        assert!(behind_service_refs(&parse(text)).is_empty(), "{text}");
    }
}
