//! Host resolution and existence, namespaces, object copies.

use super::values::*;
use super::{GraphEntry, GraphHost, R};
use meshlint_cel::Val;
use meshlint_graph::{HostLookup, HostState, HostTarget, MeshGraph};
use meshlint_model::Typed;

pub(super) const FUNCTIONS: &[GraphEntry] = &[
    ("resolveHost", 2, resolve_host),
    ("hostTargets", 1, host_targets),
    ("hostExists", 1, host_exists),
    ("suggestHost", 1, suggest_host),
    ("namespaceKnown", 1, namespace_known),
    ("suggestNamespace", 1, suggest_namespace),
    ("servicesFor", 1, services_for),
    ("hostMatches", 2, host_matches),
    ("hostsOverlap", 2, hosts_overlap),
    ("namespaceMatches", 1, namespace_matches),
    ("hostLookup", 2, host_lookup),
    ("lookupNamespaces", 1, lookup_namespaces),
    ("namespacePresent", 1, namespace_present),
    ("copiesOf", 1, copies_of),
    ("firstCopy", 1, first_copy),
    ("outboundPolicy", 1, outbound_policy),
    ("isExternalHost", 1, is_external_host),
    ("externalHostGap", 1, external_host_gap),
    ("wildcardDnsHosts", 1, wildcard_dns_hosts),
];

// Hosts, ports, workloads, decisions

pub(super) fn resolve_host<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let host = arg_str("resolveHost", a, 0)?;
    let ns = arg_str("resolveHost", a, 1)?;
    Ok(Val::str(&h.g.resolve_host(host, ns)))
}

pub(super) fn host_targets<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let host = arg_str("hostTargets", a, 0)?;
    let g = h.g;
    each(g, g.host_targets(host).iter(), target_value)
}

pub(super) fn host_exists<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let host = arg_str("hostExists", a, 0)?;
    Ok(Val::Bool(!h.g.host_targets(host).is_empty()))
}

pub(super) fn suggest_host<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let host = arg_str("suggestHost", a, 0)?;
    Ok(Val::str(&h.g.suggest_host(host).unwrap_or_default()))
}

pub(super) fn host_lookup<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let host = arg_str("hostLookup", a, 0)?;
    let namespaces = strings_from(arg("hostLookup", a, 1)?);
    let g = h.g;
    let refs: Vec<&str> = namespaces.iter().map(String::as_str).collect();
    Ok(host_lookup_value(g, &g.host_lookup(host, &refs)))
}

pub(super) fn host_lookup_value<'g>(g: &'g MeshGraph, l: &HostLookup) -> Val<'g> {
    let state = match l.state {
        HostState::Exported => "exported",
        HostState::Unexported => "unexported",
        HostState::Implicit => "implicit",
        HostState::Missing => "missing",
    };
    Val::map([
        ("state", Val::borrowed(state)),
        ("certain", Val::Bool(l.certain)),
        (
            "suggestion",
            Val::str(l.suggestion.as_deref().unwrap_or("")),
        ),
        (
            "definitions",
            Val::list(l.definitions.iter().map(|t| target_value(g, t)).collect()),
        ),
        ("suggested", Val::list(suggested_refs(g, l))),
        ("exportRefs", Val::list(export_refs(g, l))),
    ])
}

/// References to the definitions of the host a lookup suggests.
pub(super) fn suggested_refs<'g>(g: &'g MeshGraph, l: &HostLookup) -> Vec<Val<'g>> {
    l.suggestion
        .as_deref()
        .map(|s| {
            g.host_targets(s)
                .iter()
                .map(|t| name_ref(g, t.resource))
                .collect()
        })
        .unwrap_or_default()
}

/// References to the `exportTo` of each definition an unexported lookup found (the
/// annotation for Services, `spec.exportTo` for ServiceEntries).
pub(super) fn export_refs<'g>(g: &'g MeshGraph, l: &HostLookup) -> Vec<Val<'g>> {
    l.definitions
        .iter()
        .map(|t| {
            let path = match g.resources[t.resource].typed {
                Typed::Service(_) => "metadata.annotations[\"networking.istio.io/exportTo\"]",
                _ => "spec.exportTo",
            };
            ref_value(g, t.resource, path)
        })
        .collect()
}

pub(super) fn lookup_namespaces<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let r = arg("lookupNamespaces", a, 0)?;
    let g = h.g;
    let Some(i) = resource_index(g, r) else {
        return Ok(Val::list(Vec::new()));
    };
    Ok(Val::list(
        g.lookup_namespaces(i).iter().map(|n| Val::str(n)).collect(),
    ))
}

pub(super) fn namespace_present<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let ns = arg_str("namespacePresent", a, 0)?;
    Ok(Val::Bool(h.g.namespace_described(ns)))
}

pub(super) fn copies_of<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let r = arg("copiesOf", a, 0)?;
    let g = h.g;
    let Some(i) = resource_index(g, r) else {
        return Ok(Val::list(Vec::new()));
    };
    each(g, g.copies_of(i).iter().copied(), name_ref)
}

pub(super) fn first_copy<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let r = arg("firstCopy", a, 0)?;
    let g = h.g;
    Ok(Val::Bool(
        resource_index(g, r).is_none_or(|i| g.first_copy(i)),
    ))
}

pub(super) fn namespace_known<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let ns = arg_str("namespaceKnown", a, 0)?;
    Ok(Val::Bool(h.g.namespace_known(ns)))
}

pub(super) fn suggest_namespace<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let ns = arg_str("suggestNamespace", a, 0)?;
    Ok(Val::str(&h.g.suggest_namespace(ns).unwrap_or_default()))
}

pub(super) fn services_for<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let w = arg("servicesFor", a, 0)?;
    let g = h.g;
    let Some(i) = resource_index(g, w) else {
        return Ok(Val::list(Vec::new()));
    };
    Ok(Val::list(
        g.services_for(i)
            .into_iter()
            .map(|t| {
                let r = &g.resources[t];
                let host = match &r.typed {
                    Typed::ServiceEntry(se) => se
                        .hosts
                        .first()
                        .map(|h| g.resolve_host(h, r.namespace()))
                        .unwrap_or_default(),
                    _ => format!("{}.{}.svc.{}", r.name(), r.namespace(), g.mesh.dns_domain),
                };
                target_value(g, &HostTarget { resource: t, host })
            })
            .collect(),
    ))
}

pub(super) fn host_matches<'g>(_: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let pattern = arg_str("hostMatches", a, 0)?;
    let host = arg_str("hostMatches", a, 1)?;
    Ok(Val::Bool(meshlint_graph::host_matches(pattern, host)))
}

pub(super) fn hosts_overlap<'g>(_: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let x = arg_str("hostsOverlap", a, 0)?;
    let y = arg_str("hostsOverlap", a, 1)?;
    Ok(Val::Bool(meshlint_graph::hosts_overlap(x, y)))
}

pub(super) fn namespace_matches<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let pattern = arg_str("namespaceMatches", a, 0)?;
    Ok(Val::Bool(h.g.namespace_pattern_matches(pattern)))
}

// Calls that leave the mesh

/// `{mode, ref}`: the outbound traffic policy of a namespace's proxies; `ref` the
/// Sidecar's `outboundTrafficPolicy.mode` that decides it, or null for the mesh config.
pub(super) fn outbound_policy<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let ns = arg_str("outboundPolicy", a, 0)?;
    let d = h.g.outbound_policy(ns);
    let mode = if d.registry_only {
        "REGISTRY_ONLY"
    } else {
        "ALLOW_ANY"
    };
    Ok(Val::map([
        ("mode", Val::borrowed(mode)),
        ("ref", opt_ref(h.g, &d.decided_by)),
    ]))
}

pub(super) fn is_external_host<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let host = arg_str("isExternalHost", a, 0)?;
    Ok(Val::Bool(h.g.is_external_host(host)))
}

/// `{host, certain, registryOnly, policyRef}` for a DestinationRule whose external host
/// no ServiceEntry defines, else null; `policyRef` as in `outboundPolicy`.
pub(super) fn external_host_gap<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let g = h.g;
    let Some(i) = resource_index(g, arg("externalHostGap", a, 0)?) else {
        return Ok(Val::Null);
    };
    Ok(g.external_host_without_entry(i)
        .map(|x| {
            Val::map([
                ("host", Val::str(&x.host)),
                ("certain", Val::Bool(x.certain)),
                ("registryOnly", Val::Bool(x.policy.registry_only)),
                ("policyRef", opt_ref(g, &x.policy.decided_by)),
            ])
        })
        .unwrap_or(Val::Null))
}

/// `wildcardDnsHosts(serviceEntry)`: `[{host, path}]`, the wildcard hosts of an entry that
/// resolves by DNS without endpoints.
pub(super) fn wildcard_dns_hosts<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let g = h.g;
    let Some(i) = resource_index(g, arg("wildcardDnsHosts", a, 0)?) else {
        return Ok(Val::list(Vec::new()));
    };
    Ok(Val::list(
        g.wildcard_dns_hosts(i)
            .into_iter()
            .map(|(path, host)| Val::map([("host", Val::str(&host)), ("path", Val::str(&path))]))
            .collect(),
    ))
}
