//! Ambient data plane: data-plane mode, waypoints, ztunnel-enforced policy.

use super::values::*;
use super::{GraphEntry, GraphHost, R};
use meshlint_cel::Val;
use meshlint_model::Typed;

pub(super) const FUNCTIONS: &[GraphEntry] = &[
    ("dataPlane", 1, data_plane),
    ("namespaceDataPlane", 1, namespace_data_plane),
    ("ambientOverridden", 1, ambient_overridden),
    ("waypointBinding", 1, waypoint_binding),
    ("waypointListenerIssues", 1, waypoint_listener_issues),
    ("ztunnelAuthz", 1, ztunnel_authz),
    ("policyTargetRefs", 1, policy_target_refs),
    ("workloadWaypoints", 1, workload_waypoints),
    ("waypointIdentityRefused", 1, waypoint_identity_refused),
    ("policyAmbientWorkloads", 1, policy_ambient_workloads),
    ("waypointRouteIssues", 1, waypoint_route_issues),
    ("ingressWaypointBypass", 1, ingress_waypoint_bypass),
    ("ambientNetworkBlock", 1, ambient_network_block),
];

// Ambient mode and waypoints (issue 20)

pub(super) fn data_plane<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let v = arg("dataPlane", a, 0)?;
    let g = h.g;
    let Some(w) = resource_index(g, v) else {
        return Ok(Val::Null);
    };
    if !matches!(
        g.resources[w].typed,
        Typed::Workload(_) | Typed::WorkloadEntry(_)
    ) {
        return Ok(Val::Null);
    }
    let d = g.data_plane(w);
    Ok(Val::map([
        ("plane", Val::borrowed(d.plane.as_str())),
        ("by", Val::str(&d.by)),
        ("ref", opt_ref(g, &d.source)),
        ("known", Val::Bool(d.known)),
        ("ambientIgnoredRef", opt_ref(g, &d.ambient_ignored)),
    ]))
}

pub(super) fn namespace_data_plane<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let ns = arg_str("namespaceDataPlane", a, 0)?;
    let g = h.g;
    let Some(n) = g.namespace_resource(ns) else {
        return Ok(Val::Null);
    };
    let labels = &g.resources[n].labels;
    let mode = labels.get(meshlint_graph::DATAPLANE_LABEL).unwrap_or("");
    let injection_label = match labels.get("istio-injection") {
        Some(_) => Some("istio-injection"),
        None => labels
            .contains_key("istio.io/rev")
            .then_some("istio.io/rev"),
    };
    let label_ref = |k: &str| ref_value(g, n, &format!("metadata.labels[\"{k}\"]"));
    Ok(Val::map([
        ("mode", Val::borrowed(mode)),
        ("ambient", Val::Bool(g.namespace_ambient(ns))),
        (
            "injected",
            Val::Bool(g.namespace_injection(ns) == meshlint_model::typed::Injection::Enabled),
        ),
        (
            "modeRef",
            if mode.is_empty() {
                Val::Null
            } else {
                label_ref(meshlint_graph::DATAPLANE_LABEL)
            },
        ),
        (
            "injectionRef",
            injection_label.map(label_ref).unwrap_or(Val::Null),
        ),
    ]))
}

pub(super) fn ambient_overridden<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let g = h.g;
    let Some(i) = resource_index(g, arg("ambientOverridden", a, 0)?) else {
        return Ok(Val::Null);
    };
    let Some(o) = g.ambient_overridden(i) else {
        return Ok(Val::Null);
    };
    Ok(Val::map([
        ("ref", ref_value(g, o.ambient_label.0, &o.ambient_label.1)),
        ("injectionRef", opt_ref(g, &o.injection)),
        ("pod", Val::Bool(o.pod)),
    ]))
}

pub(super) fn waypoint_binding<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let v = arg("waypointBinding", a, 0)?;
    let g = h.g;
    let Some(i) = resource_index(g, v) else {
        return Ok(Val::Null);
    };
    let Some(b) = g.waypoint_binding(i) else {
        return Ok(Val::Null);
    };
    let class = b
        .gateway
        .and_then(|x| g.resources[x].node.str_at(&["spec", "gatewayClassName"]))
        .unwrap_or("");
    Ok(Val::map([
        ("name", Val::str(&b.name)),
        ("namespace", Val::str(&b.namespace)),
        ("source", Val::borrowed(b.source)),
        ("outcome", Val::borrowed(b.outcome)),
        ("ref", ref_value(g, b.label.0, &b.label.1)),
        ("namespaceRef", opt_ref(g, &b.namespace_label)),
        (
            "gateway",
            b.gateway.map(|x| name_ref(g, x)).unwrap_or(Val::Null),
        ),
        ("gatewayClass", Val::borrowed(class)),
        ("namespaceKnown", Val::Bool(g.namespace_known(&b.namespace))),
        ("trafficType", Val::str(&b.traffic_type)),
        ("trafficTypeRef", opt_ref(g, &b.traffic_type_source)),
        ("attachmentRef", opt_ref(g, &b.attachment_source)),
        ("refused", Val::Bool(b.refused)),
        ("refusedBy", opt_ref(g, &b.refused_by)),
        // What the refusal is about: the namespace that binds, the traffic type the
        // object needs, and the reason istiod writes in `WaypointBound`.
        (
            "fromNamespace",
            Val::borrowed(match g.resources[i].kind {
                meshlint_model::Kind::Namespace => g.resources[i].name(),
                _ => g.resources[i].namespace(),
            }),
        ),
        (
            "needs",
            Val::borrowed(match g.resources[i].kind {
                meshlint_model::Kind::Service | meshlint_model::Kind::ServiceEntry => "service",
                _ => "workload",
            }),
        ),
        (
            "reason",
            Val::borrowed(match b.outcome {
                "attachment-denied" => "AttachmentDenied",
                "unsupported-traffic-type" => "UnsupportedTrafficType",
                "missing" => "WaypointIsNotReady",
                _ => "",
            }),
        ),
    ]))
}

pub(super) fn ztunnel_authz<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let v = arg("ztunnelAuthz", a, 0)?;
    let g = h.g;
    let Some(i) = resource_index(g, v) else {
        return Ok(Val::Null);
    };
    let Some(z) = g.ztunnel_authz(i) else {
        return Ok(Val::Null);
    };
    let mut fields: Vec<&str> = z.l7.iter().map(|f| f.field.as_str()).collect();
    fields.sort_unstable();
    fields.dedup();
    // The field a finding points at: the first HTTP attribute, else the action.
    let at = match z.l7.first() {
        Some(f) => f.path.as_str(),
        None if g.resources[i].node.str_at(&["spec", "action"]).is_some() => "spec.action",
        None => "metadata.name",
    };
    Ok(Val::map([
        ("at", Val::str(at)),
        ("action", Val::str(&z.action)),
        ("outcome", Val::borrowed(z.outcome)),
        (
            "l7",
            Val::list(
                z.l7.iter()
                    .map(|f| {
                        Val::map([
                            ("field", Val::str(&f.field)),
                            ("rule", int(f.rule as u32)),
                            ("ref", ref_value(g, i, &f.path)),
                        ])
                    })
                    .collect(),
            ),
        ),
        (
            "fields",
            Val::list(fields.into_iter().map(Val::str).collect()),
        ),
        (
            "workloads",
            Val::list(
                z.workloads
                    .iter()
                    .map(|&w| Val::borrowed(g.resources[w].name()))
                    .collect(),
            ),
        ),
    ]))
}

pub(super) fn policy_target_refs<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let g = h.g;
    let Some(i) = resource_index(g, arg("policyTargetRefs", a, 0)?) else {
        return Ok(Val::list(Vec::new()));
    };
    Ok(Val::list(
        g.policy_target_refs(i)
            .into_iter()
            .map(|t| {
                Val::map([
                    ("at", Val::str(&t.path)),
                    ("kind", Val::str(&t.kind)),
                    ("name", Val::str(&t.name)),
                    (
                        "target",
                        t.target.map(|x| name_ref(g, x)).unwrap_or(Val::Null),
                    ),
                    ("outcome", Val::borrowed(t.outcome)),
                    ("certain", Val::Bool(t.certain)),
                ])
            })
            .collect(),
    ))
}

pub(super) fn workload_waypoints<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let g = h.g;
    let Some(w) = resource_index(g, arg("workloadWaypoints", a, 0)?) else {
        return Ok(Val::list(Vec::new()));
    };
    if !matches!(g.resources[w].typed, Typed::Workload(_)) {
        return Ok(Val::list(Vec::new()));
    }
    Ok(Val::list(
        g.workload_waypoints(w)
            .into_iter()
            .map(|x| name_ref(g, x))
            .collect(),
    ))
}

pub(super) fn waypoint_identity_refused<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let g = h.g;
    let Some(i) = resource_index(g, arg("waypointIdentityRefused", a, 0)?) else {
        return Ok(Val::Null);
    };
    let Some(x) = g.waypoint_identity_refused(i) else {
        return Ok(Val::Null);
    };
    let refs = |v: &[usize]| Val::list(v.iter().map(|&r| name_ref(g, r)).collect());
    Ok(Val::map([
        ("waypoints", refs(&x.waypoints)),
        ("workloads", refs(&x.workloads)),
        ("principals", str_list(&x.principals)),
        (
            "sources",
            Val::list(x.sources.iter().map(|p| ref_value(g, i, p)).collect()),
        ),
    ]))
}

pub(super) fn policy_ambient_workloads<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let g = h.g;
    let Some(i) = resource_index(g, arg("policyAmbientWorkloads", a, 0)?) else {
        return Ok(Val::list(Vec::new()));
    };
    Ok(Val::list(
        g.policy_ambient_workloads(i)
            .into_iter()
            .map(|w| {
                Val::map([
                    ("ref", name_ref(g, w)),
                    ("name", Val::borrowed(g.resources[w].name())),
                    (
                        "waypoints",
                        Val::list(
                            g.workload_waypoints(w)
                                .into_iter()
                                .map(|x| name_ref(g, x))
                                .collect(),
                        ),
                    ),
                ])
            })
            .collect(),
    ))
}

pub(super) fn waypoint_route_issues<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let g = h.g;
    let Some(i) = resource_index(g, arg("waypointRouteIssues", a, 0)?) else {
        return Ok(Val::list(Vec::new()));
    };
    Ok(Val::list(
        g.waypoint_route_issues(i)
            .into_iter()
            .map(|x| {
                Val::map([
                    ("at", Val::str(&x.path)),
                    ("issue", Val::borrowed(x.issue)),
                    ("service", name_ref(g, x.service)),
                    ("waypoint", name_ref(g, x.waypoint)),
                    (
                        "other",
                        x.other.map(|o| name_ref(g, o)).unwrap_or(Val::Null),
                    ),
                ])
            })
            .collect(),
    ))
}

pub(super) fn ingress_waypoint_bypass<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let g = h.g;
    let Some(i) = resource_index(g, arg("ingressWaypointBypass", a, 0)?) else {
        return Ok(Val::list(Vec::new()));
    };
    Ok(Val::list(
        g.ingress_waypoint_bypass(i)
            .into_iter()
            .map(|x| {
                Val::map([
                    ("at", Val::str(&x.path)),
                    ("service", name_ref(g, x.service)),
                    ("waypoint", name_ref(g, x.waypoint)),
                    (
                        "policies",
                        Val::list(x.policies.iter().map(|&p| name_ref(g, p)).collect()),
                    ),
                ])
            })
            .collect(),
    ))
}

pub(super) fn waypoint_listener_issues<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let g = h.g;
    let Some(i) = resource_index(g, arg("waypointListenerIssues", a, 0)?) else {
        return Ok(Val::list(Vec::new()));
    };
    Ok(Val::list(
        g.waypoint_listener_issues(i)
            .into_iter()
            .map(|x| {
                Val::map([
                    ("at", Val::str(&x.path)),
                    ("noHbone", Val::Bool(x.no_hbone)),
                ])
            })
            .collect(),
    ))
}

pub(super) fn ambient_network_block<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let g = h.g;
    let Some(i) = resource_index(g, arg("ambientNetworkBlock", a, 0)?) else {
        return Ok(Val::Null);
    };
    let Some(x) = g.ambient_network_block(i) else {
        return Ok(Val::Null);
    };
    let names = |v: &[usize]| {
        Val::list(
            v.iter()
                .map(|&w| Val::borrowed(g.resources[w].name()))
                .collect(),
        )
    };
    Ok(Val::map([
        ("workloads", names(&x.workloads)),
        ("hboneBlocked", Val::Bool(x.hbone_blocked)),
        ("probesBlocked", names(&x.probes_blocked)),
    ]))
}
