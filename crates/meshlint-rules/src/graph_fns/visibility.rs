//! Sidecar imports and `exportTo`: who sees which host.

use super::values::*;
use super::{GraphEntry, GraphHost, R};
use meshlint_cel::Val;

pub(super) const FUNCTIONS: &[GraphEntry] = &[
    ("hostVisible", 2, host_visible),
    ("sidecarFor", 1, sidecar_for),
    ("clientNamespaces", 1, client_namespaces),
    ("exportedTo", 2, exported_to),
    ("hiddenFromClients", 2, hidden_from_clients),
    ("hostExportedTo", 2, host_exported_to),
    ("proxiesByNamespace", 0, proxies_by_namespace),
    ("emptySidecarImports", 1, empty_sidecar_imports),
    ("hiddenHosts", 1, hidden_hosts),
    ("competingSidecars", 1, competing_sidecars),
    ("sharedWorkloads", 1, shared_workloads),
    ("sidecarInAmbient", 1, sidecar_in_ambient),
    ("destinationRuleReach", 1, destination_rule_reach),
    ("virtualServiceAudience", 1, virtual_service_audience),
];

pub(super) fn host_visible<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let ns = arg_str("hostVisible", a, 0)?;
    let host = arg_str("hostVisible", a, 1)?;
    let g = h.g;
    let v = g.host_visible(ns, None, host);
    Ok(Val::map([
        ("visible", Val::Bool(v.visible)),
        ("reason", Val::str(&v.reason)),
        (
            "ref",
            v.hidden_by
                .map(|(i, p)| ref_value(g, i, &p))
                .unwrap_or(Val::Null),
        ),
    ]))
}

pub(super) fn sidecar_for<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let ns = arg_str("sidecarFor", a, 0)?;
    let g = h.g;
    Ok(g.sidecar_for(ns, None)
        .map(|i| name_ref(g, i))
        .unwrap_or(Val::Null))
}

pub(super) fn empty_sidecar_imports<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let r = arg("emptySidecarImports", a, 0)?;
    let g = h.g;
    let Some(i) = resource_index(g, r) else {
        return Ok(Val::list(Vec::new()));
    };
    Ok(Val::list(
        g.empty_sidecar_imports(i)
            .iter()
            .map(|e| {
                Val::map([
                    ("path", Val::str(&e.path)),
                    ("entry", Val::str(&e.entry)),
                    ("namespace", Val::str(&e.namespace)),
                    ("fqdn", Val::str(&e.fqdn)),
                    ("missingNamespace", Val::Bool(e.missing_namespace)),
                    (
                        "namespaceSuggestion",
                        Val::str(e.namespace_suggestion.as_deref().unwrap_or("")),
                    ),
                    (
                        "hostSuggestion",
                        Val::str(e.host_suggestion.as_deref().unwrap_or("")),
                    ),
                    (
                        "definedElsewhere",
                        Val::list(
                            e.defined_elsewhere
                                .iter()
                                .map(|t| target_value(g, t))
                                .collect(),
                        ),
                    ),
                    (
                        "suggested",
                        Val::list(
                            e.host_suggestion
                                .as_deref()
                                .map(|s| {
                                    g.host_targets(s)
                                        .iter()
                                        .map(|t| name_ref(g, t.resource))
                                        .collect()
                                })
                                .unwrap_or_default(),
                        ),
                    ),
                    (
                        "suggestedEntry",
                        Val::str(e.suggested_entry.as_deref().unwrap_or("")),
                    ),
                    ("certain", Val::Bool(e.certain)),
                ])
            })
            .collect(),
    ))
}

pub(super) fn client_namespaces<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let r = arg("clientNamespaces", a, 0)?;
    let g = h.g;
    Ok(match direct_index(g, r) {
        Some(i) => str_list(&g.client_namespaces(i)),
        None => Val::list(Vec::new()),
    })
}

pub(super) fn exported_to<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let r = arg("exportedTo", a, 0)?;
    let ns = arg_str("exportedTo", a, 1)?;
    let g = h.g;
    Ok(Val::Bool(match direct_index(g, r) {
        Some(i) => g
            .export_scope_of(i)
            .is_none_or(|scope| scope.iter().any(|n| n == ns)),
        None => false,
    }))
}

pub(super) fn hidden_from_clients<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let r = arg("hiddenFromClients", a, 0)?;
    let host = arg_str("hiddenFromClients", a, 1)?;
    let g = h.g;
    let Some(i) = direct_index(g, r) else {
        return Ok(Val::list(Vec::new()));
    };
    Ok(Val::list(
        g.hidden_from_all_clients(i, host)
            .into_iter()
            .map(|(ns, v)| {
                Val::map([
                    ("namespace", Val::str(&ns)),
                    ("reason", Val::str(&v.reason)),
                    (
                        "ref",
                        v.hidden_by
                            .map(|(x, p)| ref_value(g, x, &p))
                            .unwrap_or(Val::Null),
                    ),
                ])
            })
            .collect(),
    ))
}

pub(super) fn host_exported_to<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let host = arg_str("hostExportedTo", a, 0)?;
    let ns = arg_str("hostExportedTo", a, 1)?;
    Ok(Val::Bool(h.g.host_exported_to(host, ns)))
}

pub(super) fn proxies_by_namespace<'g>(h: &GraphHost<'g>, _: &[Val<'g>]) -> R<'g> {
    // The answer is the same for every call; build the list once per host.
    let v = h.proxies.get_or_init(|| {
        Val::list(
            h.g.proxies_by_namespace()
                .iter()
                .map(|p| {
                    Val::map([
                        ("namespace", Val::borrowed(&p.namespace)),
                        ("sidecars", usize_int(p.sidecars)),
                        ("gateways", usize_int(p.gateways)),
                    ])
                })
                .collect(),
        )
    });
    Ok(v.clone())
}

// Hidden hosts and Sidecar scope (issue 12: ML2006–ML2008, ML2013, ML2014, ML2018)

/// How many hiding namespaces a message lists before saying "and N more".
const SHOWN_NAMESPACES: usize = 3;

pub(super) fn hidden_hosts<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let r = arg("hiddenHosts", a, 0)?;
    let g = h.g;
    let Some(i) = direct_index(g, r) else {
        return Ok(Val::list(Vec::new()));
    };
    Ok(Val::list(
        g.hidden_hosts(i)
            .iter()
            .map(|x| {
                let hidden: Vec<Val> = x
                    .hidden
                    .iter()
                    .map(|v| {
                        Val::map([
                            ("namespace", Val::str(&v.namespace)),
                            ("gateway", Val::str(v.gateway.as_deref().unwrap_or(""))),
                            ("reason", Val::str(&v.reason)),
                            ("ref", opt_ref(g, &v.hidden_by)),
                        ])
                    })
                    .collect();
                // What hides the host, each once, in the order met.
                let mut hiders: Vec<&(usize, String)> = Vec::new();
                for at in x.hidden.iter().filter_map(|v| v.hidden_by.as_ref()) {
                    if !hiders.contains(&at) {
                        hiders.push(at);
                    }
                }
                let shown = hidden.iter().take(SHOWN_NAMESPACES).cloned().collect();
                Val::map([
                    ("host", Val::str(&x.host)),
                    ("fqdn", Val::str(&x.fqdn)),
                    ("path", Val::str(&x.path)),
                    (
                        "more",
                        usize_int(hidden.len().saturating_sub(SHOWN_NAMESPACES)),
                    ),
                    ("shown", Val::list(shown)),
                    ("hidden", Val::list(hidden)),
                    (
                        "hiders",
                        Val::list(
                            hiders
                                .into_iter()
                                .map(|(i, p)| ref_value(g, *i, p))
                                .collect(),
                        ),
                    ),
                ])
            })
            .collect(),
    ))
}

pub(super) fn competing_sidecars<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let r = arg("competingSidecars", a, 0)?;
    let g = h.g;
    let Some(i) = direct_index(g, r) else {
        return Ok(Val::list(Vec::new()));
    };
    each(g, g.competing_default_sidecars(i), name_ref)
}

pub(super) fn shared_workloads<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let r = arg("sharedWorkloads", a, 0)?;
    let g = h.g;
    let Some(i) = direct_index(g, r) else {
        return Ok(Val::list(Vec::new()));
    };
    Ok(Val::list(
        g.shared_workloads(i)
            .iter()
            .map(|s| {
                Val::map([
                    ("workload", name_ref(g, s.workload)),
                    (
                        "others",
                        Val::list(
                            s.others
                                .iter()
                                .map(|&o| ref_value(g, o, "spec.workloadSelector"))
                                .collect(),
                        ),
                    ),
                ])
            })
            .collect(),
    ))
}

pub(super) fn sidecar_in_ambient<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let r = arg("sidecarInAmbient", a, 0)?;
    let g = h.g;
    let Some(i) = direct_index(g, r) else {
        return Ok(Val::Null);
    };
    Ok(match g.sidecar_in_ambient(i) {
        Some(s) => Val::map([
            ("selects", Val::Bool(s.selects)),
            ("path", Val::str(&s.path)),
        ]),
        None => Val::Null,
    })
}

/// `{host, hostNamespace, path, reaches, certain, ref, exportRef}` of a
/// [`meshlint_graph::ConfigReach`]; `ref` at `path`, `exportRef` at `spec.exportTo`.
fn reach_value<'g>(
    g: &'g meshlint_graph::MeshGraph,
    i: usize,
    x: &meshlint_graph::ConfigReach,
) -> Val<'g> {
    Val::map([
        ("host", Val::str(&x.host)),
        ("hostNamespace", Val::str(&x.host_namespace)),
        ("path", Val::str(&x.path)),
        (
            "reaches",
            Val::list(x.reaches.iter().map(|n| Val::str(n)).collect()),
        ),
        ("certain", Val::Bool(x.certain)),
        ("ref", ref_value(g, i, &x.path)),
        ("exportRef", ref_value(g, i, "spec.exportTo")),
    ])
}

pub(super) fn destination_rule_reach<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let g = h.g;
    let Some(i) = resource_index(g, arg("destinationRuleReach", a, 0)?) else {
        return Ok(Val::Null);
    };
    Ok(g.destination_rule_reach(i)
        .map(|x| reach_value(g, i, &x))
        .unwrap_or(Val::Null))
}

pub(super) fn virtual_service_audience<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let g = h.g;
    let Some(i) = resource_index(g, arg("virtualServiceAudience", a, 0)?) else {
        return Ok(Val::list(Vec::new()));
    };
    Ok(Val::list(
        g.virtual_service_audience(i)
            .iter()
            .map(|x| reach_value(g, i, x))
            .collect(),
    ))
}
