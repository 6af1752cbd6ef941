//! Workloads, pods, ports, selectors and EnvoyFilter patches.

use super::values::*;
use super::{GraphEntry, GraphHost, R};
use meshlint_cel::Val;
use meshlint_model::Kind;

pub(super) const FUNCTIONS: &[GraphEntry] = &[
    ("portsOf", 1, ports_of),
    ("portProtocol", 2, port_protocol),
    ("workloadsForHost", 1, workloads_for_host),
    ("workloadsSelected", 2, workloads_selected),
    ("selects", 2, selects),
    ("selectedBy", 2, selected_by),
    ("topologyLabels", 1, topology_labels),
    ("podsMatching", 1, pods_matching),
    ("podsIn", 2, pods_in),
    ("servicesSelecting", 1, services_selecting),
    ("labelSelectorMatches", 2, label_selector_matches_fn),
    ("workloadsMaybeSelected", 2, workloads_maybe_selected),
    ("orderDependentPatches", 1, order_dependent_patches),
    ("targetPortConflicts", 1, target_port_conflicts),
    ("selectorMiss", 1, selector_miss),
];

pub(super) fn ports_of<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let host = arg_str("portsOf", a, 0)?;
    let g = h.g;
    Ok(Val::list(
        g.host_targets(host)
            .iter()
            .flat_map(|t| port_values(g, t.resource))
            .collect(),
    ))
}

pub(super) fn port_protocol<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let host = arg_str("portProtocol", a, 0)?;
    let port = arg_int("portProtocol", a, 1)?;
    let g = h.g;
    let protocol = g
        .host_targets(host)
        .iter()
        .flat_map(|t| g.ports_of(t.resource))
        .find(|p| p.number as i64 == port)
        .map(|p| p.protocol)
        .unwrap_or_default();
    Ok(Val::str(&protocol))
}

pub(super) fn workloads_for_host<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let host = arg_str("workloadsForHost", a, 0)?;
    let g = h.g;
    each(g, g.workloads_for_host(host), workload_value)
}

pub(super) fn workloads_selected<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let ns = arg_str("workloadsSelected", a, 0)?;
    let sel = labels_from(arg("workloadsSelected", a, 1)?);
    let g = h.g;
    each(g, g.workloads_selected(ns, &sel), workload_value)
}

pub(super) fn order_dependent_patches<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let r = arg("orderDependentPatches", a, 0)?;
    let g = h.g;
    let Some(i) = resource_index(g, r) else {
        return Ok(Val::Null);
    };
    let p = g.order_dependent_patches(i);
    // A patch as `{index, path, operation}` (`path` its `patch.operation`), plus fields.
    let patch = |index: usize, extra: Vec<(&'static str, Val<'g>)>| {
        let path = format!("spec.configPatches[{index}].patch.operation");
        let operation = g.resources[i]
            .spec()
            .and_then(|s| s.get("configPatches"))
            .and_then(|c| c.items().get(index))
            .and_then(|c| c.str_at(&["patch", "operation"]))
            .unwrap_or("");
        let mut fields = vec![
            ("index", usize_int(index)),
            ("path", Val::str(&path)),
            ("operation", Val::borrowed(operation)),
        ];
        fields.extend(extra);
        Val::map(fields)
    };
    let relative = p.relative.map(|(index, generated_anchor)| {
        patch(
            index,
            vec![("generatedAnchor", Val::Bool(generated_anchor))],
        )
    });
    let gated = p.version_gated.map(|index| patch(index, Vec::new()));
    Ok(Val::map([
        ("relative", Val::list(relative.into_iter().collect())),
        ("versionGated", Val::list(gated.into_iter().collect())),
    ]))
}

pub(super) fn selector_miss<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let r = arg("selectorMiss", a, 0)?;
    let g = h.g;
    let Some(i) = resource_index(g, r) else {
        return Ok(Val::list(Vec::new()));
    };
    let Some(m) = g.selector_miss(i) else {
        return Ok(Val::list(Vec::new()));
    };
    let selector = m
        .labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ");
    let near = m
        .near
        .iter()
        .map(|&w| {
            let have = g.workload_labels(w);
            let labels = m
                .labels
                .iter()
                .map(|(k, _)| format!("{k}={}", have.get(k).unwrap_or("")))
                .collect::<Vec<_>>()
                .join(", ");
            Val::map([
                ("name", Val::borrowed(g.resources[w].name())),
                ("labels", Val::str(&labels)),
                ("ref", name_ref(g, w)),
            ])
        })
        .collect();
    Ok(Val::list(vec![Val::map([
        ("selector", Val::str(&selector)),
        ("key", Val::str(&m.key)),
        ("near", Val::list(near)),
        (
            "namespaceHasWorkloads",
            Val::Bool(m.namespace_has_workloads),
        ),
    ])]))
}

pub(super) fn target_port_conflicts<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let w = arg("targetPortConflicts", a, 0)?;
    let g = h.g;
    let Some(w) = resource_index(g, w) else {
        return Ok(Val::list(Vec::new()));
    };
    Ok(Val::list(
        g.target_port_conflicts(w)
            .iter()
            .map(|c| {
                let ports = c
                    .ports
                    .iter()
                    .map(|(svc, port, path)| {
                        Val::map([
                            ("service", Val::borrowed(g.resources[*svc].name())),
                            ("port", int(*port)),
                            ("ref", ref_value(g, *svc, path)),
                        ])
                    })
                    .collect();
                Val::map([("target", Val::str(&c.target)), ("ports", Val::list(ports))])
            })
            .collect(),
    ))
}

pub(super) fn workloads_maybe_selected<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let ns = arg_str("workloadsMaybeSelected", a, 0)?;
    let sel = labels_from(arg("workloadsMaybeSelected", a, 1)?);
    let g = h.g;
    each(g, g.workloads_maybe_selected(ns, &sel), workload_value)
}

pub(super) fn selects<'g>(_: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let sel = labels_from(arg("selects", a, 0)?);
    let labels = labels_from(arg("selects", a, 1)?);
    Ok(Val::Bool(meshlint_graph::selector_matches(&sel, &labels)))
}

pub(super) fn selected_by<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let w = arg("selectedBy", a, 0)?;
    let kind = arg_str("selectedBy", a, 1)?;
    let g = h.g;
    let (Some(i), Some(k)) = (resource_index(g, w), Kind::by_name(kind)) else {
        return Ok(Val::list(Vec::new()));
    };
    each(g, g.selected_by(i, k), name_ref)
}

pub(super) fn topology_labels<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let w = arg("topologyLabels", a, 0)?;
    let g = h.g;
    Ok(match resource_index(g, w) {
        Some(i) => labels_owned(&g.topology_labels(i)),
        None => Val::map(Vec::new()),
    })
}

// istioctl analyze parity (issue 6, ML3xxx rules)

pub(super) fn pods_matching<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let sel = labels_from(arg("podsMatching", a, 0)?);
    let g = h.g;
    each(g, g.pods_matching(&sel), pod_value)
}

pub(super) fn pods_in<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let ns = arg_str("podsIn", a, 0)?;
    let sel = labels_from(arg("podsIn", a, 1)?);
    let g = h.g;
    each(g, g.pods_in(ns, &sel), pod_value)
}

pub(super) fn services_selecting<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let w = arg("servicesSelecting", a, 0)?;
    let g = h.g;
    let Some(i) = resource_index(g, w) else {
        return Ok(Val::list(Vec::new()));
    };
    each(g, g.services_selecting(i), entry)
}

pub(super) fn label_selector_matches_fn<'g>(_: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let sel = arg("labelSelectorMatches", a, 0)?;
    let labels = labels_from(arg("labelSelectorMatches", a, 1)?);
    Ok(Val::Bool(label_selector_matches(sel, &labels)))
}
