//! Naming findings in rendered streams after the files people edit.
//!
//! `helm template` writes each document under a `# Source: chart/templates/x.yaml`
//! comment. [`map_helm_sources`] moves every finding (and related location) inside such
//! a document to that template path, at its line inside the document (the line after
//! the `---` is line 1, so the `# Source:` comment itself is line 1 when it opens the
//! document). Several documents rendered from one template are numbered as one text,
//! in stream order, separated by `---`. The snippet shown by the human format is the
//! rendered document. Documents without the comment keep the stream's name, which
//! `--stdin-filename` sets for standard input ([`rename_file`]).

use crate::CheckResult;
use meshlint_diag::{Location, SourceFile};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// The comment `helm template` writes before each document: a file holding it is read
/// for the template paths after the rules ran (its text is kept for that).
pub const SOURCE_COMMENT: &str = "# Source:";

/// Renames one input everywhere it appears (findings, related locations, sources).
pub fn rename_file(result: &mut CheckResult, from: &str, to: &str) {
    let Some(src) = result.sources.remove(from) else {
        return;
    };
    let to: Arc<str> = to.into();
    result
        .sources
        .insert(to.clone(), SourceFile::new(to.clone(), src.text.clone()));
    let fix = |loc: &mut Location| {
        if &*loc.file == from {
            loc.file = to.clone();
        }
    };
    for f in &mut result.findings {
        fix(&mut f.location);
        for r in &mut f.related {
            fix(&mut r.location);
        }
    }
}

/// One document of a rendered stream that names its template.
struct Doc {
    /// 1-based lines of the stream the document occupies (after its `---`), inclusive.
    first: u32,
    last: u32,
    template: Arc<str>,
    /// 1-based line in the template's text where this document's first line lands.
    offset: u32,
}

fn is_separator(line: &str) -> bool {
    let l = line.trim_end();
    l == "---" || l.starts_with("--- ")
}

/// The template path a document's leading comments name, if any.
fn source_comment<'a>(lines: &[&'a str]) -> Option<&'a str> {
    for l in lines {
        let t = l.trim();
        if t.is_empty() {
            continue;
        }
        let rest = t.strip_prefix('#')?;
        if let Some(path) = rest.trim_start().strip_prefix("Source:") {
            let path = path.trim();
            return (!path.is_empty()).then_some(path);
        }
    }
    None
}

/// The documents of `text` that name a template, each template's text, and whether
/// every document names one.
fn split(text: &str) -> (Vec<Doc>, BTreeMap<Arc<str>, String>, bool) {
    let lines: Vec<&str> = text.lines().collect();
    // (first line index, one past the last) of each document, 0-based.
    let mut ranges = Vec::new();
    let mut start = 0;
    for (i, l) in lines.iter().enumerate() {
        if is_separator(l) {
            if i > start {
                ranges.push((start, i));
            }
            start = i + 1;
        }
    }
    if start < lines.len() {
        ranges.push((start, lines.len()));
    }
    let mut docs = Vec::new();
    let mut texts: BTreeMap<Arc<str>, String> = BTreeMap::new();
    let mut all = true;
    for (a, b) in ranges {
        let Some(path) = source_comment(&lines[a..b]) else {
            all &= lines[a..b].iter().all(|l| l.trim().is_empty());
            continue;
        };
        let template: Arc<str> = path.into();
        let body = texts.entry(template.clone()).or_default();
        if !body.is_empty() {
            body.push_str("---\n");
        }
        let offset = body.lines().count() as u32 + 1;
        for l in &lines[a..b] {
            body.push_str(l);
            body.push('\n');
        }
        docs.push(Doc {
            first: a as u32 + 1,
            last: b as u32,
            template,
            offset,
        });
    }
    (docs, texts, all)
}

/// Moves findings in `helm template` output to the templates their documents name.
pub fn map_helm_sources(result: &mut CheckResult) {
    let mut maps: HashMap<Arc<str>, Vec<Doc>> = HashMap::new();
    // Each template's text, from every stream that names it: two renderings of one chart
    // (an almost-full and a full install, say) both land in it, one after the other.
    let mut templates: BTreeMap<Arc<str>, String> = BTreeMap::new();
    // Streams whose every document moved to a template: nothing is left to show there.
    let mut emptied = Vec::new();
    // In name order, so that the templates' texts (and every finding's place in them)
    // are the same on every run, whatever order the sources map iterates in.
    let mut streams: Vec<&SourceFile> = result
        .sources
        .values()
        .filter(|src| src.text.contains(SOURCE_COMMENT))
        .collect();
    streams.sort_by(|a, b| a.name.cmp(&b.name));
    for src in streams {
        let (docs, texts, all) = split(&src.text);
        // A template path that is also an input in its own right keeps its own text.
        let count = docs.len();
        let mut docs: Vec<Doc> = docs
            .into_iter()
            .filter(|d| !result.sources.contains_key(&d.template))
            .collect();
        if all && docs.len() == count {
            emptied.push(src.name.clone());
        }
        if docs.is_empty() {
            continue;
        }
        for (template, text) in texts {
            if !docs.iter().any(|d| d.template == template) {
                continue;
            }
            let body = templates.entry(template.clone()).or_default();
            if !body.is_empty() {
                body.push_str("---\n");
            }
            let lines_before = body.lines().count() as u32;
            body.push_str(&text);
            for d in docs.iter_mut().filter(|d| d.template == template) {
                d.offset += lines_before;
            }
        }
        maps.insert(src.name.clone(), docs);
    }
    if maps.is_empty() {
        return;
    }
    for (template, text) in templates {
        result
            .sources
            .insert(template.clone(), SourceFile::new(template, text));
    }
    let fix = |loc: &mut Location| {
        let Some(docs) = maps.get(&loc.file) else {
            return;
        };
        let line = loc.span.start.line;
        let Some(d) = docs.iter().find(|d| d.first <= line && line <= d.last) else {
            return;
        };
        let moved = |l: u32| d.offset + l.clamp(d.first, d.last) - d.first;
        loc.span.start.line = moved(loc.span.start.line);
        if loc.span.end.line > d.last {
            loc.span.end.line = d.last;
            loc.span.end.column = 1;
        }
        loc.span.end.line = moved(loc.span.end.line);
        loc.file = d.template.clone();
    };
    for f in &mut result.findings {
        fix(&mut f.location);
        for r in &mut f.related {
            fix(&mut r.location);
        }
    }
    meshlint_diag::sort_findings(&mut result.findings);
    for name in emptied {
        let still_named = result
            .findings
            .iter()
            .any(|f| f.location.file == name || f.related.iter().any(|r| r.location.file == name));
        if !still_named {
            result.sources.remove(&name);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_map_to_their_templates() {
        let text = "---\n# Source: c/templates/a.yaml\nkind: A\n---\n# Source: c/templates/b.yaml\nkind: B\nx: 1\n---\n# Source: c/templates/a.yaml\nkind: A2\n---\nkind: Plain\n";
        let (docs, texts, all) = split(text);
        assert!(!all, "the last document names no template");
        assert_eq!(docs.len(), 3);
        assert_eq!((docs[0].first, docs[0].last, docs[0].offset), (2, 3, 1));
        assert_eq!((docs[1].first, docs[1].last, docs[1].offset), (5, 7, 1));
        assert_eq!(&*docs[2].template, "c/templates/a.yaml");
        assert_eq!(docs[2].offset, 4);
        assert_eq!(
            texts["c/templates/a.yaml"],
            "# Source: c/templates/a.yaml\nkind: A\n---\n# Source: c/templates/a.yaml\nkind: A2\n"
        );
    }
}
