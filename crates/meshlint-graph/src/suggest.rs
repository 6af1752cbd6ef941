//! The index behind [`MeshGraph::suggest_host`]: a missing host is compared only with
//! the hosts that could be suggested for it, not with every host of the mesh (issue 17:
//! sorting and scanning all hosts per missing host was quadratic in the hosts).

use crate::build::MeshGraph;
use std::collections::HashMap;

/// Hosts by the keys a suggestion looks them up by; built on first use.
#[derive(Default)]
pub(crate) struct HostSuggestions {
    /// Service hosts (`<name>.<ns>.svc.<domain>`) by their first label, sorted.
    by_short_name: HashMap<String, Vec<String>>,
    /// Hosts by their labels with one of them left out (`reviews.*.svc.cluster.local`
    /// is `(1, "reviews..svc.cluster.local")`): the hosts differing from a given one in
    /// exactly that label.
    by_other_labels: HashMap<(usize, String), Vec<String>>,
}

/// The labels of `host` joined without label `i` (the key of hosts differing there).
fn without_label(labels: &[&str], i: usize) -> String {
    let mut key = String::new();
    for (j, l) in labels.iter().enumerate() {
        if j > 0 {
            key.push('.');
        }
        if j != i {
            key.push_str(l);
        }
    }
    key
}

impl HostSuggestions {
    fn build(g: &MeshGraph) -> HostSuggestions {
        let cluster = format!(".svc.{}", g.mesh.dns_domain);
        let mut index = HostSuggestions::default();
        for host in g.hosts.keys() {
            if host.ends_with(&cluster) {
                let short = host.split('.').next().unwrap_or(host);
                index
                    .by_short_name
                    .entry(short.to_string())
                    .or_default()
                    .push(host.clone());
            }
            let labels: Vec<&str> = host.split('.').collect();
            for i in 0..labels.len() {
                index
                    .by_other_labels
                    .entry((i, without_label(&labels, i)))
                    .or_default()
                    .push(host.clone());
            }
        }
        for hosts in index
            .by_short_name
            .values_mut()
            .chain(index.by_other_labels.values_mut())
        {
            hosts.sort();
        }
        index
    }
}

impl MeshGraph {
    /// A host that does exist and looks like what was meant: the same short name in
    /// another namespace, or a near spelling.
    pub fn suggest_host(&self, fqdn: &str) -> Option<String> {
        let index = self
            .host_suggestions
            .get_or_init(|| HostSuggestions::build(self));
        let short = fqdn.split('.').next().unwrap_or(fqdn);
        let cluster = format!(".svc.{}", self.mesh.dns_domain);
        // The same Service name in another namespace (the short-host-in-the-wrong-
        // namespace mistake): the first such host in name order.
        if fqdn.ends_with(&cluster) {
            let same = index.by_short_name.get(short).into_iter().flatten();
            if let Some(same) = same.into_iter().find(|h| *h != fqdn) {
                return Some(same.clone());
            }
        }
        // A host that differs in one label, spelled nearly the same (`reveiws.ns…` →
        // `reviews.ns…`; `ratings.ns…` does not suggest `reviews.ns…`). Candidates
        // are compared in name order, as `did_you_mean` keeps the first of equals.
        let labels: Vec<&str> = fqdn.split('.').collect();
        let mut near: Vec<&str> = Vec::new();
        for (i, label) in labels.iter().enumerate() {
            let key = (i, without_label(&labels, i));
            for h in index.by_other_labels.get(&key).into_iter().flatten() {
                let other = h.split('.').nth(i).unwrap_or("");
                if h != fqdn && meshlint_model::schema::did_you_mean(label, [other]).is_some() {
                    near.push(h);
                }
            }
        }
        near.sort_unstable();
        near.dedup();
        meshlint_model::schema::did_you_mean(fqdn, near).map(str::to_string)
    }
}
