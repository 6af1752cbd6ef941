//! Hover text: the rule behind a finding, and what a name resolves to in the graph.

use crate::cursor::Target;
use crate::names::{classify, definitions, describe, place, Named};
use meshlint_diag::{Finding, Location};
use meshlint_graph::MeshGraph;
use meshlint_rules::RuleSet;
use std::fmt::Write;

/// At most this many workloads or policies are listed in one hover.
const LIST_LIMIT: usize = 8;

/// A Markdown link to a location (editors open `file:///path#L12` at the line).
pub fn link(loc: &Location) -> String {
    match crate::convert::uri(&loc.file) {
        Some(uri) => format!("[{}]({uri}#L{})", place(loc), loc.span.start.line),
        None => place(loc),
    }
}

/// The explanation of the rules behind the findings under the cursor.
pub fn findings_text(findings: &[&Finding], rules: &RuleSet) -> String {
    let mut out = String::new();
    for f in findings {
        let _ = write!(out, "**{}**", f.rule);
        match rules.get(&f.rule) {
            Some(rule) => {
                let _ = writeln!(out, " `{}` — {}\n", rule.name(), rule.file.summary);
                if let Some(docs) = rule.docs() {
                    let _ = writeln!(out, "{}\n\n{}\n", docs.what.trim(), docs.why.trim());
                }
                if let Some(uri) = meshlint_rules::help_uri(rule) {
                    let _ = writeln!(out, "[Rule documentation]({uri})\n");
                }
            }
            None => {
                let _ = writeln!(out, " — {}\n", f.message);
            }
        }
    }
    out
}

/// What the scalar under the cursor resolves to, with locations.
pub fn resolution_text(graph: &MeshGraph, t: &Target) -> Option<String> {
    let named = classify(graph, t)?;
    let mut out = String::new();
    let defs = definitions(graph, &named);
    let list = |out: &mut String, title: &str, locs: &[(String, Location)]| {
        if locs.is_empty() {
            return;
        }
        let _ = writeln!(out, "{title}:\n");
        for (what, loc) in locs.iter().take(LIST_LIMIT) {
            let _ = writeln!(out, "- {what} — {}", link(loc));
        }
        if locs.len() > LIST_LIMIT {
            let _ = writeln!(out, "- … and {} more", locs.len() - LIST_LIMIT);
        }
        out.push('\n');
    };
    let client_ns = graph.resources[t.resource].namespace().to_string();
    match &named {
        Named::Host(fqdn) => {
            let _ = writeln!(out, "**host** `{fqdn}`\n");
            let targets: Vec<(String, Location)> = graph
                .host_targets(fqdn)
                .into_iter()
                .zip(&defs)
                .map(|(h, loc)| (describe(graph, h.resource).0, loc.clone()))
                .collect();
            if targets.is_empty() {
                let _ = writeln!(
                    out,
                    "No Service or ServiceEntry in the workspace defines it.\n"
                );
            }
            list(&mut out, "Defined by", &targets);
            if let Some(merged) = graph.merged_destination_rule(&client_ns, fqdn) {
                let rules: Vec<(String, Location)> =
                    merged.members.iter().map(|&m| describe(graph, m)).collect();
                let title = format!("DestinationRule for clients in `{client_ns}`");
                list(&mut out, &title, &rules);
                if !merged.subsets.is_empty() {
                    let names: Vec<&str> = merged.subsets.iter().map(|s| s.name.as_str()).collect();
                    let _ = writeln!(out, "Subsets: `{}`\n", names.join("`, `"));
                }
            }
            let modes: Vec<(String, Location)> = graph
                .workloads_for_host(fqdn)
                .into_iter()
                .map(|w| {
                    let mode = graph.peer_mode(w, None);
                    let (name, loc) = describe(graph, w);
                    let by = match &mode.source {
                        Some((p, _)) => format!(" (by {})", graph.resources[*p].id),
                        None => " (default)".to_string(),
                    };
                    (format!("{name}: mTLS `{}`{by}", mode.value), loc)
                })
                .collect();
            list(
                &mut out,
                "Workloads behind it (PeerAuthentication mode)",
                &modes,
            );
        }
        Named::Subset { fqdn, name, .. } => {
            let _ = writeln!(out, "**subset** `{name}` of `{fqdn}`\n");
            if defs.is_empty() {
                let _ = writeln!(
                    out,
                    "No DestinationRule that clients in `{client_ns}` use for this host defines it.\n"
                );
            }
            let found: Vec<(String, Location)> = defs
                .iter()
                .map(|l| ("defined in".to_string(), l.clone()))
                .collect();
            list(&mut out, "Definition", &found);
        }
        Named::Gateway { namespace, name } => {
            let _ = writeln!(out, "**gateway** `{namespace}/{name}`\n");
            let lookup = graph.gateway_lookup(&format!("{namespace}/{name}"), namespace);
            match lookup.found {
                Some(g) => {
                    let found = vec![describe(graph, g)];
                    list(&mut out, "Resolves to", &found);
                    let proxies: Vec<(String, Location)> = graph
                        .selected_workloads(g)
                        .into_iter()
                        .map(|w| describe(graph, w))
                        .collect();
                    list(&mut out, "Gateway proxies it selects", &proxies);
                }
                None => {
                    let _ = writeln!(out, "No Gateway of that name in namespace `{namespace}`.\n");
                    let elsewhere: Vec<(String, Location)> = lookup
                        .same_name_elsewhere
                        .iter()
                        .map(|&g| describe(graph, g))
                        .collect();
                    list(&mut out, "Same name in other namespaces", &elsewhere);
                }
            }
        }
        Named::Namespace(ns) => {
            let _ = writeln!(out, "**namespace** `{ns}`\n");
            if defs.is_empty() {
                let _ = writeln!(out, "No Namespace object for it in the workspace.\n");
            }
            let found: Vec<(String, Location)> = defs
                .iter()
                .map(|l| (format!("Namespace {ns}"), l.clone()))
                .collect();
            list(&mut out, "Defined by", &found);
        }
        Named::Selector(r) => {
            let _ = writeln!(out, "**selector** of {}\n", graph.resources[*r].id);
            let workloads: Vec<(String, Location)> = graph
                .selected_workloads(*r)
                .into_iter()
                .map(|w| describe(graph, w))
                .collect();
            if workloads.is_empty() {
                let _ = writeln!(out, "Selects no workload in the workspace.\n");
            }
            list(&mut out, "Selects", &workloads);
        }
    }
    Some(out)
}
