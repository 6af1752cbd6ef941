//! What the server needs from the check pipeline. `meshlint-cli` owns discovery,
//! `.meshlint.yaml`, the loader's per-file rules and suppressions; it implements
//! [`Checker`] so that the server analyses a workspace exactly as `meshlint check` does,
//! without this crate depending on the command line.

use meshlint_diag::{Finding, SourceFile};
use meshlint_graph::MeshGraph;
use meshlint_model::Resource;
use meshlint_rules::RuleSet;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One file as the loader and the model left it.
pub struct FileUnit {
    pub source: SourceFile,
    /// Parse, encoding, limit and schema findings of the file.
    pub findings: Vec<Finding>,
    pub resources: Vec<Resource>,
}

/// The check pipeline, one step at a time.
pub trait Checker: Send + Sync + 'static {
    /// The files a check of the workspace reads (discovery with the configuration's
    /// include/exclude and `.gitignore`), as absolute paths.
    fn discover(&self) -> Result<Vec<PathBuf>, String>;
    /// Whether a file the editor opened is one a check of the workspace would read.
    fn accepts(&self, path: &Path) -> bool;
    /// Files a check reads besides those [`Checker::discover`] finds (the mesh
    /// networks file, `--context`), as absolute paths; their findings are not published.
    fn extra_files(&self) -> Vec<PathBuf>;
    /// Loads and models one file's bytes (an editor's buffer); `name` is the file name
    /// findings carry.
    fn load(&self, name: Arc<str>, bytes: Vec<u8>) -> FileUnit;
    /// Reads one file from disk as a check does (at most the size limit; a file that
    /// cannot be read is an `unreadable-file` finding) and loads it.
    fn read(&self, name: Arc<str>) -> FileUnit;
    /// Builds the graph over every resource of the workspace (mesh config, `-n`,
    /// closed world as the configuration says).
    fn graph(&self, resources: Vec<Resource>) -> MeshGraph;
    /// The rules a check evaluates (selection and severity overrides applied).
    fn rules(&self) -> &RuleSet;
    /// What a check does with the findings of a whole run before reporting them: one
    /// finding per cause, suppressions, `--context` scoping and the baseline (what they
    /// drop is not returned).
    fn finish(
        &self,
        findings: Vec<Finding>,
        graph: &MeshGraph,
        sources: &HashMap<Arc<str>, SourceFile>,
    ) -> Vec<Finding>;
}
