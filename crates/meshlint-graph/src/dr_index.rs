//! The DestinationRules of each namespace by the host they name, so that
//! `merged_destination_rule` (asked per client namespace, host and port by many rules)
//! looks at the rules that can match a host instead of every DestinationRule of the
//! namespaces on its lookup path (issue 17: quadratic in a namespace holding many).

use crate::build::MeshGraph;
use crate::fast_map::{HashMap, HashSet};
use crate::flat_map::{FlatMap, Frozen};
use crate::tally::Tally;
use meshlint_model::{Kind, Typed};
use std::collections::BTreeSet;

/// DestinationRules without a workload selector and with a host, by (namespace, host);
/// built on first use.
#[derive(Default)]
pub(crate) struct DestinationRulesByHost {
    /// (resolved concrete host, namespace) → rules, in input order. The host is its
    /// position in `exact_anywhere` and the namespace the number of its first
    /// DestinationRule, so a key holds no copy of either: copies took 8 MB on the
    /// 20,000-namespace gen-mesh corpus.
    exact: Tally<FlatMap<(u32, u32), Frozen>>,
    /// (namespace, what follows `*` when it starts at a dot, or is empty for `*`) →
    /// rules, in input order.
    wildcard: Tally<HashMap<(String, String), Vec<usize>>>,
    /// Namespace → rules whose host is another wildcard (`*x.com`), matched by scanning.
    odd: Tally<HashMap<String, Vec<usize>>>,
    /// The same three without the namespace: every namespace's rules for a host.
    /// Keyed by the graph's copy of each host it defines (`MeshGraph::shared_host`).
    exact_anywhere: Tally<FlatMap<std::sync::Arc<str>, Frozen>>,
    wildcard_anywhere: Tally<HashMap<String, Vec<usize>>>,
    odd_anywhere: Tally<Vec<usize>>,
    /// What follows `*` in the host of every DestinationRule (workload selector or not)
    /// whose top-level `tls` sets a mode other than UNSET: whether one covers a wildcard
    /// is a lookup of the wildcard's suffixes.
    tls_wildcard_suffixes: Tally<HashSet<String>>,
}

impl DestinationRulesByHost {
    fn index_destination_rules(g: &MeshGraph) -> DestinationRulesByHost {
        // One host per DestinationRule: a bound of the exact hosts.
        let rules = g.of_kind(Kind::DestinationRule).len();
        let mut ix = DestinationRulesByHost::default();
        // Built with growing lists, kept with frozen ones.
        let mut exact: FlatMap<(u32, u32), Vec<usize>> = FlatMap::with_capacity(rules);
        let mut exact_anywhere: FlatMap<std::sync::Arc<str>, Vec<usize>> =
            FlatMap::with_capacity(rules);
        for &d in g.of_kind(Kind::DestinationRule) {
            let r = &g.resources[d];
            let Typed::DestinationRule(dr) = &r.typed else {
                continue;
            };
            if let Some((mode, host)) = g.dr_top_mode(d) {
                if let Some(suffix) = host.strip_prefix('*').filter(|_| mode != "UNSET") {
                    ix.tls_wildcard_suffixes.insert(suffix.to_string());
                }
            }
            if dr.host.is_empty() || dr.workload_selector.is_some() {
                continue;
            }
            let ns = r.namespace().to_string();
            let host = g.resolve_host(&dr.host, &ns);
            match host.strip_prefix('*') {
                None => {
                    let at = match exact_anywhere.position_of(host.as_str()) {
                        Some(at) => at,
                        None => {
                            exact_anywhere.list(g.shared_host(&host));
                            exact_anywhere.len() as u32 - 1
                        }
                    };
                    exact_anywhere.at_mut(at).push(d);
                    // Every rule of the namespace is of the kind, so it has a first.
                    let first = g
                        .first_in_namespace(&ns, Kind::DestinationRule)
                        .unwrap_or(d);
                    exact.list((at, first as u32)).push(d);
                }
                Some(s) if s.is_empty() || s.starts_with('.') => {
                    ix.wildcard_anywhere
                        .entry(s.to_string())
                        .or_insert_with(crate::tally::new_list)
                        .push(d);
                    ix.wildcard
                        .entry((ns, s.to_string()))
                        .or_insert_with(crate::tally::new_list)
                        .push(d);
                }
                Some(_) => {
                    ix.odd_anywhere.push(d);
                    ix.odd
                        .entry(ns)
                        .or_insert_with(crate::tally::new_list)
                        .push(d);
                }
            }
        }
        ix.exact = Tally::new(exact.freeze());
        crate::tally::shrink_lists(&mut ix.wildcard);
        crate::tally::shrink_lists(&mut ix.odd);
        ix.exact_anywhere = Tally::new(exact_anywhere.freeze());
        crate::tally::shrink_lists(&mut ix.wildcard_anywhere);
        ix
    }
}

impl MeshGraph {
    pub(crate) fn dr_by_host(&self) -> &DestinationRulesByHost {
        self.dr_by_host
            .get_or_init(|| DestinationRulesByHost::index_destination_rules(self))
    }

    /// For a concrete host, the namespaces whose clients may find another merged
    /// DestinationRule for it than a namespace that no DestinationRule names: the root
    /// namespace, the namespaces defining the host, and for each DestinationRule whose
    /// host can match it, its namespace and its `exportTo` list. Any other client looks
    /// in its own namespace (nothing there), then the same namespaces with the same
    /// `exportTo` answers, so all of them share one answer. `None` for a wildcard.
    pub(crate) fn namespaces_resolving_apart(&self, fqdn: &str) -> Option<BTreeSet<String>> {
        if fqdn.contains('*') {
            return None;
        }
        let ix = self.dr_by_host();
        let mut out = BTreeSet::from([self.mesh.root_namespace.clone()]);
        for t in self.host_targets(fqdn) {
            out.insert(self.resources[t.resource].namespace().to_string());
        }
        let suffixes = std::iter::once("").chain(fqdn.match_indices('.').map(|(i, _)| &fqdn[i..]));
        let rules = ix
            .exact_anywhere
            .walk(fqdn)
            .chain(suffixes.flat_map(|s| ix.wildcard_anywhere.walk(s)))
            .chain(ix.odd_anywhere.iter());
        for &d in rules {
            out.insert(self.resources[d].namespace().to_string());
            out.extend(self.export_scope_of(d).unwrap_or_default());
        }
        Some(out)
    }

    /// Whether some DestinationRule with a top-level TLS mode (not UNSET) has a host
    /// covering the wildcard `pattern` (`*.ns.svc.cluster.local`): `*`, or `*` and any
    /// string suffix of what follows the pattern's `*` (as `mesh_mtls::covers` decides).
    pub(crate) fn tls_mode_covers_wildcard(&self, pattern: &str) -> bool {
        let ix = self.dr_by_host();
        let rest = pattern.strip_prefix('*').unwrap_or(pattern);
        (0..=rest.len())
            .filter(|&i| rest.is_char_boundary(i))
            .any(|i| ix.tls_wildcard_suffixes.contains(&rest[i..]))
    }

    /// The DestinationRules of `ns` (no workload selector, a host) whose host can match
    /// `fqdn`, in input order: for a concrete host, those naming it, `*`, one of its
    /// `*.suffix` wildcards or another wildcard; for a wildcard, every one of `ns`.
    /// A superset: the caller still tests each host.
    pub(crate) fn destination_rules_for_host(&self, ns: &str, fqdn: &str) -> Vec<usize> {
        if fqdn.contains('*') {
            return self.in_namespace(ns, Kind::DestinationRule).to_vec();
        }
        let ix = self.dr_by_host();
        let key = |h: &str| (ns.to_string(), h.to_string());
        let suffixes = std::iter::once("").chain(fqdn.match_indices('.').map(|(i, _)| &fqdn[i..]));
        let at = ix.exact_anywhere.position_of(fqdn);
        let first = self.first_in_namespace(ns, Kind::DestinationRule);
        let mut out: Vec<usize> = match at.zip(first) {
            Some((at, first)) => ix.exact.walk(&(at, first as u32)).copied().collect(),
            // No key has this host or namespace: a lookup that finds nothing.
            None => {
                meshlint_diag::work::add(1);
                Vec::new()
            }
        };
        for s in suffixes {
            out.extend(ix.wildcard.walk(&key(s)).copied());
        }
        out.extend(ix.odd.walk(ns).copied());
        out.sort_unstable();
        out.dedup();
        out
    }
}
