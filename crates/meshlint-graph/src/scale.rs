//! Indexes that keep the cross-resource checks linear: who can import a namespace's
//! hosts through Sidecar egress, which ServiceEntries share a host and port with another
//! protocol, which address-matched ServiceEntry ports share an address. Each is built on
//! first use and answers with candidates; the callers still apply the exact test to each
//! candidate, so an index can only make a query cheaper, never change its answer.

use crate::build::MeshGraph;
use crate::fast_map::HashMap;
use crate::flat_map::FlatMap;
use crate::resource_index::hash_of;
use crate::tally::Tally;
use meshlint_model::Typed;
use std::sync::Arc;

/// Protocol → ServiceEntries declaring one host and port with it, sorted by protocol.
/// A list, not a `BTreeMap`: nearly every host and port has one protocol, and a map's
/// first node took 540 bytes for it (1.1 MB on the 2,000-namespace gen-mesh corpus).
pub(crate) type ByProtocol = Vec<(String, Vec<usize>)>;

/// A key of two shared names: (namespace named, host part as written).
pub(crate) type SharedPair = (Arc<str>, Arc<str>);

/// Proxy namespaces, each shared by the lists naming it.
pub(crate) type Namespaces = Vec<Arc<str>>;

/// The indexes' lists name proxy namespaces, each as one shared `Arc<str>` rather than
/// a `String` copy per list it is in (a namespace importing `istio-system/*` is in four).
#[derive(Debug, Default)]
pub(crate) struct ScaleIndex {
    /// Proxy namespaces whose namespace-wide Sidecar does not restrict egress.
    pub open_namespaces: Tally<Namespaces>,
    /// Namespace named by a Sidecar egress host (`ns/…`, `.` resolved, `*` kept) →
    /// proxy namespaces whose namespace-wide Sidecar names it.
    pub importers: Tally<FlatMap<Arc<str>, Namespaces>>,
    /// The same imports by (namespace named, host as written): `*`, an exact host, or
    /// a `*.suffix` wildcard, so a concrete host finds the namespaces importing it by
    /// looking up itself, `*` and its dot-suffixes (see `sidecar_importers_of`).
    /// Keys share their names: a namespace named by `.` with the proxy namespace's
    /// `Arc`, a host part with the typed view's shared `Text` (`*` in nearly all): a
    /// `String` pair per key took 1.5 MB on the 20,000-namespace gen-mesh corpus.
    pub host_importers: Tally<FlatMap<SharedPair, Namespaces>>,
    /// Imports with another wildcard (`*ample.com`: not at a dot), matched by scanning:
    /// (namespace named, host as written, importing namespace).
    pub odd_importers: Tally<Vec<(String, String, Arc<str>)>>,
    /// (FQDN, port) → protocol → ServiceEntries declaring that host and port. The FQDN
    /// is its position among the graph's hosts (`MeshGraph::hosts`), not a copy.
    pub se_port_protocols: Tally<HashMap<(u32, u32), ByProtocol>>,
    /// (port, address as written) → address-matched ServiceEntry claims.
    pub claims_by_address: Tally<HashMap<(u32, String), Vec<usize>>>,
    /// Per port: claims with a CIDR range wider than one address (compared by overlap).
    pub range_claims: Tally<HashMap<u32, Vec<usize>>>,
    /// Per port: claims without any address.
    pub unaddressed_claims: Tally<HashMap<u32, Vec<usize>>>,
    /// The same by (port, a namespace of their `exportTo` scope, `*` for every one), so
    /// an entry exported to a few namespaces meets only claims visible there.
    pub unaddressed_by_scope: Tally<HashMap<(u32, String), Vec<usize>>>,
}

/// Whether an address is a range rather than one host (`10.0.0.0/8`, not `10.0.0.1/32`).
pub(crate) fn is_range(address: &str) -> bool {
    match crate::service_entries::parse_cidr(address) {
        Some((_, len, v6)) => len < if v6 { 128 } else { 32 },
        None => false,
    }
}

/// One spelling per single address (`10.0.0.1` and `10.0.0.1/32` are the same key);
/// unparseable text keys as written, as `addresses_overlap` compares it.
pub(crate) fn address_key(address: &str) -> String {
    match crate::service_entries::parse_cidr(address) {
        Some((bits, _, v6)) if !is_range(address) => format!("{v6}:{bits:x}"),
        _ => address.to_string(),
    }
}

impl MeshGraph {
    pub(crate) fn scale(&self) -> &ScaleIndex {
        self.scale_index.get_or_init(|| self.build_scale_index())
    }

    fn build_scale_index(&self) -> ScaleIndex {
        let mut ix = ScaleIndex::default();
        for n in &self.proxy_namespaces {
            let name: Arc<str> = n.as_str().into();
            let sidecar = self.sidecar_for(n, None).and_then(|s| {
                let ns = self.resources[s].namespace();
                match &self.resources[s].typed {
                    Typed::Sidecar(sc) if !sc.egress.is_empty() => Some((sc, ns)),
                    _ => None,
                }
            });
            let Some((sc, sidecar_ns)) = sidecar else {
                ix.open_namespaces.push(name);
                continue;
            };
            let own = if sidecar_ns == self.mesh.root_namespace {
                n.as_str()
            } else {
                sidecar_ns
            };
            for e in &sc.egress {
                for (ns_part, host_part) in &e.hosts {
                    let key = match ns_part.as_str() {
                        "~" => continue,
                        "." => own,
                        other => other,
                    };
                    // The key as an `Arc`, the proxy namespace's when it is the same.
                    let shared = || -> Arc<str> {
                        if key == &*name {
                            name.clone()
                        } else {
                            key.into()
                        }
                    };
                    let list = ix.importers.entry_hashed(
                        hash_of(key),
                        |k| &**k == key,
                        || (shared(), crate::tally::new_list()),
                    );
                    if list.last() != Some(&name) {
                        list.push(name.clone());
                    }
                    let odd = host_part.len() > 1
                        && host_part.starts_with('*')
                        && !host_part.starts_with("*.");
                    if odd {
                        ix.odd_importers.push((
                            key.to_string(),
                            host_part.to_string(),
                            name.clone(),
                        ));
                        continue;
                    }
                    let list = ix.host_importers.entry_hashed(
                        hash_of((key, &**host_part)),
                        |(k, h)| &**k == key && **h == **host_part,
                        || ((shared(), host_part.shared()), crate::tally::new_list()),
                    );
                    if list.last() != Some(&name) {
                        list.push(name.clone());
                    }
                }
            }
        }
        // From the host index (exact FQDNs; wildcards are matched, not merged, by Istio).
        for (at, (_, defining)) in self.hosts.iter().enumerate() {
            for &i in defining {
                let Typed::ServiceEntry(se) = &self.resources[i].typed else {
                    continue;
                };
                for p in &se.ports {
                    let by = ix
                        .se_port_protocols
                        .entry((at as u32, p.number))
                        .or_insert_with(crate::tally::new_list);
                    let protocol = crate::service_entries::se_port_protocol(p);
                    let at = match by.binary_search_by(|(x, _)| x.as_str().cmp(&protocol)) {
                        Ok(at) => at,
                        Err(at) => {
                            by.insert(at, (protocol, Vec::new()));
                            at
                        }
                    };
                    let list = &mut by[at].1;
                    if list.last() != Some(&i) {
                        list.push(i);
                    }
                }
            }
        }
        for (&port, claims) in &self.host_blind_ports {
            for &se in claims {
                let addresses = self.service_entry_addresses(se);
                if addresses.is_empty() {
                    ix.unaddressed_claims
                        .entry(port)
                        .or_insert_with(crate::tally::new_list)
                        .push(se);
                    let scope = self.export_scope_of(se);
                    let keys = scope.unwrap_or_else(|| vec!["*".to_string()]);
                    for k in keys {
                        let list = ix
                            .unaddressed_by_scope
                            .entry((port, k))
                            .or_insert_with(crate::tally::new_list);
                        if list.last() != Some(&se) {
                            list.push(se);
                        }
                    }
                }
                if addresses.iter().any(|a| is_range(a)) {
                    ix.range_claims
                        .entry(port)
                        .or_insert_with(crate::tally::new_list)
                        .push(se);
                }
                for a in addresses.iter().filter(|a| !is_range(a)) {
                    let list = ix
                        .claims_by_address
                        .entry((port, address_key(a)))
                        .or_insert_with(crate::tally::new_list);
                    if list.last() != Some(&se) {
                        list.push(se);
                    }
                }
            }
        }
        for by in ix.se_port_protocols.values_mut() {
            by.shrink_to_fit();
            for (_, list) in by.iter_mut() {
                list.shrink_to_fit();
            }
        }
        ix.se_port_protocols.shrink_to_fit();
        ix.importers.shrink_lists();
        ix.host_importers.shrink_lists();
        crate::tally::shrink_lists(&mut ix.claims_by_address);
        crate::tally::shrink_lists(&mut ix.range_claims);
        crate::tally::shrink_lists(&mut ix.unaddressed_claims);
        crate::tally::shrink_lists(&mut ix.unaddressed_by_scope);
        ix
    }
}
