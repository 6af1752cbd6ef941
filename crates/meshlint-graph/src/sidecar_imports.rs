//! Sidecar egress entries that import nothing, and how sure the inputs let us be.
//!
//! An entry `ns/dnsName` imports the hosts of namespace `ns` (`.` is the Sidecar's own,
//! `*` any) that match `dnsName`. A specific host no Service or ServiceEntry of that
//! namespace defines imports nothing; so does a namespace-wide import (`ns/*`) of a
//! namespace that does not exist — judged only when the inputs are the whole mesh or a
//! namespace with a near spelling exists. `~/…` entries import nothing on purpose, and
//! `./…` entries of a mesh-wide default Sidecar mean each workload's own namespace.

use crate::build::MeshGraph;
use crate::queries::HostTarget;
use meshlint_model::Typed;
use serde::Serialize;

/// One egress host entry that imports nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EmptyImport {
    /// Path of the entry (`spec.egress[0].hosts[2]`) and the entry as written.
    pub path: String,
    pub entry: String,
    /// The namespace part made concrete (`.` → the Sidecar's namespace), or `*`.
    pub namespace: String,
    /// The host part resolved to an FQDN in that namespace (a wildcard stays one).
    pub fqdn: String,
    /// A namespace-wide import of a namespace the inputs do not know.
    pub missing_namespace: bool,
    /// An existing namespace spelled like the one written.
    pub namespace_suggestion: Option<String>,
    /// An existing host spelled like the one written, or the same host in another
    /// namespace (then `defined_elsewhere` names where).
    pub host_suggestion: Option<String>,
    pub defined_elsewhere: Vec<HostTarget>,
    /// The entry to write instead when the inputs suggest one: the near namespace with
    /// the host as written, the namespace that defines the host, or the near host with
    /// the namespace that defines it.
    pub suggested_entry: Option<String>,
    /// Whether the inputs are complete enough to be sure.
    pub certain: bool,
}

impl MeshGraph {
    /// The egress entries of a Sidecar that import nothing.
    pub fn empty_sidecar_imports(&self, sidecar: usize) -> Vec<EmptyImport> {
        let r = &self.resources[sidecar];
        let Typed::Sidecar(sc) = &r.typed else {
            return Vec::new();
        };
        let own = r.namespace();
        let root = own == self.mesh.root_namespace;
        let mut out = Vec::new();
        for e in &sc.egress {
            for (j, (ns, host)) in e.hosts.iter().enumerate() {
                if ns == "~" || (ns == "." && root) {
                    continue;
                }
                let namespace = if ns == "." {
                    own.to_string()
                } else {
                    ns.to_string()
                };
                let resolve_in = if ns == "*" { own } else { namespace.as_str() };
                let fqdn = self.resolve_host(host, resolve_in);
                let entry = format!("{ns}/{host}");
                let path = format!("{}.hosts[{j}]", e.path);
                let ns_known = ns == "*" || self.namespace_known(&namespace);
                // A near spelling is evidence of a typo only when few edits apart:
                // `kubeflow-system` next to `kubeflow`, or `knative-eventing` next to
                // `knative-serving`, are other namespaces, created by other installs.
                let namespace_suggestion = (!ns_known)
                    .then(|| self.suggest_namespace(&namespace))
                    .flatten()
                    .filter(|s| misspelling(&namespace, s));
                if host.contains('*') {
                    if !ns_known && (self.closed_world || namespace_suggestion.is_some()) {
                        let suggested_entry =
                            namespace_suggestion.as_ref().map(|n| format!("{n}/{host}"));
                        out.push(EmptyImport {
                            path,
                            entry,
                            namespace,
                            fqdn,
                            missing_namespace: true,
                            namespace_suggestion,
                            host_suggestion: None,
                            defined_elsewhere: Vec::new(),
                            suggested_entry,
                            certain: true,
                        });
                    }
                    continue;
                }
                let targets: Vec<HostTarget> = self
                    .host_targets(&fqdn)
                    .into_iter()
                    .filter(|t| t.host == fqdn)
                    .collect();
                let here = targets
                    .iter()
                    .any(|t| ns == "*" || self.resources[t.resource].namespace() == namespace);
                let lookup = self.host_lookup(&fqdn, &[resolve_in]);
                // Implicit cluster hosts, and hosts the objects without a namespace
                // define when they could be this namespace's, count as imported.
                let unset_reading =
                    targets.is_empty() && lookup.state == crate::HostState::Exported;
                if here || lookup.state == crate::HostState::Implicit || unset_reading {
                    continue;
                }
                let host_suggestion = if targets.is_empty() {
                    lookup.suggestion.clone()
                } else {
                    None
                };
                let defining_namespace =
                    |t: &HostTarget| self.resources[t.resource].namespace().to_string();
                let suggested_entry = if let Some(n) = &namespace_suggestion {
                    Some(format!("{n}/{host}"))
                } else if let Some(t) = targets.first() {
                    Some(format!("{}/{fqdn}", defining_namespace(t)))
                } else {
                    host_suggestion.as_ref().and_then(|s| {
                        let t = self.host_targets(s).into_iter().next()?;
                        Some(format!("{}/{s}", defining_namespace(&t)))
                    })
                };
                let certain = self.closed_world
                    || namespace_suggestion.is_some()
                    || host_suggestion.is_some()
                    || !targets.is_empty()
                    || (ns_known && self.namespace_described(&namespace));
                out.push(EmptyImport {
                    path,
                    entry,
                    namespace,
                    fqdn,
                    missing_namespace: false,
                    namespace_suggestion,
                    host_suggestion,
                    defined_elsewhere: targets,
                    suggested_entry,
                    certain,
                });
            }
        }
        out
    }
}

/// Whether `written` is a plausible misspelling of `existing`: at most two edits apart
/// (insertions, deletions, substitutions or swaps of adjacent characters), and not the
/// existing name with a suffix or prefix added.
fn misspelling(written: &str, existing: &str) -> bool {
    let (a, b): (Vec<char>, Vec<char>) = (written.chars().collect(), existing.chars().collect());
    if a.len().abs_diff(b.len()) > 2 || written.contains(existing) || existing.contains(written) {
        return false;
    }
    // Optimal string alignment distance, two rows back for swaps.
    let mut rows = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in rows.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in rows[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (rows[i - 1][j] + 1)
                .min(rows[i][j - 1] + 1)
                .min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = d;
        }
    }
    rows[a.len()][b.len()] <= 2
}
