//! VirtualService destinations, subsets, protocols and port conflicts.

use super::hosts::host_lookup_value;
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
];

pub(super) fn destination_problems<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let r = arg("destinationProblems", a, 0)?;
    let g = h.g;
    let Some(i) = resource_index(g, r) else {
        return Ok(Val::list(Vec::new()));
    };
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
                Val::map(vec![
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
                Val::map(vec![
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
                Val::map(vec![
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
                Val::map(vec![
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
    let Some(t) = g.destination_target(host, ns, export.as_ref()) else {
        return Ok(Val::Null);
    };
    let r = &g.resources[t];
    let ports = g.ports_of(t).into_iter().map(|p| int(p.number)).collect();
    Ok(Val::map(vec![
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
