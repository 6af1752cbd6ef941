//! Gateway API routes: parents and backends as Istio resolves them.

use super::values::*;
use super::{GraphEntry, GraphHost, R};
use meshlint_cel::Val;

pub(super) const FUNCTIONS: &[GraphEntry] = &[
    ("routeParents", 1, route_parents),
    ("parentsWithoutWaypoint", 1, parents_without_waypoint),
    ("routeBackends", 1, route_backends),
];

fn target<'g>(h: &GraphHost<'g>, t: Option<usize>) -> Val<'g> {
    t.map(|x| name_ref(h.g, x)).unwrap_or(Val::Null)
}

pub(super) fn route_parents<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let Some(i) = resource_index(h.g, arg("routeParents", a, 0)?) else {
        return Ok(Val::list(Vec::new()));
    };
    Ok(parents_value(h, h.g.route_parents(i)))
}

pub(super) fn parents_without_waypoint<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let Some(i) = resource_index(h.g, arg("parentsWithoutWaypoint", a, 0)?) else {
        return Ok(Val::list(Vec::new()));
    };
    Ok(parents_value(h, h.g.parents_without_waypoint(i)))
}

fn parents_value<'g>(h: &GraphHost<'g>, parents: Vec<meshlint_graph::RouteParent>) -> Val<'g> {
    Val::list(
        parents
            .into_iter()
            .map(|p| {
                Val::map([
                    ("at", Val::str(&p.path)),
                    ("kind", Val::str(&p.kind)),
                    ("namespace", Val::str(&p.namespace)),
                    ("name", Val::str(&p.name)),
                    ("port", p.port.map(int).unwrap_or(Val::Null)),
                    ("target", target(h, p.target)),
                    ("outcome", Val::borrowed(p.outcome)),
                    ("certain", Val::Bool(p.certain)),
                    ("suggestion", opt_str(p.suggestion.as_deref())),
                    ("decidedBy", opt_ref(h.g, &p.decided_by)),
                ])
            })
            .collect(),
    )
}

pub(super) fn route_backends<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let Some(i) = resource_index(h.g, arg("routeBackends", a, 0)?) else {
        return Ok(Val::list(Vec::new()));
    };
    Ok(Val::list(
        h.g.route_backends(i)
            .into_iter()
            .map(|b| {
                Val::map([
                    ("at", Val::str(&b.path)),
                    ("kind", Val::str(&b.kind)),
                    ("namespace", Val::str(&b.namespace)),
                    ("name", Val::str(&b.name)),
                    ("port", b.port.map(int).unwrap_or(Val::Null)),
                    ("target", target(h, b.target)),
                    ("outcome", Val::borrowed(b.outcome)),
                    ("certain", Val::Bool(b.certain)),
                    ("suggestion", opt_str(b.suggestion.as_deref())),
                    ("grant", target(h, b.grant)),
                ])
            })
            .collect(),
    ))
}
