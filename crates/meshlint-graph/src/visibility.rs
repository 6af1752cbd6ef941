//! Host visibility: Sidecar egress imports and `exportTo` scopes, and the client
//! namespaces that use a resource.

use crate::build::MeshGraph;
use crate::destination_rules::export_allows;
use crate::queries::*;
use meshlint_model::typed::*;
use meshlint_model::Kind;
use serde::Serialize;

/// Whether a host is visible from a namespace, and if not, what hides it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Visibility {
    pub visible: bool,
    pub hidden_by: Option<(usize, String)>,
    pub reason: String,
}

/// The `exportTo` of a resource that defines a host (a Service or ServiceEntry).
fn host_definition_export(typed: &Typed) -> Option<&[String]> {
    match typed {
        Typed::Service(s) => s.export_to.as_deref(),
        Typed::ServiceEntry(se) => se.export_to.as_deref(),
        _ => None,
    }
}

/// The namespaces an `exportTo` list exports to (`None` = every namespace).
pub(crate) fn export_scope(export_to: Option<&[String]>, owner_ns: &str) -> Option<Vec<String>> {
    let scopes = crate::istio::export_scopes(export_to, owner_ns);
    // `~` (exported nowhere) adds no namespace.
    (scopes != ["*"]).then(|| scopes.into_iter().filter(|e| e != "~").collect())
}

pub(crate) fn scopes_overlap(a: &Option<Vec<String>>, b: &Option<Vec<String>>) -> bool {
    match (a, b) {
        (None, None) => true,
        (None, Some(x)) | (Some(x), None) => !x.is_empty(),
        (Some(x), Some(y)) => x.iter().any(|n| y.contains(n)),
    }
}

/// Whether a Sidecar's egress imports `fqdn` defined in `host_ns` (`.` meaning
/// `effective_ns`, the Sidecar's namespace, or the client's for a root-namespace one).
pub(crate) fn egress_admits(
    sc: &meshlint_model::typed::Sidecar,
    effective_ns: &str,
    fqdn: &str,
    host_ns: &[&str],
) -> bool {
    sc.egress.iter().any(|e| {
        e.hosts.iter().any(|(ns_part, host_part)| {
            let ns_ok = match ns_part.as_str() {
                "*" => true,
                "~" => false,
                "." => host_ns.contains(&effective_ns),
                other => host_ns.contains(&other),
            };
            ns_ok && host_matches(host_part, fqdn)
        })
    })
}

/// The namespaces a resource is meant for (see [`MeshGraph::clients_of`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Clients {
    /// These namespaces only (sorted, without duplicates).
    Listed(Vec<String>),
    Every,
}

impl Clients {
    pub(crate) fn contains(&self, n: &str) -> bool {
        match self {
            Clients::Listed(list) => list.iter().any(|x| x == n),
            Clients::Every => true,
        }
    }
}

impl MeshGraph {
    /// The Sidecar that scopes a workload (its own by selector, else its namespace's
    /// default, else the root namespace's default) or a namespace (`workload = None`).
    pub fn sidecar_for(&self, ns: &str, workload: Option<usize>) -> Option<usize> {
        if let Some(w) = workload {
            let labels = self.workload_labels(w);
            // A workload of `ns` is selected by exactly the Sidecars with a `Selects` edge
            // to it (those of its namespace), so ask its edges rather than every Sidecar
            // of a namespace that may hold many.
            let candidates = if self.resources[w].namespace() == ns {
                self.selected_by(w, Kind::Sidecar)
            } else {
                self.in_namespace(ns, Kind::Sidecar).to_vec()
            };
            for s in candidates {
                if self.resources[s].namespace() != ns {
                    continue;
                }
                if let Typed::Sidecar(sc) = &self.resources[s].typed {
                    if sc
                        .selector
                        .as_ref()
                        .is_some_and(|sel| !sel.is_empty() && selector_matches(sel, labels))
                    {
                        return Some(s);
                    }
                }
            }
        }
        let default_in = |n: &str| self.default_sidecar.get(n).copied();
        default_in(ns).or_else(|| default_in(&self.mesh.root_namespace))
    }

    /// Whether `fqdn` is visible to proxies in `from_ns` (optionally a given workload):
    /// `exportTo` of the defining resources, then the egress imports of the Sidecar.
    pub fn host_visible(&self, from_ns: &str, workload: Option<usize>, fqdn: &str) -> Visibility {
        let targets = self.host_targets(fqdn);
        // Namespaces of the exported targets, borrowed (many namespaces may declare the
        // same external host, and this is asked once per namespace and host).
        let mut host_ns: Vec<&str> = Vec::new();
        let mut hidden: Option<(usize, String)> = None;
        let mut any_exported = targets.is_empty();
        for t in &targets {
            let r = &self.resources[t.resource];
            let export = host_definition_export(&r.typed);
            if export_allows(export, r.namespace(), from_ns) {
                any_exported = true;
                host_ns.push(r.namespace());
            } else if hidden.is_none() {
                let path = if r.has_path("spec.exportTo") {
                    "spec.exportTo"
                } else {
                    "metadata.annotations[\"networking.istio.io/exportTo\"]"
                };
                hidden = Some((t.resource, path.to_string()));
            }
        }
        if !any_exported {
            return Visibility {
                visible: false,
                hidden_by: hidden,
                reason: format!("exportTo does not include namespace `{from_ns}`"),
            };
        }
        if host_ns.is_empty() {
            // Unknown host: judge the Sidecar by the namespace the name suggests.
            let parts: Vec<&str> = fqdn.split('.').collect();
            if parts.len() >= 3 && parts.get(2) == Some(&"svc") {
                host_ns.push(parts[1]);
            }
        }
        let Some(s) = self.sidecar_for(from_ns, workload) else {
            return Visibility {
                visible: true,
                hidden_by: None,
                reason: String::new(),
            };
        };
        let Typed::Sidecar(sc) = &self.resources[s].typed else {
            return Visibility {
                visible: true,
                hidden_by: None,
                reason: String::new(),
            };
        };
        if sc.egress.is_empty() {
            return Visibility {
                visible: true,
                hidden_by: None,
                reason: String::new(),
            };
        }
        let sidecar_ns = self.resources[s].namespace();
        let effective_ns = if sidecar_ns == self.mesh.root_namespace {
            from_ns
        } else {
            sidecar_ns
        };
        if egress_admits(sc, effective_ns, fqdn, &host_ns) {
            return Visibility {
                visible: true,
                hidden_by: None,
                reason: String::new(),
            };
        }
        let path = sc
            .egress
            .first()
            .map(|e| format!("{}.hosts", e.path))
            .unwrap_or_else(|| "spec".to_string());
        Visibility {
            visible: false,
            hidden_by: Some((s, path)),
            reason: format!(
                "Sidecar {}/{} does not import it",
                self.resources[s].namespace(),
                self.resources[s].name()
            ),
        }
    }

    /// The namespaces a VirtualService, DestinationRule, ServiceEntry or Service is
    /// exported to (`None` = all); other kinds are visible in their own namespace only.
    pub fn export_scope_of(&self, r: usize) -> Option<Vec<String>> {
        let res = &self.resources[r];
        let export = match &res.typed {
            Typed::Service(s) => s.export_to.as_deref(),
            Typed::ServiceEntry(se) => se.export_to.as_deref(),
            Typed::VirtualService(vs) => vs.export_to.as_deref(),
            Typed::DestinationRule(dr) => dr.export_to.as_deref(),
            _ => return Some(vec![res.namespace().to_string()]),
        };
        export_scope(export, res.namespace())
    }

    /// The namespaces (among those with proxied workloads) whose proxies a resource's
    /// configuration is meant for: its `exportTo` scope; for a DestinationRule outside
    /// the lookup path (neither the root namespace nor a namespace defining its host) or
    /// with a `workloadSelector`, only its own namespace.
    pub fn client_namespaces(&self, r: usize) -> Vec<String> {
        match self.clients_of(r) {
            Clients::Listed(list) => list
                .into_iter()
                .filter(|n| self.proxy_namespaces.contains(n))
                .collect(),
            Clients::Every => self.proxy_namespaces.iter().cloned().collect(),
        }
    }

    /// Whether some namespace with proxied workloads is a client of `r` (see
    /// [`Self::client_namespaces`]), without listing every such namespace.
    pub fn has_client_namespace(&self, r: usize) -> bool {
        match self.clients_of(r) {
            Clients::Listed(list) => list.iter().any(|n| self.proxy_namespaces.contains(n)),
            Clients::Every => !self.proxy_namespaces.is_empty(),
        }
    }

    /// The namespaces resource `r` is meant for (see [`Self::client_namespaces`]),
    /// leaving out the proxied-workloads condition: a short list (its own namespace, or
    /// its `exportTo` list) or every namespace, so callers never walk the mesh to ask.
    pub(crate) fn clients_of(&self, r: usize) -> Clients {
        let res = &self.resources[r];
        let ns = res.namespace();
        if let Typed::DestinationRule(dr) = &res.typed {
            let only_own = if dr.workload_selector.is_some() {
                true
            } else if ns != self.mesh.root_namespace {
                let host = self.resolve_host(&dr.host, ns);
                !self
                    .host_targets(&host)
                    .iter()
                    .any(|t| self.resources[t.resource].namespace() == ns)
            } else {
                false
            };
            if only_own {
                return Clients::Listed(vec![ns.to_string()]);
            }
        }
        match self.export_scope_of(r) {
            Some(list) => Clients::Listed(list),
            None => Clients::Every,
        }
    }

    /// When none of the client namespaces of `r` can see `fqdn`: each of them with what
    /// hides the host from it. Empty when some client sees the host, or when `r` has no
    /// client namespace in the inputs. Only namespaces that could import the host are
    /// asked (the scale index knows them), so the usual answer (visible) costs a lookup or
    /// two; the full walk happens only when the host is hidden.
    pub fn hidden_from_all_clients(&self, r: usize, fqdn: &str) -> Vec<(String, Visibility)> {
        let clients = self.clients_of(r);
        let is_client = |n: &str| clients.contains(n);
        let own = self.resources[r].namespace();
        let scope = self
            .export_scope_of(r)
            .filter(|s| !s.iter().any(|x| x == "*"));
        // The usual answer without listing the host's definitions (many namespaces may
        // declare the same external host): `r` defines the host, is exported to its own
        // namespace, and that namespace's Sidecar imports it.
        let defines = match &self.resources[r].typed {
            Typed::ServiceEntry(se) => se.hosts.iter().any(|h| self.resolve_host(h, own) == fqdn),
            _ => false,
        };
        if defines
            && self.proxy_namespaces.contains(own)
            && is_client(own)
            && scope.as_ref().is_none_or(|l| l.iter().any(|n| n == own))
        {
            let admitted = match self.sidecar_for(own, None).map(|s| &self.resources[s]) {
                None => true,
                Some(sr) => match &sr.typed {
                    Typed::Sidecar(sc) if !sc.egress.is_empty() => {
                        let sidecar_ns = sr.namespace();
                        let effective = if sidecar_ns == self.mesh.root_namespace {
                            own
                        } else {
                            sidecar_ns
                        };
                        egress_admits(sc, effective, fqdn, &[own])
                    }
                    _ => true,
                },
            };
            if admitted {
                return Vec::new();
            }
        }
        // Otherwise ask only namespaces that can possibly see the host (see
        // `visibility_candidates`): the usual answer costs a lookup or two. The walk
        // below settles the answer whatever the candidates, so they only decide cost.
        for n in self.visibility_candidates(&clients, fqdn) {
            if self.proxy_namespaces.contains(n)
                && is_client(n)
                && self.host_visible(n, None, fqdn).visible
            {
                return Vec::new();
            }
        }
        // No candidate sees it. With an exportTo list only the listed namespaces are
        // clients, so walk those rather than every namespace.
        let pool: Vec<&String> = match &scope {
            Some(list) => {
                let mut l: Vec<&String> = list
                    .iter()
                    .filter(|n| self.proxy_namespaces.contains(*n))
                    .collect();
                l.sort();
                l.dedup();
                l
            }
            None => self.proxy_namespaces.iter().collect(),
        };
        let mut hidden = Vec::new();
        for n in pool {
            if !is_client(n) {
                continue;
            }
            let v = self.host_visible(n, None, fqdn);
            if v.visible {
                return Vec::new();
            }
            hidden.push((n.clone(), v));
        }
        hidden
    }

    /// Namespaces among which every proxy namespace that is a client (of `clients`) and
    /// sees `fqdn` is found, in an order where the first ones usually see it: the
    /// clients when they are listed; else, for a concrete host, the namespaces its
    /// definitions are exported to by list, and, when a definition (or none: an implicit
    /// host) is exported everywhere, the namespaces whose egress is open or whose Sidecar
    /// imports the host from `*` or from such a definition's namespace (each of these
    /// sees it). A namespace outside all of them either is no client, is not exported
    /// the host, or has a Sidecar naming neither the host nor its namespace. Wildcard
    /// hosts keep the coarser candidates: Sidecars naming `*` or a defining namespace.
    fn visibility_candidates<'s>(
        &'s self,
        clients: &'s Clients,
        fqdn: &'s str,
    ) -> Box<dyn Iterator<Item = &'s str> + 's> {
        if let Clients::Listed(list) = clients {
            return Box::new(list.iter().map(String::as_str));
        }
        let ix = self.scale();
        let targets = self.host_targets(fqdn);
        let svc_namespace = {
            let parts: Vec<&'s str> = fqdn.split('.').collect();
            (parts.len() >= 3 && parts[2] == "svc").then(|| parts[1])
        };
        if fqdn.contains('*') {
            let mut host_namespaces: Vec<&'s str> = targets
                .iter()
                .map(|t| self.resources[t.resource].namespace())
                .collect();
            host_namespaces.extend(svc_namespace);
            return Box::new(
                ix.open_namespaces
                    .iter()
                    .chain(ix.importers.walk("*"))
                    .chain(
                        host_namespaces
                            .into_iter()
                            .flat_map(|h| ix.importers.walk(h)),
                    )
                    .map(|n| &**n),
            );
        }
        // Namespaces the host is exported to by list, and those of definitions exported
        // everywhere (from which any Sidecar import makes it visible).
        let mut listed: Vec<String> = Vec::new();
        let mut everywhere: Vec<&'s str> = Vec::new();
        for t in &targets {
            let r = &self.resources[t.resource];
            let export = host_definition_export(&r.typed);
            match export_scope(export, r.namespace()) {
                Some(list) => listed.extend(list),
                None => everywhere.push(r.namespace()),
            }
        }
        let open = targets.is_empty() || !everywhere.is_empty();
        if targets.is_empty() {
            everywhere.extend(svc_namespace);
        }
        let importing: Box<dyn Iterator<Item = &'s str> + 's> = if open {
            Box::new(
                ix.open_namespaces
                    .iter()
                    .map(|n| &**n)
                    .chain(self.sidecar_importers_of(fqdn, everywhere)),
            )
        } else {
            Box::new(std::iter::empty())
        };
        Box::new(importing.chain(self.proxy_namespaces_among(listed)))
    }

    /// The proxy namespaces among `list`, borrowed from the graph.
    fn proxy_namespaces_among<'s>(
        &'s self,
        list: Vec<String>,
    ) -> Box<dyn Iterator<Item = &'s str> + 's> {
        let list: Vec<&'s str> = list
            .into_iter()
            .filter_map(|n| self.proxy_namespaces.get(n.as_str()).map(String::as_str))
            .collect();
        Box::new(list.into_iter())
    }

    /// Proxy namespaces whose namespace-wide Sidecar imports the concrete host `fqdn`
    /// from `*` or from one of `from`: looked up by the host, `*` and the host's
    /// `*.suffix` wildcards in the scale index (`*x` wildcards not at a dot are scanned).
    fn sidecar_importers_of<'s>(
        &'s self,
        fqdn: &'s str,
        from: Vec<&'s str>,
    ) -> impl Iterator<Item = &'s str> + 's {
        let ix = self.scale();
        let mut keys: Vec<&'s str> = vec!["*"];
        keys.extend(from);
        keys.sort_unstable();
        keys.dedup();
        let mut patterns: Vec<String> = vec![fqdn.to_string(), "*".to_string()];
        patterns.extend(
            fqdn.match_indices('.')
                .map(|(i, _)| format!("*{}", &fqdn[i..])),
        );
        let lookups: Vec<(String, String)> = keys
            .iter()
            .flat_map(|k| patterns.iter().map(|p| (k.to_string(), p.clone())))
            .collect();
        let odd = ix
            .odd_importers
            .iter()
            .filter(move |(k, p, _)| keys.contains(&k.as_str()) && host_matches(p, fqdn))
            .map(|(_, _, n)| &**n);
        lookups
            .into_iter()
            .flat_map(|(k, p)| {
                ix.host_importers.walk_hashed(
                    crate::resource_index::hash_of((k.as_str(), p.as_str())),
                    |(a, b)| **a == *k && **b == *p,
                )
            })
            .map(|n| &**n)
            .chain(odd)
    }
}
