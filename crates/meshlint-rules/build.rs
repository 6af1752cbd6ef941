//! Embeds every built-in rule file (`rules/*.yaml` at the workspace root), and with each
//! a pre-digested form: the rule as JSON without its `docs` section, and the `docs`
//! section as JSON. Start-up deserializes the small JSON instead of parsing the YAML
//! (most of the text is documentation a check never reads). A file the loader cannot
//! parse gets empty digests, and the runtime parses its YAML to report the error with
//! its position.

use std::fmt::Write;
use std::path::PathBuf;
use std::sync::Arc;

fn digest(origin: &str, text: &str) -> (String, String) {
    let origin: Arc<str> = origin.into();
    let Ok(Some(root)) = meshlint_load::spanned::parse(&origin, text.as_bytes().to_vec()) else {
        return (String::new(), String::new());
    };
    let serde_json::Value::Object(mut map) = meshlint_load::spanned::to_json(&root) else {
        return (String::new(), String::new());
    };
    let docs = map.remove("docs").unwrap_or(serde_json::Value::Null);
    (serde_json::Value::Object(map).to_string(), docs.to_string())
}

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let rules_dir = manifest.join("../../rules");
    println!("cargo:rerun-if-changed={}", rules_dir.display());
    let mut entries: Vec<PathBuf> = std::fs::read_dir(&rules_dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    entries.retain(|p| p.extension().is_some_and(|e| e == "yaml"));
    entries.sort();
    // (path, YAML text, rule JSON without docs, docs JSON)
    let mut out = String::from("pub const BUILTIN_RULES: &[(&str, &str, &str, &str)] = &[\n");
    for p in entries {
        println!("cargo:rerun-if-changed={}", p.display());
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        let abs = p.canonicalize().unwrap();
        let origin = format!("rules/{name}");
        let text = std::fs::read_to_string(&abs).unwrap_or_default();
        let (head, docs) = digest(&origin, &text);
        writeln!(
            out,
            "    ({origin:?}, include_str!({:?}), {head:?}, {docs:?}),",
            abs.display()
        )
        .unwrap();
    }
    out.push_str("];\n");
    let dest = PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("builtin_rules.rs");
    std::fs::write(dest, out).unwrap();
}
