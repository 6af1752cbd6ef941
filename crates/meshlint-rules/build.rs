//! Embeds every built-in rule file (`rules/*.yaml` at the workspace root), and with each
//! a pre-digested form: the rule without its `docs` section as Rust code that builds its
//! `RuleFile` directly, and the `docs` section as JSON. Start-up runs the generated
//! constructors instead of parsing YAML or JSON (deserializing the rules' JSON was a
//! tenth of the instructions of checking one small file; issue 17), and the
//! documentation (most of the text) is deserialized only when shown. A file the loader
//! cannot parse, or with a key or value the generator does not know, gets no
//! constructor: the runtime parses its YAML, which reports the error with its position.

use serde_json::{Map, Value};
use std::fmt::Write;
use std::path::PathBuf;

/// The rule (without `docs`) and the `docs` section, as JSON.
fn digest(origin: &str, text: &str) -> Option<(Map<String, Value>, Value)> {
    let origin: std::sync::Arc<str> = origin.into();
    let root = meshlint_load::spanned::parse(&origin, text.as_bytes().to_vec()).ok()??;
    let Value::Object(mut map) = meshlint_load::spanned::to_json(&root) else {
        return None;
    };
    let docs = map.remove("docs").unwrap_or(Value::Null);
    Some((map, docs))
}

/// A Rust string expression.
fn string(v: &Value) -> Option<String> {
    Some(format!("String::from({:?})", v.as_str()?))
}

fn optional_string(v: Option<&Value>) -> Option<String> {
    match v {
        None | Some(Value::Null) => Some("None".into()),
        Some(v) => Some(format!("Some({})", string(v)?)),
    }
}

fn strings(v: Option<&Value>) -> Option<String> {
    let items = match v {
        None => return Some("Vec::new()".into()),
        Some(v) => v.as_array()?,
    };
    let items: Option<Vec<String>> = items.iter().map(string).collect();
    Some(format!("vec![{}]", items?.join(", ")))
}

/// Rust code building the `RuleFile` (its `docs` left out), or `None` when the map
/// holds anything `RuleFile` would refuse or that this generator does not know, so
/// that the runtime's YAML parse reports it. Mirrors `src/file.rs`'s `RuleFile`: a field
/// added there and not here fails to compile (the struct literal misses it), and the
/// `builtin` test compares every generated rule with its parsed YAML.
fn rule_file_code(map: &Map<String, Value>) -> Option<String> {
    const KEYS: [&str; 18] = [
        "id",
        "name",
        "severity",
        "category",
        "summary",
        "istio_code",
        "istio_analyzer",
        "match",
        "for_each",
        "when",
        "message",
        "messageExpression",
        "at",
        "help",
        "severityExpression",
        "related",
        "defers_to",
        "docs",
    ];
    if map.keys().any(|k| !KEYS.contains(&k.as_str())) {
        return None;
    }
    let severity = match map.get("severity")?.as_str()? {
        "error" => "SeverityName::Error",
        "warning" => "SeverityName::Warning",
        "info" => "SeverityName::Info",
        _ => return None,
    };
    let matched = map.get("match")?.as_object()?;
    if matched.keys().any(|k| k != "kinds") {
        return None;
    }
    let mut related = Vec::new();
    if let Some(list) = map.get("related") {
        for r in list.as_array()? {
            let r = r.as_object()?;
            if r.keys().any(|k| k != "expression" && k != "message") {
                return None;
            }
            related.push(format!(
                "RelatedSpec {{ expression: {}, message: {} }}",
                string(r.get("expression")?)?,
                string(r.get("message")?)?
            ));
        }
    }
    let opt = |key: &str| optional_string(map.get(key));
    Some(format!(
        "RuleFile {{ id: {id}, name: {name}, severity: {severity}, category: {category}, \
         summary: {summary}, istio_code: {istio_code}, istio_analyzer: {istio_analyzer}, \
         match_spec: MatchSpec {{ kinds: {kinds} }}, for_each: {for_each}, when: {when}, \
         message: {message}, message_expression: {message_expression}, at: {at}, \
         help: {help}, severity_expression: {severity_expression}, \
         related: vec![{related}], defers_to: {defers_to}, docs: None }}",
        id = string(map.get("id")?)?,
        name = opt("name")?,
        category = opt("category")?,
        summary = string(map.get("summary")?)?,
        istio_code = opt("istio_code")?,
        istio_analyzer = opt("istio_analyzer")?,
        kinds = strings(Some(matched.get("kinds")?))?,
        for_each = opt("for_each")?,
        when = opt("when")?,
        message = opt("message")?,
        message_expression = opt("messageExpression")?,
        at = opt("at")?,
        help = opt("help")?,
        severity_expression = opt("severityExpression")?,
        related = related.join(", "),
        defers_to = strings(map.get("defers_to"))?,
    ))
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
    let mut constructors = String::new();
    // (path, YAML text, constructor of the rule without docs, docs JSON)
    let mut table = String::from("pub const BUILTIN_RULES: &[BuiltinRule] = &[\n");
    for (i, p) in entries.iter().enumerate() {
        println!("cargo:rerun-if-changed={}", p.display());
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        let abs = p.canonicalize().unwrap();
        let origin = format!("rules/{name}");
        let text = std::fs::read_to_string(&abs).unwrap_or_default();
        let digested = digest(&origin, &text);
        let code = digested.as_ref().and_then(|(map, _)| rule_file_code(map));
        let constructor = match code {
            Some(code) => {
                writeln!(constructors, "fn rule_{i}() -> RuleFile {{\n    {code}\n}}").unwrap();
                format!("Some(rule_{i})")
            }
            None => "None".to_string(),
        };
        let docs = digested.map(|(_, d)| d.to_string()).unwrap_or_default();
        writeln!(
            table,
            "    ({origin:?}, include_str!({:?}), {constructor}, {docs:?}),",
            abs.display()
        )
        .unwrap();
    }
    table.push_str("];\n");
    let dest = PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("builtin_rules.rs");
    std::fs::write(dest, format!("{constructors}\n{table}")).unwrap();
}
