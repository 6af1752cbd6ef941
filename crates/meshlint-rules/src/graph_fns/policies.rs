//! AuthorizationPolicy and RequestAuthentication questions.

use super::validation::field_issues;
use super::values::*;
use super::{GraphEntry, GraphHost, R};
use meshlint_cel::Val;
use meshlint_graph::MeshGraph;
use meshlint_model::Kind;

pub(super) const FUNCTIONS: &[GraphEntry] = &[
    ("policiesSelecting", 2, policies_selecting),
    ("identityWithoutMtls", 1, identity_without_mtls),
    (
        "tokenConditionsWithoutAuthn",
        1,
        token_conditions_without_authn,
    ),
];

pub(super) fn policies_selecting<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let w = arg("policiesSelecting", a, 0)?;
    let kind = arg_str("policiesSelecting", a, 1)?;
    let g = h.g;
    let (Some(i), Some(k)) = (resource_index(g, w), Kind::by_name(kind)) else {
        return Ok(Val::list(Vec::new()));
    };
    each(g, g.policies_selecting_pod(i, k), entry)
}

pub(super) fn token_conditions_without_authn<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    field_issues(
        h,
        a,
        "tokenConditionsWithoutAuthn",
        MeshGraph::token_conditions_without_authn,
    )
}

pub(super) fn identity_without_mtls<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let g = h.g;
    let Some(i) = resource_index(g, arg("identityWithoutMtls", a, 0)?) else {
        return Ok(Val::list(Vec::new()));
    };
    Ok(Val::list(
        g.identity_without_mtls(i)
            .into_iter()
            .map(|x| {
                let source = match &x.source {
                    Some((p, path)) => ref_value(g, *p, path),
                    None => Val::Null,
                };
                Val::map([
                    ("path", Val::str(&x.path)),
                    ("field", Val::str(&x.field)),
                    ("code", Val::borrowed(x.code)),
                    ("mode", Val::str(&x.mode)),
                    ("ref", source),
                ])
            })
            .collect(),
    ))
}
