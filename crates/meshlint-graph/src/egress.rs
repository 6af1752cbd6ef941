//! Calls that leave the mesh (issue 14, item 10): which outbound traffic policy applies
//! to a namespace's proxies, and whether a host is outside the cluster's DNS domain.

use crate::MeshGraph;
use meshlint_model::{Kind, OutboundPolicy};

/// The outbound traffic policy the proxies of a namespace follow, and what decided it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundPolicyDecision {
    /// `REGISTRY_ONLY`: calls to hosts the proxy does not know go to the BlackHoleCluster.
    pub registry_only: bool,
    /// The namespace-wide Sidecar and the path of its `outboundTrafficPolicy.mode`, or
    /// `None` when the mesh config (or Istio's default, `ALLOW_ANY`) decides.
    pub decided_by: Option<(usize, String)>,
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
}
