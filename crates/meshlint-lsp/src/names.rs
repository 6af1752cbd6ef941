//! What a scalar names in the mesh — a host, a subset, a gateway, a namespace, a
//! workload selector — where that is defined, and every place that names it. Hover,
//! go to definition and find references all start here, and every answer comes from
//! the graph's own queries, so the editor and the rules agree.

use crate::cursor::{scalars, Target};
use meshlint_diag::{Location, Span};
use meshlint_graph::MeshGraph;
use meshlint_load::PathSegment;
use meshlint_model::Kind;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Named {
    /// A host, fully qualified in the writer's namespace.
    Host(String),
    /// A subset of the DestinationRule a client namespace uses for a host.
    Subset {
        fqdn: String,
        client_ns: String,
        name: String,
    },
    Gateway {
        namespace: String,
        name: String,
    },
    Namespace(String),
    /// A workload selector of this resource.
    Selector(usize),
}

/// What the scalar under the cursor names, if anything meshlint resolves.
pub fn classify(graph: &MeshGraph, t: &Target) -> Option<Named> {
    let r = &graph.resources[t.resource];
    let ns = r.namespace();
    let text = t.text();
    let key = t.last_key();
    let parent = t.key_back(1);
    let under_spec = matches!(t.path.first(), Some(PathSegment::Key(k)) if k == "spec");
    if t.path
        == [
            PathSegment::Key("metadata".into()),
            PathSegment::Key("name".into()),
        ]
        && !t.is_key
    {
        return match r.kind {
            Kind::Service => Some(Named::Host(graph.resolve_host(text, ns))),
            Kind::Gateway => Some(Named::Gateway {
                namespace: ns.to_string(),
                name: text.to_string(),
            }),
            Kind::Namespace => Some(Named::Namespace(text.to_string())),
            _ => None,
        };
    }
    if !under_spec {
        return None;
    }
    if is_selector(r.kind, &t.path) {
        return Some(Named::Selector(t.resource));
    }
    if t.is_key {
        return None;
    }
    if key == "exportTo" && t.in_list() {
        return (!matches!(text, "." | "*" | "~" | "")).then(|| Named::Namespace(text.to_string()));
    }
    match r.kind {
        Kind::VirtualService => {
            let destination = matches!(parent, "destination" | "mirror");
            if (key == "host" && destination)
                || (key == "hosts" && t.in_list() && t.path.len() == 3)
            {
                return Some(Named::Host(graph.resolve_host(text, ns)));
            }
            if key == "subset" && parent == "destination" {
                let mut host_path = t.path.clone();
                *host_path.last_mut()? = PathSegment::Key("host".into());
                let host = r.node.lookup(&host_path)?.0.as_str()?;
                return Some(Named::Subset {
                    fqdn: graph.resolve_host(host, ns),
                    client_ns: ns.to_string(),
                    name: text.to_string(),
                });
            }
            if key == "gateways" && t.in_list() && text != "mesh" {
                let (gns, name) = text.split_once('/').unwrap_or((ns, text));
                return Some(Named::Gateway {
                    namespace: gns.to_string(),
                    name: name.to_string(),
                });
            }
            None
        }
        Kind::DestinationRule => {
            let host = r.node.get("spec")?.get("host")?.as_str()?;
            let fqdn = graph.resolve_host(host, ns);
            if t.path.len() == 2 && key == "host" {
                return Some(Named::Host(fqdn));
            }
            if key == "name" && parent == "subsets" && t.path.len() == 4 {
                return Some(Named::Subset {
                    fqdn,
                    client_ns: ns.to_string(),
                    name: text.to_string(),
                });
            }
            None
        }
        Kind::ServiceEntry if key == "hosts" && t.in_list() && t.path.len() == 3 => {
            Some(Named::Host(text.to_string()))
        }
        _ => None,
    }
}

/// Whether a path lies in the workload selector of a resource of this kind.
fn is_selector(kind: Kind, path: &[PathSegment]) -> bool {
    let keys: Vec<&str> = path
        .iter()
        .filter_map(|s| match s {
            PathSegment::Key(k) => Some(k.as_str()),
            PathSegment::Index(_) => None,
        })
        .collect();
    match kind {
        Kind::Service | Kind::Gateway => keys.get(1) == Some(&"selector"),
        Kind::Sidecar | Kind::DestinationRule => keys.get(1) == Some(&"workloadSelector"),
        Kind::PeerAuthentication
        | Kind::RequestAuthentication
        | Kind::AuthorizationPolicy
        | Kind::Telemetry
        | Kind::WasmPlugin
        | Kind::EnvoyFilter => {
            keys.get(1) == Some(&"selector") || keys.get(1) == Some(&"workloadSelector")
        }
        _ => false,
    }
}

/// Where what a name names is defined.
pub fn definitions(graph: &MeshGraph, named: &Named) -> Vec<Location> {
    match named {
        Named::Host(fqdn) => graph
            .host_targets(fqdn)
            .into_iter()
            .map(|t| host_definition(graph, t.resource, &t.host))
            .collect(),
        Named::Subset {
            fqdn,
            client_ns,
            name,
        } => graph
            .merged_destination_rule(client_ns, fqdn)
            .and_then(|m| m.subset(name).cloned())
            .map(|s| {
                let r = &graph.resources[s.member];
                r.location_of(&format!("spec.subsets[{}].name", s.index))
            })
            .into_iter()
            .collect(),
        Named::Gateway { namespace, name } => graph
            .gateway_lookup(&format!("{namespace}/{name}"), namespace)
            .found
            .map(|g| graph.resources[g].name_location())
            .into_iter()
            .collect(),
        Named::Namespace(ns) => graph
            .namespace_resource(ns)
            .map(|n| graph.resources[n].name_location())
            .into_iter()
            .collect(),
        Named::Selector(r) => graph
            .selected_workloads(*r)
            .into_iter()
            .map(|w| graph.resources[w].name_location())
            .collect(),
    }
}

/// The location of a host where a Service or ServiceEntry defines it.
fn host_definition(graph: &MeshGraph, resource: usize, host: &str) -> Location {
    let r = &graph.resources[resource];
    let hosts = r.node.get("spec").and_then(|s| s.get("hosts"));
    match hosts.and_then(|h| h.items().iter().position(|i| i.as_str() == Some(host))) {
        Some(i) => r.location_of(&format!("spec.hosts[{i}]")),
        None => r.name_location(),
    }
}

/// Every place in the workspace that names the same thing (definitions included).
pub fn references(graph: &MeshGraph, named: &Named) -> Vec<Location> {
    if let Named::Selector(_) = named {
        return definitions(graph, named);
    }
    let kinds = [
        Kind::VirtualService,
        Kind::DestinationRule,
        Kind::ServiceEntry,
        Kind::Service,
        Kind::Gateway,
        Kind::Namespace,
        Kind::Sidecar,
    ];
    let mut out = Vec::new();
    for &kind in &kinds {
        for &i in graph.of_kind(kind) {
            let r = &graph.resources[i];
            let mut found = Vec::new();
            scalars(&r.node, &mut Vec::new(), &mut found);
            for (path, node) in found {
                let t = Target {
                    resource: i,
                    path,
                    node: std::borrow::Cow::Borrowed(node),
                    is_key: false,
                };
                if classify(graph, &t).as_ref() == Some(named) {
                    out.push(Location {
                        file: r.file.clone(),
                        span: node.span(),
                    });
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// A one-line place for hover text: `Kind ns/name` and where it is written.
pub fn describe(graph: &MeshGraph, resource: usize) -> (String, Location) {
    let r = &graph.resources[resource];
    (r.id.to_string(), r.name_location())
}

/// The span of a location as `file:line`.
pub fn place(loc: &Location) -> String {
    let Span { start, .. } = loc.span;
    format!("{}:{}", loc.file, start.line)
}
