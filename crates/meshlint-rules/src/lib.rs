//! The rule engine: rule files (YAML with CEL conditions) loaded, validated, documented
//! and evaluated in parallel over the mesh graph.
//!
//! Built-in rules live in `rules/*.yaml` at the workspace root and are embedded at build
//! time; users add directories with `--rules`. A rule file that does not parse, has an
//! unknown or missing key, a duplicate id, or a CEL expression that does not compile
//! (syntax, unknown function, wrong arity) is refused with its own file, line and column.
//! Evaluation compiles each expression once, builds each resource's CEL value once,
//! visits only the kinds a rule matches, and returns findings in a deterministic order.
//! The CEL variables and graph functions are documented in `docs/rule-language.md`.
#![forbid(unsafe_code)]

mod dependencies;
mod docs;
mod eval;
mod expr;
mod file;
mod graph_fns;
mod kinds;

pub use dependencies::{rule_reads, KindSet, RuleReads};
/// The configuration kinds whose readers the graph functions declare one by one (see
/// [`rule_reads`]); every function reading the graph reads all other kinds.
pub const TRACKED_KINDS: KindSet = graph_fns::dependencies::TRACKED;
pub use docs::{render_index, render_rule_markdown};
pub use eval::{evaluate, evaluate_resources, evaluate_selected, Evaluation};
pub use file::{load_rule, parse_rule, rule_file_schema, Rule, RuleError, RuleFile, SeverityName};
pub use graph_fns::GRAPH_FUNCTIONS;
pub use kinds::{check_kind, KNOWN_KINDS};

/// Where a built-in rule's documentation page is published: `helpUri` in SARIF is this
/// followed by `<id>.md` (the page `meshlint rules --write-docs docs/rules` writes).
pub const RULE_DOCS_BASE: &str = "https://meshlint.io/docs/rules/";

use meshlint_diag::{RuleInfo, Severity};
use std::collections::HashMap;
use std::path::Path;

mod builtin {
    use crate::file::{MatchSpec, RelatedSpec, RuleFile, SeverityName};
    /// A built-in rule file: its path, its YAML text, the constructor of its rule
    /// without `docs` (none when the build script could not write one) and its `docs`
    /// section as JSON.
    type BuiltinRule = (
        &'static str,
        &'static str,
        Option<fn() -> RuleFile>,
        &'static str,
    );
    include!(concat!(env!("OUT_DIR"), "/builtin_rules.rs"));
}

/// A set of loaded rules with unique ids.
#[derive(Default)]
pub struct RuleSet {
    pub rules: Vec<Rule>,
}

impl RuleSet {
    /// The embedded rules.
    pub fn builtin() -> Result<RuleSet, RuleError> {
        let mut set = RuleSet {
            rules: Vec::with_capacity(builtin::BUILTIN_RULES.len()),
        };
        // Ids seen so far, so that a duplicate is found without comparing every pair.
        let mut ids = std::collections::HashSet::with_capacity(builtin::BUILTIN_RULES.len());
        for (origin, text, make, docs) in builtin::BUILTIN_RULES {
            let rule = file::parse_builtin_rule(origin, text, *make, docs)?;
            if ids.insert(rule.id().to_string()) {
                set.rules.push(rule);
            } else {
                set.add(rule)?;
            }
        }
        Ok(set)
    }

    /// Adds a rule, refusing a duplicate id.
    pub fn add(&mut self, rule: Rule) -> Result<(), RuleError> {
        if let Some(existing) = self.rules.iter().find(|r| r.id() == rule.id()) {
            let text = std::fs::read_to_string(&*rule.origin).unwrap_or_default();
            let line = text
                .lines()
                .position(|l| l.trim_start().starts_with("id:"))
                .map(|l| l as u32 + 1)
                .unwrap_or(1);
            return Err(RuleError {
                location: meshlint_diag::Location {
                    file: rule.origin.clone(),
                    span: meshlint_diag::Span::point(line, 1),
                },
                message: format!(
                    "duplicate rule id `{}` (already defined in {})",
                    rule.id(),
                    existing.origin
                ),
            });
        }
        self.rules.push(rule);
        Ok(())
    }

    /// Loads every `*.yaml`/`*.yml` rule file of a directory, in name order.
    pub fn add_dir(&mut self, dir: &Path) -> Result<(), RuleError> {
        let err = |message: String| RuleError {
            location: meshlint_diag::Location {
                file: dir.to_string_lossy().into(),
                span: meshlint_diag::Span::point(1, 1),
            },
            message,
        };
        let entries =
            std::fs::read_dir(dir).map_err(|e| err(format!("cannot read rule directory: {e}")))?;
        let mut paths: Vec<_> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
            .collect();
        paths.sort();
        for p in paths {
            let text =
                std::fs::read_to_string(&p).map_err(|e| err(format!("{}: {e}", p.display())))?;
            self.add(load_rule(&p.to_string_lossy(), &text)?)?;
        }
        Ok(())
    }

    /// Loads a rule file, or every rule file of a directory (`--rules` takes both).
    pub fn add_path(&mut self, path: &Path) -> Result<(), RuleError> {
        if path.is_dir() {
            return self.add_dir(path);
        }
        let text = std::fs::read_to_string(path).map_err(|e| RuleError {
            location: meshlint_diag::Location {
                file: path.to_string_lossy().into(),
                span: meshlint_diag::Span::point(1, 1),
            },
            message: format!("cannot read rule file: {e}"),
        })?;
        self.add(load_rule(&path.to_string_lossy(), &text)?)
    }

    /// Keeps rules selected (all when `select` is empty) and not ignored; each entry is a
    /// rule id, name, category, id prefix (`ML1`, `ML20`) or `ALL` (see [`selects`]).
    pub fn filter(&mut self, select: &[String], ignore: &[String]) {
        let hit = |r: &Rule, list: &[String]| list.iter().any(|s| selects(s, r));
        self.rules
            .retain(|r| (select.is_empty() || hit(r, select)) && !hit(r, ignore));
    }

    /// Applies per-rule severity overrides (by id or name).
    pub fn override_severities(&mut self, overrides: &HashMap<String, Severity>) {
        for r in &mut self.rules {
            if let Some(s) = overrides.get(r.id()).or_else(|| overrides.get(r.name())) {
                r.severity = *s;
            }
        }
    }

    pub fn get(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id() == id || r.name() == id)
    }

    /// Metadata for reporters.
    pub fn infos(&self) -> Vec<RuleInfo> {
        self.rules.iter().map(rule_info).collect()
    }

    /// Metadata without the rendered Markdown help, for the formats that do not show it
    /// (rendering it means parsing every built-in rule's documentation).
    pub fn brief_infos(&self) -> Vec<RuleInfo> {
        self.rules
            .iter()
            .map(|r| RuleInfo {
                help_markdown: String::new(),
                ..rule_brief(r)
            })
            .collect()
    }
}

/// Whether a `--select`/`--ignore` entry names this rule: `ALL`, its id, name or
/// category, or a prefix of its id (`ML1` selects ML1001…ML1999, as ruff's `E4` does).
pub fn selects(entry: &str, r: &Rule) -> bool {
    entry == "ALL"
        || entry == r.id()
        || entry == r.name()
        || entry == r.category()
        || (!entry.is_empty() && r.id().starts_with(entry))
}

pub fn rule_info(r: &Rule) -> RuleInfo {
    RuleInfo {
        help_markdown: render_rule_markdown(r),
        ..rule_brief(r)
    }
}

fn rule_brief(r: &Rule) -> RuleInfo {
    RuleInfo {
        id: r.id().to_string(),
        name: r.name().to_string(),
        category: r.category().to_string(),
        severity: r.severity,
        summary: r.file.summary.clone(),
        help_markdown: String::new(),
        istio_code: r.file.istio_code.clone(),
        help_uri: help_uri(r),
    }
}

/// The documentation page of a built-in rule (user rules have none).
pub fn help_uri(r: &Rule) -> Option<String> {
    r.origin
        .starts_with("rules/")
        .then(|| format!("{RULE_DOCS_BASE}{}.md", r.id()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every built-in rule starts from its generated constructor (none falls back to
    /// parsing YAML at start-up), and the constructor builds what parsing the YAML does.
    #[test]
    fn builtin_constructors_build_what_the_yaml_says() {
        for (origin, text, make, _) in builtin::BUILTIN_RULES {
            let make = make.unwrap_or_else(|| panic!("{origin}: no build-time constructor"));
            let mut parsed = parse_rule(origin, text)
                .unwrap_or_else(|e| panic!("{e}"))
                .file;
            parsed.docs = None;
            assert_eq!(format!("{:?}", make()), format!("{parsed:?}"), "{origin}");
        }
    }
}
