//! Helm chart folders among the inputs.
//!
//! The files under a chart's `templates/` (and its subcharts under `charts/`) are Go
//! templates, not manifests: analyzing them one by one only produces an error per file.
//! A directory walk sets them aside and reports the chart once, with the command that
//! renders it; a template named explicitly on the command line is still read (and gets
//! its `helm-template` warning). Other files of the chart (`values.yaml`, raw `crds/`)
//! are read as usual.

use meshlint_diag::{Finding, Location, Severity, SourceFile, Span};
use meshlint_discover::Input;
use meshlint_load::{load_source, LoadLimits};
use meshlint_model::Skipped;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The rule id of the one finding per chart.
pub const HELM_CHART: &str = "helm-chart";

/// A chart whose templates were set aside.
pub struct ChartFolder {
    /// `Chart.yaml`, as a path to read and as reports show it.
    chart_file: PathBuf,
    chart_display: String,
    /// Templates set aside (as reports show them).
    templates: Vec<String>,
}

/// The chart folder `path` is a template of: the parent of the nearest `templates` or
/// `charts` directory above it that sits beside a `Chart.yaml`.
fn chart_dir(path: &Path) -> Option<PathBuf> {
    let mut dir = path.parent();
    while let Some(d) = dir {
        let is_template_dir = matches!(
            d.file_name().and_then(|n| n.to_str()),
            Some("templates" | "charts")
        );
        if is_template_dir {
            if let Some(chart) = d.parent() {
                let root = if chart.as_os_str().is_empty() {
                    Path::new(".")
                } else {
                    chart
                };
                if root.join("Chart.yaml").is_file() {
                    return Some(chart.to_path_buf());
                }
            }
        }
        dir = d.parent();
    }
    None
}

/// The files named on the command line (not directories), canonicalized.
fn named_files(given: &[String]) -> Vec<PathBuf> {
    given
        .iter()
        .map(PathBuf::from)
        .filter(|p| p.is_file())
        .filter_map(|p| p.canonicalize().ok())
        .collect()
}

/// Removes chart templates found by directory walks from `inputs` and returns their
/// charts. Files named in `given` (the command-line paths) stay.
pub fn set_aside_chart_templates(inputs: &mut Vec<Input>, given: &[String]) -> Vec<ChartFolder> {
    let named = named_files(given);
    let mut charts: BTreeMap<PathBuf, ChartFolder> = BTreeMap::new();
    inputs.retain(|input| {
        let Input::File { path, display } = input else {
            return true;
        };
        let Some(chart) = chart_dir(path) else {
            return true;
        };
        if path.canonicalize().is_ok_and(|p| named.contains(&p)) {
            return true;
        }
        let rel = path.strip_prefix(&chart).unwrap_or(path);
        let rel = rel.to_string_lossy();
        let prefix = display.strip_suffix(rel.as_ref()).unwrap_or("");
        let entry = charts.entry(chart.clone()).or_insert_with(|| ChartFolder {
            chart_file: chart.join("Chart.yaml"),
            chart_display: format!("{prefix}Chart.yaml"),
            templates: Vec::new(),
        });
        entry.templates.push(display.clone());
        false
    });
    charts.into_values().collect()
}

impl ChartFolder {
    /// The chart's one `info` finding (at its `name` in `Chart.yaml`), and the source of
    /// `Chart.yaml` to render it with.
    pub fn finding(&self) -> (Finding, Option<SourceFile>) {
        let file: Arc<str> = self.chart_display.as_str().into();
        let loaded = std::fs::read(&self.chart_file)
            .ok()
            .map(|bytes| load_source(file.clone(), bytes, &LoadLimits::default()));
        let name_node = loaded
            .as_ref()
            .and_then(|l| l.documents.first())
            .and_then(|d| d.root.get("name"));
        let name = name_node.and_then(|n| n.as_str()).unwrap_or("").to_string();
        let span = name_node
            .map(|n| n.span())
            .unwrap_or_else(|| Span::point(1, 1));
        let dir = self
            .chart_display
            .strip_suffix("Chart.yaml")
            .filter(|d| !d.is_empty())
            .unwrap_or("./");
        let count = self.templates.len();
        let finding = Finding::new(
            HELM_CHART,
            Severity::Info,
            format!(
                "Helm chart `{}`: its {count} template file{} under `{dir}` {} not analyzed, because templates are not manifests until Helm renders them",
                if name.is_empty() { dir } else { &name },
                if count == 1 { "" } else { "s" },
                if count == 1 { "was" } else { "were" },
            ),
            Location {
                file: file.clone(),
                span,
            },
        )
        .with_help(format!(
            "render it and analyze the result: `helm template RELEASE {dir} -n NAMESPACE | meshlint check -n NAMESPACE -`"
        ));
        (finding, loaded.map(|l| l.source))
    }

    /// The templates set aside, for `--verbose`.
    pub fn skipped(&self) -> Vec<Skipped> {
        self.templates
            .iter()
            .map(|t| Skipped {
                file: t.as_str().into(),
                doc_index: 0,
                reason: "a Helm chart template (render the chart to analyze it)",
            })
            .collect()
    }
}

/// A `helm-template` finding on a file a directory walk found (not one named on the
/// command line) is info: the file is a template of some tool, not a broken manifest.
pub fn soften_walked_templates(findings: &mut [Finding], inputs: &[Input], given: &[String]) {
    let named = named_files(given);
    let walked: std::collections::HashSet<&str> = inputs
        .iter()
        .filter_map(|i| match i {
            Input::File { path, display } => {
                (!path.canonicalize().is_ok_and(|p| named.contains(&p))).then_some(display.as_str())
            }
            _ => None,
        })
        .collect();
    for f in findings
        .iter_mut()
        .filter(|f| &*f.rule == meshlint_load::codes::HELM_TEMPLATE)
    {
        if walked.contains(&*f.location.file) {
            f.severity = Severity::Info;
        }
    }
}
