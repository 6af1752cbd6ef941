//! Arguments and the values graph functions return (references, resources, workloads, ports).

use super::R;
use meshlint_cel::{error, EvalError, Val};
use meshlint_graph::{Decision, HostTarget, MeshGraph, PortInfo};
use meshlint_load::{Node, NodeValue, Resolved};
use meshlint_model::typed::Labels;
use meshlint_model::{OutboundPolicy, Typed};
use std::rc::Rc;

// Arguments

/// Argument `i`, which the function takes as any value.
pub(crate) fn arg<'v, 'g>(
    name: &str,
    args: &'v [Val<'g>],
    i: usize,
) -> Result<&'v Val<'g>, EvalError> {
    match args.get(i) {
        Some(v) => Ok(v),
        None => error(format!("`{name}` is missing argument {}", i + 1)),
    }
}

/// Argument `i`, which must be a string.
pub(crate) fn arg_str<'v>(name: &str, args: &'v [Val], i: usize) -> Result<&'v str, EvalError> {
    match arg(name, args, i)? {
        Val::Str(s) => Ok(s),
        other => error(format!(
            "`{name}` expects a string as argument {}, got {}",
            i + 1,
            other.type_name()
        )),
    }
}

/// Argument `i`, which must be an integer (int, or uint that fits).
pub(crate) fn arg_int(name: &str, args: &[Val], i: usize) -> Result<i64, EvalError> {
    let v = arg(name, args, i)?;
    match v.as_int() {
        Some(n) => Ok(n),
        None => error(format!(
            "`{name}` expects an int as argument {}, got {}",
            i + 1,
            v.type_name()
        )),
    }
}

/// Selector-like maps (`{app: reviews}`, a YAML `matchLabels`): string keys to string
/// values; anything else is ignored.
pub(crate) fn labels_from(v: &Val) -> Labels {
    v.entries()
        .unwrap_or_default()
        .iter()
        .filter_map(|(k, v)| Some((k.as_str()?.to_string(), v.as_str()?.to_string())))
        .collect()
}

/// The strings of a list (other items ignored); empty for a non-list.
pub(crate) fn strings_from(v: &Val) -> Vec<String> {
    if !v.is_list() {
        return Vec::new();
    }
    v.elements()
        .unwrap_or_default()
        .iter()
        .filter_map(|x| x.as_str().map(str::to_string))
        .collect()
}

/// The resource index of a reference (its `_r`).
pub(crate) fn ref_index(v: &Val) -> Option<usize> {
    match v.field("_r") {
        Some(Val::Int(i)) => usize::try_from(i).ok(),
        _ => None,
    }
}

/// A resource index from a reference, or from a map carrying one under `ref` (a
/// workload, a resource entry, the `resource` variable); only indexes of the graph.
pub(crate) fn resource_index(g: &MeshGraph, v: &Val) -> Option<usize> {
    ref_index(v)
        .or_else(|| v.field("ref").as_ref().and_then(ref_index))
        .filter(|i| *i < g.resources.len())
}

/// The resource index of a reference (`_r` only, not under `ref`), within the graph.
pub(crate) fn direct_index(g: &MeshGraph, v: &Val) -> Option<usize> {
    ref_index(v).filter(|i| *i < g.resources.len())
}

/// Reads a reference map produced by [`ref_value`].
pub fn read_ref(v: &Val) -> Option<(usize, String)> {
    let idx = ref_index(v)?;
    let path = match v.field("path") {
        Some(Val::Str(p)) => p.to_string(),
        _ => String::new(),
    };
    Some((idx, path))
}

// Value builders

pub(crate) fn int(n: impl Into<i64>) -> Val<'static> {
    Val::Int(n.into())
}

pub(crate) fn usize_int(n: usize) -> Val<'static> {
    Val::Int(n as i64)
}

pub(crate) fn opt_str<'g>(s: Option<&str>) -> Val<'g> {
    s.map(Val::str).unwrap_or(Val::Null)
}

pub(crate) fn opt_borrowed(s: Option<&str>) -> Val<'_> {
    s.map(Val::borrowed).unwrap_or(Val::Null)
}

pub(crate) fn str_list<'g>(items: &[String]) -> Val<'g> {
    Val::list(items.iter().map(|x| Val::str(x)).collect())
}

pub(crate) fn borrowed_list(items: &[String]) -> Val<'_> {
    Val::list(items.iter().map(|x| Val::borrowed(x)).collect())
}

/// Labels or annotations living in the graph, as a map (keys and values borrowed).
pub(crate) fn labels_value(l: &Labels) -> Val<'_> {
    Val::Map(Rc::new(
        l.iter()
            .map(|(k, v)| (Val::borrowed(k), Val::borrowed(v)))
            .collect(),
    ))
}

/// Labels a query computed, as a map.
pub(crate) fn labels_owned<'g>(l: &Labels) -> Val<'g> {
    Val::Map(Rc::new(
        l.iter().map(|(k, v)| (Val::str(k), Val::str(v))).collect(),
    ))
}

/// Converts a YAML tree that does not outlive the call (`parseYaml`'s document) into an
/// owned value: plain scalars resolved by the core schema, a repeated key's last value
/// wins (as reading the key in place does).
pub(crate) fn owned_value<'g>(n: &Node) -> Val<'g> {
    match &n.value {
        NodeValue::Scalar(sc) => match sc.resolved() {
            Resolved::Null => Val::Null,
            Resolved::Bool(b) => Val::Bool(b),
            Resolved::Int(i) => Val::Int(i),
            Resolved::Float(f) => Val::Double(f),
            Resolved::Str(t) => Val::str(t),
        },
        NodeValue::Seq(items) => Val::list(items.iter().map(owned_value).collect()),
        NodeValue::Map(entries) => {
            let mut out: Vec<(Val<'g>, Val<'g>)> = Vec::with_capacity(entries.len());
            for (k, v) in entries {
                let key = k.as_str().unwrap_or("");
                let value = owned_value(v);
                match out.iter_mut().find(|(ok, _)| ok.as_str() == Some(key)) {
                    Some(slot) => slot.1 = value,
                    None => out.push((Val::str(key), value)),
                }
            }
            Val::Map(Rc::new(out))
        }
    }
}

/// A reference with its path as a value (borrowed when the path lives long enough).
pub(crate) fn ref_with<'g>(g: &'g MeshGraph, idx: usize, path: Val<'g>) -> Val<'g> {
    let r = &g.resources[idx];
    Val::map([
        ("_r", usize_int(idx)),
        ("path", path),
        ("kind", Val::borrowed(&r.id.kind)),
        ("namespace", Val::borrowed(r.namespace())),
        ("name", Val::borrowed(r.name())),
    ])
}

/// A reference to a resource field, as graph functions return and `related` consumes.
pub fn ref_value<'g>(g: &'g MeshGraph, idx: usize, path: &str) -> Val<'g> {
    ref_with(g, idx, Val::str(path))
}

/// A reference to a resource's `metadata.name` (what most answers point at).
pub(crate) fn name_ref(g: &MeshGraph, idx: usize) -> Val<'_> {
    ref_with(g, idx, Val::borrowed("metadata.name"))
}

/// A reference to `(resource, field path)`, or null.
pub(crate) fn opt_ref<'g>(g: &'g MeshGraph, at: &Option<(usize, String)>) -> Val<'g> {
    at.as_ref()
        .map(|(i, p)| ref_value(g, *i, p))
        .unwrap_or(Val::Null)
}

/// Where a decision came from, or null when it is a default.
pub(crate) fn decision_ref<'g>(g: &'g MeshGraph, d: &Decision) -> Val<'g> {
    match &d.source {
        Some((i, p)) => ref_value(g, *i, p),
        None => Val::Null,
    }
}

/// The `resource` variable: identity plus a reference to the resource itself.
pub fn resource_value(g: &MeshGraph, idx: usize) -> Val<'_> {
    let r = &g.resources[idx];
    Val::map([
        ("kind", Val::borrowed(&r.id.kind)),
        ("apiVersion", Val::borrowed(&r.id.api_version)),
        ("group", Val::borrowed(r.group())),
        ("version", Val::borrowed(r.version())),
        ("namespace", Val::borrowed(r.namespace())),
        ("namespaceWritten", opt_borrowed(r.id.namespace.as_deref())),
        ("name", Val::borrowed(r.name())),
        ("file", Val::borrowed(&r.file)),
        ("labels", labels_value(&r.labels)),
        ("annotations", labels_value(&r.annotations)),
        ("ref", name_ref(g, idx)),
    ])
}

/// The `mesh` variable.
pub fn mesh_value(g: &MeshGraph) -> Val<'_> {
    let m = &g.mesh;
    Val::map([
        ("rootNamespace", Val::borrowed(&m.root_namespace)),
        ("enableAutoMtls", Val::Bool(m.enable_auto_mtls)),
        ("trustDomain", Val::borrowed(&m.trust_domain)),
        ("domain", Val::borrowed(&m.dns_domain)),
        (
            "outboundTrafficPolicy",
            Val::borrowed(match m.outbound_traffic_policy {
                OutboundPolicy::AllowAny => "ALLOW_ANY",
                OutboundPolicy::RegistryOnly => "REGISTRY_ONLY",
            }),
        ),
        ("dnsAutoAllocate", Val::Bool(m.dns_auto_allocate)),
        ("dnsCapture", Val::Bool(m.dns_capture)),
        ("extensionProviders", borrowed_list(&m.extension_providers)),
        (
            "raw",
            m.raw.as_ref().map(Val::from_node).unwrap_or(Val::Null),
        ),
    ])
}

/// A workload (Deployment, Pod, WorkloadEntry, …) with its labels, ports and sidecar
/// facts.
pub(crate) fn workload_value(g: &MeshGraph, w: usize) -> Val<'_> {
    let r = &g.resources[w];
    let (ports, sa): (Vec<Val>, &str) = match &r.typed {
        Typed::Workload(wl) => (
            wl.ports.iter().map(|p| int(p.port)).collect(),
            wl.service_account.as_deref().unwrap_or(""),
        ),
        Typed::WorkloadEntry(we) => (
            we.ports.values().map(|p| int(*p)).collect(),
            we.service_account.as_deref().unwrap_or(""),
        ),
        _ => (Vec::new(), ""),
    };
    let injection = g.injection_decision(w);
    let plane = g.data_plane(w);
    Val::map([
        ("kind", Val::borrowed(&r.id.kind)),
        ("namespace", Val::borrowed(r.namespace())),
        ("name", Val::borrowed(r.name())),
        ("labels", labels_value(g.workload_labels(w))),
        ("sidecar", Val::Bool(g.has_sidecar(w))),
        ("dataplane", Val::borrowed(plane.plane.as_str())),
        ("dataplaneBy", Val::str(&plane.by)),
        ("ports", Val::list(ports)),
        ("serviceAccount", Val::borrowed(sa)),
        ("ref", name_ref(g, w)),
        ("sidecarKnown", Val::Bool(g.sidecar_known(w))),
        ("injection", Val::str(&injection.value)),
        ("injectionRef", decision_ref(g, &injection)),
        ("podMetadataPath", Val::str(&g.pod_metadata_path(w))),
        ("gateway", Val::Bool(g.is_gateway_workload(w))),
        (
            "excludedInboundPorts",
            Val::list(g.excluded_inbound_ports(w).into_iter().map(int).collect()),
        ),
    ])
}

/// Workload values built once per answer: an answer that names one workload in several
/// entries (once per port, per TLS block) shares one value between them.
pub(crate) struct Workloads<'g> {
    build: fn(&'g MeshGraph, usize) -> Val<'g>,
    built: std::collections::HashMap<usize, Val<'g>>,
}

impl<'g> Workloads<'g> {
    /// Values built by `build` (`workload_value`, `workload_brief`).
    pub(crate) fn new(build: fn(&'g MeshGraph, usize) -> Val<'g>) -> Self {
        Workloads {
            build,
            built: std::collections::HashMap::new(),
        }
    }

    pub(crate) fn value(&mut self, g: &'g MeshGraph, w: usize) -> Val<'g> {
        let build = self.build;
        self.built.entry(w).or_insert_with(|| build(g, w)).clone()
    }
}

/// A workload's identity and sidecar facts (no labels or ports), for `tlsSettings`.
pub(crate) fn workload_brief(g: &MeshGraph, w: usize) -> Val<'_> {
    let r = &g.resources[w];
    let injection = g.injection_decision(w);
    let plane = g.data_plane(w);
    Val::map([
        ("kind", Val::borrowed(&r.id.kind)),
        ("namespace", Val::borrowed(r.namespace())),
        ("name", Val::borrowed(r.name())),
        ("sidecar", Val::Bool(g.has_sidecar(w))),
        ("dataplane", Val::borrowed(plane.plane.as_str())),
        ("dataplaneBy", Val::str(&plane.by)),
        ("sidecarKnown", Val::Bool(g.sidecar_known(w))),
        ("injection", Val::str(&injection.value)),
        ("injectionRef", decision_ref(g, &injection)),
        ("podMetadataPath", Val::str(&g.pod_metadata_path(w))),
        ("ref", name_ref(g, w)),
    ])
}

/// One port of a Service or ServiceEntry, as `portsOf` returns it.
pub(crate) fn port_info_value<'g>(g: &'g MeshGraph, target: usize, p: &PortInfo) -> Val<'g> {
    Val::map([
        ("number", int(p.number)),
        ("name", Val::str(&p.name)),
        ("protocol", Val::str(&p.protocol)),
        ("targetPort", opt_str(p.target_port.as_deref())),
        ("ref", ref_value(g, target, &p.path)),
    ])
}

pub(crate) fn port_values(g: &MeshGraph, target: usize) -> Vec<Val<'_>> {
    g.ports_of(target)
        .iter()
        .map(|p| port_info_value(g, target, p))
        .collect()
}

/// A Service or ServiceEntry serving a host, with its ports.
pub(crate) fn target_value<'g>(g: &'g MeshGraph, t: &HostTarget) -> Val<'g> {
    let r = &g.resources[t.resource];
    let (location, resolution, addresses) = match &r.typed {
        Typed::ServiceEntry(se) => (
            se.location.as_str(),
            se.resolution.as_str(),
            borrowed_list(&se.addresses),
        ),
        _ => ("MESH_INTERNAL", "SERVICE", Val::list(Vec::new())),
    };
    let service_type = match &r.typed {
        Typed::Service(svc) => svc.service_type.as_deref().unwrap_or("ClusterIP"),
        _ => "",
    };
    Val::map([
        ("kind", Val::borrowed(&r.id.kind)),
        ("namespace", Val::borrowed(r.namespace())),
        ("name", Val::borrowed(r.name())),
        ("host", Val::str(&t.host)),
        ("location", Val::borrowed(location)),
        ("resolution", Val::borrowed(resolution)),
        ("addresses", addresses),
        ("ports", Val::list(port_values(g, t.resource))),
        ("ref", name_ref(g, t.resource)),
        ("serviceType", Val::borrowed(service_type)),
    ])
}

/// The identity of a Service or ServiceEntry plus what TLS rules need, without its
/// port list: `tlsSettings` returns one per governed port, and building every port list
/// again for each would dominate the call.
pub(crate) fn target_brief<'g>(g: &'g MeshGraph, target: usize, host: &str) -> Val<'g> {
    let r = &g.resources[target];
    let location = match &r.typed {
        Typed::ServiceEntry(se) => se.location.as_str(),
        _ => "MESH_INTERNAL",
    };
    Val::map([
        ("kind", Val::borrowed(&r.id.kind)),
        ("namespace", Val::borrowed(r.namespace())),
        ("name", Val::borrowed(r.name())),
        ("host", Val::str(host)),
        ("location", Val::borrowed(location)),
        ("ref", name_ref(g, target)),
    ])
}

/// A resource with its labels and whole object, as `resourcesOf`, `resourcesIn` and the
/// `istioctl analyze` parity functions list them.
pub(crate) fn entry(g: &MeshGraph, i: usize) -> Val<'_> {
    let r = &g.resources[i];
    Val::map([
        ("kind", Val::borrowed(&r.id.kind)),
        ("namespace", Val::borrowed(r.namespace())),
        ("name", Val::borrowed(r.name())),
        ("labels", labels_value(&r.labels)),
        ("object", Val::from_node(&r.node)),
        ("ref", name_ref(g, i)),
    ])
}

pub(crate) fn pod_value(g: &MeshGraph, i: usize) -> Val<'_> {
    let r = &g.resources[i];
    Val::map([
        ("kind", Val::borrowed(&r.id.kind)),
        ("namespace", Val::borrowed(r.namespace())),
        ("name", Val::borrowed(r.name())),
        ("labels", labels_value(g.workload_labels(i))),
        ("annotations", labels_value(&r.annotations)),
        ("object", Val::from_node(&r.node)),
        ("inMesh", Val::Bool(g.pod_in_mesh(i))),
        ("ambient", Val::Bool(g.is_ambient(i))),
        ("ref", name_ref(g, i)),
    ])
}

pub(crate) fn secret_value(g: &MeshGraph, i: usize) -> Val<'_> {
    let r = &g.resources[i];
    let Typed::Secret(sec) = &r.typed else {
        return Val::Null;
    };
    let t = g.now();
    let cert = sec
        .certificate
        .as_ref()
        .map(|c| {
            Val::map([
                ("key", Val::borrowed(&c.key)),
                ("error", opt_borrowed(c.error.as_deref())),
                ("notBefore", c.not_before.map(Val::Int).unwrap_or(Val::Null)),
                ("notAfter", c.not_after.map(Val::Int).unwrap_or(Val::Null)),
                ("expired", Val::Bool(c.not_after.is_some_and(|na| na < t))),
                (
                    "notYetValid",
                    Val::Bool(c.not_before.is_some_and(|nb| nb > t)),
                ),
            ])
        })
        .unwrap_or(Val::Null);
    Val::map([
        ("namespace", Val::borrowed(r.namespace())),
        ("name", Val::borrowed(r.name())),
        ("type", opt_borrowed(sec.secret_type.as_deref())),
        ("keys", borrowed_list(&sec.data_keys)),
        ("stringKeys", borrowed_list(&sec.string_data_keys)),
        ("labels", labels_value(&r.labels)),
        ("certificate", cert),
        ("ref", name_ref(g, i)),
    ])
}

/// Kubernetes `LabelSelector` (`matchLabels` and `matchExpressions`); null matches all.
pub(crate) fn label_selector_matches(sel: &Val, labels: &Labels) -> bool {
    if sel.is_null() {
        return true;
    }
    if let Some(ml) = sel.field("matchLabels") {
        if !meshlint_graph::selector_matches(&labels_from(&ml), labels) {
            return false;
        }
    }
    let exprs = match sel.field("matchExpressions") {
        Some(l) if l.is_list() => l.elements().unwrap_or_default(),
        _ => Vec::new(),
    };
    exprs.iter().all(|e| {
        let key = match e.field("key") {
            Some(Val::Str(k)) => k.to_string(),
            _ => return false,
        };
        let values = e
            .field("values")
            .map(|v| strings_from(&v))
            .unwrap_or_default();
        let op = match e.field("operator") {
            Some(Val::Str(o)) => o.to_string(),
            _ => String::new(),
        };
        let have = labels.get(&key);
        match op.as_str() {
            "In" => have.is_some_and(|v| values.iter().any(|x| x == v)),
            "NotIn" => have.is_none_or(|v| !values.iter().any(|x| x == v)),
            "Exists" => have.is_some(),
            "DoesNotExist" => have.is_none(),
            _ => false,
        }
    })
}

/// A list with one value per item (resources, workloads, pods, host targets…).
pub(crate) fn each<'g, T>(
    g: &'g MeshGraph,
    items: impl IntoIterator<Item = T>,
    value: impl Fn(&'g MeshGraph, T) -> Val<'g>,
) -> R<'g> {
    Ok(Val::list(items.into_iter().map(|x| value(g, x)).collect()))
}
