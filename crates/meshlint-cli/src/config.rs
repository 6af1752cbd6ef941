//! `.meshlint.yaml`: the project configuration, found by walking up from the working
//! directory (or given with `--config`). Command-line flags override it.
//!
//! Relative paths in the file (`rules`, `mesh_config`, `mesh_networks`, `baseline`) are
//! relative to the directory holding the file; `include`/`exclude` globs match paths
//! below each walked directory, as the `--include`/`--exclude` flags do.

use crate::spanned::{self, error_at, SpannedError};
use meshlint_diag::Severity;
use meshlint_load::{Node, PathSegment};
use schemars::JsonSchema;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// File names looked for, in this order, in each directory from the working directory up.
pub const CONFIG_FILE_NAMES: [&str; 2] = [".meshlint.yaml", ".meshlint.yml"];

/// A severity as written in the configuration (the same spelling as in rule files).
pub use meshlint_rules::SeverityName;

/// The lowest severity that makes `meshlint check` exit 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum FailOn {
    Error,
    Warning,
    Info,
    /// Never fail because of findings (exit 2 still means meshlint could not run).
    Never,
}

impl FailOn {
    /// The threshold severity, `None` for `never`.
    pub fn threshold(self) -> Option<Severity> {
        match self {
            FailOn::Error => Some(Severity::Error),
            FailOn::Warning => Some(Severity::Warning),
            FailOn::Info => Some(Severity::Info),
            FailOn::Never => None,
        }
    }
}

/// meshlint configuration (`.meshlint.yaml`). Every key is optional; unknown keys are
/// refused. Command-line flags override the values here.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "meshlint configuration (.meshlint.yaml)")]
pub struct Config {
    /// Only files matching one of these globs are read when walking directories
    /// (e.g. `clusters/**`). Overridden by `--include`.
    #[serde(default)]
    pub include: Vec<String>,
    /// Files matching any of these globs are skipped when walking directories
    /// (e.g. `**/charts/**`). Overridden by `--exclude`.
    #[serde(default)]
    pub exclude: Vec<String>,
    /// Only these rules (ids, names, categories, id prefixes such as `ML1`; `ALL`).
    /// Overridden by `--select`.
    #[serde(default)]
    pub select: Vec<String>,
    /// Rules added to `select` (and to `--select`); `--extend-select` adds more.
    #[serde(default)]
    pub extend_select: Vec<String>,
    /// Skip these rules (ids, names or categories). Overridden by `--ignore`.
    #[serde(default)]
    pub ignore: Vec<String>,
    /// Per-rule severity overrides by rule id or name, e.g. `{ML0001: warning}`.
    #[serde(default)]
    pub severity: BTreeMap<String, SeverityName>,
    /// Extra rule directories, relative to this file. `--rules` adds to them.
    #[serde(default)]
    pub rules: Vec<String>,
    /// An Istio MeshConfig file (or the `istio` ConfigMap carrying one), relative to
    /// this file. Overridden by `--mesh-config`.
    #[serde(default)]
    pub mesh_config: Option<String>,
    /// An Istio MeshNetworks file, relative to this file. Overridden by `--mesh-networks`.
    #[serde(default)]
    pub mesh_networks: Option<String>,
    /// The Istio version the manifests target (`"1.24"`, `"1.24.2"`). Informational for
    /// now: shown by `--verbose`. Overridden by `--istio-version`.
    #[serde(default)]
    pub istio_version: Option<String>,
    /// The inputs are the whole mesh: missing references are errors. `--closed-world`
    /// turns it on, `--open-world` off.
    #[serde(default)]
    pub closed_world: Option<bool>,
    /// Lowest severity that makes the exit code 1 (default `error`). Overridden by `--fail-on`.
    #[serde(default)]
    pub fail_on: Option<FailOn>,
    /// Exit 1 when there are more than this many warnings. Overridden by `--max-warnings`.
    #[serde(default)]
    pub max_warnings: Option<usize>,
    /// A baseline file (see `--baseline`), relative to this file. Overridden by `--baseline`.
    #[serde(default)]
    pub baseline: Option<String>,
    /// Honour `.gitignore` files when walking directories (default true).
    #[serde(default)]
    pub respect_gitignore: Option<bool>,
}

/// A configuration file that was read, with where it came from.
#[derive(Debug, Clone)]
pub struct LoadedConfig {
    /// The file, as found (relative to the working directory when discovered).
    pub path: PathBuf,
    pub config: Config,
    /// The parsed tree, for pointing at keys in later checks.
    pub(crate) root: Option<Node>,
}

impl LoadedConfig {
    /// The directory relative paths in the file are resolved against.
    pub fn dir(&self) -> PathBuf {
        match self.path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        }
    }

    /// Resolves a path written in the file.
    pub fn resolve(&self, written: &str) -> PathBuf {
        let p = Path::new(written);
        if p.is_absolute() || self.path.parent().is_none_or(|d| d.as_os_str().is_empty()) {
            p.to_path_buf()
        } else {
            self.dir().join(p)
        }
    }

    /// An error at the value of a top-level key (`severity`) or one of its entries
    /// (`severity.ML0001`, pointing at the key), for checks made after loading.
    pub fn error_at_key(&self, key: &str, entry: Option<&str>, message: String) -> SpannedError {
        let file: Arc<str> = self.path.to_string_lossy().into();
        let span = self
            .root
            .as_ref()
            .and_then(|root| {
                let (k, v) = root.get_entry(key)?;
                match entry {
                    None => Some(v.span()),
                    Some(e) => v
                        .get_entry(e)
                        .map(|(ek, _)| ek.span())
                        .or_else(|| {
                            v.items()
                                .iter()
                                .find(|i| i.as_str() == Some(e))
                                .map(|i| i.span())
                        })
                        .or(Some(k.span())),
                }
            })
            .unwrap_or(meshlint_diag::Span::point(1, 1));
        error_at(&file, span, message)
    }
}

/// Why the configuration could not be used (exit code 2).
#[derive(Debug, Clone)]
pub enum ConfigError {
    Io(PathBuf, String),
    Invalid(SpannedError),
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConfigError::Io(p, e) => write!(f, "{}: cannot read configuration: {e}", p.display()),
            ConfigError::Invalid(e) => write!(
                f,
                "{}:{}:{}: invalid configuration: {}",
                e.location.file,
                e.location.span.start.line,
                e.location.span.start.column,
                e.message
            ),
        }
    }
}

impl std::error::Error for ConfigError {}

/// Finds the configuration file for a run started in `cwd`: the first of
/// [`CONFIG_FILE_NAMES`] in `cwd` or the nearest ancestor. The path is relative
/// (`.meshlint.yaml`, `../../.meshlint.yaml`) so that messages stay short.
pub fn discover(cwd: &Path) -> Option<PathBuf> {
    let mut up = PathBuf::new();
    for dir in cwd.ancestors() {
        for name in CONFIG_FILE_NAMES {
            if dir.join(name).is_file() {
                return Some(up.join(name));
            }
        }
        up.push("..");
    }
    None
}

/// Whether a version is written `1.24`, `1.24.2` or `v1.24`.
pub fn check_version(v: &str) -> bool {
    let v = v.strip_prefix('v').unwrap_or(v);
    let parts: Vec<&str> = v.split('.').collect();
    (2..=3).contains(&parts.len())
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

/// Parses configuration text. `name` is used in error positions.
pub fn parse(name: &str, text: &str) -> Result<(Config, Option<Node>), SpannedError> {
    let file: Arc<str> = name.into();
    let Some(root) = spanned::parse(&file, text.as_bytes().to_vec())? else {
        return Ok((Config::default(), None));
    };
    if root.is_null() {
        return Ok((Config::default(), Some(root)));
    }
    if root.as_map().is_none() {
        return Err(error_at(
            &file,
            root.head_span(),
            "expected a mapping of configuration keys",
        ));
    }
    let mut json = spanned::to_json(&root);
    // `istio_version: 1.20` is a float to YAML; keep the text as written.
    if let Some(v) = root.get("istio_version").and_then(|v| v.scalar()) {
        if !v.is_null() {
            json["istio_version"] = serde_json::Value::String(v.text().to_string());
        }
    }
    let config: Config = spanned::deserialize(&file, &root, json)?;
    if let Some(v) = &config.istio_version {
        if !check_version(v) {
            let span = root
                .span_of(&[PathSegment::Key("istio_version".into())])
                .unwrap_or(root.head_span());
            return Err(error_at(
                &file,
                span,
                format!("`istio_version` must look like `1.24` or `1.24.2`, not `{v}`"),
            ));
        }
    }
    Ok((config, Some(root)))
}

/// Reads a configuration file.
pub fn load(path: &Path) -> Result<LoadedConfig, ConfigError> {
    let max = meshlint_load::LoadLimits::default().max_file_bytes;
    let io = |e: String| ConfigError::Io(path.to_path_buf(), e);
    let bytes = meshlint_load::read_bounded(path, max).map_err(|e| io(e.to_string()))?;
    if bytes.len() > max {
        return Err(io(format!("larger than the {max} byte limit")));
    }
    let text = String::from_utf8(bytes).map_err(|e| io(e.to_string()))?;
    let (config, root) = parse(&path.to_string_lossy(), &text).map_err(ConfigError::Invalid)?;
    Ok(LoadedConfig {
        path: path.to_path_buf(),
        config,
        root,
    })
}

/// The JSON Schema of `.meshlint.yaml`.
pub fn config_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(Config)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_key() {
        let text = "\
include: ['clusters/**']
exclude: ['**/charts/**']
select: [ML0001, tls]
ignore: [ML0002]
severity: {ML0001: warning}
rules: [policy/rules]
mesh_config: mesh.yaml
istio_version: 1.20
closed_world: true
fail_on: warning
max_warnings: 3
baseline: .meshlint-baseline.json
respect_gitignore: false
";
        let (c, _) = parse(".meshlint.yaml", text).unwrap();
        assert_eq!(c.include, ["clusters/**"]);
        assert_eq!(c.severity["ML0001"], SeverityName::Warning);
        assert_eq!(c.istio_version.as_deref(), Some("1.20"), "kept as written");
        assert_eq!(c.closed_world, Some(true));
        assert_eq!(c.fail_on, Some(FailOn::Warning));
        assert_eq!(c.max_warnings, Some(3));
    }

    #[test]
    fn empty_file_is_the_default() {
        let (c, _) = parse(".meshlint.yaml", "").unwrap();
        assert!(c.select.is_empty() && c.fail_on.is_none());
        let (c, _) = parse(".meshlint.yaml", "# nothing yet\n").unwrap();
        assert!(c.rules.is_empty());
    }

    #[test]
    fn errors_point_at_the_field() {
        let err = |text: &str| {
            let e = parse("c.yaml", text).unwrap_err();
            (
                e.location.span.start.line,
                e.location.span.start.column,
                e.message,
            )
        };
        let (l, c, m) = err("select: [ML0001]\nfail_on: sometimes\n");
        assert_eq!((l, c), (2, 10));
        assert!(m.contains("unknown variant `sometimes`"), "{m}");
        let (l, c, m) = err("select: [ML0001]\n  \nclosed-world: true\n");
        assert_eq!((l, c), (3, 1));
        assert!(m.contains("unknown field `closed-world`"), "{m}");
        let (l, c, _) = err("severity:\n  ML0001: loud\n");
        assert_eq!((l, c), (2, 11));
        let (l, c, m) = err("istio_version: latest\n");
        assert_eq!((l, c), (1, 16));
        assert!(m.contains("1.24"), "{m}");
        let (l, _, _) = err("select: [a\n");
        assert!(l >= 1);
        let (l, c, m) = err("- a\n");
        assert_eq!((l, c), (1, 1));
        assert!(m.contains("mapping"));
    }

    #[test]
    fn discovery_walks_up_and_paths_resolve_next_to_the_file() {
        let d = tempfile::tempdir().unwrap();
        let nested = d.path().join("a/b/c");
        std::fs::create_dir_all(&nested).unwrap();
        assert_eq!(discover(&nested), None);
        std::fs::write(d.path().join("a/.meshlint.yaml"), "rules: [r]\n").unwrap();
        let found = discover(&nested).unwrap();
        assert_eq!(found, Path::new("../../.meshlint.yaml"));
        let loaded = load(&nested.join(&found)).unwrap();
        assert!(loaded.resolve("r").ends_with("a/b/c/../../r"));
        std::fs::write(nested.join(".meshlint.yml"), "").unwrap();
        assert_eq!(discover(&nested).unwrap(), Path::new(".meshlint.yml"));
        let here = LoadedConfig {
            path: ".meshlint.yml".into(),
            config: Config::default(),
            root: None,
        };
        assert_eq!(here.resolve("r"), Path::new("r"));
    }

    #[test]
    fn schema_lists_the_keys_and_refuses_others() {
        let s = config_schema();
        for key in [
            "include",
            "exclude",
            "select",
            "ignore",
            "severity",
            "rules",
            "mesh_config",
            "istio_version",
            "closed_world",
            "fail_on",
        ] {
            assert!(s["properties"].get(key).is_some(), "schema lacks {key}");
        }
        assert_eq!(s["additionalProperties"], false);
    }
}
