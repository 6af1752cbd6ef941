//! Fields the webhook accepts but Envoy rejects.

use super::values::*;
use super::{GraphEntry, GraphHost, R};
use meshlint_cel::Val;
use meshlint_graph::MeshGraph;

pub(super) const FUNCTIONS: &[GraphEntry] = &[
    ("routesWithoutAction", 1, routes_without_action),
    ("weightIssues", 1, weight_issues),
    ("duplicateRouteNames", 1, duplicate_route_names),
    ("portIssues", 1, port_issues),
    ("serversWithoutTls", 1, servers_without_tls),
    ("delegateIssues", 1, delegate_issues),
    ("invalidRegexes", 1, invalid_regexes),
    ("durationIssues", 1, duration_issues),
    ("retryOnIssues", 1, retry_on_issues),
    ("shadowedMatches", 1, shadowed_matches),
    ("annotationIssues", 1, annotation_issues),
    ("serverFirstPorts", 1, server_first_ports),
    ("authorizationRuleShape", 1, authorization_rule_shape),
];

// Field validation (issue 14)

/// A resource's [`meshlint_graph::FieldIssue`]s as `{path, code, value, first, numbers,
/// ref, firstRef, detail}`; `ref` points at `path`, `firstRef` at the related field in another
/// resource when there is one, else at `first` (null when empty).
pub(super) fn field_issues<'g>(
    h: &GraphHost<'g>,
    a: &[Val<'g>],
    name: &str,
    query: fn(&MeshGraph, usize) -> Vec<meshlint_graph::FieldIssue>,
) -> R<'g> {
    let g = h.g;
    let Some(i) = resource_index(g, arg(name, a, 0)?) else {
        return Ok(Val::list(Vec::new()));
    };
    Ok(Val::list(
        query(g, i)
            .into_iter()
            .map(|x| {
                let first_ref = match (&x.other, x.first.is_empty()) {
                    (Some((o, p)), _) => ref_value(g, *o, p),
                    (None, true) => Val::Null,
                    (None, false) => ref_value(g, i, &x.first),
                };
                Val::map([
                    ("ref", ref_value(g, i, &x.path)),
                    ("path", Val::str(&x.path)),
                    ("code", Val::borrowed(x.code)),
                    ("value", Val::str(&x.value)),
                    ("first", Val::str(&x.first)),
                    (
                        "numbers",
                        Val::list(x.numbers.iter().map(|n| int(*n)).collect()),
                    ),
                    ("firstRef", first_ref),
                    ("detail", Val::str(&x.detail)),
                ])
            })
            .collect(),
    ))
}

pub(super) fn routes_without_action<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    field_issues(
        h,
        a,
        "routesWithoutAction",
        MeshGraph::routes_without_action,
    )
}

pub(super) fn weight_issues<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    field_issues(h, a, "weightIssues", MeshGraph::weight_issues)
}

pub(super) fn duplicate_route_names<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    field_issues(
        h,
        a,
        "duplicateRouteNames",
        MeshGraph::duplicate_route_names,
    )
}

pub(super) fn port_issues<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    field_issues(h, a, "portIssues", MeshGraph::port_issues)
}

pub(super) fn invalid_regexes<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    field_issues(h, a, "invalidRegexes", MeshGraph::invalid_regexes)
}

pub(super) fn duration_issues<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    field_issues(h, a, "durationIssues", MeshGraph::duration_issues)
}

pub(super) fn retry_on_issues<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    field_issues(h, a, "retryOnIssues", MeshGraph::retry_on_issues)
}

pub(super) fn shadowed_matches<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    field_issues(h, a, "shadowedMatches", MeshGraph::shadowed_matches)
}

pub(super) fn delegate_issues<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    field_issues(h, a, "delegateIssues", MeshGraph::delegate_issues)
}

pub(super) fn servers_without_tls<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    field_issues(h, a, "serversWithoutTls", MeshGraph::servers_without_tls)
}

pub(super) fn annotation_issues<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    field_issues(h, a, "annotationIssues", MeshGraph::annotation_issues)
}

pub(super) fn server_first_ports<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    field_issues(h, a, "serverFirstPorts", MeshGraph::server_first_ports)
}

pub(super) fn authorization_rule_shape<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    field_issues(
        h,
        a,
        "authorizationRuleShape",
        MeshGraph::authorization_rule_shape,
    )
}
