//! Did-you-mean over host and namespace names, answered from indexes.
//!
//! A missing host or namespace is usually written many times (every Sidecar of a
//! generated mesh imports `istio-system/*`; every route of a VirtualService names the
//! same misspelt host). Comparing it with every name of the inputs each time is
//! quadratic, so the graph builds the candidate indexes once and remembers each answer
//! per distinct name. Rules run in parallel, so the memo sits behind a mutex; a race
//! computes the same answer twice, never a different one.

use crate::build::MeshGraph;
use crate::tally::Tally;
use std::collections::HashMap;
use std::sync::Mutex;

/// Candidate indexes over the exact hosts of the inputs, and the answers given so far.
#[derive(Debug, Default)]
pub(crate) struct NameIndex {
    /// Every exact host of a Service or ServiceEntry, sorted: an answer's tie-breaks
    /// follow this order.
    hosts: Tally<Vec<String>>,
    /// First label → cluster-local hosts (`name.ns.svc.<domain>`) with that Service
    /// name, as positions in `hosts` (ascending).
    by_short_name: Tally<HashMap<String, Vec<usize>>>,
    /// A host with one label left out (its position, the other labels) → the hosts
    /// spelled that way, as positions in `hosts`: the hosts differing from a given one
    /// in exactly that label.
    by_other_labels: Tally<HashMap<(usize, String), Vec<usize>>>,
    host_answers: Mutex<HashMap<String, Option<String>>>,
    namespace_answers: Mutex<HashMap<String, Option<String>>>,
}

/// The labels of a host but the one at `skip`, joined (the key of `by_other_labels`).
fn other_labels(labels: &[&str], skip: usize) -> String {
    let mut key = String::new();
    for (i, l) in labels.iter().enumerate() {
        if i != skip {
            key.push_str(l);
        }
        key.push('.');
    }
    key
}

fn first_label(host: &str) -> &str {
    host.split('.').next().unwrap_or(host)
}

impl NameIndex {
    fn build(g: &MeshGraph) -> NameIndex {
        let mut hosts: Vec<String> = g.hosts.keys().map(|h| h.to_string()).collect();
        hosts.sort();
        let cluster = format!(".svc.{}", g.mesh.dns_domain);
        let mut by_short_name: HashMap<String, Vec<usize>> = HashMap::new();
        let mut by_other_labels: HashMap<(usize, String), Vec<usize>> = HashMap::new();
        for (i, h) in hosts.iter().enumerate() {
            if h.ends_with(&cluster) {
                by_short_name
                    .entry(first_label(h).to_string())
                    .or_default()
                    .push(i);
            }
            let labels: Vec<&str> = h.split('.').collect();
            for skip in 0..labels.len() {
                by_other_labels
                    .entry((skip, other_labels(&labels, skip)))
                    .or_default()
                    .push(i);
            }
        }
        NameIndex {
            hosts: Tally::new(hosts),
            by_short_name: Tally::new(by_short_name),
            by_other_labels: Tally::new(by_other_labels),
            ..NameIndex::default()
        }
    }

    /// See [`MeshGraph::suggest_host`].
    fn suggest_host(&self, fqdn: &str, cluster: &str) -> Option<String> {
        // The same Service name in another namespace (the short host written in the
        // wrong namespace): the first such host in sorted order.
        if fqdn.ends_with(cluster) {
            let same = self
                .by_short_name
                .get(first_label(fqdn))
                .into_iter()
                .flatten()
                .map(|&i| &self.hosts[i])
                .find(|h| *h != fqdn);
            if let Some(h) = same {
                return Some(h.clone());
            }
        }
        // A host that differs in one label, spelled nearly the same (`reveiws.ns…` →
        // `reviews.ns…`; `ratings.ns…` does not suggest `reviews.ns…`).
        let labels: Vec<&str> = fqdn.split('.').collect();
        let mut near: Vec<usize> = Vec::new();
        for skip in 0..labels.len() {
            let Some(found) = self
                .by_other_labels
                .get(&(skip, other_labels(&labels, skip)))
            else {
                continue;
            };
            near.extend(found.iter().copied().filter(|&i| {
                let other = self.hosts[i].split('.').nth(skip).unwrap_or("");
                other != labels[skip]
                    && meshlint_model::schema::did_you_mean(labels[skip], [other]).is_some()
            }));
        }
        near.sort_unstable();
        near.dedup();
        meshlint_model::schema::did_you_mean(fqdn, near.iter().map(|&i| self.hosts[i].as_str()))
            .map(str::to_string)
    }
}

/// The remembered answer for `key`, computed outside the lock when new.
fn memoized(
    memo: &Mutex<HashMap<String, Option<String>>>,
    key: &str,
    compute: impl FnOnce() -> Option<String>,
) -> Option<String> {
    if let Some(known) = memo.lock().ok().and_then(|m| m.get(key).cloned()) {
        return known;
    }
    let answer = compute();
    if let Ok(mut m) = memo.lock() {
        m.insert(key.to_string(), answer.clone());
    }
    answer
}

impl MeshGraph {
    fn name_index(&self) -> &NameIndex {
        self.name_index.get_or_init(|| NameIndex::build(self))
    }

    /// A host that does exist and looks like what was meant: the same Service name in
    /// another namespace, else a near spelling differing in one label. Indexed, and
    /// remembered per distinct host.
    pub fn suggest_host(&self, fqdn: &str) -> Option<String> {
        let ix = self.name_index();
        memoized(&ix.host_answers, fqdn, || {
            ix.suggest_host(fqdn, &format!(".svc.{}", self.mesh.dns_domain))
        })
    }

    /// A namespace of the inputs (or the root namespace) spelled like `ns` (not `ns`
    /// itself), if any. Remembered per distinct name: one comparison with every
    /// namespace per misspelling, however often it is written.
    pub fn suggest_namespace(&self, ns: &str) -> Option<String> {
        memoized(&self.name_index().namespace_answers, ns, || {
            meshlint_model::schema::did_you_mean(
                ns,
                self.known_namespaces
                    .iter()
                    .map(String::as_str)
                    .chain(std::iter::once(self.mesh.root_namespace.as_str()))
                    .filter(|n| *n != ns),
            )
            .map(str::to_string)
        })
    }
}
