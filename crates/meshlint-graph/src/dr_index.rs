//! The DestinationRules of each namespace by the host they name, so that
//! `merged_destination_rule` (asked per client namespace, host and port by many rules)
//! looks at the rules that can match a host instead of every DestinationRule of the
//! namespaces on its lookup path (issue 17: quadratic in a namespace holding many).

use crate::build::MeshGraph;
use crate::tally::Tally;
use meshlint_model::{Kind, Typed};
use std::collections::HashMap;

/// DestinationRules without a workload selector and with a host, by (namespace, host);
/// built on first use.
#[derive(Default)]
pub(crate) struct DestinationRulesByHost {
    /// (namespace, resolved concrete host) → rules, in input order.
    exact: Tally<HashMap<(String, String), Vec<usize>>>,
    /// (namespace, what follows `*` when it starts at a dot, or is empty for `*`) →
    /// rules, in input order.
    wildcard: Tally<HashMap<(String, String), Vec<usize>>>,
    /// Namespace → rules whose host is another wildcard (`*x.com`), matched by scanning.
    odd: Tally<HashMap<String, Vec<usize>>>,
}

impl DestinationRulesByHost {
    fn build(g: &MeshGraph) -> DestinationRulesByHost {
        let mut ix = DestinationRulesByHost::default();
        for &d in g.of_kind(Kind::DestinationRule) {
            let r = &g.resources[d];
            let Typed::DestinationRule(dr) = &r.typed else {
                continue;
            };
            if dr.host.is_empty() || dr.workload_selector.is_some() {
                continue;
            }
            let ns = r.namespace().to_string();
            let host = g.resolve_host(&dr.host, &ns);
            let list = match host.strip_prefix('*') {
                None => ix.exact.entry((ns, host)).or_default(),
                Some(s) if s.is_empty() || s.starts_with('.') => {
                    ix.wildcard.entry((ns, s.to_string())).or_default()
                }
                Some(_) => ix.odd.entry(ns).or_default(),
            };
            list.push(d);
        }
        ix
    }
}

impl MeshGraph {
    /// The DestinationRules of `ns` (no workload selector, a host) whose host can match
    /// `fqdn`, in input order: for a concrete host, those naming it, `*`, one of its
    /// `*.suffix` wildcards or another wildcard; for a wildcard, every one of `ns`.
    /// A superset: the caller still tests each host.
    pub(crate) fn destination_rules_for_host(&self, ns: &str, fqdn: &str) -> Vec<usize> {
        if fqdn.contains('*') {
            return self.in_namespace(ns, Kind::DestinationRule).to_vec();
        }
        let ix = self
            .dr_by_host
            .get_or_init(|| DestinationRulesByHost::build(self));
        let key = |h: &str| (ns.to_string(), h.to_string());
        let suffixes = std::iter::once("").chain(fqdn.match_indices('.').map(|(i, _)| &fqdn[i..]));
        let mut out: Vec<usize> = ix.exact.walk(&key(fqdn)).copied().collect();
        for s in suffixes {
            out.extend(ix.wildcard.walk(&key(s)).copied());
        }
        out.extend(ix.odd.walk(ns).copied());
        out.sort_unstable();
        out.dedup();
        out
    }
}
