//! The mTLS rules' answers (graph `tls_answers.rs`) as rule values: one value per
//! finding, carrying the destinations, names and references its message shows.

use super::values::*;
use super::{GraphEntry, GraphHost, R};
use meshlint_cel::{error, Val};
use meshlint_graph::{MeshGraph, NonMeshReason, PortLevelMtlsIssue, RouteTo, TlsConflict};

pub(super) const FUNCTIONS: &[GraphEntry] = &[
    ("plaintextCallers", 1, plaintext_callers),
    ("clientsWithoutMtls", 1, clients_without_mtls),
    ("tlsConflicts", 2, tls_conflicts),
    ("autoMtlsToBypassedPorts", 1, auto_mtls_to_bypassed_ports),
    ("portLevelMtlsIgnored", 1, port_level_mtls_ignored),
    ("externalServers", 1, external_servers),
    ("serversWithoutCertificate", 1, servers_without_certificate),
];

/// Strings in first-seen order without repeats (what messages list).
fn distinct(items: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in items {
        if !out.contains(&s) {
            out.push(s);
        }
    }
    out
}

/// References without repeats, in first-seen order.
fn distinct_refs<'g>(g: &'g MeshGraph, at: impl IntoIterator<Item = (usize, String)>) -> Val<'g> {
    let mut seen: Vec<(usize, String)> = Vec::new();
    for x in at {
        if !seen.contains(&x) {
            seen.push(x);
        }
    }
    Val::list(seen.iter().map(|(i, p)| ref_value(g, *i, p)).collect())
}

fn qualified(g: &MeshGraph, i: usize) -> String {
    let r = &g.resources[i];
    format!("{}/{}", r.namespace(), r.name())
}

fn route_value<'g>(g: &'g MeshGraph, r: &RouteTo) -> Val<'g> {
    let vs = &g.resources[r.virtual_service];
    Val::map([
        ("kind", Val::borrowed(&vs.id.kind)),
        ("namespace", Val::borrowed(vs.namespace())),
        ("name", Val::borrowed(vs.name())),
        ("ref", ref_value(g, r.virtual_service, &r.path)),
    ])
}

/// Routes without repeats (a route serving several ports or clients is listed once).
fn routes_value<'g, 'r>(
    g: &'g MeshGraph,
    routes: impl IntoIterator<Item = &'r RouteTo>,
) -> Val<'g> {
    let mut seen: Vec<(usize, &str)> = Vec::new();
    let mut out = Vec::new();
    for r in routes {
        if !seen.contains(&(r.virtual_service, r.path.as_str())) {
            seen.push((r.virtual_service, r.path.as_str()));
            out.push(route_value(g, r));
        }
    }
    Val::list(out)
}

/// The VirtualServices of routes, each once (copies of one object count once), for
/// messages naming them.
fn virtual_services<'g, 'r>(
    g: &'g MeshGraph,
    routes: impl IntoIterator<Item = &'r RouteTo>,
) -> Val<'g> {
    let mut seen: Vec<(&str, &str)> = Vec::new();
    let mut out = Vec::new();
    for r in routes {
        let vs = &g.resources[r.virtual_service];
        if !seen.contains(&(vs.namespace(), vs.name())) {
            seen.push((vs.namespace(), vs.name()));
            out.push(name_ref(g, r.virtual_service));
        }
    }
    Val::list(out)
}

/// `plaintextCallers(ns)`: `[]`, or one value for a namespace without injection whose
/// workloads call STRICT ports elsewhere.
fn plaintext_callers<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let ns = arg_str("plaintextCallers", a, 0)?;
    let g = h.g;
    let Some(c) = g.plaintext_callers(ns) else {
        return Ok(Val::list(Vec::new()));
    };
    let workloads = distinct(
        c.workloads
            .iter()
            .map(|&w| g.resources[w].name().to_string()),
    );
    Ok(Val::list(vec![Val::map([
        ("workloads", str_list(&workloads)),
        (
            "targets",
            str_list(&distinct(c.strict.iter().map(|p| p.address()))),
        ),
        (
            "policies",
            str_list(&distinct(c.strict.iter().map(|p| qualified(g, p.policy.0)))),
        ),
        (
            "refs",
            distinct_refs(
                g,
                c.strict
                    .iter()
                    .map(|p| (p.policy.0, p.policy.1.to_string())),
            ),
        ),
    ])]))
}

/// `clientsWithoutMtls(peerAuthentication)`: `[]`, or one value when auto mTLS is off
/// and clients find no TLS setting for ports this STRICT policy decides.
fn clients_without_mtls<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let g = h.g;
    let Some(pa) = resource_index(g, arg("clientsWithoutMtls", a, 0)?) else {
        return Ok(Val::list(Vec::new()));
    };
    let pairs = g.clients_without_mtls(pa);
    let Some(first) = pairs.first() else {
        return Ok(Val::list(Vec::new()));
    };
    let hosts: Vec<&str> = pairs.iter().map(|p| &*p.port.host).collect();
    let misplaced = g
        .misplaced_istio_mutual(&hosts)
        .into_iter()
        .map(|d| ref_value(g, d, "metadata.namespace"))
        .collect();
    Ok(Val::list(vec![Val::map([
        ("at", Val::str(&first.port.policy.1)),
        (
            "clients",
            str_list(&distinct(pairs.iter().map(|p| p.client.clone()))),
        ),
        (
            "targets",
            str_list(&distinct(pairs.iter().map(|p| p.port.address()))),
        ),
        ("misplaced", Val::list(misplaced)),
    ])]))
}

/// The deciding fields of a block's hits without repeats, each reference also carrying
/// the hit's `reason` (for the related labels).
fn hit_refs<'g>(g: &'g MeshGraph, hits: &[meshlint_graph::TlsConflictHit]) -> Val<'g> {
    let mut seen: Vec<&(usize, String)> = Vec::new();
    let mut out = Vec::new();
    for x in hits {
        if seen.contains(&&x.at) {
            continue;
        }
        seen.push(&x.at);
        let r = &g.resources[x.at.0];
        out.push(Val::map([
            ("_r", usize_int(x.at.0)),
            ("path", Val::str(&x.at.1)),
            ("kind", Val::borrowed(&r.id.kind)),
            ("namespace", Val::borrowed(r.namespace())),
            ("name", Val::borrowed(r.name())),
            ("reason", Val::borrowed(reason_name(x.reason))),
        ]));
    }
    Val::list(out)
}

fn reason_name(r: Option<NonMeshReason>) -> &'static str {
    match r {
        Some(NonMeshReason::External) => "external",
        Some(NonMeshReason::NoSidecar) => "no-sidecar",
        Some(NonMeshReason::Bypass) => "bypass",
        Some(NonMeshReason::Disabled) => "disabled",
        None => "",
    }
}

/// `tlsConflicts(destinationRule, kind)`: the `tls` blocks in conflict of one kind
/// (`plaintext-to-strict`, `mtls-to-non-mesh`, `mtls-to-app-tls`,
/// `origination-on-tls-port`) with the destinations they govern.
fn tls_conflicts<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let g = h.g;
    let kind = match arg_str("tlsConflicts", a, 1)? {
        "plaintext-to-strict" => TlsConflict::PlaintextToStrict,
        "mtls-to-non-mesh" => TlsConflict::IstioMutualToNonMesh,
        "mtls-to-app-tls" => TlsConflict::IstioMutualToAppTls,
        "origination-on-tls-port" => TlsConflict::OriginationOnTlsPort,
        other => return error(format!("`tlsConflicts` knows no conflict `{other}`")),
    };
    let Some(dr) = resource_index(g, arg("tlsConflicts", a, 0)?) else {
        return Ok(Val::list(Vec::new()));
    };
    let conflicts = g.tls_conflicts(dr, kind);
    if conflicts.is_empty() {
        return Ok(Val::list(Vec::new()));
    }
    let used = g.destination_rule_use(dr);
    Ok(Val::list(
        conflicts
            .iter()
            .map(|c| {
                let hits = c
                    .hits
                    .iter()
                    .map(|x| {
                        let workload = x.workload.map(|w| g.resources[w].name()).unwrap_or("");
                        let injection = x
                            .workload
                            .map(|w| g.injection_decision(w).value)
                            .unwrap_or_default();
                        Val::map([
                            ("host", Val::str(&x.host)),
                            ("target", Val::str(&format!("{}:{}", x.host, x.port.number))),
                            ("port", port_info_value(g, x.target, &x.port)),
                            ("kind", Val::borrowed(&g.resources[x.target].id.kind)),
                            ("destination", name_ref(g, x.target)),
                            ("workload", Val::borrowed(workload)),
                            (
                                "workloadNamespace",
                                Val::borrowed(
                                    x.workload.map(|w| g.resources[w].namespace()).unwrap_or(""),
                                ),
                            ),
                            ("containerPort", int(x.container_port.unwrap_or(0))),
                            ("reason", Val::borrowed(reason_name(x.reason))),
                            ("injection", Val::str(&injection)),
                            ("ref", ref_value(g, x.at.0, &x.at.1)),
                            ("gatewayRoutes", routes_value(g, &x.gateway_routes)),
                            ("rewrites", routes_value(g, &x.rewrites)),
                        ])
                    })
                    .collect();
                let targets = distinct(
                    c.hits
                        .iter()
                        .map(|x| format!("{}:{}", x.host, x.port.number)),
                );
                let workloads = distinct(
                    c.hits
                        .iter()
                        .filter_map(|x| x.workload.map(|w| g.resources[w].name().to_string())),
                );
                Val::map([
                    ("mode", Val::str(&c.mode)),
                    ("at", Val::str(&c.at)),
                    ("subset", Val::str(c.subset.as_deref().unwrap_or(""))),
                    ("targets", str_list(&targets)),
                    ("workloads", str_list(&workloads)),
                    ("refs", hit_refs(g, &c.hits)),
                    ("hits", Val::list(hits)),
                    (
                        "gatewayRoutes",
                        routes_value(g, c.hits.iter().flat_map(|x| &x.gateway_routes)),
                    ),
                    (
                        "gatewayVirtualServices",
                        virtual_services(g, c.hits.iter().flat_map(|x| &x.gateway_routes)),
                    ),
                    (
                        "rewritten",
                        Val::Bool(c.hits.iter().all(|x| !x.rewrites.is_empty())),
                    ),
                    ("latent", Val::Bool(used.latent)),
                    ("ownNamespaceOnly", Val::Bool(used.own_namespace_only)),
                ])
            })
            .collect(),
    ))
}

/// `autoMtlsToBypassedPorts(workload)`: `[]`, or one value listing the service ports of
/// a workload that reach container ports bypassing its sidecar while auto mTLS sends
/// some clients Istio mTLS there.
fn auto_mtls_to_bypassed_ports<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let g = h.g;
    let Some(w) = resource_index(g, arg("autoMtlsToBypassedPorts", a, 0)?) else {
        return Ok(Val::list(Vec::new()));
    };
    let ports = g.auto_mtls_to_bypassed_ports(w);
    let Some(first) = ports.first() else {
        return Ok(Val::list(Vec::new()));
    };
    let targets = ports
        .iter()
        .map(|p| {
            Val::map([
                ("target", Val::str(&format!("{}:{}", p.host, p.port))),
                ("clients", str_list(&p.clients)),
            ])
        })
        .collect();
    Ok(Val::list(vec![Val::map([
        ("host", Val::str(&first.host)),
        (
            "ports",
            str_list(&distinct(ports.iter().map(|p| p.port.to_string()))),
        ),
        (
            "containerPorts",
            str_list(&distinct(
                ports.iter().map(|p| p.container_port.to_string()),
            )),
        ),
        ("targets", Val::list(targets)),
        (
            "routes",
            routes_value(g, ports.iter().flat_map(|p| &p.gateway_routes)),
        ),
        (
            "virtualServices",
            virtual_services(g, ports.iter().flat_map(|p| &p.gateway_routes)),
        ),
        (
            "at",
            Val::str(&format!(
                "{}.annotations[\"traffic.sidecar.istio.io/excludeInboundPorts\"]",
                g.pod_metadata_path(w)
            )),
        ),
    ])]))
}

/// `portLevelMtlsIgnored(peerAuthentication)`: why its `portLevelMtls` entries never
/// apply: `{kind: 'no-selector', ports, at}` or, per port key,
/// `{kind: 'no-port', port, workloads, containerPorts, servicePorts, at}`.
fn port_level_mtls_ignored<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let g = h.g;
    let Some(pa) = resource_index(g, arg("portLevelMtlsIgnored", a, 0)?) else {
        return Ok(Val::list(Vec::new()));
    };
    Ok(Val::list(
        g.port_level_mtls_ignored(pa)
            .into_iter()
            .map(|issue| match issue {
                PortLevelMtlsIssue::NoSelector { ports } => Val::map([
                    ("kind", Val::borrowed("no-selector")),
                    ("ports", str_list(&ports)),
                    ("at", Val::borrowed("spec.portLevelMtls")),
                ]),
                PortLevelMtlsIssue::NoPort {
                    port,
                    workloads,
                    container_ports,
                    service_ports,
                } => Val::map([
                    ("kind", Val::borrowed("no-port")),
                    ("at", Val::str(&format!("spec.portLevelMtls[\"{port}\"]"))),
                    ("port", Val::str(&port)),
                    (
                        "workloads",
                        str_list(&distinct(
                            workloads.iter().map(|&w| g.resources[w].name().to_string()),
                        )),
                    ),
                    ("containerPorts", str_list(&container_ports)),
                    (
                        "servicePorts",
                        Val::list(
                            service_ports
                                .iter()
                                .map(|(svc, target)| {
                                    Val::map([
                                        ("service", Val::borrowed(g.resources[*svc].name())),
                                        ("targetPort", Val::str(target)),
                                    ])
                                })
                                .collect(),
                        ),
                    ),
                ]),
            })
            .collect(),
    ))
}

/// `externalServers(gateway)`: the servers facing clients outside the mesh, as
/// `{index, port, mode, exposedBy}` (`exposedBy`: the LoadBalancer/NodePort Services,
/// with `serviceType`).
fn external_servers<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let g = h.g;
    let Some(gw) = resource_index(g, arg("externalServers", a, 0)?) else {
        return Ok(Val::list(Vec::new()));
    };
    Ok(Val::list(
        g.externally_facing_servers(gw)
            .into_iter()
            .map(|s| {
                let exposed = s
                    .exposed_by
                    .iter()
                    .map(|&svc| {
                        let r = &g.resources[svc];
                        let kind = match &r.typed {
                            meshlint_model::Typed::Service(k) => {
                                k.service_type.as_deref().unwrap_or("")
                            }
                            _ => "",
                        };
                        Val::map([
                            ("_r", usize_int(svc)),
                            ("path", Val::borrowed("metadata.name")),
                            ("kind", Val::borrowed(&r.id.kind)),
                            ("namespace", Val::borrowed(r.namespace())),
                            ("name", Val::borrowed(r.name())),
                            ("serviceType", Val::borrowed(kind)),
                        ])
                    })
                    .collect();
                Val::map([
                    ("index", usize_int(s.index)),
                    ("port", int(s.port)),
                    ("mode", Val::str(&s.mode)),
                    ("exposedBy", Val::list(exposed)),
                ])
            })
            .collect(),
    ))
}

/// `serversWithoutCertificate(gateway)`: `{index, port, mode}` per server terminating TLS
/// without a certificate (`port` as written, `?` when absent).
fn servers_without_certificate<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let g = h.g;
    let Some(gw) = resource_index(g, arg("serversWithoutCertificate", a, 0)?) else {
        return Ok(Val::list(Vec::new()));
    };
    Ok(Val::list(
        g.servers_without_certificate(gw)
            .into_iter()
            .map(|s| {
                Val::map([
                    ("index", usize_int(s.index)),
                    ("port", Val::str(&s.port)),
                    ("mode", Val::str(&s.mode)),
                ])
            })
            .collect(),
    ))
}
