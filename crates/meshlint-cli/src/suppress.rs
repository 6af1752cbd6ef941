//! Suppressions: findings the user has looked at and accepted, written next to the YAML.
//!
//! - Per resource, the annotation `meshlint.io/ignore: "RULE[,RULE…]"` (a rule id, a rule
//!   name, an `istio_code`, or `all`) silences those findings on that resource.
//! - Istio's own `galley.istio.io/analyze-suppress: "IST0102,IST0107"` (or `*`) silences
//!   findings whose `istio_code` is listed, as `istioctl analyze` does.
//! - Per line, a comment `# meshlint-ignore: RULE[,RULE…]` silences findings reported on
//!   the next line that is not blank or a comment, or — written at the end of a line —
//!   on that same line. Text after the rule list (`-- reason`) is ignored.
//!
//! A suppression that silenced nothing is reported as an `unused-suppression` info finding
//! at the annotation or the comment, so stale ones get removed. Galley entries are only
//! reported when meshlint implements the code (some active rule carries it) and never for
//! `*`, since they may be there for `istioctl analyze` checks meshlint does not have.

use meshlint_diag::{Finding, Location, Severity, SourceFile, Span};
use meshlint_model::Resource;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// Rule id of the findings about suppressions that silenced nothing.
pub const UNUSED_SUPPRESSION: &str = "unused-suppression";
/// The meshlint annotation.
pub const IGNORE_ANNOTATION: &str = "meshlint.io/ignore";
/// Istio's analyzer suppression annotation.
pub const GALLEY_ANNOTATION: &str = "galley.istio.io/analyze-suppress";
/// The marker of a line suppression comment.
pub const COMMENT_MARKER: &str = "meshlint-ignore:";

/// What the suppression pass needs besides findings, resources and sources.
#[derive(Debug, Clone, Default)]
pub struct SuppressOptions {
    /// Report suppressions that silenced nothing.
    pub report_unused: bool,
    /// Files whose unused suppressions may be reported (the files reported on); all when `None`.
    pub reported_files: Option<HashSet<Arc<str>>>,
    /// Ids and names of rules that exist but are not run (`--select`/`--ignore`): a
    /// suppression naming them is not "unused".
    pub disabled_rules: HashSet<String>,
    /// `istio_code`s that meshlint can report in this run (active rules).
    pub known_istio_codes: HashSet<String>,
}

/// The result of [`apply`].
#[derive(Debug, Default)]
pub struct Outcome {
    pub kept: Vec<Finding>,
    /// How many findings were silenced.
    pub suppressed: usize,
    /// `unused-suppression` findings.
    pub unused: Vec<Finding>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    Annotation,
    Galley,
    Comment,
}

#[derive(Debug)]
struct Entry {
    source: Source,
    token: String,
    location: Location,
    /// The resource an annotation sits on.
    resource: Option<meshlint_diag::ResourceId>,
    used: bool,
}

impl Entry {
    fn matches(&self, f: &Finding) -> bool {
        let t = self.token.as_str();
        match self.source {
            Source::Galley => {
                t == "*"
                    || f.istio_code
                        .as_deref()
                        .is_some_and(|c| c.eq_ignore_ascii_case(t))
            }
            Source::Annotation | Source::Comment => {
                t.eq_ignore_ascii_case("all")
                    || f.rule.eq_ignore_ascii_case(t)
                    || f.rule_name.as_deref().is_some_and(|n| n == t)
                    || f.istio_code
                        .as_deref()
                        .is_some_and(|c| c.eq_ignore_ascii_case(t))
            }
        }
    }
}

/// Splits `RULE[,RULE…] [free text]` into rule tokens.
fn tokens(list: &str) -> Vec<String> {
    let mut out = Vec::new();
    for part in list.split(',') {
        let part = part.trim();
        let word = part.split_whitespace().next().unwrap_or("");
        if !word.is_empty() {
            out.push(word.to_string());
        }
        if part.split_whitespace().nth(1).is_some() {
            // Free text after the list ends it.
            break;
        }
    }
    out
}

/// The column (1-based, in characters) and text of a `# meshlint-ignore:` comment on a
/// line, when the `#` starts a YAML comment (line start or after whitespace).
fn comment_on(line: &str) -> Option<(u32, &str)> {
    let mut search = 0;
    while let Some(off) = line[search..].find('#') {
        let at = search + off;
        let starts_comment = at == 0 || line[..at].ends_with([' ', '\t']);
        let rest = line[at + 1..].trim_start();
        if starts_comment {
            if let Some(list) = rest.strip_prefix(COMMENT_MARKER) {
                let col = line[..at].chars().count() as u32 + 1;
                return Some((col, list));
            }
            // Any other comment runs to the end of the line.
            return None;
        }
        search = at + 1;
    }
    None
}

fn comment_entries(source: &SourceFile) -> Vec<(u32, Entry)> {
    let mut out = Vec::new();
    let count = source.line_count() as u32;
    for line_no in 1..=count {
        let line = source.line_text(line_no);
        let Some((col, list)) = comment_on(line) else {
            continue;
        };
        let own_line = line.trim_start().starts_with('#');
        let target = if own_line {
            // The next line that is neither blank nor only a comment.
            (line_no + 1..=count).find(|&l| {
                let t = source.line_text(l).trim_start();
                !t.is_empty() && !t.starts_with('#')
            })
        } else {
            Some(line_no)
        };
        let Some(target) = target else { continue };
        let len = line.chars().count() as u32;
        let location = Location {
            file: source.name.clone(),
            span: Span {
                start: meshlint_diag::Pos {
                    line: line_no,
                    column: col,
                },
                end: meshlint_diag::Pos {
                    line: line_no,
                    column: len.max(col) + 1,
                },
            },
        };
        for token in tokens(list) {
            out.push((
                target,
                Entry {
                    source: Source::Comment,
                    token,
                    location: location.clone(),
                    resource: None,
                    used: false,
                },
            ));
        }
    }
    out
}

fn annotation_entries(r: &Resource) -> Vec<Entry> {
    let mut out = Vec::new();
    for (key, source) in [
        (IGNORE_ANNOTATION, Source::Annotation),
        (GALLEY_ANNOTATION, Source::Galley),
    ] {
        let Some(value) = r.annotations.get(key) else {
            continue;
        };
        let span = r
            .node
            .get("metadata")
            .and_then(|m| m.get("annotations"))
            .and_then(|a| a.get_entry(key))
            .map(|(_, v)| v.span())
            .unwrap_or_else(|| r.name_span());
        let location = Location {
            file: r.file.clone(),
            span,
        };
        let list: Vec<String> = match source {
            Source::Galley => value
                .split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect(),
            _ => tokens(value),
        };
        for token in list {
            out.push(Entry {
                source,
                token,
                location: location.clone(),
                resource: Some(r.id.clone()),
                used: false,
            });
        }
    }
    out
}

/// Silences suppressed findings and reports unused suppressions.
pub fn apply(
    findings: Vec<Finding>,
    resources: &[Resource],
    sources: &HashMap<Arc<str>, SourceFile>,
    opts: &SuppressOptions,
) -> Outcome {
    // Annotation entries by (file, resource identity).
    let mut by_resource: HashMap<(Arc<str>, meshlint_diag::ResourceId), Vec<Entry>> =
        HashMap::new();
    for r in resources {
        let entries = annotation_entries(r);
        if !entries.is_empty() {
            by_resource
                .entry((r.file.clone(), r.id.clone()))
                .or_default()
                .extend(entries);
        }
    }
    // Comment entries by (file, target line); only files with a marker are scanned.
    let mut by_line: HashMap<(Arc<str>, u32), Vec<Entry>> = HashMap::new();
    let mut names: Vec<&Arc<str>> = sources.keys().collect();
    names.sort();
    for name in names {
        let src = &sources[name];
        if !src.text.contains(COMMENT_MARKER) {
            continue;
        }
        for (line, e) in comment_entries(src) {
            by_line.entry((name.clone(), line)).or_default().push(e);
        }
    }

    let mut out = Outcome::default();
    for f in findings {
        let mut hit = false;
        if let Some(entries) =
            by_line.get_mut(&(f.location.file.clone(), f.location.span.start.line))
        {
            for e in entries.iter_mut().filter(|e| e.matches(&f)) {
                e.used = true;
                hit = true;
            }
        }
        if let Some(id) = &f.resource {
            if let Some(entries) = by_resource.get_mut(&(f.location.file.clone(), id.clone())) {
                for e in entries.iter_mut().filter(|e| e.matches(&f)) {
                    e.used = true;
                    hit = true;
                }
            }
        }
        if hit {
            out.suppressed += 1;
        } else {
            out.kept.push(f);
        }
    }

    if opts.report_unused {
        let all = by_resource
            .into_values()
            .chain(by_line.into_values())
            .flatten();
        for e in all {
            if e.used
                || opts
                    .reported_files
                    .as_ref()
                    .is_some_and(|files| !files.contains(&e.location.file))
                || opts.disabled_rules.contains(&e.token)
            {
                continue;
            }
            if e.source == Source::Galley
                && (e.token == "*" || !opts.known_istio_codes.contains(&e.token))
            {
                continue;
            }
            let (what, whom) = match (&e.source, &e.resource) {
                (Source::Galley, Some(r)) => (
                    format!("`{GALLEY_ANNOTATION}` lists `{}`", e.token),
                    format!(" on {r}"),
                ),
                (_, Some(r)) => (
                    format!("`{IGNORE_ANNOTATION}` names `{}`", e.token),
                    format!(" on {r}"),
                ),
                (_, None) => (
                    format!("`# meshlint-ignore` names `{}`", e.token),
                    " on the line it applies to".to_string(),
                ),
            };
            let mut finding = Finding::new(
                UNUSED_SUPPRESSION,
                Severity::Info,
                format!("unused suppression: {what}, but no such finding{whom} was silenced"),
                e.location.clone(),
            )
            .with_resource(e.resource.clone())
            .with_help(format!(
                "remove `{}` from the suppression (the problem is fixed, or the rule id is misspelt)",
                e.token
            ));
            finding.fingerprint = Some(format!("{:?}|{}", e.source, e.token));
            out.unused.push(finding);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_lists() {
        assert_eq!(tokens("ML0001"), ["ML0001"]);
        assert_eq!(
            tokens(" ML0001, dr-tls ,IST0118 "),
            ["ML0001", "dr-tls", "IST0118"]
        );
        assert_eq!(
            tokens("ML0001, ML0002 -- known, see #12"),
            ["ML0001", "ML0002"]
        );
        assert!(tokens("").is_empty());
    }

    #[test]
    fn comments_are_found_only_where_yaml_comments_start() {
        assert_eq!(comment_on("# meshlint-ignore: ML1"), Some((1, " ML1")));
        assert_eq!(
            comment_on("  mode: DISABLE  #meshlint-ignore: ML1").map(|c| c.0),
            Some(18)
        );
        assert_eq!(comment_on("  url: http://x#meshlint-ignore: ML1"), None);
        assert_eq!(comment_on("  a: b # other # meshlint-ignore: ML1"), None);
        assert_eq!(
            comment_on("a: '#x' # meshlint-ignore: ML1").map(|c| c.0),
            Some(9)
        );
    }

    #[test]
    fn own_line_comments_apply_to_the_next_content_line() {
        let src = SourceFile::new(
            "f.yaml",
            "a:\n  # meshlint-ignore: R1\n\n  # why: reasons\n  b: 1\n  c: 2 # meshlint-ignore: R2, R3\n",
        );
        let e = comment_entries(&src);
        let got: Vec<(u32, &str, u32)> = e
            .iter()
            .map(|(l, e)| (*l, e.token.as_str(), e.location.span.start.line))
            .collect();
        assert_eq!(got, [(5, "R1", 2), (6, "R2", 6), (6, "R3", 6)]);
    }
}
