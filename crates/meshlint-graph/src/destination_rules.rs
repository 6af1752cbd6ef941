//! Which DestinationRule a client uses for a host, merged as Istio merges them.
//!
//! Istio looks for DestinationRules in the client's namespace, then the namespace of the
//! service, then the root namespace; within a namespace the most specific host wins.
//! Several selector-less DestinationRules there for the same host are one merged rule:
//! the subsets of all of them (on a repeated subset name the first wins) and the
//! top-level traffic policy of the first that has one. "First" is creation order, which
//! offline means input order.

use crate::build::MeshGraph;
use crate::queries::host_matches;
use meshlint_model::typed::{ClientTls, Subset, TrafficPolicy, Typed};
use serde::Serialize;

/// The merged DestinationRule a client sees for a host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MergedDestinationRule {
    /// The documents merged, in input order (at least one).
    pub members: Vec<usize>,
    /// The member whose top-level `trafficPolicy` applies: the first that has one.
    pub policy_from: Option<usize>,
    /// Every subset name with the member (and subset index there) that defines it; on a
    /// repeated name the first member wins.
    pub subsets: Vec<MergedSubset>,
}

/// One subset of a merged DestinationRule and the document that defines it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MergedSubset {
    pub name: String,
    pub member: usize,
    pub index: usize,
}

impl MergedDestinationRule {
    /// The document a finding about the merged rule names: the first member.
    pub fn primary(&self) -> usize {
        self.members[0]
    }

    pub fn subset(&self, name: &str) -> Option<&MergedSubset> {
        self.subsets.iter().find(|s| s.name == name)
    }
}

/// Whether `export_to` (of a resource in `owner_ns`) exports it to `from_ns`.
pub(crate) fn export_allows(export_to: Option<&[String]>, owner_ns: &str, from_ns: &str) -> bool {
    match export_to.filter(|l| !l.is_empty()) {
        None => true,
        Some(list) => list
            .iter()
            .any(|e| e == "*" || (e == "." && owner_ns == from_ns) || e == from_ns),
    }
}

impl MeshGraph {
    /// The merged DestinationRule a client in `client_ns` uses for `fqdn`: the client's
    /// namespace first, then the service's, then the root namespace, honouring
    /// `exportTo`; within a namespace the most specific host wins (exact over wildcard,
    /// longer wildcard over shorter) and every rule for that same host is merged.
    pub fn merged_destination_rule(
        &self,
        client_ns: &str,
        fqdn: &str,
    ) -> Option<MergedDestinationRule> {
        if fqdn.is_empty() {
            return None;
        }
        let root = self.mesh.root_namespace.as_str();
        // Istio skips the proxy's own namespace when it is the root namespace (gateways
        // in istio-system), so a catch-all rule there does not hide the service's own.
        let mut order: Vec<&str> = if client_ns == root {
            Vec::new()
        } else {
            vec![client_ns]
        };
        let targets = self.host_targets(fqdn);
        for t in &targets {
            let ns = self.resources[t.resource].namespace();
            if !order.contains(&ns) {
                order.push(ns);
            }
        }
        if !order.contains(&root) {
            order.push(root);
        }
        for ns in order {
            // (resolved host, specificity, DestinationRule) of every candidate here.
            let mut candidates: Vec<(String, usize, usize)> = Vec::new();
            for d in self.destination_rules_for_host(ns, fqdn) {
                let Typed::DestinationRule(dr) = &self.resources[d].typed else {
                    continue;
                };
                if dr.host.is_empty() || dr.workload_selector.is_some() {
                    continue;
                }
                if !export_allows(dr.export_to.as_deref(), ns, client_ns) {
                    continue;
                }
                let host = self.resolve_host(&dr.host, ns);
                if !host_matches(&host, fqdn) {
                    continue;
                }
                let specificity = if host.starts_with('*') {
                    host.len()
                } else {
                    usize::MAX
                };
                candidates.push((host, specificity, d));
            }
            let Some(best) = candidates.iter().map(|c| c.1).max() else {
                continue;
            };
            let best_host = candidates.iter().find(|c| c.1 == best)?.0.clone();
            let members: Vec<usize> = candidates
                .into_iter()
                .filter(|c| c.0 == best_host)
                .map(|c| c.2)
                .collect();
            return Some(self.merge(members));
        }
        None
    }

    fn merge(&self, members: Vec<usize>) -> MergedDestinationRule {
        let mut subsets: Vec<MergedSubset> = Vec::new();
        let mut policy_from = None;
        for &m in &members {
            let Typed::DestinationRule(dr) = &self.resources[m].typed else {
                continue;
            };
            if policy_from.is_none() && self.resources[m].has_path("spec.trafficPolicy") {
                policy_from = Some(m);
            }
            for (index, s) in dr.subsets.iter().enumerate() {
                if !subsets.iter().any(|x| x.name == s.name) {
                    subsets.push(MergedSubset {
                        name: s.name.to_string(),
                        member: m,
                        index,
                    });
                }
            }
        }
        MergedDestinationRule {
            members,
            policy_from,
            subsets,
        }
    }

    /// Like [`Self::merged_destination_rule`], but when it finds nothing or lacks a
    /// subset, and the objects without a namespace could be those of the client or the
    /// host, their DestinationRule for the same service counts too: for lookups
    /// ("is subset v1 defined?") that an unnamed namespace must not fail.
    pub fn merged_destination_rule_for_lookup(
        &self,
        client_ns: &str,
        fqdn: &str,
    ) -> Option<MergedDestinationRule> {
        let own = self.merged_destination_rule(client_ns, fqdn);
        let unset_fqdn = self
            .in_unset_namespace(fqdn)
            .filter(|_| self.could_be_unset(client_ns));
        let Some(unset_fqdn) = unset_fqdn else {
            return own;
        };
        let Some(unset) =
            self.merged_destination_rule(meshlint_model::UNSET_NAMESPACE, &unset_fqdn)
        else {
            return own;
        };
        let Some(mut own) = own else {
            return Some(unset);
        };
        for s in unset.subsets {
            if own.subset(&s.name).is_none() {
                own.subsets.push(s);
            }
        }
        Some(own)
    }

    /// The DestinationRule a client in `client_ns` uses for `fqdn` (the first document
    /// of the merged rule; see [`Self::merged_destination_rule`]).
    pub fn destination_rule_for(&self, client_ns: &str, fqdn: &str) -> Option<usize> {
        self.merged_destination_rule(client_ns, fqdn)
            .map(|m| m.primary())
    }

    /// A subset of a merged rule, with its definition.
    pub fn merged_subset(&self, merged: &MergedDestinationRule, name: &str) -> Option<&Subset> {
        let s = merged.subset(name)?;
        match &self.resources[s.member].typed {
            Typed::DestinationRule(dr) => dr.subsets.get(s.index),
            _ => None,
        }
    }

    /// The client TLS setting for (client namespace, host, port, subset): subset
    /// port-level, subset, top-level port-level, top-level — over the merged
    /// DestinationRule. `value` is the mode, or `UNSET` when no DestinationRule sets one
    /// (auto mTLS decides then); the source names the document and field that decided.
    pub fn client_tls(
        &self,
        client_ns: &str,
        fqdn: &str,
        port: Option<u32>,
        subset: Option<&str>,
    ) -> (crate::Decision, Option<ClientTls>) {
        let unset = || crate::Decision {
            value: "UNSET".to_string(),
            source: None,
        };
        let Some(merged) = self.merged_destination_rule(client_ns, fqdn) else {
            return (unset(), None);
        };
        let pick = |tp: &TrafficPolicy| -> Option<ClientTls> {
            if let Some(port) = port {
                if let Some(pt) = tp.port_level.iter().find(|p| p.port == port) {
                    if let Some(tls) = &pt.tls {
                        return Some(tls.clone());
                    }
                }
            }
            tp.tls.clone()
        };
        let from_subset = subset.and_then(|name| {
            let s = merged.subset(name)?;
            let def = self.merged_subset(&merged, name)?;
            pick(def.traffic_policy()).map(|tls| (s.member, tls))
        });
        let from_top = || {
            let m = merged.policy_from?;
            match &self.resources[m].typed {
                Typed::DestinationRule(dr) => pick(&dr.traffic_policy).map(|tls| (m, tls)),
                _ => None,
            }
        };
        match from_subset.or_else(from_top) {
            Some((m, tls)) => (
                crate::Decision {
                    value: tls.mode.to_string(),
                    source: Some((m, format!("{}.mode", tls.path))),
                },
                Some(tls),
            ),
            None => (
                crate::Decision {
                    value: "UNSET".to_string(),
                    source: Some((merged.primary(), "spec.host".to_string())),
                },
                None,
            ),
        }
    }
}
