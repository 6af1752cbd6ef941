//! Which clients a DestinationRule or VirtualService written outside its service's
//! namespace reaches (issue 14, items 7 and 8).
//!
//! Istio looks a client's DestinationRule up in the client's namespace, then the
//! service's, then the root namespace: a rule in any other namespace is used only by the
//! clients of its own, whatever its `exportTo` says. A mesh VirtualService applies to
//! the proxies of the namespaces it is exported to.

use crate::istio::export_scopes;
use crate::MeshGraph;
use meshlint_model::Typed;

/// A rule for a host of another namespace and the clients it reaches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigReach {
    /// The host as written.
    pub host: String,
    /// The namespace of the service the host names.
    pub host_namespace: String,
    /// Field to report at (`spec.host`, `spec.hosts[1]`).
    pub path: String,
    /// The namespaces whose clients use the rule.
    pub reaches: Vec<String>,
    /// For a VirtualService: whether the inputs show that none of those namespaces runs
    /// a workload (closed world, or each namespace described without workloads).
    pub certain: bool,
}

impl MeshGraph {
    /// The namespace of an in-cluster host: `S` for `name.S.svc.<domain>` or
    /// `*.S.svc.<domain>`.
    fn service_namespace(&self, fqdn: &str) -> Option<String> {
        let rest = fqdn.strip_suffix(&format!(".svc.{}", self.mesh.dns_domain))?;
        let (_, ns) = rest.rsplit_once('.')?;
        (!ns.is_empty() && ns != "*").then(|| ns.to_string())
    }

    /// A DestinationRule (without `workloadSelector`) for a service of another namespace,
    /// written in neither that namespace nor the root namespace, whose written `exportTo`
    /// offers it to other namespaces (`*` or a name other than its own): Istio uses it
    /// only for the clients of its own namespace.
    pub fn destination_rule_reach(&self, i: usize) -> Option<ConfigReach> {
        let r = &self.resources[i];
        let Typed::DestinationRule(dr) = &r.typed else {
            return None;
        };
        let ns = r.namespace();
        let exported = export_scopes(Some(dr.export_to.as_deref()?), ns);
        if dr.workload_selector.is_some() || exported.iter().all(|s| s == ns) {
            return None;
        }
        let host_ns = self.service_namespace(&self.resolve_host(&dr.host, ns))?;
        (host_ns != ns && ns != self.mesh.root_namespace).then(|| ConfigReach {
            host: dr.host.clone(),
            host_namespace: host_ns,
            path: "spec.host".into(),
            reaches: vec![ns.to_string()],
            certain: true,
        })
    }

    /// Hosts of a mesh VirtualService that name a service of another namespace while its
    /// written `exportTo` leaves that namespace out and only reaches namespaces where the
    /// inputs run no workload: the clients it is meant for never see its routes.
    pub fn virtual_service_audience(&self, i: usize) -> Vec<ConfigReach> {
        let r = &self.resources[i];
        let Typed::VirtualService(vs) = &r.typed else {
            return Vec::new();
        };
        let mesh_bound = vs.gateways.is_empty() || vs.gateways.iter().any(|g| g.name == "mesh");
        let ns = r.namespace();
        let Some(export_to) = vs.export_to.as_deref().filter(|_| mesh_bound) else {
            return Vec::new();
        };
        let scopes = export_scopes(Some(export_to), ns);
        let has_clients = |n: &String| n == "*" || self.workloads_by_ns.contains_key(n.as_str());
        if scopes.iter().any(has_clients) {
            return Vec::new();
        }
        let certain = scopes.iter().all(|n| self.namespace_described(n));
        vs.hosts
            .iter()
            .enumerate()
            .filter_map(|(k, h)| {
                let host_ns = self.service_namespace(&self.resolve_host(h, ns))?;
                (host_ns != ns && !scopes.contains(&host_ns)).then(|| ConfigReach {
                    host: h.clone(),
                    host_namespace: host_ns,
                    path: format!("spec.hosts[{k}]"),
                    reaches: scopes.clone(),
                    certain,
                })
            })
            .collect()
    }
}
