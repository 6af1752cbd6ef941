//! Records the commit meshlint is built from, and that commit's date, for
//! `meshlint --version`. Outside a git checkout (a source tarball, a container build
//! without `.git`) both come from `MESHLINT_BUILD_COMMIT` / `MESHLINT_BUILD_DATE`, or
//! are `unknown`.

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    if !out.status.success() {
        return None;
    }
    let s = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (!s.is_empty()).then_some(s)
}

fn main() {
    println!("cargo:rerun-if-env-changed=MESHLINT_BUILD_COMMIT");
    println!("cargo:rerun-if-env-changed=MESHLINT_BUILD_DATE");
    // Rebuild when HEAD moves: HEAD itself, the branch it points to, packed refs. Only
    // paths that exist: cargo reruns a build script on every build while a path it
    // watches is missing.
    let watch = |p: &std::path::Path| {
        if p.exists() {
            println!("cargo:rerun-if-changed={}", p.display());
        }
    };
    if let Some(git_dir) = git(&["rev-parse", "--absolute-git-dir"]) {
        watch(&std::path::Path::new(&git_dir).join("HEAD"));
        if let Some(common) = git(&["rev-parse", "--git-common-dir"]) {
            let common = std::path::Path::new(&common);
            let common = if common.is_absolute() {
                common.to_path_buf()
            } else {
                std::env::current_dir().unwrap_or_default().join(common)
            };
            watch(&common.join("packed-refs"));
            if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
                watch(&common.join(branch));
            }
        }
    }
    let commit = std::env::var("MESHLINT_BUILD_COMMIT")
        .ok()
        .filter(|s| !s.is_empty())
        .or_else(|| git(&["rev-parse", "--short=12", "HEAD"]))
        .unwrap_or_else(|| "unknown".to_string());
    let date = std::env::var("MESHLINT_BUILD_DATE")
        .ok()
        .filter(|s| !s.is_empty())
        .or_else(|| git(&["log", "-1", "--format=%cs", "HEAD"]))
        .unwrap_or_else(|| "unknown".to_string());
    println!("cargo:rustc-env=MESHLINT_BUILD_COMMIT={commit}");
    println!("cargo:rustc-env=MESHLINT_BUILD_DATE={date}");
}
