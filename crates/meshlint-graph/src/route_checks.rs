//! What is wrong with a VirtualService's route destinations, as Istio would resolve them.
//!
//! Each destination's host is looked up where the VirtualService's proxies resolve it
//! (its namespace, or each namespace of its `exportTo`); a host that exists must declare
//! the port the route names. A route entry without `destination` makes Istio refuse the
//! whole VirtualService. One answer per distinct host (per host and port for ports), so
//! a host used by ten routes is one problem.

use crate::build::MeshGraph;
use crate::hosts::{HostLookup, HostState};
use meshlint_load::{Node, NodeValue};
use meshlint_model::Typed;
use serde::Serialize;

/// The kind of problem a destination has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DestinationProblemKind {
    /// No Service or ServiceEntry defines the host.
    Missing,
    /// Defined, but not exported to the VirtualService's namespaces.
    Unexported,
    /// The host does not declare the destination's port.
    Port,
    /// A route entry with no `destination` at all.
    NoDestination,
}

/// One destination problem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DestinationProblem {
    pub kind: DestinationProblemKind,
    /// Path of the destination block (of the route entry for `NoDestination`).
    pub path: String,
    pub host: String,
    pub fqdn: String,
    pub port: u32,
    /// The host lookup that decided `Missing`/`Unexported` (and how certain it is).
    pub lookup: Option<HostLookup>,
}

impl MeshGraph {
    /// The destination problems of a VirtualService, in route order; for a
    /// DestinationRule, its host's (missing or unexported; never a wildcard).
    pub fn destination_problems(&self, vs: usize) -> Vec<DestinationProblem> {
        let r = &self.resources[vs];
        if let Typed::DestinationRule(dr) = &r.typed {
            return self.rule_host_problem(vs, &dr.host).into_iter().collect();
        }
        let Typed::VirtualService(v) = &r.typed else {
            return Vec::new();
        };
        let lookup_ns = self.lookup_namespaces(vs);
        let lookup_refs: Vec<&str> = lookup_ns.iter().map(String::as_str).collect();
        let mut out: Vec<DestinationProblem> = Vec::new();
        for d in &v.destinations {
            let fqdn = self.resolve_host(&d.host, r.namespace());
            let port = d.port.unwrap_or(0);
            let lookup = self.host_lookup(&fqdn, &lookup_refs);
            let kind = match lookup.state {
                HostState::Missing => DestinationProblemKind::Missing,
                HostState::Unexported => DestinationProblemKind::Unexported,
                HostState::Exported | HostState::Implicit => {
                    let ports: Vec<u32> = self
                        .host_targets(&fqdn)
                        .iter()
                        .flat_map(|t| self.ports_of(t.resource))
                        .map(|p| p.number)
                        .collect();
                    if port == 0 || ports.is_empty() || ports.contains(&port) {
                        continue;
                    }
                    DestinationProblemKind::Port
                }
            };
            let repeated = out.iter().any(|p| {
                p.kind != DestinationProblemKind::NoDestination
                    && p.fqdn == fqdn
                    && (kind != DestinationProblemKind::Port || p.port == port)
            });
            if repeated {
                continue;
            }
            out.push(DestinationProblem {
                kind,
                path: d.path.to_string(),
                host: d.host.clone(),
                fqdn,
                port,
                lookup: (kind != DestinationProblemKind::Port).then_some(lookup),
            });
        }
        for protocol in ["http", "tcp", "tls"] {
            let routes = r
                .spec()
                .and_then(|s| s.get(protocol))
                .map(Node::items)
                .unwrap_or(&[]);
            for (ri, route) in routes.iter().enumerate() {
                let entries = route.items_at(&["route"]);
                for (k, entry) in entries.iter().enumerate() {
                    let has_destination = matches!(&entry.value, NodeValue::Map(m)
                        if m.iter().any(|(key, _)| key.as_str() == Some("destination")));
                    if !has_destination {
                        out.push(DestinationProblem {
                            kind: DestinationProblemKind::NoDestination,
                            path: format!("spec.{protocol}[{ri}].route[{k}]"),
                            host: String::new(),
                            fqdn: String::new(),
                            port: 0,
                            lookup: None,
                        });
                    }
                }
            }
        }
        out
    }
}

impl MeshGraph {
    /// A DestinationRule's host looked up where its proxies resolve it: a problem when
    /// missing or not exported there.
    fn rule_host_problem(&self, dr: usize, host: &str) -> Option<DestinationProblem> {
        if host.is_empty() || host.contains('*') {
            return None;
        }
        let fqdn = self.resolve_host(host, self.resources[dr].namespace());
        let namespaces = self.lookup_namespaces(dr);
        let refs: Vec<&str> = namespaces.iter().map(String::as_str).collect();
        let lookup = self.host_lookup(&fqdn, &refs);
        let kind = match lookup.state {
            HostState::Missing => DestinationProblemKind::Missing,
            HostState::Unexported => DestinationProblemKind::Unexported,
            HostState::Exported | HostState::Implicit => return None,
        };
        Some(DestinationProblem {
            kind,
            path: "spec".to_string(),
            host: host.to_string(),
            fqdn,
            port: 0,
            lookup: Some(lookup),
        })
    }
}
