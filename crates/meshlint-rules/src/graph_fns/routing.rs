//! VirtualService destinations, subsets, protocols and port conflicts.

use super::hosts::{export_refs, host_lookup_value, suggested_refs};
use super::values::*;
use super::{GraphEntry, GraphHost, R};
use meshlint_cel::Val;
use meshlint_graph::DestinationProblemKind;
use meshlint_model::Typed;

pub(super) const FUNCTIONS: &[GraphEntry] = &[
    ("tcpPortConflicts", 2, tcp_port_conflicts),
    ("destinationsOf", 1, destinations_of),
    ("protocolConflicts", 1, protocol_conflicts),
    ("routesTo", 1, routes_to),
    ("destinationOf", 3, destination_of),
    ("subsetDefined", 3, subset_defined),
    ("subsetRoutesTo", 1, subset_routes_to),
    ("destinationProblems", 1, destination_problems),
    ("addressCapture", 1, address_capture),
    ("addressConflicts", 1, address_conflicts),
    ("undefinedSubsets", 1, undefined_subsets),
];

pub(super) fn destination_problems<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let r = arg("destinationProblems", a, 0)?;
    let g = h.g;
    let Some(i) = resource_index(g, r) else {
        return Ok(Val::list(Vec::new()));
    };
    let namespaces = str_list(&g.lookup_namespaces(i));
    Ok(Val::list(
        g.destination_problems(i)
            .iter()
            .map(|p| {
                let kind = match p.kind {
                    DestinationProblemKind::Missing => "missing",
                    DestinationProblemKind::Unexported => "unexported",
                    DestinationProblemKind::Port => "port",
                    DestinationProblemKind::NoDestination => "nodestination",
                };
                // The field to report at, and the fields that explain the problem:
                // the suggested host's definitions, the `exportTo` that hides the host,
                // or the ports the host does declare.
                let at = match p.kind {
                    DestinationProblemKind::Port => format!("{}.port.number", p.path),
                    DestinationProblemKind::NoDestination => p.path.clone(),
                    _ => format!("{}.host", p.path),
                };
                let related = match (p.kind, &p.lookup) {
                    (DestinationProblemKind::Port, _) => g
                        .host_targets(&p.fqdn)
                        .iter()
                        .flat_map(|t| port_values(g, t.resource))
                        .map(|v| v.field("ref").unwrap_or(Val::Null))
                        .collect(),
                    (DestinationProblemKind::Missing, Some(l)) => suggested_refs(g, l),
                    (DestinationProblemKind::Unexported, Some(l)) => export_refs(g, l),
                    _ => Vec::new(),
                };
                // The port numbers the host declares, each once (a Service and a
                // ServiceEntry may both declare one).
                let mut numbers: Vec<u32> = Vec::new();
                if p.kind == DestinationProblemKind::Port {
                    for t in g.host_targets(&p.fqdn) {
                        for q in g.ports_of(t.resource) {
                            if !numbers.contains(&q.number) {
                                numbers.push(q.number);
                            }
                        }
                    }
                }
                let ports: Vec<Val> = numbers.iter().map(|n| Val::str(&n.to_string())).collect();
                Val::map([
                    ("at", Val::str(&at)),
                    ("namespaces", namespaces.clone()),
                    // A missing host's suggestion and certainty; `''` and true otherwise.
                    (
                        "suggestion",
                        Val::str(
                            p.lookup
                                .as_ref()
                                .and_then(|l| l.suggestion.as_deref())
                                .unwrap_or(""),
                        ),
                    ),
                    (
                        "certain",
                        Val::Bool(p.lookup.as_ref().is_none_or(|l| l.certain)),
                    ),
                    ("ports", Val::list(ports)),
                    ("related", Val::list(related)),
                    ("problem", Val::borrowed(kind)),
                    ("path", Val::str(&p.path)),
                    ("host", Val::str(&p.host)),
                    ("fqdn", Val::str(&p.fqdn)),
                    ("port", int(p.port)),
                    (
                        "lookup",
                        p.lookup
                            .as_ref()
                            .map(|l| host_lookup_value(g, l))
                            .unwrap_or(Val::Null),
                    ),
                ])
            })
            .collect(),
    ))
}

// ServiceEntry addressing and host scoping (issue 4, ML2xxx rules)

pub(super) fn tcp_port_conflicts<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let se = arg("tcpPortConflicts", a, 0)?;
    let port = arg_int("tcpPortConflicts", a, 1)?;
    let g = h.g;
    let (Some(i), Ok(port)) = (direct_index(g, se), u32::try_from(port)) else {
        return Ok(Val::list(Vec::new()));
    };
    Ok(Val::list(
        g.address_port_conflicts(i, port)
            .into_iter()
            .map(|(o, path)| ref_value(g, o, &path))
            .collect(),
    ))
}

pub(super) fn destinations_of<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let r = arg("destinationsOf", a, 0)?;
    let g = h.g;
    let Some(i) = direct_index(g, r) else {
        return Ok(Val::list(Vec::new()));
    };
    let res = &g.resources[i];
    let Typed::VirtualService(vs) = &res.typed else {
        return Ok(Val::list(Vec::new()));
    };
    Ok(Val::list(
        vs.destinations
            .iter()
            .map(|d| {
                Val::map([
                    ("host", Val::borrowed(&d.host)),
                    ("fqdn", Val::str(&g.resolve_host(&d.host, res.namespace()))),
                    ("port", int(d.port.unwrap_or(0))),
                    ("subset", Val::borrowed(d.subset.as_deref().unwrap_or(""))),
                    ("protocol", Val::borrowed(d.protocol)),
                    ("mirror", Val::Bool(d.path.contains(".mirror"))),
                    ("path", Val::borrowed(&d.path)),
                    ("ref", ref_value(g, i, &format!("{}.host", d.path))),
                ])
            })
            .collect(),
    ))
}

pub(super) fn protocol_conflicts<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let se = arg("protocolConflicts", a, 0)?;
    let g = h.g;
    let Some(i) = direct_index(g, se) else {
        return Ok(Val::list(Vec::new()));
    };
    Ok(Val::list(
        g.protocol_conflicts(i)
            .into_iter()
            .map(|c| {
                Val::map([
                    ("host", Val::str(&c.host)),
                    ("port", int(c.port)),
                    ("protocol", Val::str(&c.protocol)),
                    ("path", Val::str(&c.path)),
                    ("otherProtocol", Val::str(&c.other_protocol)),
                    ("ref", ref_value(g, c.other, &c.other_path)),
                ])
            })
            .collect(),
    ))
}

pub(super) fn routes_to<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let host = arg_str("routesTo", a, 0)?;
    let g = h.g;
    Ok(Val::list(
        g.routes_to(host)
            .iter()
            .map(|r| {
                let vs = &g.resources[r.virtual_service];
                Val::map([
                    ("namespace", Val::borrowed(vs.namespace())),
                    ("name", Val::borrowed(vs.name())),
                    ("port", int(r.port.unwrap_or(0))),
                    ("subset", Val::str(r.subset.as_deref().unwrap_or(""))),
                    ("protocol", Val::str(&r.protocol)),
                    ("gateways", str_list(&r.gateways)),
                    (
                        "gatewayRefs",
                        Val::list(
                            r.gateway_resources
                                .iter()
                                .map(|&x| name_ref(g, x))
                                .collect(),
                        ),
                    ),
                    ("gatewayNamespaces", str_list(&r.gateway_namespaces)),
                    ("ref", ref_value(g, r.virtual_service, &r.path)),
                ])
            })
            .collect(),
    ))
}

pub(super) fn destination_of<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let host = arg_str("destinationOf", a, 0)?;
    let ns = arg_str("destinationOf", a, 1)?;
    let export_to = arg("destinationOf", a, 2)?;
    let g = h.g;
    // Not a list (null): the destination's own export scope applies.
    let export = export_to.is_list().then(|| strings_from(export_to));
    let Some(t) = g.destination_target(host, ns, export.as_deref()) else {
        return Ok(Val::Null);
    };
    let r = &g.resources[t];
    let ports = g.ports_of(t).into_iter().map(|p| int(p.number)).collect();
    Ok(Val::map([
        ("kind", Val::borrowed(&r.id.kind)),
        ("namespace", Val::borrowed(r.namespace())),
        ("name", Val::borrowed(r.name())),
        ("ports", Val::list(ports)),
        ("ref", name_ref(g, t)),
    ]))
}

pub(super) fn subset_defined<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let host = arg_str("subsetDefined", a, 0)?;
    let ns = arg_str("subsetDefined", a, 1)?;
    let subset = arg_str("subsetDefined", a, 2)?;
    Ok(Val::Bool(h.g.subset_defined(host, ns, subset)))
}

pub(super) fn subset_routes_to<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let host = arg_str("subsetRoutesTo", a, 0)?;
    let g = h.g;
    each(g, g.subset_routes_to(host), entry)
}

// ServiceEntry ports matched by address (issue 12: ML2001, ML2002)

fn address_port<'g>(p: &meshlint_graph::AddressPort) -> Vec<(&'static str, Val<'g>)> {
    vec![
        ("index", usize_int(p.index)),
        ("number", int(p.number)),
        ("protocol", Val::str(&p.protocol)),
        ("path", Val::str(&p.path)),
    ]
}

pub(super) fn address_capture<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let se = arg("addressCapture", a, 0)?;
    let g = h.g;
    let Some(i) = direct_index(g, se) else {
        return Ok(Val::Null);
    };
    Ok(g.address_capture(i)
        .map(|p| Val::map(address_port(&p)))
        .unwrap_or(Val::Null))
}

pub(super) fn address_conflicts<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let se = arg("addressConflicts", a, 0)?;
    let g = h.g;
    let Some(i) = direct_index(g, se) else {
        return Ok(Val::list(Vec::new()));
    };
    Ok(Val::list(
        g.address_conflicts(i)
            .iter()
            .map(|c| {
                let mut fields = address_port(&c.port);
                fields.push(("addressed", Val::Bool(c.addressed)));
                fields.push((
                    "others",
                    Val::list(c.others.iter().map(|(o, p)| ref_value(g, *o, p)).collect()),
                ));
                Val::map(fields)
            })
            .collect(),
    ))
}

// Subsets no applicable DestinationRule defines (issue 12: ML2011)

pub(super) fn undefined_subsets<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let vs = arg("undefinedSubsets", a, 0)?;
    let g = h.g;
    let Some(i) = direct_index(g, vs) else {
        return Ok(Val::list(Vec::new()));
    };
    Ok(Val::list(
        g.undefined_subsets(i)
            .iter()
            .map(|u| {
                let (rule, subsets) = match &u.rule {
                    Some(m) => (
                        ref_value(g, m.primary(), "spec.subsets"),
                        m.subsets.iter().map(|s| Val::str(&s.name)).collect(),
                    ),
                    None => (Val::Null, Vec::new()),
                };
                Val::map([
                    ("path", Val::str(&u.path)),
                    ("fqdn", Val::str(&u.fqdn)),
                    ("subset", Val::str(&u.subset)),
                    ("rule", rule),
                    ("subsets", Val::list(subsets)),
                    ("hostExists", Val::Bool(!g.host_targets(&u.fqdn).is_empty())),
                ])
            })
            .collect(),
    ))
}
