//! Discovery: which inputs a run reads, in a deterministic order.
//!
//! Paths given on the command line are taken as they are (a file is read whatever its
//! extension); directories are walked recursively for `.yaml`, `.yml` and `.json`, with
//! `.git/` skipped and `.gitignore` honoured; `-` means standard input. Include and
//! exclude globs filter what the walk finds, and with `force_exclude` explicitly named
//! files as well. The result is sorted and deduplicated, so
//! the order never depends on the file system or the thread count.
#![forbid(unsafe_code)]

use globset::{Glob, GlobSet, GlobSetBuilder};
use ignore::gitignore::{Gitignore, GitignoreBuilder};
use std::path::{Path, PathBuf};

/// One input to read.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Input {
    Stdin,
    /// `display` is the path as shown in reports: as given, or joined below a given directory.
    File {
        path: PathBuf,
        display: String,
    },
    /// A path that cannot be read as a manifest: a dangling symbolic link, a link loop,
    /// a directory that cannot be listed, a FIFO, a device or a socket. It becomes a
    /// finding at `display`; the run goes on with the other inputs.
    Unreadable {
        display: String,
        reason: String,
    },
}

impl Input {
    pub fn display(&self) -> &str {
        match self {
            Input::Stdin => "<stdin>",
            Input::File { display, .. } | Input::Unreadable { display, .. } => display,
        }
    }
}

/// Why a file system object is not a readable manifest, or `None` for a regular file.
fn not_regular(meta: &std::fs::Metadata) -> Option<String> {
    (!meta.is_file() && !meta.is_dir()).then(|| {
        format!(
            "not a regular file ({}); it was not read",
            meshlint_diag::file_kind(meta)
        )
    })
}

/// An error of the directory walk as an unreadable input at the path it names.
fn walk_problem(err: &ignore::Error, root: &str) -> Input {
    fn path_of(e: &ignore::Error) -> Option<&Path> {
        match e {
            ignore::Error::WithPath { path, .. } => Some(path),
            ignore::Error::Loop { child, .. } => Some(child),
            ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
                path_of(err)
            }
            ignore::Error::Partial(errs) => errs.iter().find_map(path_of),
            _ => None,
        }
    }
    let display = path_of(err)
        .map(display_path)
        .unwrap_or_else(|| root.to_string());
    let reason = match err {
        ignore::Error::Loop { .. } => "symbolic link loop; it was not read".to_string(),
        e => format!("cannot be read: {}", strip_path(&e.to_string(), &display)),
    };
    Input::Unreadable { display, reason }
}

fn strip_path(message: &str, path: &str) -> String {
    message
        .strip_prefix(path)
        .map(|m| m.trim_start_matches(':').trim_start().to_string())
        .unwrap_or_else(|| message.to_string())
}

/// Filters applied to directory walks.
#[derive(Debug, Clone, Default)]
pub struct DiscoverOptions {
    /// When non-empty, a walked file must match one of these globs.
    pub include: Vec<String>,
    /// Walked files matching any of these are skipped.
    pub exclude: Vec<String>,
    /// Honour `.gitignore` / `.ignore` files (default on in the CLI).
    pub respect_gitignore: bool,
    /// Apply `include`/`exclude` to files named explicitly too (pre-commit names every
    /// staged file; a file the configuration excludes must stay excluded).
    pub force_exclude: bool,
}

/// Why discovery could not do its job.
#[derive(Debug)]
pub enum DiscoverError {
    Missing(String),
    BadGlob(String, String),
    Walk(String),
}

impl std::fmt::Display for DiscoverError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DiscoverError::Missing(p) => write!(f, "{p}: no such file or directory"),
            DiscoverError::BadGlob(g, e) => write!(f, "invalid glob `{g}`: {e}"),
            DiscoverError::Walk(e) => write!(f, "cannot read directory: {e}"),
        }
    }
}

impl std::error::Error for DiscoverError {}

const EXTENSIONS: &[&str] = &["yaml", "yml", "json"];

fn globset(patterns: &[String]) -> Result<Option<GlobSet>, DiscoverError> {
    if patterns.is_empty() {
        return Ok(None);
    }
    let mut b = GlobSetBuilder::new();
    for p in patterns {
        let g = Glob::new(p).map_err(|e| DiscoverError::BadGlob(p.clone(), e.to_string()))?;
        b.add(g);
        // `dir/**` should also match when the user writes `dir/`.
        if let Some(stripped) = p.strip_suffix('/') {
            let g = Glob::new(&format!("{stripped}/**"))
                .map_err(|e| DiscoverError::BadGlob(p.clone(), e.to_string()))?;
            b.add(g);
        }
    }
    b.build()
        .map(Some)
        .map_err(|e| DiscoverError::BadGlob(patterns.join(","), e.to_string()))
}

fn has_manifest_extension(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| EXTENSIONS.iter().any(|x| x.eq_ignore_ascii_case(e)))
}

/// Expands the given paths into the sorted list of inputs.
pub fn discover(paths: &[String], opts: &DiscoverOptions) -> Result<Vec<Input>, DiscoverError> {
    let include = globset(&opts.include)?;
    let exclude = globset(&opts.exclude)?;
    let mut out = Vec::new();
    for given in paths {
        if given == "-" {
            out.push(Input::Stdin);
            continue;
        }
        let path = PathBuf::from(given);
        // Nothing at all at the path: a usage error. Something that cannot be followed
        // (a dangling link, a loop) or is not a file: a finding, and the run goes on.
        let link =
            std::fs::symlink_metadata(&path).map_err(|_| DiscoverError::Missing(given.clone()))?;
        let meta = match std::fs::metadata(&path) {
            Ok(m) => m,
            Err(e) => {
                let reason = if link.file_type().is_symlink() {
                    match std::fs::read_link(&path) {
                        Ok(t) if e.raw_os_error() == Some(40) => {
                            format!("symbolic link loop (via {}); it was not read", t.display())
                        }
                        Ok(t) => {
                            format!("dangling symbolic link to {}; it was not read", t.display())
                        }
                        Err(_) => format!("cannot be read: {e}"),
                    }
                } else {
                    format!("cannot be read: {e}")
                };
                out.push(Input::Unreadable {
                    display: given.clone(),
                    reason,
                });
                continue;
            }
        };
        if let Some(reason) = not_regular(&meta) {
            out.push(Input::Unreadable {
                display: given.clone(),
                reason,
            });
            continue;
        }
        if !meta.is_dir() {
            if opts.force_exclude {
                // Globs are written relative to where meshlint runs (the repository root,
                // for pre-commit); an absolute path is also tried relative to it.
                let as_given = Path::new(given.strip_prefix("./").unwrap_or(given));
                let cwd = std::env::current_dir().unwrap_or_default();
                let relative = as_given.strip_prefix(&cwd).unwrap_or(as_given);
                let hit = |set: &Option<GlobSet>| {
                    set.as_ref()
                        .is_some_and(|s| s.is_match(as_given) || s.is_match(relative))
                };
                if (include.is_some() && !hit(&include)) || hit(&exclude) {
                    continue;
                }
            }
            out.push(Input::File {
                display: given.clone(),
                path,
            });
            continue;
        }
        // Ignore files above the directory count only up to its repository's root (and
        // not at all outside a repository): the `ignore` crate's own parent lookup would
        // climb to the file system root, so a stray `.ignore` anywhere above the checkout
        // would change the results.
        let above = if opts.respect_gitignore {
            parent_ignores(&path)
        } else {
            None
        };
        let base = path.clone();
        let walker = ignore::WalkBuilder::new(&path)
            .hidden(false)
            .git_ignore(opts.respect_gitignore)
            .git_global(false)
            .git_exclude(opts.respect_gitignore)
            .ignore(opts.respect_gitignore)
            .parents(false)
            .require_git(false)
            .filter_entry(move |e| {
                if e.file_name() == ".git" {
                    return false;
                }
                let Some((abs, matchers)) = &above else {
                    return true;
                };
                let Ok(rel) = e.path().strip_prefix(&base) else {
                    return true;
                };
                if rel.as_os_str().is_empty() {
                    return true;
                }
                let is_dir = e.file_type().is_some_and(|t| t.is_dir());
                !ignored_above(matchers, &abs.join(rel), is_dir)
            })
            .build();
        for entry in walker {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    out.push(walk_problem(&e, given));
                    continue;
                }
            };
            let Some(file_type) = entry.file_type() else {
                continue;
            };
            // Directories are walked; symbolic links are not followed.
            if file_type.is_dir() || file_type.is_symlink() {
                continue;
            }
            let p = entry.path();
            if !has_manifest_extension(p) {
                continue;
            }
            if !file_type.is_file() {
                let reason = match entry.metadata() {
                    Ok(m) => not_regular(&m).unwrap_or_default(),
                    Err(e) => format!("cannot be read: {e}"),
                };
                out.push(Input::Unreadable {
                    display: display_path(p),
                    reason,
                });
                continue;
            }
            let rel = p.strip_prefix(&path).unwrap_or(p);
            let matches = |set: &Option<GlobSet>| {
                set.as_ref()
                    .map(|s| s.is_match(rel) || s.is_match(p))
                    .unwrap_or(false)
            };
            if include.is_some() && !matches(&include) {
                continue;
            }
            if matches(&exclude) {
                continue;
            }
            out.push(Input::File {
                display: display_path(p),
                path: p.to_path_buf(),
            });
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// The ignore rules of the directories above `dir` up to and including its repository's
/// root (the nearest ancestor with a `.git`): each `.gitignore` and `.ignore`, and the
/// root's `.git/info/exclude`, nearest first; with `dir`'s absolute path. `None` when
/// `dir` is not inside a repository, or is its root (the walk reads the root's own
/// files), or nothing above it has rules.
fn parent_ignores(dir: &Path) -> Option<(PathBuf, Vec<Gitignore>)> {
    let abs = dir.canonicalize().ok()?;
    let root = abs.ancestors().find(|a| a.join(".git").exists())?;
    if root == abs {
        return None;
    }
    let mut files: Vec<(PathBuf, PathBuf)> = Vec::new();
    for a in abs.ancestors().skip(1) {
        // `.ignore` takes precedence over `.gitignore` in the same directory.
        for name in [".ignore", ".gitignore"] {
            files.push((a.to_path_buf(), a.join(name)));
        }
        if a == root {
            break;
        }
    }
    files.push((root.to_path_buf(), root.join(".git/info/exclude")));
    let matchers: Vec<Gitignore> = files
        .into_iter()
        .filter(|(_, f)| f.is_file())
        .filter_map(|(holder, f)| {
            // Patterns are relative to the directory of the file that holds them.
            let mut b = GitignoreBuilder::new(holder);
            b.add(f);
            b.build().ok()
        })
        .filter(|g| !g.is_empty())
        .collect();
    (!matchers.is_empty()).then_some((abs, matchers))
}

/// Whether the nearest matcher with an opinion ignores `path`. Only the path itself is
/// matched: the walk prunes ignored directories, and a directory given on the command
/// line is walked even when an ignore file above names it (as before).
fn ignored_above(matchers: &[Gitignore], path: &Path, is_dir: bool) -> bool {
    for g in matchers {
        match g.matched(path, is_dir) {
            ignore::Match::Ignore(_) => return true,
            ignore::Match::Whitelist(_) => return false,
            ignore::Match::None => {}
        }
    }
    false
}

fn display_path(p: &Path) -> String {
    let s = p.to_string_lossy();
    s.strip_prefix("./").unwrap_or(&s).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn tree() -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        let r = d.path();
        fs::create_dir_all(r.join("a/b")).unwrap();
        fs::create_dir_all(r.join(".git")).unwrap();
        fs::create_dir_all(r.join("vendor")).unwrap();
        for f in [
            "a/b/z.yaml",
            "a/one.yml",
            "a/two.json",
            "a/notes.txt",
            ".git/config.yaml",
            "vendor/x.yaml",
            "ignored.yaml",
        ] {
            fs::write(r.join(f), "a: 1\n").unwrap();
        }
        fs::write(r.join(".gitignore"), "ignored.yaml\n").unwrap();
        d
    }

    fn names(inputs: &[Input], root: &Path) -> Vec<String> {
        let root = root.to_string_lossy().to_string();
        inputs
            .iter()
            .map(|i| i.display().trim_start_matches(&root).to_string())
            .collect()
    }

    #[test]
    fn walks_sorted_skipping_git_and_gitignored() {
        let d = tree();
        let opts = DiscoverOptions {
            respect_gitignore: true,
            ..Default::default()
        };
        let got = discover(&[d.path().to_string_lossy().into()], &opts).unwrap();
        assert_eq!(
            names(&got, d.path()),
            vec!["/a/b/z.yaml", "/a/one.yml", "/a/two.json", "/vendor/x.yaml"]
        );
    }

    #[test]
    fn include_and_exclude_globs() {
        let d = tree();
        let opts = DiscoverOptions {
            include: vec!["a/**".into()],
            exclude: vec!["**/*.json".into()],
            respect_gitignore: false,
            force_exclude: false,
        };
        let got = discover(&[d.path().to_string_lossy().into()], &opts).unwrap();
        assert_eq!(names(&got, d.path()), vec!["/a/b/z.yaml", "/a/one.yml"]);
    }

    #[test]
    fn stdin_and_missing_paths() {
        let got = discover(&["-".into()], &DiscoverOptions::default()).unwrap();
        assert_eq!(got, vec![Input::Stdin]);
        assert!(matches!(
            discover(&["/no/such/path".into()], &DiscoverOptions::default()),
            Err(DiscoverError::Missing(_))
        ));
    }

    #[test]
    fn force_exclude_applies_globs_to_named_files() {
        let d = tempfile::tempdir().unwrap();
        fs::create_dir_all(d.path().join("charts")).unwrap();
        fs::write(d.path().join("keep.yaml"), "a: 1\n").unwrap();
        fs::write(d.path().join("charts/t.yaml"), "a: 1\n").unwrap();
        let keep = d.path().join("keep.yaml").to_string_lossy().to_string();
        let chart = d.path().join("charts/t.yaml").to_string_lossy().to_string();
        let named = |force| {
            let opts = DiscoverOptions {
                exclude: vec!["**/charts/**".into()],
                force_exclude: force,
                ..DiscoverOptions::default()
            };
            discover(&[keep.clone(), chart.clone()], &opts)
                .unwrap()
                .len()
        };
        assert_eq!(named(false), 2, "named files are read whatever the globs");
        assert_eq!(named(true), 1, "unless --force-exclude");
        let only = DiscoverOptions {
            include: vec!["**/charts/**".into()],
            force_exclude: true,
            ..DiscoverOptions::default()
        };
        let got = discover(&[keep.clone(), chart.clone()], &only).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].display(), chart);
    }

    /// Rules in ignore files above the repository root must not apply; those between the
    /// root and the walked directory must. Outside a repository nothing above counts.
    #[test]
    fn parent_ignore_files_stop_at_the_repository_root() {
        let d = tempfile::tempdir().unwrap();
        let outer = d.path();
        // A stray `.ignore` above the checkout hides every manifest.
        fs::write(outer.join(".ignore"), "*.yaml\n").unwrap();
        let repo = outer.join("repo");
        fs::create_dir_all(repo.join(".git")).unwrap();
        fs::create_dir_all(repo.join("deploy/apps")).unwrap();
        fs::write(repo.join(".gitignore"), "/deploy/apps/generated.yaml\n").unwrap();
        fs::write(repo.join("deploy/apps/app.yaml"), "a: 1\n").unwrap();
        fs::write(repo.join("deploy/apps/generated.yaml"), "a: 1\n").unwrap();
        let opts = DiscoverOptions {
            respect_gitignore: true,
            ..Default::default()
        };
        let sub = repo.join("deploy");
        let got = discover(&[sub.to_string_lossy().into()], &opts).unwrap();
        assert_eq!(names(&got, &sub), vec!["/apps/app.yaml"]);
        let got = discover(&[repo.to_string_lossy().into()], &opts).unwrap();
        assert_eq!(names(&got, &repo), vec!["/deploy/apps/app.yaml"]);

        // No repository: only the input directory's own ignore files count.
        let plain = outer.join("plain");
        fs::create_dir_all(&plain).unwrap();
        fs::write(plain.join("x.yaml"), "a: 1\n").unwrap();
        let got = discover(&[plain.to_string_lossy().into()], &opts).unwrap();
        assert_eq!(names(&got, &plain), vec!["/x.yaml"]);

        // Rules between the root and the walked directory apply to what is below it,
        // a directory pattern included.
        fs::write(repo.join(".gitignore"), "generated/\n").unwrap();
        fs::create_dir_all(repo.join("deploy/generated")).unwrap();
        fs::write(repo.join("deploy/generated/g.yaml"), "a: 1\n").unwrap();
        let got = discover(&[sub.to_string_lossy().into()], &opts).unwrap();
        assert_eq!(
            names(&got, &sub),
            vec!["/apps/app.yaml", "/apps/generated.yaml"]
        );
    }
}
