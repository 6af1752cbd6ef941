//! Where workload policies take effect (istioctl's analyzers): the mesh workloads an
//! AuthorizationPolicy reaches, source namespaces that match nothing, JWT-claim routes
//! without a RequestAuthentication, competing Telemetries, Service ports with two
//! protocols, SNI hosts a VirtualService does not own.

use super::values::*;
use super::{GraphEntry, GraphHost, R};
use meshlint_cel::Val;

pub(super) const FUNCTIONS: &[GraphEntry] = &[
    ("policyReach", 1, policy_reach),
    ("unmatchedSourceNamespaces", 1, unmatched_source_namespaces),
    ("claimRoutesWithoutAuthn", 1, claim_routes_without_authn),
    ("telemetryConflicts", 1, telemetry_conflicts),
    ("portProtocolClashes", 1, port_protocol_clashes),
    ("sniHostsOutsideHosts", 1, sni_hosts_outside_hosts),
    ("unmatchedSelector", 1, unmatched_selector),
    ("gatewayApiPodsSelected", 1, gateway_api_pods_selected),
    ("subsetBypasses", 1, subset_bypasses),
];

fn policy_reach<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let g = h.g;
    let Some(p) = resource_index(g, arg("policyReach", a, 0)?) else {
        return Ok(Val::Null);
    };
    let Some(reach) = g.policy_reach(p) else {
        return Ok(Val::Null);
    };
    Ok(Val::map([
        (
            "workload",
            reach.workload.map(|w| name_ref(g, w)).unwrap_or(Val::Null),
        ),
        ("selector", str_list(&reach.selector)),
        ("hasSelector", Val::Bool(reach.has_selector)),
    ]))
}

fn unmatched_source_namespaces<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let g = h.g;
    let Some(p) = resource_index(g, arg("unmatchedSourceNamespaces", a, 0)?) else {
        return Ok(Val::list(Vec::new()));
    };
    Ok(Val::list(
        g.unmatched_source_namespaces(p)
            .iter()
            .map(|s| {
                Val::map([
                    ("namespace", Val::str(&s.namespace)),
                    ("field", Val::str(&s.field)),
                    ("path", Val::str(&s.path)),
                    (
                        "suggestion",
                        Val::str(&g.suggest_namespace(&s.namespace).unwrap_or_default()),
                    ),
                ])
            })
            .collect(),
    ))
}

fn claim_routes_without_authn<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let g = h.g;
    let Some(vs) = resource_index(g, arg("claimRoutesWithoutAuthn", a, 0)?) else {
        return Ok(Val::list(Vec::new()));
    };
    Ok(Val::list(
        g.claim_routes_without_authn(vs)
            .iter()
            .map(|c| {
                Val::map([
                    ("claim", Val::str(&c.claim)),
                    ("path", Val::str(&c.path)),
                    ("gateway", name_ref(g, c.gateway)),
                    ("selector", ref_value(g, c.gateway, "spec.selector")),
                    ("workload", name_ref(g, c.workload)),
                ])
            })
            .collect(),
    ))
}

fn telemetry_conflicts<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let g = h.g;
    let Some(t) = resource_index(g, arg("telemetryConflicts", a, 0)?) else {
        return Ok(Val::Null);
    };
    let c = g.telemetry_conflicts(t);
    let refs = |l: &[usize]| Val::list(l.iter().map(|&i| name_ref(g, i)).collect());
    Ok(Val::map([
        ("namespaceWide", refs(&c.namespace_wide)),
        (
            "shared",
            Val::list(
                c.shared
                    .iter()
                    .map(|(w, others)| {
                        Val::map([
                            ("workload", name_ref(g, *w)),
                            (
                                "others",
                                Val::list(
                                    others
                                        .iter()
                                        .map(|&t| ref_value(g, t, "spec.selector"))
                                        .collect(),
                                ),
                            ),
                        ])
                    })
                    .collect(),
            ),
        ),
    ]))
}

fn port_protocol_clashes<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let g = h.g;
    let Some(w) = resource_index(g, arg("portProtocolClashes", a, 0)?) else {
        return Ok(Val::list(Vec::new()));
    };
    Ok(Val::list(
        g.port_protocol_clashes(w)
            .iter()
            .map(|c| {
                let entries = c
                    .entries
                    .iter()
                    .map(|(s, protocol, path)| {
                        Val::map([
                            ("service", Val::borrowed(g.resources[*s].name())),
                            ("protocol", Val::str(protocol)),
                            ("ref", ref_value(g, *s, path)),
                        ])
                    })
                    .collect();
                Val::map([("port", int(c.port)), ("entries", Val::list(entries))])
            })
            .collect(),
    ))
}

fn sni_hosts_outside_hosts<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let g = h.g;
    let Some(vs) = resource_index(g, arg("sniHostsOutsideHosts", a, 0)?) else {
        return Ok(Val::list(Vec::new()));
    };
    Ok(Val::list(
        g.sni_hosts_outside_hosts(vs)
            .iter()
            .map(|(sni, path)| Val::map([("sni", Val::str(sni)), ("path", Val::str(path))]))
            .collect(),
    ))
}

fn unmatched_selector<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let g = h.g;
    Ok(resource_index(g, arg("unmatchedSelector", a, 0)?)
        .and_then(|p| g.unmatched_selector(p))
        .map(|s| Val::map([("selector", str_list(&s))]))
        .unwrap_or(Val::Null))
}

fn gateway_api_pods_selected<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let g = h.g;
    Ok(
        match resource_index(g, arg("gatewayApiPodsSelected", a, 0)?) {
            Some(p) => str_list(&g.gateway_api_pods_selected(p)),
            None => Val::list(Vec::new()),
        },
    )
}

fn subset_bypasses<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let g = h.g;
    let Some(vs) = resource_index(g, arg("subsetBypasses", a, 0)?) else {
        return Ok(Val::list(Vec::new()));
    };
    Ok(Val::list(
        g.subset_bypasses(vs)
            .into_iter()
            .map(|(path, host, other)| {
                Val::map([
                    ("path", Val::str(&path)),
                    ("host", Val::str(&host)),
                    ("virtualService", name_ref(g, other)),
                ])
            })
            .collect(),
    ))
}
