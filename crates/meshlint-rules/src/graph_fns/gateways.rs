//! Gateway references, hosts, proxies, conflicts and certificates.

use super::values::*;
use super::{GraphEntry, GraphHost, R};
use meshlint_cel::Val;
use meshlint_model::Typed;

pub(super) const FUNCTIONS: &[GraphEntry] = &[
    ("gateway", 2, gateway),
    ("gatewayProxyNamespaces", 2, gateway_proxy_namespaces),
    ("gatewayConflicts", 1, gateway_conflicts),
    ("sharedCertificates", 1, shared_certificates),
    ("meshHostConflicts", 1, mesh_host_conflicts),
    ("gatewayLookup", 2, gateway_lookup),
    ("gatewayHosts", 2, gateway_hosts),
    ("selectsInstalledGateway", 1, selects_installed_gateway),
];

pub(super) fn gateway<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let reference = arg_str("gateway", a, 0)?;
    let ns = arg_str("gateway", a, 1)?;
    let g = h.g;
    let Some(i) = g.gateway_ref(reference, ns) else {
        return Ok(Val::Null);
    };
    let r = &g.resources[i];
    let workloads = match &r.typed {
        Typed::Gateway(_) => g
            .selected_workloads(i)
            .into_iter()
            .map(|w| workload_value(g, w))
            .collect(),
        _ => Vec::new(),
    };
    Ok(Val::map([
        ("namespace", Val::borrowed(r.namespace())),
        ("name", Val::borrowed(r.name())),
        ("object", Val::from_node(&r.node)),
        ("workloads", Val::list(workloads)),
        ("ref", name_ref(g, i)),
    ]))
}

pub(super) fn gateway_lookup<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let reference = arg_str("gatewayLookup", a, 0)?;
    let ns = arg_str("gatewayLookup", a, 1)?;
    let g = h.g;
    let l = g.gateway_lookup(reference, ns);
    let refs = |v: &[usize]| Val::list(v.iter().map(|&i| name_ref(g, i)).collect());
    Ok(Val::map([
        ("namespace", Val::str(&l.namespace)),
        ("name", Val::str(&l.name)),
        ("found", Val::Bool(l.found.is_some())),
        ("sameNameElsewhere", refs(&l.same_name_elsewhere)),
        (
            "nearName",
            refs(&l.near_name.into_iter().collect::<Vec<_>>()),
        ),
        (
            "namespaceSuggestion",
            Val::str(l.namespace_suggestion.as_deref().unwrap_or("")),
        ),
        ("certain", Val::Bool(l.certain)),
    ]))
}

pub(super) fn gateway_hosts<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let reference = arg_str("gatewayHosts", a, 0)?;
    let ns = arg_str("gatewayHosts", a, 1)?;
    Ok(str_list(&h.g.gateway_hosts(reference, ns)))
}

pub(super) fn selects_installed_gateway<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let sel = labels_from(arg("selectsInstalledGateway", a, 0)?);
    Ok(Val::Bool(h.g.selects_installed_gateway(&sel)))
}

pub(super) fn gateway_proxy_namespaces<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let reference = arg_str("gatewayProxyNamespaces", a, 0)?;
    let ns = arg_str("gatewayProxyNamespaces", a, 1)?;
    let g = h.g;
    Ok(match g.gateway_ref(reference, ns) {
        Some(i) => str_list(&g.gateway_proxy_namespaces(i)),
        None => Val::Null,
    })
}

pub(super) fn gateway_conflicts<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let gw = arg("gatewayConflicts", a, 0)?;
    let g = h.g;
    let Some(i) = resource_index(g, gw) else {
        return Ok(Val::list(Vec::new()));
    };
    Ok(Val::list(
        g.gateway_conflicts(i)
            .into_iter()
            .map(|(server, others)| {
                Val::map([
                    ("server", usize_int(server)),
                    (
                        "gateways",
                        Val::list(others.iter().map(|&(o, _)| entry(g, o)).collect()),
                    ),
                    (
                        "servers",
                        Val::list(others.iter().map(|&(_, s)| usize_int(s)).collect()),
                    ),
                ])
            })
            .collect(),
    ))
}

pub(super) fn shared_certificates<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let gw = arg("sharedCertificates", a, 0)?;
    let g = h.g;
    let Some(i) = resource_index(g, gw) else {
        return Ok(Val::list(Vec::new()));
    };
    Ok(Val::list(
        g.gateways_sharing_certificate(i)
            .into_iter()
            .map(|(server, o)| Val::map([("server", usize_int(server)), ("gateway", entry(g, o))]))
            .collect(),
    ))
}

pub(super) fn mesh_host_conflicts<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let vs = arg("meshHostConflicts", a, 0)?;
    let g = h.g;
    let Some(i) = resource_index(g, vs) else {
        return Ok(Val::list(Vec::new()));
    };
    Ok(Val::list(
        g.mesh_host_conflicts(i)
            .into_iter()
            .map(|(host, o)| Val::map([("host", Val::str(&host)), ("virtualService", entry(g, o))]))
            .collect(),
    ))
}
