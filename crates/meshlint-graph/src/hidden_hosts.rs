//! Hosts a resource names that the proxies it is meant for cannot see.
//!
//! A VirtualService route, a DestinationRule or a ServiceEntry host is only useful to
//! proxies that know the host: a Sidecar's egress list or the defining resource's
//! `exportTo` can hide it. One query answers the three kinds, each the way Istio applies
//! it, and names for every hiding namespace the Sidecar or `exportTo` that decided:
//!
//! - a VirtualService's mesh routes run in the sidecars of its client namespaces: they
//!   are hidden when its own namespace (with sidecars) has a Sidecar that does not
//!   import the host, or when no client namespace sees it (not merely because the
//!   host's `exportTo` keeps it to its own namespace); its gateway routes run in the
//!   gateway proxies, which ignore Sidecars but honour `exportTo`;
//! - a DestinationRule's host is hidden when none of its client namespaces sees it and
//!   a Sidecar is among the causes (an `exportTo`-only cause is ML2010's);
//! - a ServiceEntry's host is hidden when none of its client namespaces sees it.
//!
//! Existing, concrete hosts only: a missing host is another rule's finding, and a
//! wildcard is not looked up.

use crate::build::MeshGraph;
use crate::visibility::Visibility;
use meshlint_model::{Kind, Typed};
use serde::Serialize;

/// A namespace whose proxies cannot see a host, and what hides it there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HiddenFrom {
    pub namespace: String,
    /// The `gateways` entry whose proxies run the route (VirtualService gateway routes);
    /// `None` for sidecars.
    pub gateway: Option<String>,
    pub reason: String,
    /// The Sidecar egress list or `exportTo` that hides the host.
    pub hidden_by: Option<(usize, String)>,
}

/// A host a resource names, hidden from the proxies that would use it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HiddenHost {
    /// The host as written and resolved in the resource's namespace.
    pub host: String,
    pub fqdn: String,
    /// Where it is written: the `destination` block of a route, `spec.host`,
    /// `spec.hosts[i]`.
    pub path: String,
    pub hidden: Vec<HiddenFrom>,
}

fn sidecars(namespace: String, v: Visibility) -> HiddenFrom {
    HiddenFrom {
        namespace,
        gateway: None,
        reason: v.reason,
        hidden_by: v.hidden_by,
    }
}

impl MeshGraph {
    fn hidden_from_clients(&self, r: usize, fqdn: &str) -> Vec<HiddenFrom> {
        self.hidden_from_all_clients(r, fqdn)
            .into_iter()
            .map(|(ns, v)| sidecars(ns, v))
            .collect()
    }

    fn is_sidecar(&self, at: &Option<(usize, String)>) -> bool {
        at.as_ref()
            .is_some_and(|(i, _)| self.resources[*i].kind == Kind::Sidecar)
    }

    /// The hosts a VirtualService, DestinationRule or ServiceEntry names that the proxies
    /// it is meant for cannot see (see the module comment), in the order written; one
    /// answer per distinct destination host of a VirtualService.
    pub fn hidden_hosts(&self, r: usize) -> Vec<HiddenHost> {
        let res = &self.resources[r];
        let ns = res.namespace();
        let concrete = |fqdn: &str| !fqdn.contains('*') && !self.host_targets(fqdn).is_empty();
        let hidden = |host: &str, path: String, hidden: Vec<HiddenFrom>| HiddenHost {
            host: host.to_string(),
            fqdn: self.resolve_host(host, ns),
            path,
            hidden,
        };
        match &res.typed {
            Typed::VirtualService(_) => self.hidden_destinations(r),
            Typed::DestinationRule(dr) => {
                let fqdn = self.resolve_host(&dr.host, ns);
                if dr.host.contains('*') || !concrete(&fqdn) {
                    return Vec::new();
                }
                let h = self.hidden_from_clients(r, &fqdn);
                if !h.iter().any(|x| self.is_sidecar(&x.hidden_by)) {
                    return Vec::new();
                }
                vec![hidden(&dr.host, "spec.host".to_string(), h)]
            }
            Typed::ServiceEntry(se) => se
                .hosts
                .iter()
                .enumerate()
                .filter_map(|(i, h)| {
                    let fqdn = self.resolve_host(h, ns);
                    let hidden_from = self.hidden_from_clients(r, &fqdn);
                    (!hidden_from.is_empty())
                        .then(|| hidden(h, format!("spec.hosts[{i}]"), hidden_from))
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    fn hidden_destinations(&self, vs: usize) -> Vec<HiddenHost> {
        let res = &self.resources[vs];
        let Typed::VirtualService(v) = &res.typed else {
            return Vec::new();
        };
        let ns = res.namespace();
        let gateways: Vec<&str> = v
            .gateways
            .iter()
            .filter(|g| g.path.starts_with("spec.gateways"))
            .map(|g| g.name.as_str())
            .collect();
        let mesh_routes = gateways.is_empty() || gateways.contains(&"mesh");
        // The namespaces with a workload running a proxy (`has_sidecar`) are indexed.
        let own_has_sidecars = || self.proxy_namespaces.contains(ns);
        let mut seen: Vec<String> = Vec::new();
        let mut out = Vec::new();
        for d in &v.destinations {
            let fqdn = self.resolve_host(&d.host, ns);
            if seen.contains(&fqdn) {
                continue;
            }
            seen.push(fqdn.clone());
            if fqdn.contains('*') || self.host_targets(&fqdn).is_empty() {
                continue;
            }
            let mut hidden = Vec::new();
            if mesh_routes {
                let own = self.host_visible(ns, None, &fqdn);
                if !own.visible && self.is_sidecar(&own.hidden_by) && own_has_sidecars() {
                    hidden.push(sidecars(ns.to_string(), own));
                } else {
                    // Hidden from every client; an `exportTo` keeping the host to its
                    // own namespace only matters if it hides it from another one.
                    let all = self.hidden_from_clients(vs, &fqdn);
                    if all
                        .iter()
                        .any(|h| h.namespace != ns || self.is_sidecar(&h.hidden_by))
                    {
                        hidden.extend(all);
                    }
                }
            }
            for g in gateways.iter().filter(|g| **g != "mesh") {
                let Some(gw) = self.gateway_ref(g, ns) else {
                    continue;
                };
                for n in self.gateway_proxy_namespaces(gw) {
                    if n == ns {
                        continue;
                    }
                    // Gateway proxies ignore Sidecars: only `exportTo` hides from them.
                    let seen_there = self.host_visible(&n, None, &fqdn);
                    if !seen_there.visible
                        && seen_there.hidden_by.is_some()
                        && !self.is_sidecar(&seen_there.hidden_by)
                    {
                        hidden.push(HiddenFrom {
                            gateway: Some(g.to_string()),
                            ..sidecars(n, seen_there)
                        });
                    }
                }
            }
            if !hidden.is_empty() {
                out.push(HiddenHost {
                    host: d.host.clone(),
                    fqdn,
                    path: d.path.to_string(),
                    hidden,
                });
            }
        }
        out
    }
}
