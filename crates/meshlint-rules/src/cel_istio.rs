//! Graph functions for the `istioctl analyze` parity rules (issue 6, ML3xxx): gateway
//! pods and their Services, Gateway server conflicts and shared certificates, mesh
//! VirtualService host conflicts, Istio's destination lookup through export scopes,
//! DestinationRule subsets, Secret facts, resources by name, label selectors with
//! expressions, and embedded YAML/JSON. Documented in `docs/rule-language.md`.

use crate::cel_env::{labels_from, labels_value, list, map, node_value, ref_value, s};
use cel::objects::Key;
use cel::{Context, Value};
use meshlint_graph::MeshGraph;
use meshlint_load::{load_source, LoadLimits};
use meshlint_model::typed::Labels;
use meshlint_model::{Kind, Typed};
use std::sync::Arc;

fn get<'a>(v: &'a Value, key: &str) -> Option<&'a Value> {
    match v {
        Value::Map(m) => m.map.get(&Key::String(Arc::new(key.to_string()))),
        _ => None,
    }
}

/// A resource index from a reference (`_r`) or a map carrying one under `ref`.
fn index_of(g: &MeshGraph, v: &Value) -> Option<usize> {
    let direct = match get(v, "_r") {
        Some(Value::Int(i)) => usize::try_from(*i).ok(),
        _ => None,
    };
    direct
        .or_else(|| match get(v, "ref").and_then(|r| get(r, "_r")) {
            Some(Value::Int(i)) => usize::try_from(*i).ok(),
            _ => None,
        })
        .filter(|i| *i < g.resources.len())
}

fn strings_from(v: &Value) -> Vec<String> {
    match v {
        Value::List(l) => l
            .iter()
            .filter_map(|x| match x {
                Value::String(s) => Some(s.to_string()),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// `Kind`, or `group/Kind` to pick a group (`gateway.networking.k8s.io/Gateway`).
fn kind_of(name: &str) -> Option<Kind> {
    if let Some((group, kind)) = name.rsplit_once('/') {
        return Some(Kind::classify(group, kind)).filter(|k| *k != Kind::Other);
    }
    [
        "",
        "apps",
        "batch",
        "networking.istio.io",
        "security.istio.io",
        "telemetry.istio.io",
        "extensions.istio.io",
        "admissionregistration.k8s.io",
        "apiextensions.k8s.io",
        "gateway.networking.k8s.io",
    ]
    .iter()
    .map(|g| Kind::classify(g, name))
    .find(|k| *k != Kind::Other)
}

fn entry(g: &MeshGraph, i: usize) -> Value {
    let r = &g.resources[i];
    map(vec![
        ("kind", s(&r.id.kind)),
        ("namespace", s(r.namespace())),
        ("name", s(r.name())),
        ("labels", labels_value(&r.labels)),
        ("object", node_value(&r.node)),
        ("ref", ref_value(g, i, "metadata.name")),
    ])
}

fn pod_value(g: &MeshGraph, i: usize) -> Value {
    let r = &g.resources[i];
    map(vec![
        ("kind", s(&r.id.kind)),
        ("namespace", s(r.namespace())),
        ("name", s(r.name())),
        ("labels", labels_value(g.workload_labels(i))),
        ("annotations", labels_value(&r.annotations)),
        ("object", node_value(&r.node)),
        ("inMesh", Value::Bool(g.pod_in_mesh(i))),
        ("ambient", Value::Bool(g.pod_ambient(i))),
        ("ref", ref_value(g, i, "metadata.name")),
    ])
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn secret_value(g: &MeshGraph, i: usize) -> Value {
    let r = &g.resources[i];
    let Typed::Secret(sec) = &r.typed else {
        return Value::Null;
    };
    let t = now();
    let cert = sec
        .certificate
        .as_ref()
        .map(|c| {
            map(vec![
                ("key", s(&c.key)),
                ("error", c.error.as_deref().map(s).unwrap_or(Value::Null)),
                (
                    "notBefore",
                    c.not_before.map(Value::Int).unwrap_or(Value::Null),
                ),
                (
                    "notAfter",
                    c.not_after.map(Value::Int).unwrap_or(Value::Null),
                ),
                ("expired", Value::Bool(c.not_after.is_some_and(|na| na < t))),
                (
                    "notYetValid",
                    Value::Bool(c.not_before.is_some_and(|nb| nb > t)),
                ),
            ])
        })
        .unwrap_or(Value::Null);
    map(vec![
        ("namespace", s(r.namespace())),
        ("name", s(r.name())),
        (
            "type",
            sec.secret_type.as_deref().map(s).unwrap_or(Value::Null),
        ),
        ("keys", list(sec.data_keys.iter().map(|k| s(k)).collect())),
        (
            "stringKeys",
            list(sec.string_data_keys.iter().map(|k| s(k)).collect()),
        ),
        ("labels", labels_value(&r.labels)),
        ("certificate", cert),
        ("ref", ref_value(g, i, "metadata.name")),
    ])
}

/// Kubernetes `LabelSelector` (`matchLabels` and `matchExpressions`); null matches all.
pub fn label_selector_matches(sel: &Value, labels: &Labels) -> bool {
    if matches!(sel, Value::Null) {
        return true;
    }
    if let Some(ml) = get(sel, "matchLabels") {
        if !meshlint_graph::selector_matches(&labels_from(ml), labels) {
            return false;
        }
    }
    let exprs = match get(sel, "matchExpressions") {
        Some(Value::List(l)) => l.clone(),
        _ => Arc::new(Vec::new()),
    };
    exprs.iter().all(|e| {
        let key = match get(e, "key") {
            Some(Value::String(k)) => k.to_string(),
            _ => return false,
        };
        let values = get(e, "values").map(strings_from).unwrap_or_default();
        let op = match get(e, "operator") {
            Some(Value::String(o)) => o.to_string(),
            _ => String::new(),
        };
        let have = labels.get(&key);
        match op.as_str() {
            "In" => have.is_some_and(|v| values.contains(v)),
            "NotIn" => have.is_none_or(|v| !values.contains(v)),
            "Exists" => have.is_some(),
            "DoesNotExist" => have.is_none(),
            _ => false,
        }
    })
}

/// Registers the functions listed under "issue 6" in `GRAPH_FUNCTIONS`.
pub fn add_istio_functions(ctx: &mut Context, graph: &Arc<MeshGraph>) {
    let g = graph.clone();
    let _ = ctx.add_function("podsMatching", move |sel: Value| -> Value {
        list(
            g.pods_matching(&labels_from(&sel))
                .into_iter()
                .map(|p| pod_value(&g, p))
                .collect(),
        )
    });
    let g = graph.clone();
    let _ = ctx.add_function("podsIn", move |ns: Arc<String>, sel: Value| -> Value {
        list(
            g.pods_in(&ns, &labels_from(&sel))
                .into_iter()
                .map(|p| pod_value(&g, p))
                .collect(),
        )
    });
    let g = graph.clone();
    let _ = ctx.add_function("servicesSelecting", move |w: Value| -> Value {
        let Some(i) = index_of(&g, &w) else {
            return list(Vec::new());
        };
        list(
            g.services_selecting(i)
                .into_iter()
                .map(|x| entry(&g, x))
                .collect(),
        )
    });
    let g = graph.clone();
    let _ = ctx.add_function(
        "policiesSelecting",
        move |w: Value, kind: Arc<String>| -> Value {
            let (Some(i), Some(k)) = (index_of(&g, &w), kind_of(&kind)) else {
                return list(Vec::new());
            };
            list(
                g.policies_selecting_pod(i, k)
                    .into_iter()
                    .map(|x| entry(&g, x))
                    .collect(),
            )
        },
    );
    let g = graph.clone();
    let _ = ctx.add_function(
        "named",
        move |kind: Arc<String>, name: Arc<String>| -> Value {
            let Some(k) = kind_of(&kind) else {
                return list(Vec::new());
            };
            list(
                g.named(k, &name)
                    .into_iter()
                    .map(|x| entry(&g, x))
                    .collect(),
            )
        },
    );
    let g = graph.clone();
    let _ = ctx.add_function(
        "lookup",
        move |kind: Arc<String>, ns: Arc<String>, name: Arc<String>| -> Value {
            kind_of(&kind)
                .and_then(|k| g.find(k, &ns, &name))
                .map(|i| entry(&g, i))
                .unwrap_or(Value::Null)
        },
    );
    let g = graph.clone();
    let _ = ctx.add_function("gatewayConflicts", move |gw: Value| -> Value {
        let Some(i) = index_of(&g, &gw) else {
            return list(Vec::new());
        };
        list(
            g.gateway_conflicts(i)
                .into_iter()
                .map(|(server, others)| {
                    map(vec![
                        ("server", Value::Int(server as i64)),
                        (
                            "gateways",
                            list(others.into_iter().map(|o| entry(&g, o)).collect()),
                        ),
                    ])
                })
                .collect(),
        )
    });
    let g = graph.clone();
    let _ = ctx.add_function("sharedCertificates", move |gw: Value| -> Value {
        let Some(i) = index_of(&g, &gw) else {
            return list(Vec::new());
        };
        list(
            g.gateways_sharing_certificate(i)
                .into_iter()
                .map(|(server, o)| {
                    map(vec![
                        ("server", Value::Int(server as i64)),
                        ("gateway", entry(&g, o)),
                    ])
                })
                .collect(),
        )
    });
    let g = graph.clone();
    let _ = ctx.add_function("meshHostConflicts", move |vs: Value| -> Value {
        let Some(i) = index_of(&g, &vs) else {
            return list(Vec::new());
        };
        list(
            g.mesh_host_conflicts(i)
                .into_iter()
                .map(|(host, o)| map(vec![("host", s(&host)), ("virtualService", entry(&g, o))]))
                .collect(),
        )
    });
    let g = graph.clone();
    let _ = ctx.add_function(
        "destinationOf",
        move |host: Arc<String>, ns: Arc<String>, export_to: Value| -> Value {
            let export = match &export_to {
                Value::List(_) => Some(strings_from(&export_to)),
                _ => None,
            };
            match g.destination_target(&host, &ns, export.as_ref()) {
                Some(t) => {
                    let r = &g.resources[t];
                    let ports: Vec<Value> = g
                        .ports_of(t)
                        .into_iter()
                        .map(|p| Value::Int(p.number as i64))
                        .collect();
                    map(vec![
                        ("kind", s(&r.id.kind)),
                        ("namespace", s(r.namespace())),
                        ("name", s(r.name())),
                        ("ports", list(ports)),
                        ("ref", ref_value(&g, t, "metadata.name")),
                    ])
                }
                None => Value::Null,
            }
        },
    );
    let g = graph.clone();
    let _ = ctx.add_function(
        "subsetDefined",
        move |host: Arc<String>, ns: Arc<String>, subset: Arc<String>| {
            g.subset_defined(&host, &ns, &subset)
        },
    );
    let g = graph.clone();
    let _ = ctx.add_function(
        "secret",
        move |ns: Arc<String>, name: Arc<String>| -> Value {
            g.find(Kind::Secret, &ns, &name)
                .map(|i| secret_value(&g, i))
                .unwrap_or(Value::Null)
        },
    );
    let g = graph.clone();
    let _ = ctx.add_function("subsetRoutesTo", move |host: Arc<String>| -> Value {
        list(
            g.subset_routes_to(&host)
                .into_iter()
                .map(|x| entry(&g, x))
                .collect(),
        )
    });
    let g = graph.clone();
    let _ = ctx.add_function("namespaceMatches", move |pattern: Arc<String>| {
        g.namespace_pattern_matches(&pattern)
    });
    let _ = ctx.add_function("hostsOverlap", move |a: Arc<String>, b: Arc<String>| {
        meshlint_graph::hosts_overlap(&a, &b)
    });
    let _ = ctx.add_function("parseYaml", move |text: Arc<String>| -> Value {
        let loaded = load_source(
            "embedded".into(),
            text.as_bytes().to_vec(),
            &LoadLimits::default(),
        );
        if !loaded.findings.is_empty() {
            return Value::Null;
        }
        loaded
            .documents
            .first()
            .map(|d| node_value(&d.root))
            .unwrap_or(Value::Null)
    });
    let _ = ctx.add_function("labelSelectorMatches", move |sel: Value, labels: Value| {
        label_selector_matches(&sel, &labels_from(&labels))
    });
}
