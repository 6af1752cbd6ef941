//! Renders a trace for people (miette-style source snippets, one label per deciding
//! field, in hop order) and as JSON (`version: 1`, see docs/trace.md).

use crate::{DecidedBy, Trace, Verdict};
use meshlint_diag::SourceFile;
use std::collections::HashMap;
use std::fmt::Write;
use std::sync::Arc;

/// The JSON document of a trace.
pub fn json(trace: &Trace) -> String {
    serde_json::to_string_pretty(trace).unwrap_or_default()
}

fn snippet(out: &mut String, b: &DecidedBy, sources: &HashMap<Arc<str>, SourceFile>) {
    let Some(pos) = &b.location else {
        let _ = writeln!(
            out,
            "       · {} {} {}: {}",
            b.kind, b.name, b.field, b.label
        );
        return;
    };
    let src = sources.get(pos.file.as_str());
    let line_text = src
        .filter(|s| pos.line >= 1 && (pos.line as usize) <= s.line_count())
        .map(|s| s.line_text(pos.line).trim_end().to_string());
    let gutter = pos.line.to_string().len().max(3);
    let pad = " ".repeat(gutter);
    let _ = writeln!(
        out,
        "     {pad} ╭─[{}:{}:{}] {} {}{} {}",
        pos.file,
        pos.line,
        pos.column,
        b.kind,
        if b.namespace.is_empty() {
            String::new()
        } else {
            format!("{}/", b.namespace)
        },
        b.name,
        b.field
    );
    if let Some(text) = line_text {
        let _ = writeln!(out, "     {:>gutter$} │ {}", pos.line, text);
        // Underline from the column to the end of the token.
        let col = (pos.column.max(1) as usize - 1).min(text.chars().count());
        let width = text
            .chars()
            .skip(col)
            .take_while(|c| !c.is_whitespace())
            .count()
            .max(1);
        let mid = width / 2;
        let _ = writeln!(
            out,
            "     {pad} · {}{}┬{}",
            " ".repeat(col),
            "─".repeat(mid),
            "─".repeat(width - mid - 1)
        );
        let _ = writeln!(
            out,
            "     {pad} · {}{}╰── {}",
            " ".repeat(col),
            " ".repeat(mid),
            b.label
        );
    } else {
        let _ = writeln!(out, "     {pad} · {}", b.label);
    }
    let _ = writeln!(out, "     {pad} ╰────");
}

/// The human rendering.
pub fn human(trace: &Trace, sources: &HashMap<Arc<str>, SourceFile>) -> String {
    let mut out = String::new();
    let r = &trace.request;
    let from = match (&r.from, &r.gateway) {
        (_, Some(g)) => format!("gateway {g}"),
        (Some(f), None) => f.clone(),
        _ => "?".to_string(),
    };
    let _ = writeln!(
        out,
        "trace: {from} → {}{} {} {}",
        r.to.host,
        r.to.port.map(|p| format!(":{p}")).unwrap_or_default(),
        r.method,
        r.path
    );
    if let Some(log) = &trace.access_log {
        let _ = writeln!(out, "\naccess log: {}", log.meaning);
        for f in &log.record.response_flags {
            let _ = writeln!(out, "  {}  {}", f.flag, f.meaning);
        }
    }
    let _ = writeln!(out);
    for (i, h) in trace.hops.iter().enumerate() {
        let _ = writeln!(out, "{:>2}. {:<14} {}", i + 1, h.step, h.summary);
        for b in &h.decided_by {
            snippet(&mut out, b, sources);
        }
    }
    let mark = match trace.verdict {
        Verdict::Delivered => "✓",
        Verdict::Passthrough => "→",
        _ => "✗",
    };
    let _ = writeln!(
        out,
        "\n{mark} {}{}",
        trace.verdict.as_str(),
        trace
            .symptom
            .as_ref()
            .map(|s| format!(": {s}"))
            .unwrap_or_default()
    );
    let _ = writeln!(out, "  why: {}", trace.explanation);
    if let Some(f) = &trace.fix {
        let _ = writeln!(out, "  fix: {f}");
    }
    if !trace.decided_by.is_empty() {
        let _ = writeln!(out, "  decided by:");
        for b in &trace.decided_by {
            let at = b
                .location
                .as_ref()
                .map(|p| format!(" ({}:{}:{})", p.file, p.line, p.column))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "    - {} {}{} {}{at}",
                b.kind,
                if b.namespace.is_empty() {
                    String::new()
                } else {
                    format!("{}/", b.namespace)
                },
                b.name,
                b.field
            );
        }
    }
    if let Some(log) = &trace.access_log {
        let _ = writeln!(
            out,
            "  the trace {} the logged outcome",
            if log.consistent {
                "reproduces"
            } else {
                "does NOT reproduce"
            }
        );
    }
    if !trace.notes.is_empty() {
        let _ = writeln!(out, "\nnotes:");
        for n in &trace.notes {
            let _ = writeln!(out, "  - {}", n.summary);
            for b in &n.decided_by {
                snippet(&mut out, b, sources);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{DecidedBy, Hop, HostPort, Position, RequestOut, Trace, Verdict};

    fn by(line: u32, column: u32) -> DecidedBy {
        DecidedBy {
            kind: "DestinationRule".into(),
            namespace: "ns".into(),
            name: "dr".into(),
            field: "spec.trafficPolicy.tls.mode".into(),
            location: Some(Position {
                file: "f.yaml".into(),
                line,
                column,
                location: None,
            }),
            label: "DISABLE".into(),
        }
    }

    fn trace_with(decided: Vec<DecidedBy>) -> Trace {
        Trace {
            version: 1,
            request: RequestOut {
                from: Some("ns/app".into()),
                gateway: None,
                to: HostPort {
                    host: "h.ns.svc.cluster.local".into(),
                    port: Some(80),
                },
                path: "/".into(),
                method: "GET".into(),
            },
            verdict: Verdict::Failed,
            symptom: Some("503 UC".into()),
            explanation: "why".into(),
            fix: Some("fix".into()),
            decided_by: decided.clone(),
            hops: vec![Hop {
                step: "client-tls".into(),
                summary: "s".into(),
                decided_by: decided,
            }],
            notes: Vec::new(),
            access_log: None,
        }
    }

    #[test]
    fn labels_point_at_the_field() {
        let mut sources = HashMap::new();
        let name: Arc<str> = "f.yaml".into();
        sources.insert(
            name.clone(),
            SourceFile::new(name, "tls:\n  mode: DISABLE\n"),
        );
        let out = human(&trace_with(vec![by(2, 9)]), &sources);
        assert!(out.contains("2 │   mode: DISABLE"), "{out}");
        assert!(out.contains("╰── DISABLE"), "{out}");
        assert!(out.contains("✗ failed: 503 UC"), "{out}");
    }

    #[test]
    fn odd_locations_do_not_panic() {
        let mut sources = HashMap::new();
        let name: Arc<str> = "f.yaml".into();
        sources.insert(name.clone(), SourceFile::new(name, "x\n"));
        for (l, c) in [
            (0, 0),
            (1, 0),
            (1, 500),
            (1, u32::MAX),
            (99, 1),
            (u32::MAX, u32::MAX),
        ] {
            let _ = human(&trace_with(vec![by(l, c)]), &sources);
        }
        let mut no_loc = by(1, 1);
        no_loc.location = None;
        let out = human(&trace_with(vec![no_loc]), &HashMap::new());
        assert!(out.contains("DISABLE"));
        assert!(json(&trace_with(Vec::new())).contains("\"verdict\": \"failed\""));
    }
}
