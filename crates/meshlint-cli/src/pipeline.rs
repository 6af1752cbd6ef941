//! `meshlint check` minus argument parsing and rendering.

use crate::baseline::{self, StaleScope};
use crate::suppress::{self, SuppressOptions};
use crate::texts::{self, ReleasedTexts};
use meshlint_diag::{sort_findings, Finding, SourceFile, Summary};
use meshlint_discover::{discover, DiscoverOptions, Input};
use meshlint_graph::MeshGraph;
use meshlint_load::{load_source, LoadLimits, LoadedFile};
use meshlint_model::{schema, take_resources_for, MeshConfig, ResourceSet, Skipped};
use meshlint_rules::RuleSet;
use rayon::prelude::*;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Everything that shapes one check run.
#[derive(Debug, Clone, Default)]
pub struct CheckOptions {
    pub paths: Vec<String>,
    pub include: Vec<String>,
    pub exclude: Vec<String>,
    pub respect_gitignore: bool,
    pub mesh_config: Option<PathBuf>,
    pub mesh_networks: Option<PathBuf>,
    pub closed_world: bool,
    /// The namespace objects without `metadata.namespace` are applied to (`-n`, as
    /// `kubectl apply -n` and `helm template -n` mean it); unset, they share a namespace
    /// meshlint does not guess ([`meshlint_model::UNSET_NAMESPACE`]).
    pub namespace: Option<String>,
    /// Judge certificate validity at this time (seconds since the Unix epoch) instead of
    /// the system clock; for tests, so that a result does not depend on the date.
    pub now: Option<i64>,
    /// Load these for cross-resource context but report only on `paths`.
    pub context: Vec<String>,
    pub limits: Option<LoadLimits>,
    /// Do not honour suppression annotations and comments (see [`crate::suppress`]).
    pub ignore_suppressions: bool,
    /// Report suppressions that silenced nothing as `unused-suppression` findings.
    pub report_unused_suppressions: bool,
    /// Ids and names of loaded rules that this run does not evaluate (`--select` /
    /// `--ignore`): suppressions and baseline entries naming them are not reported as
    /// unused or stale.
    pub disabled_rules: Vec<String>,
    /// Report only findings not in this baseline (see [`crate::baseline`]).
    pub baseline: Option<PathBuf>,
    /// Report baseline entries that match nothing as `stale-baseline-entry` findings.
    pub report_stale_baseline: bool,
    /// Files never read as inputs (the configuration and baseline files, which a
    /// directory walk would otherwise pick up).
    pub skip_files: Vec<PathBuf>,
    /// The process exits after this run: leave the mesh graph (every document's tree)
    /// for the OS to reclaim instead of freeing it node by node. Only the binary sets it.
    pub exit_after: bool,
    /// Apply include/exclude to explicitly named files too (`--force-exclude`).
    pub force_exclude: bool,
    /// Keep a rule's finding even where a rule it `defers_to` reports the same cause, as
    /// `istioctl analyze` does (its analyzers report independently); the conformance
    /// suite compares with istioctl this way. Users get one finding per cause.
    pub keep_repeated_causes: bool,
    /// The Istio release line whose CRD schemas validate the resources
    /// (`schema::resolve_release`); `None` for the default release.
    pub istio_version: Option<String>,
}

/// Wall time of each stage.
#[derive(Debug, Clone, Copy, Default)]
pub struct StageTimings {
    pub discover: Duration,
    pub load_and_model: Duration,
    pub graph: Duration,
    pub rules: Duration,
}

/// What a check run produced.
pub struct CheckResult {
    pub findings: Vec<Finding>,
    pub sources: HashMap<Arc<str>, SourceFile>,
    pub summary: Summary,
    pub skipped: Vec<Skipped>,
    /// Rule bugs, one per rule (not the user's fault).
    pub rule_errors: Vec<String>,
    pub timings: StageTimings,
    /// Per-rule time, slowest first (only with `MESHLINT_PROFILE_RULES` set).
    pub rule_times: Vec<(String, std::time::Duration)>,
    pub resource_count: usize,
    /// Findings silenced by suppression annotations or comments.
    pub suppressed: usize,
    /// Findings matched by the baseline.
    pub baselined: usize,
    /// Inputs that changed on disk during the run: their findings are rendered without
    /// source lines (see [`texts`]).
    pub changed_files: Vec<Arc<str>>,
}

impl CheckResult {
    /// Removes `prefix` from every file name (findings, related locations, sources), so
    /// output rendered from it does not depend on where the inputs live — tests use it to
    /// render paths relative to the workspace before the human format wraps lines.
    pub fn strip_path_prefix(&mut self, prefix: &str) {
        let strip = |name: &Arc<str>| -> Arc<str> {
            match name.strip_prefix(prefix) {
                Some(rest) => rest.into(),
                None => name.clone(),
            }
        };
        for f in &mut self.findings {
            f.location.file = strip(&f.location.file);
            for r in &mut f.related {
                r.location.file = strip(&r.location.file);
            }
        }
        self.sources = self
            .sources
            .values()
            .map(|src| {
                let name = strip(&src.name);
                (name.clone(), SourceFile::new(name, src.text.clone()))
            })
            .collect();
    }
}

/// The inputs read and the graph built from them (everything before rule evaluation).
pub struct LoadedMesh {
    /// The inputs reported on (the given paths).
    pub inputs: Vec<Input>,
    /// Loader and model findings of every input, context included.
    pub findings: Vec<Finding>,
    /// Every input's source; the texts of those in `released` are empty until restored.
    pub sources: HashMap<Arc<str>, SourceFile>,
    /// The inputs whose text was set aside while the rules run (see [`texts`]):
    /// restore them before rendering locations in them.
    pub released: ReleasedTexts,
    pub skipped: Vec<Skipped>,
    pub graph: Arc<MeshGraph>,
    pub resource_count: usize,
    /// Inputs that could not be read (each has an `unreadable-file` finding).
    pub unreadable: usize,
    pub t_discover: Duration,
    pub t_load: Duration,
    pub t_graph: Duration,
}

/// Why a run could not do its job (exit code 2).
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The bytes of an input — never more than the file size limit plus one, so an
/// endless stream or a huge file costs no more than the limit — or why it cannot be read.
fn read_input(input: &Input, max: usize) -> (Arc<str>, Result<Vec<u8>, String>) {
    match input {
        Input::Stdin => (
            "<stdin>".into(),
            meshlint_load::read_at_most(std::io::stdin().lock(), max)
                .map_err(|e| format!("cannot be read: {e}")),
        ),
        Input::File { path, display } => (
            display.as_str().into(),
            meshlint_load::read_bounded(path, max).map_err(|e| format!("cannot be read: {e}")),
        ),
        Input::Unreadable { display, reason } => (display.as_str().into(), Err(reason.clone())),
    }
}

/// A `.json` file that does not parse and never mentions `apiVersion` is some other
/// tool's data (JSON lines, a dashboard with comments), not a broken manifest: it is
/// skipped (listed under `--verbose`) instead of reported.
fn unparsable_non_manifest_json(file: &LoadedFile) -> Option<Skipped> {
    let name = &file.source.name;
    let is_json = name.to_ascii_lowercase().ends_with(".json");
    let unparsable = file
        .findings
        .iter()
        .any(|f| &*f.rule == meshlint_load::codes::PARSE_ERROR);
    (is_json && unparsable && !file.source.text.contains("apiVersion")).then(|| Skipped {
        file: name.clone(),
        doc_index: 0,
        reason: "JSON that does not parse and is no Kubernetes manifest (no apiVersion)",
    })
}

/// A duplicate key in a document that is no Kubernetes object (a Helm values file, a
/// tool's configuration) is not a manifest kubectl would refuse: it is info there.
fn soften_findings_outside_objects(
    findings: &mut [Finding],
    extents: &[(usize, u32, u32)],
    skipped: &[Skipped],
) {
    for f in findings
        .iter_mut()
        .filter(|f| &*f.rule == meshlint_load::codes::DUPLICATE_KEY)
    {
        let line = f.location.span.start.line;
        let in_skipped = extents.iter().any(|&(index, start, end)| {
            (start..=end).contains(&line) && skipped.iter().any(|s| s.doc_index == index)
        });
        if in_skipped {
            f.severity = meshlint_diag::Severity::Info;
            if let Some(head) = f.message.split(':').next() {
                f.message = format!(
                    "{head}: only the last value counts (this document is not a Kubernetes object, so no API server sees it)"
                );
            }
        }
    }
}

/// Loads and models one input's bytes: what `check` makes of a file, also used by the
/// language server to re-read one file after an edit.
pub fn load_bytes(
    name: Arc<str>,
    bytes: Vec<u8>,
    limits: &LoadLimits,
    budget: &meshlint_load::RunBudget,
    release: &schema::Schema,
) -> (LoadedFile, ResourceSet) {
    let mut loaded = meshlint_load::load_source_in(name, bytes, limits, budget);
    if let Some(skip) = unparsable_non_manifest_json(&loaded) {
        loaded.findings.clear();
        loaded.documents.clear();
        let set = ResourceSet {
            skipped: vec![skip],
            ..ResourceSet::default()
        };
        return (loaded, set);
    }
    // Where each document lies, to tell loader findings in documents that turn out not
    // to be Kubernetes objects (Helm values, configs).
    let extents: Vec<(usize, u32, u32)> = loaded
        .documents
        .iter()
        .map(|d| (d.index, d.root.span().start.line, d.root.span().end.line))
        .collect();
    let set = take_resources_for(&mut loaded, release);
    soften_findings_outside_objects(&mut loaded.findings, &extents, &set.skipped);
    (loaded, set)
}

/// Loads one input: its bytes read with the size bound, then [`load_bytes`]. One that
/// cannot be read becomes an `unreadable-file` finding at its path (the flag is true);
/// the language server reads files from disk this way too.
/// The finding for a file that cannot be read (at its first line).
pub(crate) fn unreadable_file(name: Arc<str>, reason: String) -> Finding {
    Finding::new(
        meshlint_load::codes::UNREADABLE_FILE,
        meshlint_diag::Severity::Error,
        reason,
        meshlint_diag::Location {
            file: name,
            span: meshlint_diag::Span::point(1, 1),
        },
    )
}

pub(crate) fn load_input(
    input: &Input,
    limits: &LoadLimits,
    budget: &meshlint_load::RunBudget,
    release: &schema::Schema,
) -> (LoadedFile, ResourceSet, bool) {
    let (name, bytes) = read_input(input, limits.max_file_bytes);
    load_read(name, bytes, limits, budget, release)
}

/// [`load_input`] after the reading.
fn load_read(
    name: Arc<str>,
    bytes: Result<Vec<u8>, String>,
    limits: &LoadLimits,
    budget: &meshlint_load::RunBudget,
    release: &schema::Schema,
) -> (LoadedFile, ResourceSet, bool) {
    match bytes {
        Ok(bytes) => {
            let (loaded, set) = load_bytes(name, bytes, limits, budget, release);
            (loaded, set, false)
        }
        Err(reason) => {
            let loaded = LoadedFile {
                source: SourceFile::new(name.clone(), ""),
                documents: Vec::new(),
                findings: vec![unreadable_file(name, reason)],
            };
            (loaded, ResourceSet::default(), true)
        }
    }
}

/// One input loaded by [`load_all`]: the file, its resources, whether it could not be
/// read, and how to read its text back when it was released.
type Loaded = (LoadedFile, ResourceSet, bool, Option<texts::ReadBytes>);

/// Loads every input (see [`load_input`]); the others go on past one that fails. The
/// text of a file read from disk is released once it is loaded (see [`texts`]).
fn load_all(inputs: &[Input], limits: &LoadLimits, release: &schema::Schema) -> Vec<Loaded> {
    // One node budget for the whole run, on top of each file's own.
    let budget = meshlint_load::RunBudget::default();
    inputs
        .par_iter()
        .map(|input| {
            let (name, bytes) = read_input(input, limits.max_file_bytes);
            let read = match (input, &bytes) {
                (Input::File { path, .. }, Ok(bytes)) => {
                    Some(texts::ReadBytes::of(path, &name, bytes))
                }
                _ => None,
            };
            let (mut file, set, bad) = load_read(name, bytes, limits, &budget, release);
            let released = read.and_then(|read| texts::release(&mut file.source, read));
            (file, set, bad, released)
        })
        .collect()
}

/// Reads a file named by a flag (`--mesh-config`, `--mesh-networks`) with the input
/// rules: regular files only, at most the size limit.
fn read_flag_file(flag: &str, path: &Path) -> Result<Vec<u8>, UsageError> {
    let max = LoadLimits::default().max_file_bytes;
    let bytes = meshlint_load::read_bounded(path, max)
        .map_err(|e| UsageError(format!("{flag} {}: {e}", path.display())))?;
    if bytes.len() > max {
        return Err(UsageError(format!(
            "{flag} {}: larger than the {max} byte limit",
            path.display()
        )));
    }
    Ok(bytes)
}

/// Reads `--mesh-networks` (`mesh_networks:`) as a check does.
pub(crate) fn read_mesh_networks(
    path: &Path,
) -> Result<(SourceFile, Vec<Finding>, Vec<meshlint_model::Resource>), UsageError> {
    let bytes = read_flag_file("--mesh-networks", path)?;
    Ok(load_mesh_networks(path.to_string_lossy().into(), bytes))
}

/// The mesh networks file's bytes as the graph sees them: its parse findings, and the
/// `MeshNetworks istio-system/meshnetworks` resource that joins the inputs.
pub(crate) fn load_mesh_networks(
    name: Arc<str>,
    bytes: Vec<u8>,
) -> (SourceFile, Vec<Finding>, Vec<meshlint_model::Resource>) {
    let loaded = load_source(name, bytes, &LoadLimits::default());
    let resources = meshlint_model::mesh_networks_resource(&loaded)
        .into_iter()
        .collect();
    (loaded.source, loaded.findings, resources)
}

/// Reads `--mesh-config`.
pub fn read_mesh_config(path: &Path) -> Result<MeshConfig, UsageError> {
    let bytes = read_flag_file("--mesh-config", path)?;
    let loaded = load_source(path.to_string_lossy().into(), bytes, &LoadLimits::default());
    if let Some(f) = loaded.findings.first() {
        return Err(UsageError(format!(
            "--mesh-config {}:{}:{}: {}",
            path.display(),
            f.location.span.start.line,
            f.location.span.start.column,
            f.message
        )));
    }
    Ok(loaded
        .documents
        .first()
        .map(|d| MeshConfig::from_document(&d.root))
        .unwrap_or_default())
}

/// How `check` (and the language server) discovers inputs.
pub(crate) fn discover_options(opts: &CheckOptions, force_exclude: bool) -> DiscoverOptions {
    DiscoverOptions {
        include: opts.include.clone(),
        exclude: opts.exclude.clone(),
        respect_gitignore: opts.respect_gitignore,
        force_exclude,
    }
}

/// The files `skip_files` names (a pre-commit hook's deleted or renamed files), resolved.
pub(crate) fn skipped_files(opts: &CheckOptions) -> HashSet<PathBuf> {
    opts.skip_files
        .iter()
        .filter_map(|p| p.canonicalize().ok())
        .collect()
}

/// `-n/--namespace`: the namespace of resources that do not name one.
pub(crate) fn apply_namespace(resources: &mut [meshlint_model::Resource], namespace: Option<&str>) {
    if let Some(ns) = namespace {
        let ns = Arc::new(ns.to_string());
        for r in resources.iter_mut().filter(|r| r.id.namespace.is_none()) {
            r.implied_namespace = ns.clone();
        }
    }
}

/// The istioctl codes the rules carry: a suppression naming one of them is not unknown.
pub(crate) fn known_istio_codes(rules: &RuleSet) -> HashSet<String> {
    rules
        .rules
        .iter()
        .filter_map(|r| r.file.istio_code.clone())
        .collect()
}

/// The codes of this run's findings count as known too.
pub(crate) fn extend_known_codes(known: &mut HashSet<String>, findings: &[Finding]) {
    known.extend(
        findings
            .iter()
            .filter_map(|f| f.istio_code.as_deref().map(str::to_string)),
    );
}

/// What the repository's layout says about the loader's findings, as `check` and the
/// language server both apply it: an unrendered Helm template found by walking a folder
/// is information, not a warning (a chart's templates are expected there), and a
/// kustomize patch file lacks required fields by design. `given` are the paths named on
/// the command line; `inputs` is asked for only when a finding is of either kind (the
/// language server builds its list on every edit otherwise).
pub fn adjust_for_repository_layout<'a>(
    findings: &mut Vec<Finding>,
    inputs: impl FnOnce() -> std::borrow::Cow<'a, [Input]>,
    given: &[String],
) {
    let helm = findings
        .iter()
        .any(|f| &*f.rule == meshlint_load::codes::HELM_TEMPLATE);
    let required = findings
        .iter()
        .any(|f| &*f.rule == meshlint_model::codes::SCHEMA_REQUIRED);
    if !helm && !required {
        return;
    }
    let inputs = inputs();
    if helm {
        crate::charts::soften_walked_templates(findings, &inputs, given);
    }
    if required {
        crate::kustomize::drop_required_fields_in_patches(findings, &inputs);
    }
}

/// Discovers, loads and models the inputs (and the `--context`) and builds the graph.
pub fn load_mesh(opts: &CheckOptions) -> Result<LoadedMesh, UsageError> {
    let started = Instant::now();
    let discover_opts = discover_options(opts, opts.force_exclude);
    let paths = if opts.paths.is_empty() {
        vec![".".to_string()]
    } else {
        opts.paths.clone()
    };
    let skip = skipped_files(opts);
    let keep = |i: &Input| match i {
        Input::File { path, .. } if !skip.is_empty() => {
            !path.canonicalize().is_ok_and(|p| skip.contains(&p))
        }
        _ => true,
    };
    let mut inputs = discover(&paths, &discover_opts).map_err(|e| UsageError(e.to_string()))?;
    inputs.retain(keep);
    let charts = crate::charts::set_aside_chart_templates(&mut inputs, &paths);
    let mut all_inputs = inputs.clone();
    if !opts.context.is_empty() {
        let ctx = discover(&opts.context, &discover_opts).map_err(|e| UsageError(e.to_string()))?;
        let given: HashSet<PathBuf> = inputs
            .iter()
            .filter_map(|i| match i {
                Input::File { path, .. } => path.canonicalize().ok(),
                Input::Stdin | Input::Unreadable { .. } => None,
            })
            .collect();
        for c in ctx.into_iter().filter(keep) {
            if let Input::File { path, .. } = &c {
                if path.canonicalize().is_ok_and(|p| given.contains(&p)) {
                    continue;
                }
            }
            all_inputs.push(c);
        }
    }
    let t_discover = started.elapsed();

    let started = Instant::now();
    let limits = opts.limits.unwrap_or_default();
    let release = schema::resolve_release(opts.istio_version.as_deref())
        .map(|line| schema::release(line).unwrap_or_else(schema::embedded))
        .map_err(UsageError)?;
    let loaded = load_all(&all_inputs, &limits, release);
    let unreadable = loaded.iter().filter(|(_, _, bad, _)| *bad).count();
    let mut findings = Vec::new();
    // Sized exactly: the graph keeps this vector to the end of the run, and grown by
    // doubling it could hold almost twice the resources it has.
    let mut resources = Vec::with_capacity(
        loaded
            .iter()
            .map(|(_, set, _, _)| set.resources.len())
            .sum::<usize>()
            + usize::from(opts.mesh_networks.is_some()),
    );
    let mut skipped = Vec::new();
    let mut sources = HashMap::with_capacity(loaded.len() + 1);
    let mut reads = Vec::with_capacity(loaded.len());
    for (file, set, _, read) in loaded {
        findings.extend(file.findings);
        findings.extend(set.findings);
        resources.extend(set.resources);
        skipped.extend(set.skipped);
        reads.push((file.source.name.clone(), read));
        sources.insert(file.source.name.clone(), file.source);
    }
    let released = ReleasedTexts::new(reads);
    apply_namespace(&mut resources, opts.namespace.as_deref());
    adjust_for_repository_layout(&mut findings, || (&all_inputs[..]).into(), &paths);
    for chart in &charts {
        let (finding, source) = chart.finding();
        findings.push(finding);
        if let Some(source) = source {
            sources.entry(source.name.clone()).or_insert(source);
        }
        skipped.extend(chart.skipped());
    }
    let t_load = started.elapsed();

    let started = Instant::now();
    let mesh = match &opts.mesh_config {
        Some(p) => read_mesh_config(p)?,
        None => MeshConfig::discover(&resources).unwrap_or_default(),
    };
    if let Some(p) = &opts.mesh_networks {
        let (source, more, networks) = read_mesh_networks(p)?;
        findings.extend(more);
        resources.extend(networks);
        sources.insert(source.name.clone(), source);
    }
    let resource_count = resources.len();
    let mut graph = MeshGraph::new(resources, mesh, opts.closed_world);
    graph.now = opts.now;
    let graph = Arc::new(graph);
    let t_graph = started.elapsed();
    Ok(LoadedMesh {
        inputs,
        findings,
        sources,
        released,
        skipped,
        graph,
        resource_count,
        unreadable,
        t_discover,
        t_load,
        t_graph,
    })
}

/// Removes repeats: the same rule, place and message twice, and a finding at the place
/// where a rule it `defers_to` reports (two rules, one cause).
pub fn one_finding_per_cause(findings: Vec<Finding>, rules: &RuleSet) -> Vec<Finding> {
    let defers: HashMap<&str, &[String]> = rules
        .rules
        .iter()
        .filter(|r| !r.file.defers_to.is_empty())
        .map(|r| (r.file.id.as_str(), r.file.defers_to.as_slice()))
        .collect();
    let place = |f: &Finding| (f.location.file.clone(), f.location.span.start);
    let mut at: HashSet<(Arc<str>, meshlint_diag::Pos, Arc<str>)> = HashSet::new();
    for f in &findings {
        at.insert((place(f).0, place(f).1, f.rule.clone()));
    }
    let mut seen: HashSet<(Arc<str>, meshlint_diag::Pos, Arc<str>, String)> = HashSet::new();
    findings
        .into_iter()
        .filter(|f| {
            let (file, pos) = place(f);
            let deferred = defers.get(&*f.rule).is_some_and(|others| {
                others
                    .iter()
                    .any(|o| at.contains(&(file.clone(), pos, Arc::from(o.as_str()))))
            });
            !deferred && seen.insert((file, pos, f.rule.clone(), f.message.clone()))
        })
        .collect()
}

/// `--context` keeps the findings on the given files — and those whose deciding
/// resources (related locations) are in them: a change to a PeerAuthentication that
/// breaks a DestinationRule in an unchanged file must fail the pre-commit hook. Such a
/// finding is moved to its location in the changed file (where CI annotates changed
/// lines), and its original place becomes a related location.
pub(crate) fn scope_to_reported(
    findings: Vec<Finding>,
    reported: &HashSet<Arc<str>>,
) -> Vec<Finding> {
    findings
        .into_iter()
        .filter_map(|mut f| {
            if reported.contains(&f.location.file) {
                return Some(f);
            }
            let i = f
                .related
                .iter()
                .position(|r| reported.contains(&r.location.file))?;
            let here = f.related.remove(i);
            let subject = f
                .resource
                .as_ref()
                .map(|r| r.to_string())
                .unwrap_or_else(|| "the finding".to_string());
            let elsewhere = std::mem::replace(&mut f.location, here.location);
            f.related.insert(
                0,
                meshlint_diag::Related {
                    location: elsewhere,
                    message: format!(
                        "{subject} (not in the changed files), which this change breaks"
                    ),
                },
            );
            f.message = format!("{} — {}", here.message, f.message);
            Some(f)
        })
        .collect()
}

/// Drops the findings the baseline accepts (returned with how many it matched); its
/// entries that match nothing are added as `stale-baseline-entry` findings when the
/// run reports them, with the baseline's text among the sources.
pub(crate) fn apply_baseline(
    b: &baseline::Baseline,
    findings: Vec<Finding>,
    sources: &mut HashMap<Arc<str>, SourceFile>,
    reported_files: HashSet<Arc<str>>,
    disabled_rules: HashSet<String>,
    opts: &CheckOptions,
) -> (Vec<Finding>, usize) {
    let scope = StaleScope {
        reported_files,
        disabled_rules,
    };
    let applied = baseline::apply(b, findings, sources, &scope);
    let mut kept = applied.new;
    if opts.report_stale_baseline && !applied.stale.is_empty() {
        kept.extend(applied.stale);
        sources.insert(b.name.clone(), b.source.clone());
    }
    (kept, applied.matched)
}

/// Runs the whole pipeline: load, evaluate, then suppressions, `--context` scoping and
/// the baseline, in that order.
pub fn run_check(opts: &CheckOptions, rules: &RuleSet) -> Result<CheckResult, UsageError> {
    let LoadedMesh {
        inputs,
        mut findings,
        mut sources,
        mut released,
        skipped,
        graph,
        resource_count,
        unreadable,
        t_discover,
        t_load,
        t_graph,
    } = load_mesh(opts)?;

    if opts.exit_after {
        std::mem::forget(graph.clone());
    }
    let started = Instant::now();
    let eval = meshlint_rules::evaluate(&rules.rules, graph.clone());
    findings.extend(eval.findings);
    if !opts.keep_repeated_causes {
        findings = one_finding_per_cause(findings, rules);
    }
    let t_rules = started.elapsed();
    // From here on only the files findings name need their text (the passes below and
    // the renderers); suppression comments and Helm markers kept theirs.
    let changed_files = released.restore(
        &mut sources,
        findings.iter().flat_map(|f| {
            std::iter::once(&f.location.file).chain(f.related.iter().map(|r| &r.location.file))
        }),
    );

    let reported: HashSet<Arc<str>> = inputs.iter().map(|i| Arc::from(i.display())).collect();
    let disabled: HashSet<String> = opts.disabled_rules.iter().cloned().collect();
    let mut suppressed = 0;
    if !opts.ignore_suppressions {
        let mut known_istio_codes = known_istio_codes(rules);
        extend_known_codes(&mut known_istio_codes, &findings);
        let sopts = SuppressOptions {
            report_unused: opts.report_unused_suppressions,
            reported_files: Some(reported.clone()),
            disabled_rules: disabled.clone(),
            known_istio_codes,
        };
        let outcome = suppress::apply(findings, &graph.resources, &sources, &sopts);
        suppressed = outcome.suppressed;
        findings = outcome.kept;
        findings.extend(outcome.unused);
    }

    if !opts.context.is_empty() {
        findings = scope_to_reported(findings, &reported);
    }

    let mut baselined = 0;
    if let Some(path) = &opts.baseline {
        let b = baseline::read(path).map_err(|e| UsageError(e.to_string()))?;
        let (kept, matched) = apply_baseline(&b, findings, &mut sources, reported, disabled, opts);
        baselined = matched;
        findings = kept;
    }

    sort_findings(&mut findings);
    let mut summary = Summary {
        files: inputs.len(),
        resources: resource_count,
        unreadable,
        ..Summary::default()
    };
    summary.count(&findings);
    Ok(CheckResult {
        findings,
        sources,
        summary,
        skipped,
        rule_errors: eval.rule_errors.into_values().collect(),
        rule_times: eval.rule_times,
        timings: StageTimings {
            discover: t_discover,
            load_and_model: t_load,
            graph: t_graph,
            rules: t_rules,
        },
        resource_count,
        suppressed,
        baselined,
        changed_files,
    })
}
