//! VirtualService destinations naming a subset that the DestinationRule their proxies
//! use does not define.
//!
//! Proxies in the VirtualService's namespace look the host's DestinationRule up in their
//! own namespace, the host's, then the root namespace (several selector-less documents
//! for one host in one namespace merge). A subset it does not define has no Envoy
//! cluster. One answer per distinct (host, subset).

use crate::build::MeshGraph;
use crate::destination_rules::MergedDestinationRule;
use meshlint_model::Typed;
use serde::Serialize;

/// A destination whose subset no applicable DestinationRule defines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UndefinedSubset {
    /// Path of the `destination` block.
    pub path: String,
    pub fqdn: String,
    pub subset: String,
    /// The DestinationRule the VirtualService's namespace uses for the host, if any.
    pub rule: Option<MergedDestinationRule>,
}

impl MeshGraph {
    /// The route destinations of a VirtualService whose subset is not defined, in route
    /// order, once per (host, subset).
    pub fn undefined_subsets(&self, vs: usize) -> Vec<UndefinedSubset> {
        let r = &self.resources[vs];
        let Typed::VirtualService(v) = &r.typed else {
            return Vec::new();
        };
        let ns = r.namespace();
        let mut seen: Vec<(String, &str)> = Vec::new();
        let mut out = Vec::new();
        for d in &v.destinations {
            let Some(subset) = d.subset.as_deref().filter(|s| !s.is_empty()) else {
                continue;
            };
            let fqdn = self.resolve_host(&d.host, ns);
            if seen.iter().any(|(h, s)| *h == fqdn && *s == subset) {
                continue;
            }
            seen.push((fqdn.clone(), subset));
            let rule = self.merged_destination_rule_for_lookup(ns, &fqdn);
            if rule
                .as_ref()
                .is_some_and(|m| m.subsets.iter().any(|s| s.name == subset))
            {
                continue;
            }
            out.push(UndefinedSubset {
                path: d.path.to_string(),
                fqdn,
                subset: subset.to_string(),
                rule,
            });
        }
        out
    }
}
