//! The language server trusts `graph_fns/dependencies.rs` to say which kinds each graph
//! function reads; a query that starts reading another kind without the table saying so
//! leaves stale diagnostics until the background pass. `scripts/graph-fn-dependencies.py
//! --check` derives the kinds from the source's call graph and lists every function whose
//! declared entry misses one; this test keeps that list empty.

use std::path::Path;
use std::process::Command;

#[test]
fn declared_dependencies_cover_what_the_call_graph_reads() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let script = root.join("scripts/graph-fn-dependencies.py");
    let output = match Command::new("python3").arg(&script).arg("--check").output() {
        Ok(output) => output,
        Err(e) => {
            eprintln!(
                "skipped: python3 is not available to run {} ({e})",
                script.display()
            );
            return;
        }
    };
    assert!(
        output.status.success(),
        "graph functions read kinds their entry in graph_fns/dependencies.rs does not declare:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
