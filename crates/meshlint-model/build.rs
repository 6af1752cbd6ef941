//! Indexes the embedded field schemas (`schema/istio-<line>.schema`) at build time: for
//! each release line, where each kind's section of the text starts and ends. A check
//! then parses only the kinds its resources have, and "does another release have this
//! kind?" is a table lookup instead of a scan of every release's text (which was an
//! eighth of the instructions of checking one small file; issue 17).

use std::fmt::Write;
use std::path::PathBuf;

/// `(group, kind, start, end)` of every `kind <group> <Kind> …` section of a schema text.
fn sections(text: &str) -> Vec<(String, String, usize, usize)> {
    let mut starts = Vec::new();
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        if line.starts_with("kind ") {
            starts.push(at);
        }
        at += line.len();
    }
    starts.push(text.len());
    starts
        .windows(2)
        .filter_map(|w| {
            let header = text[w[0]..w[1]].lines().next()?;
            let mut parts = header.split(' ').skip(1);
            Some((
                parts.next()?.to_string(),
                parts.next()?.to_string(),
                w[0],
                w[1],
            ))
        })
        .collect()
}

fn main() {
    let dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("schema");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "schema"));
    files.sort();
    let mut out = String::from(
        "/// Per release line: (line, [(group, kind, start, end)]) of its schema text.\n\
         pub(crate) const KIND_SECTIONS: &[(&str, &[super::KindSection])] = &[\n",
    );
    for path in files {
        println!("cargo:rerun-if-changed={}", path.display());
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        let Some(line) = name.strip_prefix("istio-") else {
            continue;
        };
        let text = std::fs::read_to_string(&path).unwrap();
        writeln!(out, "    ({line:?}, &[").unwrap();
        for (group, kind, start, end) in sections(&text) {
            writeln!(out, "        ({group:?}, {kind:?}, {start}, {end}),").unwrap();
        }
        out.push_str("    ]),\n");
    }
    out.push_str("];\n");
    let dest = PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("schema_sections.rs");
    std::fs::write(dest, out).unwrap();
}
