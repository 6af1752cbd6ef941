//! The sidecar injector and its webhooks: how a namespace asks for injection, pods
//! whose proxy is stale or missing, Istio webhooks that overlap or call a missing
//! Service, `image: auto` containers nothing fills in.

use super::values::*;
use super::{GraphEntry, GraphHost, R};
use meshlint_cel::Val;
use meshlint_model::typed::Labels;

pub(super) const FUNCTIONS: &[GraphEntry] = &[
    ("namespaceInjection", 1, namespace_injection),
    ("staleProxies", 1, stale_proxies),
    ("missingProxy", 1, missing_proxy),
    ("webhookOverlaps", 1, webhook_overlaps),
    ("missingWebhookServices", 1, missing_webhook_services),
    ("uninjectedAutoImages", 1, uninjected_auto_images),
];

fn namespace_injection<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let g = h.g;
    let Some(ns) = resource_index(g, arg("namespaceInjection", a, 0)?) else {
        return Ok(Val::Null);
    };
    if g.resources[ns].kind != meshlint_model::Kind::Namespace {
        return Ok(Val::Null);
    }
    let n = g.namespace_injection_labels(ns);
    Ok(Val::map([
        ("system", Val::Bool(n.system)),
        ("exempt", Val::Bool(n.exempt)),
        ("labels", str_list(&n.labels)),
        ("unlabelled", Val::Bool(n.unlabelled)),
        ("revision", opt_str(n.revision.as_deref())),
        (
            "byDefault",
            n.by_default
                .map(|c| ref_value(g, c, "data.values"))
                .unwrap_or(Val::Null),
        ),
    ]))
}

fn stale_proxies<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let g = h.g;
    let Some(ns) = resource_index(g, arg("staleProxies", a, 0)?) else {
        return Ok(Val::Null);
    };
    let Some(s) = g.stale_proxies(ns) else {
        return Ok(Val::Null);
    };
    let mut images: Vec<String> = Vec::new();
    let mut refs = Vec::new();
    let pods = s
        .pods
        .iter()
        .map(|p| {
            for (path, image) in &p.containers {
                if !images.contains(image) {
                    images.push(image.clone());
                }
                refs.push(ref_value(g, p.pod, path));
            }
            Val::map([
                ("name", Val::borrowed(g.resources[p.pod].name())),
                ("imageType", Val::str(&p.image_type.value)),
                ("imageTypeRef", decision_ref(g, &p.image_type)),
                ("ref", name_ref(g, p.pod)),
            ])
        })
        .collect();
    Ok(Val::map([
        ("configMap", ref_value(g, s.config_map, "data.values")),
        ("image", Val::str(&s.image)),
        ("pods", Val::list(pods)),
        ("images", str_list(&images)),
        ("refs", Val::list(refs)),
    ]))
}

fn missing_proxy<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let g = h.g;
    Ok(resource_index(g, arg("missingProxy", a, 0)?)
        .and_then(|p| g.missing_proxy(p))
        .map(|ns| ref_value(g, ns, "metadata.labels[\"istio-injection\"]"))
        .unwrap_or(Val::Null))
}

/// `k=v, k2=v2`, or `''` without labels.
fn label_text(l: &Labels) -> String {
    l.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn webhook_path(g: &meshlint_graph::MeshGraph, config: usize, i: usize) -> String {
    let w = g.resources[config]
        .node
        .get("webhooks")
        .and_then(|l| l.items().get(i));
    let has = |k: &str| w.and_then(|w| w.get(k)).is_some_and(|s| !s.is_null());
    if has("namespaceSelector") {
        format!("webhooks[{i}].namespaceSelector")
    } else if has("objectSelector") {
        format!("webhooks[{i}].objectSelector")
    } else {
        format!("webhooks[{i}]")
    }
}

fn webhook_overlaps<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let g = h.g;
    let Some(c) = resource_index(g, arg("webhookOverlaps", a, 0)?) else {
        return Ok(Val::list(Vec::new()));
    };
    Ok(Val::list(
        g.webhook_overlaps(c)
            .iter()
            .map(|o| {
                Val::map([
                    ("index", usize_int(o.webhook)),
                    ("name", Val::str(&o.name)),
                    ("others", str_list(&o.others)),
                    (
                        "namespaceLabels",
                        Val::str(&label_text(&o.namespace_labels)),
                    ),
                    ("podLabels", Val::str(&label_text(&o.pod_labels))),
                    ("path", Val::str(&webhook_path(g, c, o.webhook))),
                ])
            })
            .collect(),
    ))
}

fn missing_webhook_services<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let g = h.g;
    let Some(c) = resource_index(g, arg("missingWebhookServices", a, 0)?) else {
        return Ok(Val::list(Vec::new()));
    };
    let hooks = g.resources[c].node.get("webhooks");
    Ok(Val::list(
        g.missing_webhook_services(c)
            .iter()
            .map(|m| {
                let name = hooks
                    .and_then(|l| l.items().get(m.webhook))
                    .and_then(|w| w.str_at(&["name"]))
                    .map(str::to_string)
                    .unwrap_or_else(|| m.webhook.to_string());
                Val::map([
                    ("index", usize_int(m.webhook)),
                    ("name", Val::str(&name)),
                    ("service", Val::str(&format!("{}/{}", m.namespace, m.name))),
                    (
                        "path",
                        Val::str(&format!("webhooks[{}].clientConfig.service", m.webhook)),
                    ),
                ])
            })
            .collect(),
    ))
}

fn uninjected_auto_images<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let g = h.g;
    let Some(w) = resource_index(g, arg("uninjectedAutoImages", a, 0)?) else {
        return Ok(Val::Null);
    };
    let Some(u) = g.uninjected_auto_images(w) else {
        return Ok(Val::Null);
    };
    let spec = match &g.resources[w].typed {
        meshlint_model::Typed::Workload(wl) => wl.pod_spec_path.to_string(),
        _ => "spec".to_string(),
    };
    let containers = g.resources[w]
        .node
        .lookup(&meshlint_load::PathSegment::parse_path(&spec).unwrap_or_default())
        .and_then(|(s, _)| s.get("containers"));
    Ok(Val::map([
        (
            "containers",
            Val::list(
                u.containers
                    .iter()
                    .map(|&i| {
                        let name = containers
                            .and_then(|c| c.items().get(i))
                            .and_then(|c| c.str_at(&["name"]))
                            .unwrap_or("");
                        Val::map([
                            ("index", usize_int(i)),
                            ("name", Val::str(name)),
                            ("path", Val::str(&format!("{spec}.containers[{i}].image"))),
                        ])
                    })
                    .collect(),
            ),
        ),
        ("istioWebhooks", usize_int(u.istio_webhooks)),
    ]))
}
