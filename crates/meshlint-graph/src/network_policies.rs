//! Kubernetes NetworkPolicies in front of ambient workloads.
//!
//! Istio's documentation ("Ambient and Kubernetes NetworkPolicy"): mesh traffic reaches
//! an ambient pod as HBONE on port 15008, so a policy that admits only the application
//! ports refuses it; kubelet probes of ambient pods are sent from the link-local address
//! 169.254.7.127 (SNAT), which a policy must admit or the probes fail.

use crate::build::MeshGraph;
use meshlint_load::Node;
use meshlint_model::typed::{Labels, Typed};
use meshlint_model::Kind;
use serde::Serialize;

pub const HBONE_PORT: i64 = 15008;
pub const PROBE_SOURCE: &str = "169.254.7.127";

/// What a NetworkPolicy refuses to the ambient workloads it selects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AmbientNetworkBlock {
    /// The ambient workloads selected.
    pub workloads: Vec<usize>,
    /// Every ingress rule lists ports and none is 15008: HBONE is refused.
    pub hbone_blocked: bool,
    /// Ambient workloads with network probes whose probe source no rule admits.
    pub probes_blocked: Vec<usize>,
}

fn ipv4(s: &str) -> Option<u32> {
    let mut out = 0u32;
    let mut n = 0;
    for part in s.split('.') {
        out = (out << 8) | part.parse::<u8>().ok()? as u32;
        n += 1;
    }
    (n == 4).then_some(out)
}

/// Whether an IPv4 CIDR contains an address (false for anything unparsable or IPv6).
fn cidr_contains(cidr: &str, addr: &str) -> bool {
    let (net, bits) = cidr.split_once('/').unwrap_or((cidr, "32"));
    let (Some(net), Some(a), Ok(bits)) = (ipv4(net), ipv4(addr), bits.parse::<u32>()) else {
        return false;
    };
    if bits > 32 {
        return false;
    }
    let mask = if bits == 0 {
        0
    } else {
        u32::MAX << (32 - bits)
    };
    net & mask == a & mask
}

impl MeshGraph {
    /// Whether a workload's containers declare a probe that kubelet sends over the
    /// network (HTTP, TCP or gRPC; exec probes run inside the container).
    fn has_network_probe(&self, w: usize) -> bool {
        let Typed::Workload(wl) = &self.resources[w].typed else {
            return false;
        };
        let Some(path) =
            meshlint_load::PathSegment::parse_path(&format!("{}.containers", wl.pod_spec_path))
        else {
            return false;
        };
        let Some((containers, _)) = self.resources[w].node.lookup(&path) else {
            return false;
        };
        containers.items().iter().any(|c| {
            ["readinessProbe", "livenessProbe", "startupProbe"]
                .iter()
                .any(|p| {
                    c.get(p).is_some_and(|probe| {
                        ["httpGet", "tcpSocket", "grpc"]
                            .iter()
                            .any(|k| probe.get(k).is_some())
                    })
                })
        })
    }

    /// What a NetworkPolicy refuses to the ambient workloads of the inputs it selects;
    /// None when it selects none, does not restrict ingress, or meshlint cannot tell
    /// (selector expressions).
    pub fn ambient_network_block(&self, np: usize) -> Option<AmbientNetworkBlock> {
        let r = &self.resources[np];
        if r.kind != Kind::NetworkPolicy {
            return None;
        }
        let spec = r.spec()?;
        let types: Vec<&str> = spec
            .get("policyTypes")
            .map(|t| t.items().iter().filter_map(Node::as_str).collect())
            .unwrap_or_default();
        let ingress = spec.get("ingress");
        // Without `policyTypes` a policy always restricts ingress.
        if !types.is_empty() && !types.contains(&"Ingress") {
            return None;
        }
        let pod_selector = spec.get("podSelector");
        if pod_selector
            .and_then(|s| s.get("matchExpressions"))
            .is_some_and(|e| !e.items().is_empty())
        {
            return None;
        }
        let labels: Labels = pod_selector
            .and_then(|s| s.get("matchLabels"))
            .and_then(Node::as_map)
            .unwrap_or(&[])
            .iter()
            .filter_map(|(k, v)| Some((k.as_str()?.to_string(), v.as_str()?.to_string())))
            .collect();
        let workloads: Vec<usize> = self
            .workloads_selected(r.namespace(), &labels)
            .into_iter()
            .filter(|&w| self.is_ambient(w))
            .collect();
        if workloads.is_empty() {
            return None;
        }
        let rules = ingress.map(|i| i.items()).unwrap_or(&[]);
        // A rule without `ports` admits every port from its peers.
        let port_of = |p: &Node| p.get("port").and_then(Node::as_i64);
        let hbone_blocked = !rules.is_empty()
            && rules.iter().all(|rule| {
                rule.get("ports").is_some_and(|ps| {
                    !ps.items().is_empty()
                        && ps.items().iter().all(|p| {
                            // Named ports and ranges: treat as admitting (cannot tell).
                            match port_of(p) {
                                Some(n) => {
                                    let end = p.get("endPort").and_then(Node::as_i64).unwrap_or(n);
                                    !(n..=end).contains(&HBONE_PORT)
                                }
                                None => p.get("port").is_some(),
                            }
                        })
                })
            });
        // The probe source is admitted by a rule without `from` (any peer) or with an
        // ipBlock containing it (and not excepting it).
        let probes_admitted = rules.iter().any(|rule| match rule.get("from") {
            None => true,
            Some(from) if from.items().is_empty() => true,
            Some(from) => from.items().iter().any(|peer| {
                peer.get("ipBlock").is_some_and(|b| {
                    b.str_at(&["cidr"])
                        .is_some_and(|c| cidr_contains(c, PROBE_SOURCE))
                        && !b.get("except").is_some_and(|e| {
                            e.items()
                                .iter()
                                .filter_map(Node::as_str)
                                .any(|c| cidr_contains(c, PROBE_SOURCE))
                        })
                })
            }),
        });
        let probes_blocked = if probes_admitted {
            Vec::new()
        } else {
            workloads
                .iter()
                .copied()
                .filter(|&w| self.has_network_probe(w))
                .collect()
        };
        if !hbone_blocked && probes_blocked.is_empty() {
            return None;
        }
        Some(AmbientNetworkBlock {
            workloads,
            hbone_blocked,
            probes_blocked,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::cidr_contains;

    #[test]
    fn cidrs() {
        assert!(cidr_contains("169.254.7.127/32", "169.254.7.127"));
        assert!(cidr_contains("169.254.0.0/16", "169.254.7.127"));
        assert!(cidr_contains("0.0.0.0/0", "169.254.7.127"));
        assert!(!cidr_contains("10.0.0.0/8", "169.254.7.127"));
        assert!(!cidr_contains("fd00::/8", "169.254.7.127"));
    }
}
