//! `meshlint server`: the check pipeline, one step at a time, for the language server
//! (`meshlint-lsp`). Settings come from the same flags-and-`.meshlint.yaml` merge as
//! `check` (the workspace root is the one path), and each step is the pipeline's own
//! function, so the editor reports what a check of the workspace reports: same files,
//! size bounds, rules, severities, mesh config and networks, suppressions, `--context`
//! scoping and baseline.

use crate::baseline::{self, Baseline};
use crate::pipeline::{self, load_bytes, one_finding_per_cause, read_mesh_config, CheckOptions};
use crate::suppress::{self, SuppressOptions};
use meshlint_diag::{Finding, SourceFile};
use meshlint_discover::{discover, DiscoverOptions, Input};
use meshlint_graph::MeshGraph;
use meshlint_load::{LoadLimits, RunBudget};
use meshlint_lsp::{Checker, FileUnit};
use meshlint_model::{schema, MeshConfig, Resource};
use meshlint_rules::RuleSet;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The check pipeline with one run's settings.
pub struct PipelineChecker {
    opts: CheckOptions,
    rules: RuleSet,
    release: &'static schema::Schema,
    limits: LoadLimits,
    /// `--mesh-config` / `mesh_config:`, read once; otherwise the inputs' `istio` ConfigMap.
    mesh_config: Option<MeshConfig>,
    /// `--mesh-networks` / `mesh_networks:`, whose edits the server follows like any file's.
    mesh_networks: Option<PathBuf>,
    /// `--context` files: loaded for the graph, reported on only through findings
    /// elsewhere that they decide (as a check's `--context`).
    context: HashSet<PathBuf>,
    suppress: SuppressOptions,
    /// `--baseline` / `baseline:`, read once.
    baseline: Option<Baseline>,
    /// Inputs discovery could not read (a FIFO, a dangling link), with why: read as a
    /// check reads them, they are an `unreadable-file` finding.
    unreadable: std::sync::Mutex<HashMap<PathBuf, String>>,
    /// Where a check reading the baseline is run from (the configuration's directory,
    /// else the workspace root): baseline entries name files relative to it.
    names_from: PathBuf,
}

impl PipelineChecker {
    /// The pipeline for `opts` (whose `paths` are the workspace root) and `rules`; file
    /// names in the baseline are relative to `names_from`. The messages say what of the
    /// configuration could not be honoured.
    pub fn new(
        opts: CheckOptions,
        rules: RuleSet,
        names_from: PathBuf,
    ) -> (PipelineChecker, Vec<String>) {
        let mut warnings = Vec::new();
        let release = schema::resolve_release(opts.istio_version.as_deref())
            .ok()
            .and_then(schema::release)
            .unwrap_or_else(schema::embedded);
        let mesh_config = opts
            .mesh_config
            .as_ref()
            .and_then(|p| read_mesh_config(p).map_err(|e| warnings.push(e.0)).ok());
        let mesh_networks = opts.mesh_networks.as_ref().map(|p| absolute(p));
        let baseline = opts.baseline.as_ref().and_then(|p| {
            baseline::read(p)
                .map_err(|e| warnings.push(format!("{e} (the baseline is not applied)")))
                .ok()
        });
        let mut context = HashSet::new();
        if !opts.context.is_empty() {
            match discover(&opts.context, &pipeline::discover_options(&opts, false)) {
                Ok(found) => context.extend(found.into_iter().filter_map(|i| match i {
                    Input::File { path, .. } => Some(absolute(&path)),
                    _ => None,
                })),
                Err(e) => warnings.push(format!("--context: {e}")),
            }
        }
        let known_istio_codes = pipeline::known_istio_codes(&rules);
        let suppress = SuppressOptions {
            report_unused: opts.report_unused_suppressions,
            reported_files: None,
            disabled_rules: opts.disabled_rules.iter().cloned().collect(),
            known_istio_codes,
        };
        let checker = PipelineChecker {
            limits: opts.limits.unwrap_or_default(),
            opts,
            rules,
            release,
            mesh_config,
            mesh_networks,
            context,
            suppress,
            baseline,
            unreadable: Default::default(),
            names_from,
        };
        (checker, warnings)
    }

    fn discover_options(&self, force_exclude: bool) -> DiscoverOptions {
        pipeline::discover_options(&self.opts, force_exclude)
    }

    fn is_mesh_networks(&self, name: &str) -> bool {
        self.mesh_networks
            .as_deref()
            .is_some_and(|p| p == Path::new(name))
    }

    fn unit(&self, file: meshlint_load::LoadedFile, set: meshlint_model::ResourceSet) -> FileUnit {
        let mut findings = file.findings;
        findings.extend(set.findings);
        let mut resources = set.resources;
        pipeline::apply_namespace(&mut resources, self.opts.namespace.as_deref());
        FileUnit {
            source: file.source,
            findings,
            resources,
        }
    }

    /// The baseline applied as a check applies it, with file names as a check run from
    /// [`PipelineChecker::names_from`] gives them (the server's are absolute).
    fn apply_baseline(
        &self,
        b: &Baseline,
        findings: Vec<Finding>,
        sources: &HashMap<Arc<str>, SourceFile>,
    ) -> Vec<Finding> {
        let prefix = format!("{}/", self.names_from.to_string_lossy());
        let mut absolute: HashMap<Arc<str>, Arc<str>> = HashMap::new();
        let mut relative_sources = HashMap::new();
        let findings: Vec<Finding> = findings
            .into_iter()
            .map(|mut f| {
                if let Some(rel) = f.location.file.strip_prefix(prefix.as_str()) {
                    let rel: Arc<str> = rel.into();
                    if let Some(src) = sources.get(&f.location.file) {
                        relative_sources
                            .entry(rel.clone())
                            .or_insert_with(|| SourceFile::new(rel.clone(), src.text.clone()));
                    }
                    absolute.insert(rel.clone(), f.location.file.clone());
                    f.location.file = rel;
                }
                f
            })
            .collect();
        let reported = relative_sources.keys().cloned().collect();
        let disabled = self.opts.disabled_rules.iter().cloned().collect();
        // Stale entries are a check's to report: they point into the baseline file.
        let opts = CheckOptions {
            report_stale_baseline: false,
            ..CheckOptions::default()
        };
        let (kept, _) = pipeline::apply_baseline(
            b,
            findings,
            &mut relative_sources,
            reported,
            disabled,
            &opts,
        );
        kept.into_iter()
            .map(|mut f| {
                if let Some(abs) = absolute.get(&f.location.file) {
                    f.location.file = abs.clone();
                }
                f
            })
            .collect()
    }
}

/// `path` made absolute against the working directory (file names in the server are).
fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

impl Checker for PipelineChecker {
    fn discover(&self) -> Result<Vec<PathBuf>, String> {
        let mut inputs =
            discover(&self.opts.paths, &self.discover_options(false)).map_err(|e| e.to_string())?;
        let skip = pipeline::skipped_files(&self.opts);
        crate::charts::set_aside_chart_templates(&mut inputs, &self.opts.paths);
        let mut unreadable = self.unreadable.lock().unwrap_or_else(|e| e.into_inner());
        Ok(inputs
            .into_iter()
            .filter_map(|i| match i {
                Input::File { path, .. } => Some(path),
                Input::Unreadable { display, reason } => {
                    let path = absolute(Path::new(&display));
                    unreadable.insert(path.clone(), reason);
                    Some(path)
                }
                Input::Stdin => None,
            })
            .filter(|p| !p.canonicalize().is_ok_and(|c| skip.contains(&c)))
            .filter(|p| !self.context.contains(&absolute(p)))
            .collect())
    }

    fn extra_files(&self) -> Vec<PathBuf> {
        let mut out: Vec<PathBuf> = self.context.iter().cloned().collect();
        out.extend(self.mesh_networks.clone());
        out.sort();
        out
    }

    fn accepts(&self, path: &Path) -> bool {
        if self.is_mesh_networks(&path.to_string_lossy()) || self.context.contains(path) {
            return true;
        }
        let under_root = self.opts.paths.iter().any(|root| path.starts_with(root));
        let name = path.to_string_lossy().to_ascii_lowercase();
        let manifest = [".yaml", ".yml", ".json"].iter().any(|e| name.ends_with(e));
        under_root
            && manifest
            && discover(
                &[path.to_string_lossy().into_owned()],
                &self.discover_options(true),
            )
            .is_ok_and(|found| found.iter().any(|i| matches!(i, Input::File { .. })))
    }

    fn load(&self, name: Arc<str>, bytes: Vec<u8>) -> FileUnit {
        if self.is_mesh_networks(&name) {
            // As a check reads `--mesh-networks`: the `MeshNetworks` resource it defines.
            let (source, findings, resources) = pipeline::load_mesh_networks(name, bytes);
            return FileUnit {
                source,
                findings,
                resources,
            };
        }
        let (file, set) = load_bytes(
            name,
            bytes,
            &self.limits,
            &RunBudget::default(),
            self.release,
        );
        self.unit(file, set)
    }

    fn read(&self, name: Arc<str>) -> FileUnit {
        if self.is_mesh_networks(&name) {
            let path = PathBuf::from(&*name);
            return match pipeline::read_mesh_networks(&path) {
                Ok((source, findings, resources)) => FileUnit {
                    source,
                    findings,
                    resources,
                },
                Err(e) => FileUnit {
                    source: SourceFile::new(name.clone(), ""),
                    findings: vec![pipeline::unreadable_file(name, e.0)],
                    resources: Vec::new(),
                },
            };
        }
        let path = PathBuf::from(&*name);
        // What discovery found unreadable stays so until it is a regular file.
        let known = self.unreadable.lock().ok().and_then(|mut u| {
            if path.is_file() {
                u.remove(&path);
                None
            } else {
                u.get(&path).cloned()
            }
        });
        let input = match known {
            Some(reason) => Input::Unreadable {
                display: name.to_string(),
                reason,
            },
            None => Input::File {
                path,
                display: name.to_string(),
            },
        };
        let (file, set, _) =
            pipeline::load_input(&input, &self.limits, &RunBudget::default(), self.release);
        self.unit(file, set)
    }

    fn graph(&self, resources: Vec<Resource>) -> MeshGraph {
        let mesh = match &self.mesh_config {
            Some(m) => m.clone(),
            None => MeshConfig::discover(&resources).unwrap_or_default(),
        };
        MeshGraph::new(resources, mesh, self.opts.closed_world)
    }

    fn rules(&self) -> &RuleSet {
        &self.rules
    }

    fn finish(
        &self,
        findings: Vec<Finding>,
        graph: &MeshGraph,
        sources: &HashMap<Arc<str>, SourceFile>,
    ) -> Vec<Finding> {
        let mut findings = if self.opts.keep_repeated_causes {
            findings
        } else {
            one_finding_per_cause(findings, &self.rules)
        };
        if !self.opts.ignore_suppressions {
            // As in a check: the codes of this run's findings count as known too.
            let mut sopts = self.suppress.clone();
            pipeline::extend_known_codes(&mut sopts.known_istio_codes, &findings);
            let outcome = suppress::apply(findings, &graph.resources, sources, &sopts);
            findings = outcome.kept;
            findings.extend(outcome.unused);
        }
        // As `load_mesh` does for a check: Helm templates found by the folder walk and
        // kustomize patch files.
        let inputs = || {
            sources
                .keys()
                .map(|name| Input::File {
                    path: PathBuf::from(&**name),
                    display: name.to_string(),
                })
                .collect::<Vec<_>>()
                .into()
        };
        pipeline::adjust_for_repository_layout(&mut findings, inputs, &self.opts.paths);
        if !self.context.is_empty() {
            let reported: HashSet<Arc<str>> = sources
                .keys()
                .filter(|name| {
                    !self.context.contains(Path::new(&***name)) && !self.is_mesh_networks(name)
                })
                .cloned()
                .collect();
            findings = pipeline::scope_to_reported(findings, &reported);
        }
        match &self.baseline {
            Some(b) => self.apply_baseline(b, findings, sources),
            None => findings,
        }
    }
}
