//! PeerAuthentication and client TLS: modes, DestinationRule TLS, mesh and namespace conflicts.

use super::values::*;
use super::{GraphEntry, GraphHost, R};
use meshlint_cel::Val;
use meshlint_graph::MeshGraph;
use meshlint_load::PathSegment;

pub(super) const FUNCTIONS: &[GraphEntry] = &[
    ("peerMode", 2, peer_mode),
    ("peerModes", 2, peer_modes),
    ("clientTls", 4, client_tls),
    ("destinationRuleFor", 2, destination_rule_for),
    ("tlsSettings", 1, tls_settings),
    ("disableTowardAmbient", 1, disable_toward_ambient),
    ("peerTargets", 1, peer_targets),
    (
        "strictNamespacesUnderDisable",
        1,
        strict_namespaces_under_disable,
    ),
    (
        "disabledNamespacesUnderIstioMutual",
        1,
        disabled_namespaces_under_istio_mutual,
    ),
    ("strictWithoutClientMtls", 1, strict_without_client_mtls),
    (
        "meshMtlsWithoutPeerAuthentication",
        1,
        mesh_mtls_without_peer_authentication,
    ),
];

pub(super) fn peer_mode<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let w = arg("peerMode", a, 0)?;
    let port = arg_int("peerMode", a, 1)?;
    let g = h.g;
    let Some(idx) = resource_index(g, w) else {
        return Ok(Val::Null);
    };
    let d = g.peer_mode(idx, u32::try_from(port).ok().filter(|p| *p > 0));
    Ok(Val::map([
        ("mode", Val::str(&d.value)),
        ("ref", decision_ref(g, &d)),
    ]))
}

pub(super) fn peer_modes<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let host = arg_str("peerModes", a, 0)?;
    let port = arg_int("peerModes", a, 1)?;
    let g = h.g;
    let mut out = Vec::new();
    for t in g.host_targets(host) {
        let ports = g.ports_of(t.resource);
        for w in g.workloads_of(t.resource) {
            let container_port = ports
                .iter()
                .find(|p| p.number as i64 == port)
                .map(|p| g.target_port(w, p))
                .or(u32::try_from(port).ok().filter(|p| *p > 0));
            let d = g.peer_mode(w, container_port);
            out.push(Val::map([
                ("workload", workload_value(g, w)),
                ("mode", Val::str(&d.value)),
                ("ref", decision_ref(g, &d)),
                ("targetPort", container_port.map(int).unwrap_or(Val::Null)),
                (
                    "captured",
                    Val::Bool(
                        container_port
                            .map(|p| g.inbound_captured(w, p))
                            .unwrap_or_else(|| g.has_sidecar(w)),
                    ),
                ),
                (
                    "enforcedBy",
                    Val::borrowed(match container_port {
                        Some(p) => g.mtls_enforced_by(w, p),
                        None if g.has_sidecar(w) => "sidecar",
                        None if g.is_ambient(w) => "ztunnel",
                        None => "none",
                    }),
                ),
            ]));
        }
    }
    Ok(Val::list(out))
}

pub(super) fn client_tls<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let ns = arg_str("clientTls", a, 0)?;
    let host = arg_str("clientTls", a, 1)?;
    let port = arg_int("clientTls", a, 2)?;
    let subset = arg_str("clientTls", a, 3)?;
    let g = h.g;
    let port = u32::try_from(port).ok().filter(|p| *p > 0);
    let subset = Some(subset).filter(|s| !s.is_empty());
    let (d, tls) = g.client_tls(ns, host, port, subset);
    let tls_bool =
        |f: fn(&meshlint_model::typed::ClientTls) -> bool| Val::Bool(tls.as_ref().is_some_and(f));
    Ok(Val::map([
        ("mode", Val::str(&d.value)),
        ("ref", decision_ref(g, &d)),
        ("hasCa", tls_bool(|t| t.has_ca)),
        ("hasClientCert", tls_bool(|t| t.has_client_cert)),
        ("credentialName", tls_bool(|t| t.credential_name)),
        ("insecureSkipVerify", tls_bool(|t| t.insecure_skip_verify)),
        ("sni", opt_str(tls.as_ref().and_then(|t| t.sni.as_deref()))),
    ]))
}

pub(super) fn destination_rule_for<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let ns = arg_str("destinationRuleFor", a, 0)?;
    let host = arg_str("destinationRuleFor", a, 1)?;
    let g = h.g;
    let Some(merged) = g.merged_destination_rule_for_lookup(ns, host) else {
        return Ok(Val::Null);
    };
    let d = merged.primary();
    let r = &g.resources[d];
    let subsets = merged.subsets.iter().map(|s| Val::str(&s.name)).collect();
    Ok(Val::map([
        ("namespace", Val::borrowed(r.namespace())),
        ("name", Val::borrowed(r.name())),
        ("subsets", Val::list(subsets)),
        ("ref", ref_with(g, d, Val::borrowed("spec.host"))),
        (
            "members",
            Val::list(
                merged
                    .members
                    .iter()
                    .map(|&m| ref_with(g, m, Val::borrowed("spec.host")))
                    .collect(),
            ),
        ),
    ]))
}

// mTLS and TLS consistency (issue 4, ML1xxx rules)

pub(super) fn tls_settings<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let dr = arg("tlsSettings", a, 0)?;
    let g = h.g;
    let Some(i) = resource_index(g, dr) else {
        return Ok(Val::list(Vec::new()));
    };
    // Several TLS rules ask this of one DestinationRule: `GraphHost::call` keeps the
    // answer (`PER_RESOURCE`).
    Ok(tls_settings_value(g, i))
}

pub(super) fn disable_toward_ambient<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let g = h.g;
    let Some(i) = resource_index(g, arg("disableTowardAmbient", a, 0)?) else {
        return Ok(Val::list(Vec::new()));
    };
    let res = &g.resources[i];
    Ok(Val::list(
        g.disable_toward_ambient(i)
            .into_iter()
            .map(|x| {
                // Point at `mode` when written (as `tlsSettings` does), else the block.
                let mode_path = format!("{}.mode", x.path);
                let at = if res.has_path(&mode_path) {
                    mode_path
                } else {
                    x.path
                };
                let mut names: Vec<&str> = Vec::new();
                for &w in &x.workloads {
                    let n = g.resources[w].name();
                    if !names.contains(&n) {
                        names.push(n);
                    }
                }
                Val::map([
                    ("at", Val::str(&at)),
                    (
                        "targets",
                        Val::list(x.targets.iter().map(|t| Val::str(t)).collect()),
                    ),
                    (
                        "workloads",
                        Val::list(names.into_iter().map(Val::str).collect()),
                    ),
                ])
            })
            .collect(),
    ))
}

pub(super) fn tls_settings_value(g: &MeshGraph, i: usize) -> Val<'_> {
    let res = &g.resources[i];
    // A workload is governed once per port of its Service, and by several blocks.
    let mut workloads = Workloads::new(workload_brief);
    Val::list(
        g.tls_settings(i)
            .iter()
            .map(|t| {
                let mode_path = format!("{}.mode", t.tls.path);
                let at = if res.has_path(&mode_path) {
                    mode_path
                } else {
                    t.tls.path.to_string()
                };
                let destinations = t
                    .destinations
                    .iter()
                    .map(|d| {
                        let mut governed = |ws: &[meshlint_graph::GovernedWorkload]| {
                            ws.iter()
                                .map(|w| {
                                    Val::map([
                                        ("workload", workloads.value(g, w.workload)),
                                        ("containerPort", int(w.container_port)),
                                        ("mode", Val::str(&w.peer.value)),
                                        ("ref", decision_ref(g, &w.peer)),
                                        ("captured", Val::Bool(w.captured)),
                                        ("enforcedBy", Val::borrowed(w.enforced_by)),
                                    ])
                                })
                                .collect()
                        };
                        Val::map([
                            ("host", Val::str(&d.host)),
                            ("target", target_brief(g, d.target, &d.host)),
                            ("port", port_info_value(g, d.target, &d.port)),
                            ("workloads", Val::list(governed(&d.workloads))),
                            ("hbone", Val::list(governed(&d.hbone))),
                        ])
                    })
                    .collect();
                let object = PathSegment::parse_path(&t.tls.path)
                    .and_then(|p| res.node.lookup(&p).map(|(n, _)| n))
                    .map(Val::from_node)
                    .unwrap_or(Val::Null);
                Val::map([
                    ("mode", Val::str(&t.tls.mode)),
                    ("path", Val::str(&t.tls.path)),
                    ("at", Val::str(&at)),
                    ("port", int(t.port.unwrap_or(0))),
                    ("subset", Val::str(t.subset.as_deref().unwrap_or(""))),
                    ("hasCa", Val::Bool(t.tls.has_ca)),
                    ("hasClientCert", Val::Bool(t.tls.has_client_cert)),
                    ("credentialName", Val::Bool(t.tls.credential_name)),
                    ("insecureSkipVerify", Val::Bool(t.tls.insecure_skip_verify)),
                    ("sni", opt_str(t.tls.sni.as_deref())),
                    ("ref", ref_value(g, i, &at)),
                    ("object", object),
                    ("destinations", Val::list(destinations)),
                ])
            })
            .collect(),
    )
}

pub(super) fn peer_targets<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let pa = arg("peerTargets", a, 0)?;
    let g = h.g;
    let Some(i) = resource_index(g, pa) else {
        return Ok(Val::list(Vec::new()));
    };
    // A workload is a target once per port of each Service selecting it.
    let mut workloads = Workloads::new(workload_value);
    Ok(Val::list(
        g.peer_targets(i)
            .iter()
            .map(|t| {
                Val::map([
                    ("host", Val::str(&t.host)),
                    ("port", port_info_value(g, t.target, &t.port)),
                    ("workload", workloads.value(g, t.workload)),
                    ("containerPort", int(t.container_port)),
                    ("mode", Val::str(&t.peer.value)),
                    ("ref", decision_ref(g, &t.peer)),
                    ("captured", Val::Bool(t.captured)),
                    ("enforcedBy", Val::borrowed(t.enforced_by)),
                ])
            })
            .collect(),
    ))
}

// mTLS at namespace and mesh level (issue 14)

/// [`meshlint_graph::LevelConflict`]s as `{namespace, level, host, ref}`, `ref` pointing
/// at the other side's deciding field.
pub(super) fn level_conflicts<'g>(
    h: &GraphHost<'g>,
    a: &[Val<'g>],
    name: &str,
    query: fn(&MeshGraph, usize) -> Vec<meshlint_graph::LevelConflict>,
) -> R<'g> {
    let g = h.g;
    let Some(i) = resource_index(g, arg(name, a, 0)?) else {
        return Ok(Val::list(Vec::new()));
    };
    Ok(Val::list(
        query(g, i)
            .into_iter()
            .map(|c| {
                Val::map([
                    ("namespace", Val::str(&c.namespace)),
                    ("level", Val::borrowed(c.level)),
                    ("host", Val::str(&c.host)),
                    ("ref", ref_value(g, c.other.0, &c.other.1)),
                ])
            })
            .collect(),
    ))
}

pub(super) fn strict_namespaces_under_disable<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    level_conflicts(
        h,
        a,
        "strictNamespacesUnderDisable",
        MeshGraph::strict_namespaces_under_disable,
    )
}

pub(super) fn disabled_namespaces_under_istio_mutual<'g>(
    h: &GraphHost<'g>,
    a: &[Val<'g>],
) -> R<'g> {
    level_conflicts(
        h,
        a,
        "disabledNamespacesUnderIstioMutual",
        MeshGraph::disabled_namespaces_under_istio_mutual,
    )
}

pub(super) fn strict_without_client_mtls<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    level_conflicts(
        h,
        a,
        "strictWithoutClientMtls",
        MeshGraph::strict_without_client_mtls,
    )
}

/// `meshMtlsWithoutPeerAuthentication(dr)`: a reference to the `tls.mode` of a mesh-wide
/// ISTIO_MUTUAL DestinationRule when no mesh-wide PeerAuthentication exists, else null.
pub(super) fn mesh_mtls_without_peer_authentication<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let g = h.g;
    let name = "meshMtlsWithoutPeerAuthentication";
    let Some(i) = resource_index(g, arg(name, a, 0)?) else {
        return Ok(Val::Null);
    };
    Ok(match g.mesh_mtls_without_peer_authentication(i) {
        Some(path) => ref_value(g, i, &path),
        None => Val::Null,
    })
}
