//! Resources by kind, name and path; Secrets; embedded YAML.

use super::values::*;
use super::{GraphEntry, GraphHost, R};
use meshlint_cel::Val;
use meshlint_load::{load_source, LoadLimits};
use meshlint_model::Kind;

pub(super) const FUNCTIONS: &[GraphEntry] = &[
    ("refAt", 2, ref_at),
    ("resourcesOf", 1, resources_of),
    ("resourcesIn", 2, resources_in),
    ("named", 2, named),
    ("lookup", 3, lookup),
    ("secret", 2, secret),
    ("parseYaml", 1, parse_yaml),
];

pub(super) fn ref_at<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let r = arg("refAt", a, 0)?;
    let path = arg_str("refAt", a, 1)?;
    let g = h.g;
    Ok(match direct_index(g, r) {
        Some(i) => ref_value(g, i, path),
        None => Val::Null,
    })
}

pub(super) fn resources_of<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let kind = arg_str("resourcesOf", a, 0)?;
    let g = h.g;
    let Some(k) = Kind::by_name(kind) else {
        return Ok(Val::list(Vec::new()));
    };
    Ok(Val::list(
        g.of_kind(k).iter().map(|&i| entry(g, i)).collect(),
    ))
}

pub(super) fn resources_in<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let kind = arg_str("resourcesIn", a, 0)?;
    let ns = arg_str("resourcesIn", a, 1)?;
    let g = h.g;
    let Some(k) = Kind::by_name(kind) else {
        return Ok(Val::list(Vec::new()));
    };
    each(g, g.in_namespace(ns, k).iter().copied(), entry)
}

pub(super) fn named<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let kind = arg_str("named", a, 0)?;
    let name = arg_str("named", a, 1)?;
    let g = h.g;
    let Some(k) = Kind::by_name(kind) else {
        return Ok(Val::list(Vec::new()));
    };
    Ok(Val::list(
        g.named(k, name).into_iter().map(|x| entry(g, x)).collect(),
    ))
}

pub(super) fn lookup<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let kind = arg_str("lookup", a, 0)?;
    let ns = arg_str("lookup", a, 1)?;
    let name = arg_str("lookup", a, 2)?;
    let g = h.g;
    Ok(Kind::by_name(kind)
        .and_then(|k| g.find(k, ns, name))
        .map(|i| entry(g, i))
        .unwrap_or(Val::Null))
}

pub(super) fn secret<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let ns = arg_str("secret", a, 0)?;
    let name = arg_str("secret", a, 1)?;
    let g = h.g;
    Ok(g.find(Kind::Secret, ns, name)
        .map(|i| secret_value(g, i))
        .unwrap_or(Val::Null))
}

/// The first document of embedded YAML or JSON (a ConfigMap's `values`), or null when
/// it does not load cleanly.
pub(super) fn parse_yaml<'g>(_: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let text = arg_str("parseYaml", a, 0)?;
    let loaded = load_source(
        "embedded".into(),
        text.as_bytes().to_vec(),
        &LoadLimits::default(),
    );
    if !loaded.findings.is_empty() {
        return Ok(Val::Null);
    }
    Ok(loaded
        .documents
        .first()
        .map(|d| owned_value(&d.root))
        .unwrap_or(Val::Null))
}
