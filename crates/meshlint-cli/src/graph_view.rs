//! `meshlint graph`: the resource graph as Graphviz DOT or JSON, optionally narrowed to
//! the neighbourhood (one hop, both directions) of a namespace or a host.
//!
//! DOT draws namespaces as clusters (resources and the `*.NS.svc.*` hosts of a namespace
//! inside its box) instead of `in namespace` edges, and leaves out Kubernetes objects
//! that relate to nothing (ServiceAccounts, ConfigMaps); JSON lists every node and edge.

use meshlint_graph::{Edge, GraphNode, MeshGraph};
use petgraph::graph::NodeIndex;
use petgraph::visit::EdgeRef;
use petgraph::Direction;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

/// Output format of `meshlint graph`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GraphFormat {
    Dot,
    Json,
}

/// Which part of the graph to show.
#[derive(Debug, Clone, Default)]
pub struct GraphFilter {
    /// Keep the resources of this namespace (and hosts `*.NS.svc.*`) and their neighbours.
    pub namespace: Option<String>,
    /// Keep this host (FQDN, or a short name matching `NAME.*`) and its neighbours.
    pub host: Option<String>,
}

fn edge_name(e: Edge) -> &'static str {
    match e {
        Edge::Defines => "defines",
        Edge::Selects => "selects",
        Edge::Configures => "configures",
        Edge::RoutesTo => "routes_to",
        Edge::Binds => "binds",
        Edge::Imports => "imports",
        Edge::InNamespace => "in_namespace",
    }
}

fn matches_namespace(g: &MeshGraph, n: &GraphNode, ns: &str) -> bool {
    match n {
        GraphNode::Resource(i) => g.resources[*i].namespace() == ns,
        GraphNode::Host(h) => g.host_namespace(h) == Some(ns),
        GraphNode::Namespace(name) => name == ns,
    }
}

fn matches_host(n: &GraphNode, host: &str) -> bool {
    match n {
        GraphNode::Host(h) => h == host || h.strip_prefix(host).is_some_and(|r| r.starts_with('.')),
        _ => false,
    }
}

fn neighbourhood(g: &MeshGraph, pred: impl Fn(&GraphNode) -> bool) -> BTreeSet<NodeIndex> {
    let mut keep = BTreeSet::new();
    for n in g.relations().node_indices() {
        if pred(&g.relations()[n]) {
            keep.insert(n);
            for d in [Direction::Outgoing, Direction::Incoming] {
                keep.extend(g.relations().neighbors_directed(n, d));
            }
        }
    }
    keep
}

/// The nodes to show, in graph order; an error names a filter that matched nothing.
pub fn select_nodes(g: &MeshGraph, filter: &GraphFilter) -> Result<Vec<NodeIndex>, String> {
    let mut keep: BTreeSet<NodeIndex> = g.relations().node_indices().collect();
    if let Some(ns) = &filter.namespace {
        let near = neighbourhood(g, |n| matches_namespace(g, n, ns));
        if near.is_empty() {
            let known: Vec<&str> = g.known_namespaces().collect();
            return Err(format!(
                "no resource in namespace `{ns}` (namespaces in the inputs: {})",
                known.join(", ")
            ));
        }
        keep = keep.intersection(&near).copied().collect();
    }
    if let Some(host) = &filter.host {
        let near = neighbourhood(g, |n| matches_host(n, host));
        if near.is_empty() {
            return Err(format!("no host `{host}` in the graph"));
        }
        keep = keep.intersection(&near).copied().collect();
    }
    Ok(keep.into_iter().collect())
}

/// A DOT string body: quotes and backslashes escaped, control characters (line breaks
/// included) as visible `\\u{…}` text, so a name cannot end the string or the line.
fn dot_escape(s: &str) -> String {
    meshlint_report::escape_name(s)
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
}

fn resource_style(g: &MeshGraph, i: usize) -> &'static str {
    let r = &g.resources[i];
    match r.group() {
        "networking.istio.io" => "fillcolor=\"#dbeafe\"",
        "security.istio.io" => "fillcolor=\"#fde68a\"",
        "" if &*r.id.kind == "Service" => "fillcolor=\"#dcfce7\"",
        _ => "fillcolor=\"#f3f4f6\"",
    }
}

/// Renders the selected part of the graph as Graphviz DOT.
pub fn render_dot(g: &MeshGraph, nodes: &[NodeIndex]) -> String {
    let id: BTreeMap<NodeIndex, usize> = nodes.iter().enumerate().map(|(k, n)| (*n, k)).collect();
    // Cluster of each drawable node (resource or host), by namespace.
    let mut clusters: BTreeMap<String, Vec<NodeIndex>> = BTreeMap::new();
    let mut loose = Vec::new();
    let kept: BTreeSet<NodeIndex> = nodes.iter().copied().collect();
    let related = |n: NodeIndex| {
        g.relations()
            .edges_directed(n, Direction::Outgoing)
            .chain(g.relations().edges_directed(n, Direction::Incoming))
            .any(|e| {
                *e.weight() != Edge::InNamespace
                    && kept.contains(&e.source())
                    && kept.contains(&e.target())
            })
    };
    for &n in nodes {
        let ns = match &g.relations()[n] {
            // Kubernetes objects that relate to nothing (ServiceAccounts, ConfigMaps,
            // Namespaces) only clutter the picture; Istio resources always show, since a
            // namespace-wide policy applies through its namespace alone.
            GraphNode::Resource(i)
                if !g.resources[*i].group().ends_with("istio.io") && !related(n) =>
            {
                continue
            }
            GraphNode::Resource(i) => Some(g.resources[*i].namespace().to_string()),
            GraphNode::Host(h) => g.host_namespace(h).map(str::to_string),
            GraphNode::Namespace(_) => continue,
        };
        match ns.filter(|ns| !ns.is_empty()) {
            Some(ns) => clusters.entry(ns).or_default().push(n),
            None => loose.push(n),
        }
    }
    let node_line = |n: NodeIndex| -> String {
        match &g.relations()[n] {
            GraphNode::Resource(i) => {
                let r = &g.resources[*i];
                format!(
                    "n{} [label=\"{}\\n{}\", shape=box, style=\"rounded,filled\", {}];",
                    id[&n],
                    dot_escape(&r.id.kind),
                    dot_escape(r.name()),
                    resource_style(g, *i)
                )
            }
            GraphNode::Host(h) => format!(
                "n{} [label=\"{}\", shape=ellipse, style=filled, fillcolor=\"#ffffff\"];",
                id[&n],
                dot_escape(h)
            ),
            GraphNode::Namespace(_) => String::new(),
        }
    };
    let mut out = String::new();
    out.push_str("digraph meshlint {\n");
    out.push_str("  rankdir=LR;\n  compound=true;\n");
    out.push_str("  graph [fontname=\"Helvetica\", fontsize=11];\n");
    out.push_str("  node [fontname=\"Helvetica\", fontsize=10];\n");
    out.push_str("  edge [fontname=\"Helvetica\", fontsize=9, color=\"#4b5563\"];\n");
    for (k, (ns, members)) in clusters.iter().enumerate() {
        let _ = writeln!(out, "  subgraph cluster_{k} {{");
        let _ = writeln!(
            out,
            "    label=\"namespace {}\"; style=\"rounded,dashed\"; color=\"#9ca3af\";",
            dot_escape(ns)
        );
        for &n in members {
            let _ = writeln!(out, "    {}", node_line(n));
        }
        out.push_str("  }\n");
    }
    for n in loose {
        let _ = writeln!(out, "  {}", node_line(n));
    }
    // Parallel edges of one relation (a route with three destinations on one host) are
    // drawn once, with a count.
    let mut edges: Vec<(usize, usize, Edge)> = Vec::new();
    let mut counts: BTreeMap<(usize, usize, &'static str), usize> = BTreeMap::new();
    for e in g.relations().edge_references() {
        if *e.weight() == Edge::InNamespace {
            continue;
        }
        let (Some(&a), Some(&b)) = (id.get(&e.source()), id.get(&e.target())) else {
            continue;
        };
        let c = counts.entry((a, b, edge_name(*e.weight()))).or_insert(0);
        if *c == 0 {
            edges.push((a, b, *e.weight()));
        }
        *c += 1;
    }
    for (a, b, e) in edges {
        let mut label = edge_name(e).replace('_', " ");
        let n = counts[&(a, b, edge_name(e))];
        if n > 1 {
            label = format!("{label} ({n})");
        }
        let _ = writeln!(out, "  n{a} -> n{b} [label=\"{label}\"];");
    }
    out.push_str("}\n");
    out
}

/// Renders the selected part of the graph as JSON:
/// `{"version":1,"nodes":[{"id","type",…}],"edges":[{"from","to","relation"}]}`.
pub fn render_json(g: &MeshGraph, nodes: &[NodeIndex]) -> serde_json::Value {
    let id: BTreeMap<NodeIndex, usize> = nodes.iter().enumerate().map(|(k, n)| (*n, k)).collect();
    let json_nodes: Vec<serde_json::Value> = nodes
        .iter()
        .map(|&n| match &g.relations()[n] {
            GraphNode::Resource(i) => {
                let r = &g.resources[*i];
                let ns = r.namespace();
                serde_json::json!({
                    "id": id[&n],
                    "type": "resource",
                    "api_version": r.id.api_version,
                    "kind": r.id.kind,
                    "namespace": if ns.is_empty() { None } else { Some(ns) },
                    "name": r.name(),
                    "file": &*r.file,
                    "line": r.name_span().start.line,
                })
            }
            GraphNode::Host(h) => serde_json::json!({"id": id[&n], "type": "host", "host": h}),
            GraphNode::Namespace(ns) => {
                serde_json::json!({"id": id[&n], "type": "namespace", "name": ns})
            }
        })
        .collect();
    let edges: Vec<serde_json::Value> = g
        .relations()
        .edge_references()
        .filter_map(|e| {
            let a = id.get(&e.source())?;
            let b = id.get(&e.target())?;
            Some(serde_json::json!({"from": a, "to": b, "relation": edge_name(*e.weight())}))
        })
        .collect();
    serde_json::json!({"version": 1, "nodes": json_nodes, "edges": edges})
}
