//! Rule documentation as Markdown: `meshlint explain` and `docs/rules/`.

use crate::file::Rule;
use std::fmt::Write;

/// One rule's page.
pub fn render_rule_markdown(r: &Rule) -> String {
    let f = &r.file;
    let mut out = String::new();
    let _ = writeln!(out, "# {} `{}`\n", f.id, r.name());
    let _ = writeln!(out, "{}\n", f.summary);
    let _ = writeln!(
        out,
        "- Severity: {}\n- Category: {}{}\n",
        r.severity,
        r.category(),
        f.istio_code
            .as_deref()
            .map(|c| format!("\n- istioctl analyze: {c}"))
            .unwrap_or_default()
    );
    if let Some(d) = r.docs() {
        let _ = writeln!(out, "## What it catches\n\n{}\n", d.what.trim());
        let _ = writeln!(out, "## Why it breaks\n\n{}\n", d.why.trim());
        let _ = writeln!(out, "## Example\n\n```yaml\n{}\n```\n", d.bad.trim_end());
        let _ = writeln!(
            out,
            "## Use instead\n\n```yaml\n{}\n```\n",
            d.good.trim_end()
        );
        if let Some(n) = &d.notes {
            let _ = writeln!(out, "## Notes\n\n{}\n", n.trim());
        }
    }
    out.trim_end().to_string() + "\n"
}

/// The index page of `docs/rules/`.
pub fn render_index(rules: &[&Rule]) -> String {
    let mut out = String::from("# Rules\n\nGenerated from `rules/*.yaml` by `meshlint rules --write-docs docs/rules`; do not edit.\n\n| id | name | severity | category | istioctl | summary |\n|---|---|---|---|---|---|\n");
    for r in rules {
        let _ = writeln!(
            out,
            "| [{}]({}.md) | `{}` | {} | {} | {} | {} |",
            r.id(),
            r.id(),
            r.name(),
            r.severity,
            r.category(),
            r.file.istio_code.as_deref().unwrap_or(""),
            r.file.summary.replace('|', "\\|")
        );
    }
    out
}
