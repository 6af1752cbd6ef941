//! Calls that leave the mesh (issue 14, item 10): which outbound traffic policy applies
//! to a namespace's proxies, and whether a host is outside the cluster's DNS domain.

use crate::{HostState, MeshGraph};
use meshlint_model::{Kind, OutboundPolicy, Typed};

/// The outbound traffic policy the proxies of a namespace follow, and what decided it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundPolicyDecision {
    /// `REGISTRY_ONLY`: calls to hosts the proxy does not know go to the BlackHoleCluster.
    pub registry_only: bool,
    /// The namespace-wide Sidecar and the path of its `outboundTrafficPolicy.mode`, or
    /// `None` when the mesh config (or Istio's default, `ALLOW_ANY`) decides.
    pub decided_by: Option<(usize, String)>,
}

/// A DestinationRule for an external host that no ServiceEntry defines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExternalHostGap {
    /// The host as written.
    pub host: String,
    /// Whether the ServiceEntry is certainly missing (closed world, or a near spelling).
    pub certain: bool,
    /// What happens to calls to it: the policy of the rule's namespace.
    pub policy: OutboundPolicyDecision,
}

const MODE_PATH: &str = "spec.outboundTrafficPolicy.mode";

impl MeshGraph {
    /// The policy for proxies without a workload-specific Sidecar in namespace `ns`: the
    /// mode of the namespace's Sidecar without `workloadSelector`, else of the root
    /// namespace's, else the mesh config's `outboundTrafficPolicy`.
    pub fn outbound_policy(&self, ns: &str) -> OutboundPolicyDecision {
        let root = self.mesh.root_namespace.as_str();
        let mesh_wide = OutboundPolicyDecision {
            registry_only: self.mesh.outbound_traffic_policy == OutboundPolicy::RegistryOnly,
            decided_by: None,
        };
        // The namespace's own default Sidecar replaces the root namespace's entirely; one
        // that sets no mode leaves the mesh config's.
        let default_sidecar = |n: &str| {
            self.in_namespace(n, Kind::Sidecar)
                .iter()
                .copied()
                .find(|&i| {
                    let spec = self.resources[i].spec();
                    spec.and_then(|s| s.get("workloadSelector")).is_none()
                })
        };
        let Some(i) = default_sidecar(ns).or_else(|| default_sidecar(root)) else {
            return mesh_wide;
        };
        let spec = self.resources[i].spec();
        match spec.and_then(|s| s.str_at(&["outboundTrafficPolicy", "mode"])) {
            Some(mode) => OutboundPolicyDecision {
                registry_only: mode == "REGISTRY_ONLY",
                decided_by: Some((i, MODE_PATH.to_string())),
            },
            None => mesh_wide,
        }
    }

    /// Whether a resolved host names something outside the cluster: a DNS name that is
    /// not under the cluster's domain or `.local`, not a wildcard and not an IP address.
    /// A two-label name counts only with a common public suffix (`stripe.com`): others
    /// (`reviews.bookinfo`) read as `service.namespace`, which DNS search paths resolve
    /// inside the cluster.
    pub fn is_external_host(&self, fqdn: &str) -> bool {
        const PUBLIC_SUFFIXES: &[&str] = &[
            "com", "org", "net", "io", "dev", "app", "cloud", "ai", "co", "info", "biz", "us",
            "eu", "uk", "de", "fr", "nl", "jp", "cn", "in", "au", "ca", "br",
        ];
        let domain = &self.mesh.dns_domain;
        let local = fqdn == domain.as_str()
            || fqdn.ends_with(&format!(".{domain}"))
            || fqdn.ends_with(".local")
            || fqdn.ends_with(".svc");
        let labels: Vec<&str> = fqdn.split('.').collect();
        let plausible = match labels.len() {
            0 | 1 => false,
            2 => PUBLIC_SUFFIXES.contains(&labels[1].to_ascii_lowercase().as_str()),
            _ => true,
        };
        plausible && !local && !fqdn.contains('*') && fqdn.parse::<std::net::IpAddr>().is_err()
    }

    /// A DestinationRule whose host is external ([`Self::is_external_host`]) and missing
    /// where the rule resolves it (its namespace, or its `exportTo` namespaces), with the
    /// outbound policy of its namespace.
    pub fn external_host_without_entry(&self, i: usize) -> Option<ExternalHostGap> {
        let r = &self.resources[i];
        let Typed::DestinationRule(dr) = &r.typed else {
            return None;
        };
        let fqdn = self.resolve_host(&dr.host, r.namespace());
        if !self.is_external_host(&fqdn) {
            return None;
        }
        let namespaces = self.lookup_namespaces(i);
        let refs: Vec<&str> = namespaces.iter().map(String::as_str).collect();
        let lookup = self.host_lookup(&fqdn, &refs);
        (lookup.state == HostState::Missing).then(|| ExternalHostGap {
            host: dr.host.clone(),
            certain: lookup.certain,
            policy: self.outbound_policy(r.namespace()),
        })
    }
}
