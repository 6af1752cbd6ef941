//! Helpers the graph's test files share: a graph from YAML text, resources by identity.
#![allow(dead_code)]

use meshlint_graph::MeshGraph;
use meshlint_load::{load_source, LoadLimits};
use meshlint_model::{build_resources, Kind, MeshConfig};

/// The graph of `yaml` (which must load without findings) with a mesh config, in open or
/// closed world.
pub fn graph_of(yaml: &str, mesh: MeshConfig, closed_world: bool) -> MeshGraph {
    let f = load_source(
        "t.yaml".into(),
        yaml.as_bytes().to_vec(),
        &LoadLimits::default(),
    );
    assert!(f.findings.is_empty(), "{:?}", f.findings);
    MeshGraph::new(build_resources(&f).resources, mesh, closed_world)
}

/// The open-world graph of `yaml` with Istio's default mesh config.
pub fn graph(yaml: &str) -> MeshGraph {
    graph_of(yaml, MeshConfig::default(), false)
}

/// The index of a resource by kind, namespace and name (panics when absent).
pub fn idx(g: &MeshGraph, kind: Kind, ns: &str, name: &str) -> usize {
    g.find(kind, ns, name)
        .unwrap_or_else(|| panic!("{kind:?} {ns}/{name}"))
}

/// Indexes of every resource of a kind and name, in input order (documents of one object
/// included).
pub fn all(g: &MeshGraph, kind: Kind, name: &str) -> Vec<usize> {
    (0..g.resources.len())
        .filter(|&i| g.resources[i].kind == kind && g.resources[i].name() == name)
        .collect()
}

/// A namespace-wide (or, in the root namespace, mesh-wide) PeerAuthentication document.
pub fn pa(ns: &str, name: &str, mode: &str) -> String {
    format!(
        "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {{name: {name}, namespace: {ns}}}\nspec:\n  mtls: {{mode: {mode}}}\n---\n"
    )
}

/// A DestinationRule document whose top-level traffic policy sets `tls.mode`.
pub fn dr(ns: &str, name: &str, host: &str, mode: &str) -> String {
    format!(
        "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {{name: {name}, namespace: {ns}}}\nspec:\n  host: \"{host}\"\n  trafficPolicy:\n    tls: {{mode: {mode}}}\n---\n"
    )
}
