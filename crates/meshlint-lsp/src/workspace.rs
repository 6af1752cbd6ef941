//! The workspace as the server keeps it between edits: every file's text and load
//! findings, the graph over all resources, and each resource's rule findings.
//!
//! An edit re-reads one file, splices its resources into the graph's list (files stay in
//! name order, as a check reads them), rebuilds the graph — cheap next to the rules — and
//! re-evaluates only the resources the edit may affect ([`affected`]). That estimate is
//! fast but not a proof, so a full evaluation on a background thread follows every edit
//! and corrects whatever it missed ([`Workspace::apply_full`]).

use crate::checker::{Checker, FileUnit};
use crate::convert;
use lsp_types::Diagnostic;
use meshlint_diag::{Finding, SourceFile};
use meshlint_graph::MeshGraph;
use meshlint_load::{Node, NodeValue};
use meshlint_model::{Kind, Resource};
use meshlint_rules::{Evaluation, KindSet, RuleReads};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;

pub struct Workspace {
    pub checker: Arc<dyn Checker>,
    /// Text of every file of the workspace (the editor's buffer for open files).
    pub sources: HashMap<Arc<str>, SourceFile>,
    /// Loader and model findings by file.
    load_findings: HashMap<Arc<str>, Vec<Finding>>,
    pub graph: Arc<MeshGraph>,
    /// Rule findings by the graph resource whose evaluation produced them, each with
    /// the index of its rule.
    rule_findings: Vec<Vec<(usize, Finding)>>,
    /// What each rule reads besides its own resource, by rule index (filled on first use).
    rule_reads: Vec<RuleReads>,
    /// The findings last published, by file (suppressed ones are not here).
    pub findings: HashMap<Arc<str>, Vec<Finding>>,
    /// Where the last update's time went (stage, milliseconds), for the server's log.
    pub last_timings: Vec<(&'static str, f64)>,
    /// The slowest rules of the last update (rule id, milliseconds summed over
    /// threads), when `MESHLINT_PROFILE_RULES` is set.
    pub last_rule_times: Vec<(String, f64)>,
    /// Bumped by every change; a background evaluation of an older one is stale.
    pub generation: u64,
    /// Re-run the rules an edit's kinds reach only on the resources [`affected`]
    /// names, a fast guess that the background full evaluation corrects. Off, the quick
    /// pass is exact as far as the rules' declared dependencies are (tests turn it off
    /// to check those).
    pub guess_scope: bool,
}

/// What an update re-evaluated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Update {
    /// Every rule on every resource: the findings are those of a full evaluation.
    pub exact: bool,
    /// Rules re-run beyond the edited file's resources.
    pub rules: usize,
    /// Resources evaluated.
    pub resources: usize,
}

/// Which resources an edit re-evaluates at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    All,
    Some(Vec<usize>),
}

impl Workspace {
    pub fn new(checker: Arc<dyn Checker>) -> Workspace {
        let graph = Arc::new(checker.graph(Vec::new()));
        Workspace {
            checker,
            sources: HashMap::new(),
            load_findings: HashMap::new(),
            graph,
            rule_findings: Vec::new(),
            rule_reads: Vec::new(),
            findings: HashMap::new(),
            generation: 0,
            last_timings: Vec::new(),
            last_rule_times: Vec::new(),
            guess_scope: true,
        }
    }

    /// Reads every file a check would read (`paths`, and the checker's
    /// [`Checker::extra_files`]); the editor's open buffers (`overrides`) win over the
    /// disk.
    pub fn load(&mut self, paths: &[PathBuf], overrides: &HashMap<Arc<str>, String>) {
        let mut names: Vec<Arc<str>> = paths
            .iter()
            .chain(&self.checker.extra_files())
            .map(|p| Arc::from(p.to_string_lossy().as_ref()))
            .collect();
        names.extend(overrides.keys().cloned());
        names.sort();
        names.dedup();
        let checker = self.checker.clone();
        let units: Vec<FileUnit> = rayon_map(&names, |name| match overrides.get(name) {
            Some(text) => checker.load(name.clone(), text.clone().into_bytes()),
            None => checker.read(name.clone()),
        });
        let mut resources = Vec::new();
        for unit in units {
            let name = unit.source.name.clone();
            self.load_findings.insert(name.clone(), unit.findings);
            self.sources.insert(name, unit.source);
            resources.extend(unit.resources);
        }
        self.rule_findings = vec![Vec::new(); resources.len()];
        self.graph = Arc::new(self.checker.graph(resources));
        let eval = meshlint_rules::evaluate_resources(
            &self.checker.rules().rules,
            self.graph.clone(),
            None,
        );
        self.take_findings(eval);
        self.generation += 1;
    }

    /// Replaces one file's content — `unit`, which the checker loaded from the editor's
    /// buffer or the disk — (or removes the file, with `None`) and re-evaluates
    /// what it may change: every rule on the file's resources and, on the others, the
    /// rules that read a kind the edit changed ([`meshlint_rules::rule_reads`]) — on the
    /// resources [`affected`] names, or on all of them for an edit of mesh-wide
    /// configuration. Findings of the other rules are kept. Anything but an exact
    /// update ([`Update::exact`]) needs a background full evaluation.
    pub fn update(&mut self, name: &Arc<str>, unit: Option<FileUnit>) -> Update {
        let mut timer = Timer::default();
        self.generation += 1;
        let old_source = self.sources.get(name).cloned();
        let old_mesh = serde_json::to_string(&self.graph.mesh).unwrap_or_default();
        let mut resources = take_resources(&mut self.graph);
        let old_range = file_range(&resources, name);
        let new_resources = match unit {
            Some(unit) => {
                self.load_findings.insert(name.clone(), unit.findings);
                self.sources.insert(name.clone(), unit.source);
                unit.resources
            }
            None => {
                self.load_findings.remove(name);
                self.sources.remove(name);
                Vec::new()
            }
        };
        timer.lap("load");
        let new_range = old_range.start..old_range.start + new_resources.len();
        let old: Vec<Resource> = resources.splice(old_range.clone(), new_resources).collect();
        self.rule_findings.splice(
            old_range,
            std::iter::repeat_with(Vec::new).take(new_range.len()),
        );
        self.graph = Arc::new(self.checker.graph(resources));
        timer.lap("graph");
        let now = &self.graph.resources[new_range.clone()];
        let new_source = self.sources.get(name);
        let mut kinds = changed_kinds(&old, old_source.as_ref(), now, new_source);
        if serde_json::to_string(&self.graph.mesh).unwrap_or_default() != old_mesh {
            kinds = KindSet::ALL;
        }
        let all_rules = kinds == KindSet::ALL;
        let reads = self.rule_reads().to_vec();
        // Whether rule `rule` is re-run on resource `res` outside the edited file.
        let graph = self.graph.clone();
        let rerun = |res: usize, rule: usize| reads[rule].sees(kinds, graph.resources[res].kind);
        let rules_rerun = reads
            .iter()
            .filter(|r| r.kinds.intersects(kinds) || r.own_kind)
            .count();
        let scope = if all_rules || !self.guess_scope {
            Scope::All
        } else {
            affected(&self.graph, &old, new_range.clone(), &self.sources)
        };
        timer.lap("scope");
        let in_scope: Option<Vec<bool>> = match &scope {
            Scope::All => None,
            Scope::Some(list) => {
                let mut marks = vec![false; self.graph.resources.len()];
                list.iter().for_each(|&i| marks[i] = true);
                Some(marks)
            }
        };
        let in_file = |res: usize| new_range.contains(&res);
        let wanted = |res: usize, rule: usize| {
            in_file(res) || (rerun(res, rule) && in_scope.as_ref().is_none_or(|m| m[res]))
        };
        let only: Option<Vec<usize>> = match &scope {
            Scope::All if rules_rerun > 0 => None,
            Scope::All => Some(new_range.clone().collect()),
            Scope::Some(list) => Some(list.clone()),
        };
        let eval = meshlint_rules::evaluate_selected(
            &self.checker.rules().rules,
            self.graph.clone(),
            only.as_deref(),
            &wanted,
        );
        // Set `MESHLINT_PROFILE_RULES` to have the log name the slowest rules of an edit.
        self.last_rule_times = eval
            .rule_times
            .iter()
            .take(5)
            .map(|(id, t)| (id.clone(), t.as_secs_f64() * 1000.0))
            .collect();
        for (res, slot) in self.rule_findings.iter_mut().enumerate() {
            if in_file(res) {
                slot.clear();
            } else if in_scope.as_ref().is_none_or(|m| m[res]) {
                slot.retain(|(rule, _)| !rerun(res, *rule));
            }
        }
        self.take_findings(eval);
        timer.lap("rules");
        self.last_timings = timer.laps;
        Update {
            exact: all_rules
                || (reads.iter().all(|r| r.kinds.intersects(kinds)) && scope == Scope::All),
            rules: rules_rerun,
            resources: only.map_or(self.graph.resources.len(), |o| o.len()),
        }
    }

    /// What each rule reads, worked out once.
    fn rule_reads(&mut self) -> &[RuleReads] {
        if self.rule_reads.is_empty() {
            self.rule_reads = self
                .checker
                .rules()
                .rules
                .iter()
                .map(meshlint_rules::rule_reads)
                .collect();
        }
        &self.rule_reads
    }

    /// Takes in a full evaluation made on a background thread, unless the workspace
    /// changed since.
    pub fn apply_full(&mut self, generation: u64, eval: Evaluation) -> bool {
        if generation != self.generation {
            return false;
        }
        self.rule_findings.iter_mut().for_each(Vec::clear);
        self.take_findings(eval);
        true
    }

    fn take_findings(&mut self, eval: Evaluation) {
        let found = eval.findings.into_iter().zip(eval.subjects);
        for ((f, subject), rule) in found.zip(eval.subject_rules) {
            if let Some(slot) = self.rule_findings.get_mut(subject) {
                slot.push((rule, f));
            }
        }
    }

    /// Recomputes every file's findings as a check reports them and returns the
    /// diagnostics of the files whose diagnostics changed (empty lists clear a file).
    pub fn changed_diagnostics(&mut self) -> Vec<(Arc<str>, Vec<Diagnostic>)> {
        let mut all: Vec<Finding> = self.load_findings.values().flatten().cloned().collect();
        all.extend(self.rule_findings.iter().flatten().map(|(_, f)| f.clone()));
        let kept = self.checker.finish(all, &self.graph, &self.sources);
        let mut by_file: HashMap<Arc<str>, Vec<Finding>> = HashMap::new();
        for f in kept {
            by_file.entry(f.location.file.clone()).or_default().push(f);
        }
        for list in by_file.values_mut() {
            meshlint_diag::sort_findings(list);
        }
        let rules = self.checker.rules();
        let mut out = Vec::new();
        let files: BTreeSet<Arc<str>> = by_file
            .keys()
            .chain(self.findings.keys())
            .cloned()
            .collect();
        for file in files {
            let findings = by_file.remove(&file).unwrap_or_default();
            // Only files whose findings changed are converted and published.
            if self
                .findings
                .get(&file)
                .map_or(findings.is_empty(), |b| *b == findings)
            {
                continue;
            }
            let diagnostics: Vec<Diagnostic> = findings
                .iter()
                .map(|f| convert::diagnostic(f, &self.sources, rules))
                .collect();
            if findings.is_empty() {
                self.findings.remove(&file);
            } else {
                self.findings.insert(file.clone(), findings);
            }
            out.push((file, diagnostics));
        }
        out
    }
}

/// Maps over the names on rayon's pool, keeping their order.
fn rayon_map<T: Send>(names: &[Arc<str>], f: impl Fn(&Arc<str>) -> T + Sync + Send) -> Vec<T> {
    use rayon::prelude::*;
    names.par_iter().map(f).collect()
}

/// The graph's resources, moved out when nothing else holds the graph (a background
/// evaluation may), else copied.
fn take_resources(graph: &mut Arc<MeshGraph>) -> Vec<Resource> {
    match Arc::get_mut(graph) {
        Some(g) => std::mem::take(&mut g.resources),
        None => (*graph.resources).clone(),
    }
}

/// Where a file's resources are in the list (files in name order, each contiguous), or
/// where they would go.
fn file_range(resources: &[Resource], name: &Arc<str>) -> Range<usize> {
    let start = resources.partition_point(|r| *r.file < **name);
    let end = start + resources[start..].partition_point(|r| *r.file == **name);
    start..end
}

/// The kinds an edit changed: those of the file's resources added, removed, changed or
/// moved (another rule's finding may point at a moved one). When the file's resources
/// change namespaces, or one lacks a namespace, every untracked kind counts too: which
/// namespaces exist and where unnamed objects go are answers of the whole graph.
fn changed_kinds(
    old: &[Resource],
    old_source: Option<&SourceFile>,
    now: &[Resource],
    new_source: Option<&SourceFile>,
) -> KindSet {
    fn text<'a>(r: &Resource, source: Option<&'a SourceFile>) -> Option<&'a str> {
        let source = source?;
        source.text.get(source.byte_range(r.node.span()))
    }
    let same = |a: &Resource, a_src, b: &Resource, b_src| {
        a.id == b.id
            && a.node.span() == b.node.span()
            && a.implied_namespace == b.implied_namespace
            && text(a, a_src) == text(b, b_src)
            && same_tree(&a.node, &b.node)
    };
    let mut kinds = KindSet::EMPTY;
    for r in old {
        if !now.iter().any(|n| same(r, old_source, n, new_source)) {
            kinds.insert(r.kind);
        }
    }
    for r in now {
        if !old.iter().any(|o| same(o, old_source, r, new_source)) {
            kinds.insert(r.kind);
        }
    }
    let namespaces = |list: &[Resource]| -> BTreeSet<String> {
        list.iter().map(|r| r.namespace().to_string()).collect()
    };
    let unset = old.iter().chain(now).any(|r| r.namespace_unset());
    if !kinds.is_empty() && (unset || namespaces(old) != namespaces(now)) {
        kinds = kinds.union(KindSet::ALL.without(meshlint_rules::TRACKED_KINDS));
    }
    kinds
}

/// The resources whose findings an edit may change: the edited file's, those in a
/// namespace whose objects changed, and those whose text names one of the changed
/// objects' namespaces, hosts, or names (of Services, Gateways and Namespaces). Objects of the file that only moved (lines added
/// above them) count as unchanged. An edit to mesh-wide configuration (the root
/// namespace, cluster-scoped objects other than a Namespace) or to an object whose names
/// are too short to search for affects everything.
pub fn affected(
    graph: &MeshGraph,
    old: &[Resource],
    new: Range<usize>,
    sources: &HashMap<Arc<str>, SourceFile>,
) -> Scope {
    let now = &graph.resources[new.clone()];
    let unchanged = |r: &Resource, others: &[Resource]| {
        others
            .iter()
            .any(|o| o.id == r.id && same_tree(&o.node, &r.node))
    };
    let changed: Vec<&Resource> = old
        .iter()
        .filter(|r| !unchanged(r, now))
        .chain(now.iter().filter(|r| !unchanged(r, old)))
        .collect();
    let root = graph.mesh.root_namespace.as_str();
    let mut namespaces: HashSet<&str> = HashSet::new();
    let mut tokens: HashSet<String> = HashSet::new();
    for r in &changed {
        let ns = match r.kind {
            Kind::Namespace => r.name(),
            _ => r.namespace(),
        };
        if ns == root || ns.is_empty() {
            return Scope::All;
        }
        namespaces.insert(ns);
        if !r.namespace_unset() {
            tokens.insert(ns.to_string());
        }
        // Other objects name Services (hosts), Gateways and Namespaces by name; the names
        // of policies and routing rules are referenced by nothing, and often common
        // words (`default`).
        if matches!(
            r.kind,
            Kind::Service | Kind::Gateway | Kind::K8sGateway | Kind::Namespace
        ) {
            tokens.insert(r.name().to_string());
        }
        let hosts = r.node.get("spec").and_then(|s| s.get("hosts"));
        for h in hosts.map(|h| h.items()).unwrap_or(&[]) {
            let h = h.as_str().unwrap_or("");
            tokens.insert(h.trim_start_matches("*.").to_string());
        }
    }
    if tokens.iter().any(|t| t.len() < 3 || t == "*") {
        return Scope::All;
    }
    let mut out: Vec<usize> = new.collect();
    if changed.is_empty() {
        return Scope::Some(out);
    }
    for (i, r) in graph.resources.iter().enumerate() {
        if namespaces.contains(r.namespace()) {
            out.push(i);
            continue;
        }
        let Some(source) = sources.get(&r.file) else {
            continue;
        };
        let range = source.byte_range(r.node.span());
        let text = source.text.get(range).unwrap_or("");
        if tokens.iter().any(|t| text.contains(t.as_str())) {
            out.push(i);
        }
    }
    out.sort_unstable();
    out.dedup();
    Scope::Some(out)
}

/// Whether two keys are spelled alike.
fn same_key(a: &meshlint_load::Key, b: &meshlint_load::Key) -> bool {
    a.scalar_text() == b.scalar_text() && a.plain() == b.plain()
}

/// Whether two trees are equal but for where they are written.
fn same_tree(a: &Node, b: &Node) -> bool {
    match (&a.value, &b.value) {
        (NodeValue::Scalar(x), NodeValue::Scalar(y)) => x == y,
        (NodeValue::Seq(x), NodeValue::Seq(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same_tree(a, b))
        }
        (NodeValue::Map(x), NodeValue::Map(y)) => {
            x.len() == y.len()
                && x.iter()
                    .zip(y)
                    .all(|((ka, va), (kb, vb))| same_key(ka, kb) && same_tree(va, vb))
        }
        _ => false,
    }
}

/// Lap times of one update.
struct Timer {
    last: std::time::Instant,
    laps: Vec<(&'static str, f64)>,
}

impl Default for Timer {
    fn default() -> Timer {
        Timer {
            last: std::time::Instant::now(),
            laps: Vec::new(),
        }
    }
}

impl Timer {
    fn lap(&mut self, stage: &'static str) {
        let now = std::time::Instant::now();
        self.laps
            .push((stage, (now - self.last).as_secs_f64() * 1000.0));
        self.last = now;
    }
}
