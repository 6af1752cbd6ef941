//! `meshlint server`: the check pipeline, one step at a time, for the language server
//! (`meshlint-lsp`). Settings come from the same flags-and-`.meshlint.yaml` merge as
//! `check` (the workspace root is the one path), so the editor reports what a check of
//! the workspace reports: same files, rules, severities and suppressions.

use crate::pipeline::{self, load_bytes, one_finding_per_cause, read_mesh_config, CheckOptions};
use crate::suppress::{self, SuppressOptions};
use meshlint_diag::{Finding, SourceFile};
use meshlint_discover::{discover, DiscoverOptions, Input};
use meshlint_graph::MeshGraph;
use meshlint_load::{LoadLimits, RunBudget};
use meshlint_lsp::{Checker, FileUnit};
use meshlint_model::{schema, MeshConfig, Resource};
use meshlint_rules::RuleSet;
use std::collections::HashMap;
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
    suppress: SuppressOptions,
}

impl PipelineChecker {
    /// The pipeline for `opts` (whose `paths` are the workspace root) and `rules`; the
    /// messages say what of the configuration could not be honoured.
    pub fn new(opts: CheckOptions, rules: RuleSet) -> (PipelineChecker, Vec<String>) {
        let mut warnings = Vec::new();
        let release = schema::resolve_release(opts.istio_version.as_deref())
            .ok()
            .and_then(schema::release)
            .unwrap_or_else(schema::embedded);
        let mesh_config = opts
            .mesh_config
            .as_ref()
            .and_then(|p| read_mesh_config(p).map_err(|e| warnings.push(e.0)).ok());
        if opts.mesh_networks.is_some() {
            warnings.push("`mesh_networks` is not read by the language server yet".to_string());
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
            suppress,
        };
        (checker, warnings)
    }

    fn discover_options(&self, force_exclude: bool) -> DiscoverOptions {
        pipeline::discover_options(&self.opts, force_exclude)
    }
}

impl Checker for PipelineChecker {
    fn discover(&self) -> Result<Vec<PathBuf>, String> {
        let mut inputs =
            discover(&self.opts.paths, &self.discover_options(false)).map_err(|e| e.to_string())?;
        let skip = pipeline::skipped_files(&self.opts);
        crate::charts::set_aside_chart_templates(&mut inputs, &self.opts.paths);
        Ok(inputs
            .into_iter()
            .filter_map(|i| match i {
                Input::File { path, .. } => Some(path),
                Input::Stdin | Input::Unreadable { .. } => None,
            })
            .filter(|p| !p.canonicalize().is_ok_and(|c| skip.contains(&c)))
            .collect())
    }

    fn accepts(&self, path: &Path) -> bool {
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
        let (file, set) = load_bytes(
            name,
            bytes,
            &self.limits,
            &RunBudget::default(),
            self.release,
        );
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
        let findings = if self.opts.keep_repeated_causes {
            findings
        } else {
            one_finding_per_cause(findings, &self.rules)
        };
        if self.opts.ignore_suppressions {
            return findings;
        }
        // As in a check: the codes of this run's findings count as known too.
        let mut sopts = self.suppress.clone();
        pipeline::extend_known_codes(&mut sopts.known_istio_codes, &findings);
        let outcome = suppress::apply(findings, &graph.resources, sources, &sopts);
        let mut kept = outcome.kept;
        kept.extend(outcome.unused);
        kept
    }
}
