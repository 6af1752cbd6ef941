//! The fast path against the general parser: wherever it accepts a document, its tree
//! (spans included) and node count must be the general parser's, and the general parser
//! must have found nothing wrong. Checked on every YAML file of the repository, on
//! Istio's analyzer test data in `../shared` (when present), on seeded mutations of all
//! of them (which reach the corners: stray indicators, indentation off by one, unclosed
//! quotes), and on a directory named by `MESHLINT_DIFFERENTIAL_DIR` for corpus studies.

use super::{parse_document, Scratch};
use crate::node::{Node, NodeValue};
use crate::parse::{parse_chunk, split_documents, LoadLimits};
use meshlint_diag::line_starts;
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Default)]
struct Tally {
    documents: usize,
    accepted: usize,
}

/// Compares both parsers on every document of `text`; the first disagreement is
/// returned as a message naming the file and line.
fn compare(label: &str, text: &str, tally: &mut Tally) -> Result<(), String> {
    let limits = LoadLimits::default();
    let name: Arc<str> = label.into();
    // One scratch for the whole file, as the loader uses it: what a declined document
    // leaves in it must not reach the next.
    let mut scratch = Scratch::default();
    let starts = line_starts(text);
    for chunk in split_documents(text, &starts) {
        tally.documents += 1;
        let Some((fast, nodes)) = parse_document(&chunk, &limits, &mut scratch) else {
            continue;
        };
        tally.accepted += 1;
        let general = parse_chunk(&name, &chunk, &limits, 0);
        let where_ = format!("{label}, document from line {}", chunk.line_offset + 1);
        if !general.findings.is_empty() {
            return Err(format!(
                "{where_}: the fast path accepted a document the general parser reports: {:?}\n{}",
                general
                    .findings
                    .iter()
                    .map(|f| &f.message)
                    .collect::<Vec<_>>(),
                chunk.text
            ));
        }
        let [(root, aliases, count)] = &general.documents[..] else {
            return Err(format!(
                "{where_}: the general parser made {} documents\n{}",
                general.documents.len(),
                chunk.text
            ));
        };
        if root != &fast || *count != nodes || !aliases.is_empty() {
            let (general, fast) = (outline(root), outline(&fast));
            let at = general.iter().zip(&fast).position(|(a, b)| a != b);
            let at = at.unwrap_or(general.len().min(fast.len()));
            return Err(format!(
                "{where_}: trees differ (nodes {count} vs {nodes}) at outline line {at}:\n  general: {:?}\n  fast:    {:?}\n{}",
                general.get(at),
                fast.get(at),
                chunk.text
            ));
        }
    }
    Ok(())
}

/// One line per node: kind, text, plainness and span, indented by depth.
fn outline(root: &Node) -> Vec<String> {
    fn walk(node: &Node, depth: usize, out: &mut Vec<String>) {
        let s = node.span();
        let span = format!(
            "{}:{}-{}:{}",
            s.start.line, s.start.column, s.end.line, s.end.column
        );
        let pad = "  ".repeat(depth);
        match &node.value {
            NodeValue::Scalar(v) => {
                out.push(format!("{pad}{:?} plain={} {span}", v.text(), v.plain()))
            }
            NodeValue::Seq(items) => {
                out.push(format!("{pad}seq {span}"));
                items.iter().for_each(|i| walk(i, depth + 1, out));
            }
            NodeValue::Map(entries) => {
                out.push(format!("{pad}map {span}"));
                for (k, v) in entries.iter() {
                    walk(&k.to_node(), depth + 1, out);
                    walk(v, depth + 2, out);
                }
            }
        }
    }
    let mut out = Vec::new();
    walk(root, 0, &mut out);
    out
}

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if path.is_dir() {
            if !name.starts_with('.') && name != "target" && !name.starts_with("bench-out") {
                yaml_files(&path, out);
            }
        } else if name.ends_with(".yaml") || name.ends_with(".yml") {
            out.push(path);
        }
    }
}

fn texts(dirs: &[PathBuf]) -> Vec<(String, String)> {
    let mut files = Vec::new();
    for dir in dirs {
        yaml_files(dir, &mut files);
    }
    files.sort();
    files
        .into_iter()
        .filter_map(|p| {
            let text = std::fs::read_to_string(&p).ok()?;
            Some((p.display().to_string(), text))
        })
        .collect()
}

fn repository_texts() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut dirs = vec![root.clone()];
    let shared = root.join("../shared/conformance/istio/testdata");
    if shared.is_dir() {
        dirs.push(shared);
    } else {
        eprintln!("../shared/conformance/istio/testdata is absent: only the repository's files are compared");
    }
    texts(&dirs)
}

#[test]
fn agrees_with_the_general_parser_on_every_repository_file() {
    let files = repository_texts();
    assert!(files.len() > 500, "found only {} YAML files", files.len());
    let (tally, failures) = compare_files(&files);
    assert_agree(&failures);
    // The fast path must actually be taken on ordinary manifests, or it is not a fast
    // path: most of the repository's documents are in its subset.
    assert!(
        tally.accepted * 2 > tally.documents,
        "accepted {} of {} documents",
        tally.accepted,
        tally.documents
    );
}

/// A small deterministic generator (the test must fail the same way every time).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % below.max(1)
    }
}

const INSERTS: &[&str] = &[
    ":", ": ", "-", "- ", "#", " #", "'", "\"", "[", "]", "{", "}", ",", " ", "  ", "&a ", "*a",
    "!", "|", ">", "?", "%", "@", "`", "\\", "''", "é", "---", "...", "<<: ", "x: y",
    // From review: each was taken by the fast path and refused or merged by saphyr.
    "\u{feff}", "\0", "[-]", ", -", "{<<: x}",
];

/// One mutation of one line of `text`.
fn mutate(text: &str, rng: &mut Lcg) -> String {
    let mut lines: Vec<String> = text.split('\n').map(str::to_string).collect();
    let at = rng.next(lines.len());
    let line = &mut lines[at];
    let boundaries: Vec<usize> = (0..=line.len())
        .filter(|i| line.is_char_boundary(*i))
        .collect();
    let cut = boundaries[rng.next(boundaries.len())];
    match rng.next(6) {
        0 => line.insert_str(cut, INSERTS[rng.next(INSERTS.len())]),
        1 if cut < line.len() => {
            let next = boundaries
                .iter()
                .find(|b| **b > cut)
                .copied()
                .unwrap_or(line.len());
            line.replace_range(cut..next, "");
        }
        2 => line.insert(0, ' '),
        3 if line.starts_with(' ') => {
            line.remove(0);
        }
        4 => {
            let copy = line.clone();
            lines.insert(at, copy);
        }
        _ => line.truncate(cut),
    }
    lines.join("\n")
}

/// Compares both parsers on `rounds` seeded mutations (one to three lines each) of every
/// file shorter than 20 kB; returns the tally and every disagreement.
fn compare_mutations(files: &[(String, String)], rounds: usize) -> (Tally, Vec<String>) {
    let mut rng = Lcg(0x6d65_7368_6c69_6e74);
    let mut tally = Tally::default();
    let mut failures = Vec::new();
    for (label, text) in files.iter().filter(|(_, t)| t.len() < 20_000) {
        for round in 0..rounds {
            let mut mutated = text.clone();
            for _ in 0..=round % 3 {
                mutated = mutate(&mutated, &mut rng);
            }
            if let Err(e) = compare(&format!("{label} (mutation {round})"), &mutated, &mut tally) {
                failures.push(e);
            }
        }
    }
    (tally, failures)
}

#[test]
fn agrees_with_the_general_parser_on_mutated_files() {
    let (tally, failures) = compare_mutations(&repository_texts(), 6);
    assert!(
        tally.accepted > 1000,
        "accepted only {} mutated documents",
        tally.accepted
    );
    assert_agree(&failures);
}

/// Compares both parsers on every file; returns the tally and every disagreement.
fn compare_files(files: &[(String, String)]) -> (Tally, Vec<String>) {
    let mut tally = Tally::default();
    let failures = files
        .iter()
        .filter_map(|(label, text)| compare(label, text, &mut tally).err())
        .collect();
    (tally, failures)
}

fn assert_agree(failures: &[String]) {
    assert!(
        failures.is_empty(),
        "{} disagreements; the first:\n{}",
        failures.len(),
        failures[0]
    );
}

/// For corpus studies: `MESHLINT_DIFFERENTIAL_DIR=/path cargo test -p meshlint-load
/// differential -- --nocapture` compares every YAML file under the directory, and
/// `MESHLINT_DIFFERENTIAL_MUTATIONS=N` as many mutations of each.
#[test]
fn agrees_with_the_general_parser_on_a_named_directory() {
    let Ok(dir) = std::env::var("MESHLINT_DIFFERENTIAL_DIR") else {
        return;
    };
    let files = texts(&[PathBuf::from(dir)]);
    let (tally, mut failures) = compare_files(&files);
    let rounds =
        std::env::var("MESHLINT_DIFFERENTIAL_MUTATIONS").map_or(0, |n| n.parse().unwrap_or(0));
    if rounds > 0 {
        let (mutated, mut disagreements) = compare_mutations(&files, rounds);
        eprintln!(
            "mutations: {} documents, {} taken by the fast path",
            mutated.documents, mutated.accepted
        );
        failures.append(&mut disagreements);
    }
    eprintln!(
        "{} files, {} documents, {} taken by the fast path",
        files.len(),
        tally.documents,
        tally.accepted
    );
    assert_agree(&failures);
}

/// For exploring the general parser: `MESHLINT_EXPLORE=file cargo test -p meshlint-load explore -- --nocapture`.
#[test]
fn explore() {
    let Ok(path) = std::env::var("MESHLINT_EXPLORE") else {
        return;
    };
    let text = std::fs::read_to_string(path).unwrap();
    let name: Arc<str> = "x".into();
    let limits = LoadLimits::default();
    let starts = line_starts(&text);
    for chunk in split_documents(&text, &starts) {
        let general = parse_chunk(&name, &chunk, &limits, 0);
        for (root, _, _) in &general.documents {
            eprintln!("{}", outline(root).join("\n"));
        }
        let fast = parse_document(&chunk, &limits, &mut Scratch::default());
        eprintln!(
            "fast: {}",
            fast.map_or("declined".to_string(), |(n, _)| outline(&n).join("\n"))
        );
    }
}
