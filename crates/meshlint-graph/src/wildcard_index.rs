//! The index behind [`MeshGraph::host_targets`] for a wildcard host (`*.example.com`,
//! say, the host of a DestinationRule): the hosts and wildcard entries it covers, by
//! their dot-suffixes, instead of a scan of every host per question (issue 17: one
//! scan per wildcard DestinationRule was quadratic on meshes of wildcard entries).

use crate::build::MeshGraph;
use crate::fast_map::HashMap;
use crate::tally::Tally;

/// Hosts by every dot-suffix they end with; built on first use.
#[derive(Default)]
pub(crate) struct WildcardPatterns {
    /// Concrete hosts (keys of `MeshGraph::hosts`).
    hosts: Tally<Vec<std::sync::Arc<str>>>,
    /// `.b.c` → the concrete hosts ending with it (`a.b.c`), as indexes into `hosts`.
    hosts_by_suffix: Tally<HashMap<String, Vec<u32>>>,
    /// `.b.c` → the wildcard entries (indexes into `MeshGraph::wildcard_hosts`) whose
    /// suffix ends with it (`*.a.b.c`, `*.b.c`).
    wildcards_by_suffix: Tally<HashMap<String, Vec<u32>>>,
}

/// The dot-suffixes of `s`: `a.b.c` → `.b.c`, `.c`; `.a.b` → `.a.b`, `.b`.
fn dot_suffixes(s: &str) -> impl Iterator<Item = &str> {
    s.match_indices('.').map(move |(i, _)| &s[i..])
}

impl WildcardPatterns {
    fn build(g: &MeshGraph) -> WildcardPatterns {
        let mut index = WildcardPatterns {
            hosts: g.hosts.keys().cloned().collect(),
            ..WildcardPatterns::default()
        };
        for (i, h) in index.hosts.iter().enumerate() {
            for suffix in dot_suffixes(h) {
                index
                    .hosts_by_suffix
                    .entry(suffix.to_string())
                    .or_default()
                    .push(i as u32);
            }
        }
        for (i, (suffix, _)) in g.wildcard_hosts.iter().enumerate() {
            for s in dot_suffixes(suffix) {
                index
                    .wildcards_by_suffix
                    .entry(s.to_string())
                    .or_default()
                    .push(i as u32);
            }
        }
        index
    }
}

impl MeshGraph {
    /// For a wildcard `pattern` whose suffix starts at a dot (`*.b.c`), the concrete
    /// hosts and the wildcard entries (their position in `wildcard_hosts`) it covers,
    /// exactly those `host_matches(pattern, …)` accepts. `None` for other patterns
    /// (`*`, or `*b.c`, which also covers `ab.c`): the caller scans.
    pub(crate) fn covered_by_wildcard(&self, pattern: &str) -> Option<(Vec<&str>, Vec<usize>)> {
        let suffix = pattern.strip_prefix('*')?;
        if !suffix.starts_with('.') {
            return None;
        }
        let index = self
            .wildcard_patterns
            .get_or_init(|| WildcardPatterns::build(self));
        let hosts = index.hosts_by_suffix.get(suffix).into_iter().flatten();
        let wildcards = index.wildcards_by_suffix.get(suffix).into_iter().flatten();
        let hosts: Vec<&str> = hosts.map(|&i| &*index.hosts[i as usize]).collect();
        let wildcards: Vec<usize> = wildcards.map(|&i| i as usize).collect();
        Some((hosts, wildcards))
    }
}
