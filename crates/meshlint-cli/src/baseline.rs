//! Baselines: adopt meshlint on a repository with existing problems by recording today's
//! findings (`--write-baseline FILE`) and reporting only new ones (`--baseline FILE`).
//!
//! An entry is keyed by the rule and [`meshlint_report::stable_fingerprint`], which digests
//! the file name, the resource identity (API group, kind, namespace, name) and the content
//! of the offending field — never a line number — so edits elsewhere in a file do not
//! bring entries back. Entries are matched as a multiset: two identical findings need two
//! entries. An entry that matches nothing any more is reported as a
//! `stale-baseline-entry` info finding at its place in the baseline file, so the file
//! does not rot.

use crate::spanned::{self, SpannedError};
use meshlint_diag::{Finding, Location, ResourceId, Severity, SourceFile, Span};
use meshlint_load::PathSegment;
use meshlint_report::stable_fingerprint;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

/// Rule id of the findings about baseline entries that match nothing.
pub const STALE_BASELINE_ENTRY: &str = "stale-baseline-entry";
/// The format version written in baseline files.
pub const BASELINE_VERSION: u32 = 1;

/// A baseline file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaselineFile {
    pub version: u32,
    pub entries: Vec<Entry>,
}

/// One accepted finding.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub rule: String,
    /// The file as given on the command line when the baseline was written.
    pub file: String,
    pub resource: Option<ResourceId>,
    /// [`stable_fingerprint`] of the finding.
    pub fingerprint: String,
    /// The message at the time, for people reading the file (not used for matching).
    #[serde(default)]
    pub message: String,
}

impl Entry {
    fn key(&self) -> (String, String) {
        (self.rule.clone(), self.fingerprint.clone())
    }
}

/// A baseline read from disk, with its text for locating entries.
#[derive(Debug, Clone)]
pub struct Baseline {
    pub name: Arc<str>,
    pub file: BaselineFile,
    /// Span of each entry in the file.
    spans: Vec<Span>,
    pub source: SourceFile,
}

/// Builds the baseline of the current findings, sorted so that regenerating it after
/// unrelated edits gives no diff.
pub fn build(findings: &[Finding], sources: &HashMap<Arc<str>, SourceFile>) -> BaselineFile {
    let mut entries: Vec<Entry> = findings
        .iter()
        .filter(|f| &*f.rule != STALE_BASELINE_ENTRY)
        .map(|f| Entry {
            rule: f.rule.to_string(),
            file: f.location.file.to_string(),
            resource: f.resource.clone(),
            fingerprint: stable_fingerprint(f, sources.get(&f.location.file)),
            message: f.message.clone(),
        })
        .collect();
    entries.sort();
    BaselineFile {
        version: BASELINE_VERSION,
        entries,
    }
}

/// Writes a baseline file (pretty JSON, trailing newline).
pub fn write(path: &Path, baseline: &BaselineFile) -> std::io::Result<()> {
    let mut text = Vec::new();
    meshlint_report::write_safe_json(&mut text, baseline)?;
    text.push(b'\n');
    std::fs::write(path, text)
}

/// Reads a baseline file; errors carry the file's line and column.
pub fn read(path: &Path) -> Result<Baseline, SpannedError> {
    let name: Arc<str> = path.to_string_lossy().into();
    let max = meshlint_load::LoadLimits::default().max_file_bytes;
    let bytes = meshlint_load::read_bounded(path, max)
        .map_err(|e| e.to_string())
        .and_then(|b| {
            if b.len() > max {
                Err(format!("larger than the {max} byte limit"))
            } else {
                Ok(b)
            }
        })
        .map_err(|e| SpannedError {
            location: Location {
                file: name.clone(),
                span: Span::point(1, 1),
            },
            message: format!("cannot read baseline: {e}"),
        })?;
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let root = spanned::parse(&name, bytes)?
        .ok_or_else(|| spanned::error_at(&name, Span::point(1, 1), "empty baseline file"))?;
    let file: BaselineFile =
        spanned::deserialize(&name, &root, spanned::to_json(&root)).map_err(|mut e| {
            e.message = format!("invalid baseline: {}", e.message);
            e
        })?;
    if file.version != BASELINE_VERSION {
        let span = root
            .span_of(&[PathSegment::Key("version".into())])
            .unwrap_or(root.head_span());
        return Err(spanned::error_at(
            &name,
            span,
            format!(
                "unsupported baseline version {} (this meshlint writes {BASELINE_VERSION})",
                file.version
            ),
        ));
    }
    let spans = (0..file.entries.len())
        .map(|i| {
            root.span_of(&[PathSegment::Key("entries".into()), PathSegment::Index(i)])
                .map(|s| Span {
                    start: s.start,
                    end: meshlint_diag::Pos {
                        line: s.start.line,
                        column: s.start.column + 1,
                    },
                })
                .unwrap_or(Span::point(1, 1))
        })
        .collect();
    Ok(Baseline {
        source: SourceFile::new(name.clone(), text),
        name,
        file,
        spans,
    })
}

/// What applying a baseline did.
#[derive(Debug, Default)]
pub struct Applied {
    /// Findings not in the baseline.
    pub new: Vec<Finding>,
    /// How many findings the baseline matched.
    pub matched: usize,
    /// `stale-baseline-entry` findings.
    pub stale: Vec<Finding>,
}

/// Which stale entries may be reported.
#[derive(Debug, Clone, Default)]
pub struct StaleScope {
    /// Files analyzed and reported on; entries for other files are left alone.
    pub reported_files: HashSet<Arc<str>>,
    /// Rules not run this time (`--select`/`--ignore`); their entries are left alone.
    pub disabled_rules: HashSet<String>,
}

/// Removes baselined findings and reports stale entries.
pub fn apply(
    baseline: &Baseline,
    findings: Vec<Finding>,
    sources: &HashMap<Arc<str>, SourceFile>,
    scope: &StaleScope,
) -> Applied {
    let mut remaining: HashMap<(String, String), Vec<usize>> = HashMap::new();
    for (i, e) in baseline.file.entries.iter().enumerate() {
        remaining.entry(e.key()).or_default().push(i);
    }
    let mut out = Applied::default();
    for f in findings {
        let fp = stable_fingerprint(&f, sources.get(&f.location.file));
        match remaining.get_mut(&(f.rule.to_string(), fp)) {
            Some(list) if !list.is_empty() => {
                list.remove(0);
                out.matched += 1;
            }
            _ => out.new.push(f),
        }
    }
    let mut left: Vec<usize> = remaining.into_values().flatten().collect();
    left.sort_unstable();
    for i in left {
        let e = &baseline.file.entries[i];
        if !scope.reported_files.contains(e.file.as_str()) || scope.disabled_rules.contains(&e.rule)
        {
            continue;
        }
        let whom = e
            .resource
            .as_ref()
            .map(|r| format!(" on {r}"))
            .unwrap_or_default();
        let mut f = Finding::new(
            STALE_BASELINE_ENTRY,
            Severity::Info,
            format!(
                "stale baseline entry: no {} finding{whom} in {} matches it any more",
                e.rule, e.file
            ),
            Location {
                file: baseline.name.clone(),
                span: baseline.spans[i],
            },
        )
        .with_resource(e.resource.clone())
        .with_help("remove the entry, or regenerate the baseline with `--write-baseline`");
        f.fingerprint = Some(e.fingerprint.clone());
        out.stale.push(f);
    }
    out
}
