//! Graph functions for rule files, and the values rules see of the model.
//!
//! A rule's CEL condition asks the mesh graph questions through these functions (host
//! resolution and targets, ports and protocols, workloads, PeerAuthentication and client
//! TLS precedence, DestinationRule lookup, Sidecar and `exportTo` visibility, gateways,
//! ServiceEntry addressing, TLS settings, and the `istioctl analyze` parity functions:
//! pods and their Services, Gateway conflicts and shared certificates, mesh host
//! conflicts, destination lookup through export scopes, subsets, Secrets, resources by
//! name, label selectors with expressions, embedded YAML/JSON). Each is documented in
//! `docs/rule-language.md`. [`GRAPH_TABLE`] lists them (the compiler checks calls
//! against [`GRAPH_FUNCTIONS`], its names and arities) and [`GraphHost`] answers them.
//!
//! Values borrow from the graph wherever a string lives there (kinds, names, labels,
//! typed fields, the resources' YAML trees); only what a query computes is copied.
//! A map key or field name here is part of the rule language: `rules/*.yaml` reads them.

use meshlint_cel::{error, EvalError, Host, Val};
use meshlint_graph::{
    Decision, DestinationProblemKind, HostLookup, HostState, HostTarget, MeshGraph, PortInfo,
};
use meshlint_load::{load_source, LoadLimits, Node, NodeValue, PathSegment, Resolved};
use meshlint_model::typed::Labels;
use meshlint_model::{Kind, OutboundPolicy, Typed};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

type R<'g> = Result<Val<'g>, EvalError>;

/// One graph function: called with exactly its arity's arguments.
pub(crate) type GraphFn = for<'g> fn(&GraphHost<'g>, &[Val<'g>]) -> Result<Val<'g>, EvalError>;

/// Answers graph-function calls of one evaluation (one thread's share of a rule run).
pub struct GraphHost<'g> {
    pub g: &'g MeshGraph,
    /// Several TLS rules ask for the same DestinationRule's settings while its rules are
    /// evaluated together; remember them per `GraphHost` (values are `Rc`-shared, so a hit
    /// copies nothing).
    memo: RefCell<HashMap<usize, Val<'g>>>,
    proxies: std::cell::OnceCell<Val<'g>>,
}

impl<'g> GraphHost<'g> {
    pub fn new(g: &'g MeshGraph) -> Self {
        GraphHost {
            g,
            memo: RefCell::new(HashMap::new()),
            proxies: std::cell::OnceCell::new(),
        }
    }
}

impl<'g> Host<'g> for GraphHost<'g> {
    fn call(&self, function: usize, args: &[Val<'g>]) -> Result<Val<'g>, EvalError> {
        let Some(&(name, arity, f)) = GRAPH_TABLE.get(function) else {
            return error(format!("no graph function #{function}"));
        };
        if args.len() != arity {
            return error(format!(
                "`{name}` takes {arity} argument(s), {} given",
                args.len()
            ));
        }
        f(self, args)
    }
}

/// Graph functions: name, arity, implementation. Names and arities are the contract of
/// `docs/rule-language.md`; a function's index here is the one the compiler records.
pub(crate) const GRAPH_TABLE: &[(&str, usize, GraphFn)] = &[
    ("resolveHost", 2, resolve_host),
    ("hostTargets", 1, host_targets),
    ("hostExists", 1, host_exists),
    ("suggestHost", 1, suggest_host),
    ("portsOf", 1, ports_of),
    ("portProtocol", 2, port_protocol),
    ("workloadsForHost", 1, workloads_for_host),
    ("workloadsSelected", 2, workloads_selected),
    ("peerMode", 2, peer_mode),
    ("peerModes", 2, peer_modes),
    ("clientTls", 4, client_tls),
    ("destinationRuleFor", 2, destination_rule_for),
    ("hostVisible", 2, host_visible),
    ("sidecarFor", 1, sidecar_for),
    ("gateway", 2, gateway),
    ("namespaceKnown", 1, namespace_known),
    ("selects", 2, selects),
    ("refAt", 2, ref_at),
    ("resourcesOf", 1, resources_of),
    ("resourcesIn", 2, resources_in),
    ("tcpPortConflicts", 2, tcp_port_conflicts),
    ("clientNamespaces", 1, client_namespaces),
    ("selectedBy", 2, selected_by),
    ("suggestNamespace", 1, suggest_namespace),
    ("destinationsOf", 1, destinations_of),
    ("protocolConflicts", 1, protocol_conflicts),
    ("exportedTo", 2, exported_to),
    ("topologyLabels", 1, topology_labels),
    ("hiddenFromClients", 2, hidden_from_clients),
    ("hostExportedTo", 2, host_exported_to),
    ("gatewayProxyNamespaces", 2, gateway_proxy_namespaces),
    ("tlsSettings", 1, tls_settings),
    ("routesTo", 1, routes_to),
    ("peerTargets", 1, peer_targets),
    ("proxiesByNamespace", 0, proxies_by_namespace),
    ("servicesFor", 1, services_for),
    ("hostMatches", 2, host_matches),
    // istioctl analyze parity (issue 6)
    ("podsMatching", 1, pods_matching),
    ("podsIn", 2, pods_in),
    ("servicesSelecting", 1, services_selecting),
    ("policiesSelecting", 2, policies_selecting),
    ("named", 2, named),
    ("lookup", 3, lookup),
    ("gatewayConflicts", 1, gateway_conflicts),
    ("sharedCertificates", 1, shared_certificates),
    ("meshHostConflicts", 1, mesh_host_conflicts),
    ("destinationOf", 3, destination_of),
    ("subsetDefined", 3, subset_defined),
    ("secret", 2, secret),
    ("hostsOverlap", 2, hosts_overlap),
    ("parseYaml", 1, parse_yaml),
    ("labelSelectorMatches", 2, label_selector_matches_fn),
    ("subsetRoutesTo", 1, subset_routes_to),
    ("namespaceMatches", 1, namespace_matches),
    // Object identity, host existence and namespace presence (issue 11)
    ("hostLookup", 2, host_lookup),
    ("lookupNamespaces", 1, lookup_namespaces),
    ("namespacePresent", 1, namespace_present),
    ("copiesOf", 1, copies_of),
    ("firstCopy", 1, first_copy),
    ("workloadsMaybeSelected", 2, workloads_maybe_selected),
    ("gatewayLookup", 2, gateway_lookup),
    ("gatewayHosts", 2, gateway_hosts),
    ("selectsInstalledGateway", 1, selects_installed_gateway),
    ("emptySidecarImports", 1, empty_sidecar_imports),
    ("destinationProblems", 1, destination_problems),
    ("orderDependentPatches", 1, order_dependent_patches),
    ("targetPortConflicts", 1, target_port_conflicts),
    ("selectorMiss", 1, selector_miss),
    // Ambient mode and waypoints (issue 20)
    ("dataPlane", 1, data_plane),
    ("namespaceDataPlane", 1, namespace_data_plane),
    ("waypointBinding", 1, waypoint_binding),
    ("ztunnelAuthz", 1, ztunnel_authz),
    // What the webhook lets through but the proxy cannot use (issue 14)
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
    (
        "strictNamespacesUnderDisable",
        1,
        strict_namespaces_under_disable,
    ),
    (
        "disabledNamespacesUnderIstioMutual",
        1,
        disabled_namespaces_under_istio_mutual,
    ),
    ("identityWithoutMtls", 1, identity_without_mtls),
    ("strictWithoutClientMtls", 1, strict_without_client_mtls),
    (
        "tokenConditionsWithoutAuthn",
        1,
        token_conditions_without_authn,
    ),
];

/// Graph functions and their arities (what the compiler checks calls against), in
/// [`GRAPH_TABLE`]'s order.
pub const GRAPH_FUNCTIONS: &[(&str, usize)] = &{
    let mut out = [("", 0usize); GRAPH_TABLE.len()];
    let mut i = 0;
    while i < GRAPH_TABLE.len() {
        out[i] = (GRAPH_TABLE[i].0, GRAPH_TABLE[i].1);
        i += 1;
    }
    out
};

// ---------------------------------------------------------------------------------------
// Arguments

/// Argument `i`, which the function takes as any value.
fn arg<'v, 'g>(name: &str, args: &'v [Val<'g>], i: usize) -> Result<&'v Val<'g>, EvalError> {
    match args.get(i) {
        Some(v) => Ok(v),
        None => error(format!("`{name}` is missing argument {}", i + 1)),
    }
}

/// Argument `i`, which must be a string.
fn arg_str<'v>(name: &str, args: &'v [Val], i: usize) -> Result<&'v str, EvalError> {
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
fn arg_int(name: &str, args: &[Val], i: usize) -> Result<i64, EvalError> {
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
fn strings_from(v: &Val) -> Vec<String> {
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
fn ref_index(v: &Val) -> Option<usize> {
    match v.field("_r") {
        Some(Val::Int(i)) => usize::try_from(i).ok(),
        _ => None,
    }
}

/// A resource index from a reference, or from a map carrying one under `ref` (a
/// workload, a resource entry, the `resource` variable); only indexes of the graph.
fn resource_index(g: &MeshGraph, v: &Val) -> Option<usize> {
    ref_index(v)
        .or_else(|| v.field("ref").as_ref().and_then(ref_index))
        .filter(|i| *i < g.resources.len())
}

/// The resource index of a reference (`_r` only, not under `ref`), within the graph.
fn direct_index(g: &MeshGraph, v: &Val) -> Option<usize> {
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

// ---------------------------------------------------------------------------------------
// Value builders

fn int(n: impl Into<i64>) -> Val<'static> {
    Val::Int(n.into())
}

fn usize_int(n: usize) -> Val<'static> {
    Val::Int(n as i64)
}

fn opt_str<'g>(s: Option<&str>) -> Val<'g> {
    s.map(Val::str).unwrap_or(Val::Null)
}

fn opt_borrowed(s: Option<&str>) -> Val<'_> {
    s.map(Val::borrowed).unwrap_or(Val::Null)
}

fn str_list<'g>(items: &[String]) -> Val<'g> {
    Val::list(items.iter().map(|x| Val::str(x)).collect())
}

fn borrowed_list(items: &[String]) -> Val<'_> {
    Val::list(items.iter().map(|x| Val::borrowed(x)).collect())
}

/// Labels or annotations living in the graph, as a map (keys and values borrowed).
fn labels_value(l: &Labels) -> Val<'_> {
    Val::Map(Rc::new(
        l.iter()
            .map(|(k, v)| (Val::borrowed(k), Val::borrowed(v)))
            .collect(),
    ))
}

/// Labels a query computed, as a map.
fn labels_owned<'g>(l: &Labels) -> Val<'g> {
    Val::Map(Rc::new(
        l.iter().map(|(k, v)| (Val::str(k), Val::str(v))).collect(),
    ))
}

/// Converts a YAML tree that does not outlive the call (`parseYaml`'s document) into an
/// owned value: plain scalars resolved by the core schema, a repeated key's last value
/// wins (as reading the key in place does).
fn owned_value<'g>(n: &Node) -> Val<'g> {
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
fn ref_with<'g>(g: &'g MeshGraph, idx: usize, path: Val<'g>) -> Val<'g> {
    let r = &g.resources[idx];
    Val::map(vec![
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
fn name_ref(g: &MeshGraph, idx: usize) -> Val<'_> {
    ref_with(g, idx, Val::borrowed("metadata.name"))
}

/// A reference to `(resource, field path)`, or null.
fn opt_ref<'g>(g: &'g MeshGraph, at: &Option<(usize, String)>) -> Val<'g> {
    at.as_ref()
        .map(|(i, p)| ref_value(g, *i, p))
        .unwrap_or(Val::Null)
}

/// Where a decision came from, or null when it is a default.
fn decision_ref<'g>(g: &'g MeshGraph, d: &Decision) -> Val<'g> {
    match &d.source {
        Some((i, p)) => ref_value(g, *i, p),
        None => Val::Null,
    }
}

/// The `resource` variable: identity plus a reference to the resource itself.
pub fn resource_value(g: &MeshGraph, idx: usize) -> Val<'_> {
    let r = &g.resources[idx];
    Val::map(vec![
        ("kind", Val::borrowed(&r.id.kind)),
        ("apiVersion", Val::borrowed(&r.id.api_version)),
        ("group", Val::borrowed(&r.group)),
        ("version", Val::borrowed(&r.version)),
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
    Val::map(vec![
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
fn workload_value(g: &MeshGraph, w: usize) -> Val<'_> {
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
    Val::map(vec![
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

/// A workload's identity and sidecar facts (no labels or ports), for `tlsSettings`.
fn workload_brief(g: &MeshGraph, w: usize) -> Val<'_> {
    let r = &g.resources[w];
    let injection = g.injection_decision(w);
    let plane = g.data_plane(w);
    Val::map(vec![
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
fn port_info_value<'g>(g: &'g MeshGraph, target: usize, p: &PortInfo) -> Val<'g> {
    Val::map(vec![
        ("number", int(p.number)),
        ("name", Val::str(&p.name)),
        ("protocol", Val::str(&p.protocol)),
        ("targetPort", opt_str(p.target_port.as_deref())),
        ("ref", ref_value(g, target, &p.path)),
    ])
}

fn port_values(g: &MeshGraph, target: usize) -> Vec<Val<'_>> {
    g.ports_of(target)
        .iter()
        .map(|p| port_info_value(g, target, p))
        .collect()
}

/// A Service or ServiceEntry serving a host, with its ports.
fn target_value<'g>(g: &'g MeshGraph, t: &HostTarget) -> Val<'g> {
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
    Val::map(vec![
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
fn target_brief<'g>(g: &'g MeshGraph, target: usize, host: &str) -> Val<'g> {
    let r = &g.resources[target];
    let location = match &r.typed {
        Typed::ServiceEntry(se) => se.location.as_str(),
        _ => "MESH_INTERNAL",
    };
    Val::map(vec![
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
fn entry(g: &MeshGraph, i: usize) -> Val<'_> {
    let r = &g.resources[i];
    Val::map(vec![
        ("kind", Val::borrowed(&r.id.kind)),
        ("namespace", Val::borrowed(r.namespace())),
        ("name", Val::borrowed(r.name())),
        ("labels", labels_value(&r.labels)),
        ("object", Val::from_node(&r.node)),
        ("ref", name_ref(g, i)),
    ])
}

fn pod_value(g: &MeshGraph, i: usize) -> Val<'_> {
    let r = &g.resources[i];
    Val::map(vec![
        ("kind", Val::borrowed(&r.id.kind)),
        ("namespace", Val::borrowed(r.namespace())),
        ("name", Val::borrowed(r.name())),
        ("labels", labels_value(g.workload_labels(i))),
        ("annotations", labels_value(&r.annotations)),
        ("object", Val::from_node(&r.node)),
        ("inMesh", Val::Bool(g.pod_in_mesh(i))),
        ("ambient", Val::Bool(g.pod_ambient(i))),
        ("ref", name_ref(g, i)),
    ])
}

fn secret_value(g: &MeshGraph, i: usize) -> Val<'_> {
    let r = &g.resources[i];
    let Typed::Secret(sec) = &r.typed else {
        return Val::Null;
    };
    let t = g.now();
    let cert = sec
        .certificate
        .as_ref()
        .map(|c| {
            Val::map(vec![
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
    Val::map(vec![
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
            "In" => have.is_some_and(|v| values.contains(v)),
            "NotIn" => have.is_none_or(|v| !values.contains(v)),
            "Exists" => have.is_some(),
            "DoesNotExist" => have.is_none(),
            _ => false,
        }
    })
}

// ---------------------------------------------------------------------------------------
// Hosts, ports, workloads, decisions

fn resolve_host<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let host = arg_str("resolveHost", a, 0)?;
    let ns = arg_str("resolveHost", a, 1)?;
    Ok(Val::str(&h.g.resolve_host(host, ns)))
}

fn host_targets<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let host = arg_str("hostTargets", a, 0)?;
    let g = h.g;
    each(g, g.host_targets(host).iter(), target_value)
}

fn host_exists<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let host = arg_str("hostExists", a, 0)?;
    Ok(Val::Bool(!h.g.host_targets(host).is_empty()))
}

fn suggest_host<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let host = arg_str("suggestHost", a, 0)?;
    Ok(Val::str(&h.g.suggest_host(host).unwrap_or_default()))
}

fn ports_of<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let host = arg_str("portsOf", a, 0)?;
    let g = h.g;
    Ok(Val::list(
        g.host_targets(host)
            .iter()
            .flat_map(|t| port_values(g, t.resource))
            .collect(),
    ))
}

fn port_protocol<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
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

/// A list with one value per item (resources, workloads, pods, host targets…).
fn each<'g, T>(
    g: &'g MeshGraph,
    items: impl IntoIterator<Item = T>,
    value: impl Fn(&'g MeshGraph, T) -> Val<'g>,
) -> R<'g> {
    Ok(Val::list(items.into_iter().map(|x| value(g, x)).collect()))
}

fn workloads_for_host<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let host = arg_str("workloadsForHost", a, 0)?;
    let g = h.g;
    each(g, g.workloads_for_host(host), workload_value)
}

fn workloads_selected<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let ns = arg_str("workloadsSelected", a, 0)?;
    let sel = labels_from(arg("workloadsSelected", a, 1)?);
    let g = h.g;
    each(g, g.workloads_selected(ns, &sel), workload_value)
}

fn peer_mode<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let w = arg("peerMode", a, 0)?;
    let port = arg_int("peerMode", a, 1)?;
    let g = h.g;
    let Some(idx) = resource_index(g, w) else {
        return Ok(Val::Null);
    };
    let d = g.peer_mode(idx, u32::try_from(port).ok().filter(|p| *p > 0));
    Ok(Val::map(vec![
        ("mode", Val::str(&d.value)),
        ("ref", decision_ref(g, &d)),
    ]))
}

fn peer_modes<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let host = arg_str("peerModes", a, 0)?;
    let port = arg_int("peerModes", a, 1)?;
    let g = h.g;
    let mut out = Vec::new();
    for t in g.host_targets(host) {
        let ports = g.ports_of(t.resource);
        for w in g.workloads_of(t.resource) {
            let container_port = ports
                .iter()
                .find(|p| p.number as i64 == port)
                .map(|p| g.target_port(w, p))
                .or(u32::try_from(port).ok().filter(|p| *p > 0));
            let d = g.peer_mode(w, container_port);
            out.push(Val::map(vec![
                ("workload", workload_value(g, w)),
                ("mode", Val::str(&d.value)),
                ("ref", decision_ref(g, &d)),
                ("targetPort", container_port.map(int).unwrap_or(Val::Null)),
                (
                    "captured",
                    Val::Bool(
                        container_port
                            .map(|p| g.inbound_captured(w, p))
                            .unwrap_or_else(|| g.has_sidecar(w)),
                    ),
                ),
                (
                    "enforcedBy",
                    Val::borrowed(match container_port {
                        Some(p) => g.mtls_enforced_by(w, p),
                        None if g.has_sidecar(w) => "sidecar",
                        None if g.is_ambient(w) => "ztunnel",
                        None => "none",
                    }),
                ),
            ]));
        }
    }
    Ok(Val::list(out))
}

fn client_tls<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let ns = arg_str("clientTls", a, 0)?;
    let host = arg_str("clientTls", a, 1)?;
    let port = arg_int("clientTls", a, 2)?;
    let subset = arg_str("clientTls", a, 3)?;
    let g = h.g;
    let port = u32::try_from(port).ok().filter(|p| *p > 0);
    let subset = Some(subset).filter(|s| !s.is_empty());
    let (d, tls) = g.client_tls(ns, host, port, subset);
    let tls_bool =
        |f: fn(&meshlint_model::typed::ClientTls) -> bool| Val::Bool(tls.as_ref().is_some_and(f));
    Ok(Val::map(vec![
        ("mode", Val::str(&d.value)),
        ("ref", decision_ref(g, &d)),
        ("hasCa", tls_bool(|t| t.has_ca)),
        ("hasClientCert", tls_bool(|t| t.has_client_cert)),
        ("credentialName", tls_bool(|t| t.credential_name)),
        ("insecureSkipVerify", tls_bool(|t| t.insecure_skip_verify)),
        ("sni", opt_str(tls.as_ref().and_then(|t| t.sni.as_deref()))),
    ]))
}

fn destination_rule_for<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let ns = arg_str("destinationRuleFor", a, 0)?;
    let host = arg_str("destinationRuleFor", a, 1)?;
    let g = h.g;
    let Some(merged) = g.merged_destination_rule_for_lookup(ns, host) else {
        return Ok(Val::Null);
    };
    let d = merged.primary();
    let r = &g.resources[d];
    let subsets = merged.subsets.iter().map(|s| Val::str(&s.name)).collect();
    Ok(Val::map(vec![
        ("namespace", Val::borrowed(r.namespace())),
        ("name", Val::borrowed(r.name())),
        ("subsets", Val::list(subsets)),
        ("ref", ref_with(g, d, Val::borrowed("spec.host"))),
        (
            "members",
            Val::list(
                merged
                    .members
                    .iter()
                    .map(|&m| ref_with(g, m, Val::borrowed("spec.host")))
                    .collect(),
            ),
        ),
    ]))
}

fn host_visible<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let ns = arg_str("hostVisible", a, 0)?;
    let host = arg_str("hostVisible", a, 1)?;
    let g = h.g;
    let v = g.host_visible(ns, None, host);
    Ok(Val::map(vec![
        ("visible", Val::Bool(v.visible)),
        ("reason", Val::str(&v.reason)),
        (
            "ref",
            v.hidden_by
                .map(|(i, p)| ref_value(g, i, &p))
                .unwrap_or(Val::Null),
        ),
    ]))
}

fn sidecar_for<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let ns = arg_str("sidecarFor", a, 0)?;
    let g = h.g;
    Ok(g.sidecar_for(ns, None)
        .map(|i| name_ref(g, i))
        .unwrap_or(Val::Null))
}

fn gateway<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let reference = arg_str("gateway", a, 0)?;
    let ns = arg_str("gateway", a, 1)?;
    let g = h.g;
    let Some(i) = g.gateway_ref(reference, ns) else {
        return Ok(Val::Null);
    };
    let r = &g.resources[i];
    let workloads = match &r.typed {
        Typed::Gateway(_) => g
            .selected_workloads(i)
            .into_iter()
            .map(|w| workload_value(g, w))
            .collect(),
        _ => Vec::new(),
    };
    Ok(Val::map(vec![
        ("namespace", Val::borrowed(r.namespace())),
        ("name", Val::borrowed(r.name())),
        ("object", Val::from_node(&r.node)),
        ("workloads", Val::list(workloads)),
        ("ref", name_ref(g, i)),
    ]))
}

fn host_lookup<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let host = arg_str("hostLookup", a, 0)?;
    let namespaces = strings_from(arg("hostLookup", a, 1)?);
    let g = h.g;
    let refs: Vec<&str> = namespaces.iter().map(String::as_str).collect();
    Ok(host_lookup_value(g, &g.host_lookup(host, &refs)))
}

fn host_lookup_value<'g>(g: &'g MeshGraph, l: &HostLookup) -> Val<'g> {
    let state = match l.state {
        HostState::Exported => "exported",
        HostState::Unexported => "unexported",
        HostState::Implicit => "implicit",
        HostState::Missing => "missing",
    };
    Val::map(vec![
        ("state", Val::borrowed(state)),
        ("certain", Val::Bool(l.certain)),
        (
            "suggestion",
            Val::str(l.suggestion.as_deref().unwrap_or("")),
        ),
        (
            "definitions",
            Val::list(l.definitions.iter().map(|t| target_value(g, t)).collect()),
        ),
        (
            "suggested",
            Val::list(
                l.suggestion
                    .as_deref()
                    .map(|s| {
                        g.host_targets(s)
                            .iter()
                            .map(|t| name_ref(g, t.resource))
                            .collect()
                    })
                    .unwrap_or_default(),
            ),
        ),
    ])
}

fn order_dependent_patches<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let r = arg("orderDependentPatches", a, 0)?;
    let g = h.g;
    let Some(i) = resource_index(g, r) else {
        return Ok(Val::Null);
    };
    let p = g.order_dependent_patches(i);
    let relative = p.relative.map(|(index, generated_anchor)| {
        Val::map(vec![
            ("index", usize_int(index)),
            ("generatedAnchor", Val::Bool(generated_anchor)),
        ])
    });
    Ok(Val::map(vec![
        ("relative", Val::list(relative.into_iter().collect())),
        (
            "versionGated",
            Val::list(p.version_gated.map(usize_int).into_iter().collect()),
        ),
    ]))
}

fn selector_miss<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
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
                .map(|(k, _)| format!("{k}={}", have.get(k).map(String::as_str).unwrap_or("")))
                .collect::<Vec<_>>()
                .join(", ");
            Val::map(vec![
                ("name", Val::borrowed(g.resources[w].name())),
                ("labels", Val::str(&labels)),
                ("ref", name_ref(g, w)),
            ])
        })
        .collect();
    Ok(Val::list(vec![Val::map(vec![
        ("selector", Val::str(&selector)),
        ("key", Val::str(&m.key)),
        ("near", Val::list(near)),
        (
            "namespaceHasWorkloads",
            Val::Bool(m.namespace_has_workloads),
        ),
    ])]))
}

fn target_port_conflicts<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
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
                        Val::map(vec![
                            ("service", Val::borrowed(g.resources[*svc].name())),
                            ("port", int(*port)),
                            ("ref", ref_value(g, *svc, path)),
                        ])
                    })
                    .collect();
                Val::map(vec![
                    ("target", Val::str(&c.target)),
                    ("ports", Val::list(ports)),
                ])
            })
            .collect(),
    ))
}

fn destination_problems<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
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

fn workloads_maybe_selected<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let ns = arg_str("workloadsMaybeSelected", a, 0)?;
    let sel = labels_from(arg("workloadsMaybeSelected", a, 1)?);
    let g = h.g;
    each(g, g.workloads_maybe_selected(ns, &sel), workload_value)
}

fn gateway_lookup<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let reference = arg_str("gatewayLookup", a, 0)?;
    let ns = arg_str("gatewayLookup", a, 1)?;
    let g = h.g;
    let l = g.gateway_lookup(reference, ns);
    let refs = |v: &[usize]| Val::list(v.iter().map(|&i| name_ref(g, i)).collect());
    Ok(Val::map(vec![
        ("namespace", Val::str(&l.namespace)),
        ("name", Val::str(&l.name)),
        ("found", Val::Bool(l.found.is_some())),
        ("sameNameElsewhere", refs(&l.same_name_elsewhere)),
        (
            "nearName",
            refs(&l.near_name.into_iter().collect::<Vec<_>>()),
        ),
        (
            "namespaceSuggestion",
            Val::str(l.namespace_suggestion.as_deref().unwrap_or("")),
        ),
        ("certain", Val::Bool(l.certain)),
    ]))
}

fn gateway_hosts<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let reference = arg_str("gatewayHosts", a, 0)?;
    let ns = arg_str("gatewayHosts", a, 1)?;
    Ok(str_list(&h.g.gateway_hosts(reference, ns)))
}

fn selects_installed_gateway<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let sel = labels_from(arg("selectsInstalledGateway", a, 0)?);
    Ok(Val::Bool(h.g.selects_installed_gateway(&sel)))
}

fn empty_sidecar_imports<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let r = arg("emptySidecarImports", a, 0)?;
    let g = h.g;
    let Some(i) = resource_index(g, r) else {
        return Ok(Val::list(Vec::new()));
    };
    Ok(Val::list(
        g.empty_sidecar_imports(i)
            .iter()
            .map(|e| {
                Val::map(vec![
                    ("path", Val::str(&e.path)),
                    ("entry", Val::str(&e.entry)),
                    ("namespace", Val::str(&e.namespace)),
                    ("fqdn", Val::str(&e.fqdn)),
                    ("missingNamespace", Val::Bool(e.missing_namespace)),
                    (
                        "namespaceSuggestion",
                        Val::str(e.namespace_suggestion.as_deref().unwrap_or("")),
                    ),
                    (
                        "hostSuggestion",
                        Val::str(e.host_suggestion.as_deref().unwrap_or("")),
                    ),
                    (
                        "definedElsewhere",
                        Val::list(
                            e.defined_elsewhere
                                .iter()
                                .map(|t| target_value(g, t))
                                .collect(),
                        ),
                    ),
                    (
                        "suggested",
                        Val::list(
                            e.host_suggestion
                                .as_deref()
                                .map(|s| {
                                    g.host_targets(s)
                                        .iter()
                                        .map(|t| name_ref(g, t.resource))
                                        .collect()
                                })
                                .unwrap_or_default(),
                        ),
                    ),
                    ("certain", Val::Bool(e.certain)),
                ])
            })
            .collect(),
    ))
}

fn lookup_namespaces<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let r = arg("lookupNamespaces", a, 0)?;
    let g = h.g;
    let Some(i) = resource_index(g, r) else {
        return Ok(Val::list(Vec::new()));
    };
    Ok(Val::list(
        g.lookup_namespaces(i).iter().map(|n| Val::str(n)).collect(),
    ))
}

fn namespace_present<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let ns = arg_str("namespacePresent", a, 0)?;
    Ok(Val::Bool(h.g.namespace_described(ns)))
}

fn copies_of<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let r = arg("copiesOf", a, 0)?;
    let g = h.g;
    let Some(i) = resource_index(g, r) else {
        return Ok(Val::list(Vec::new()));
    };
    each(g, g.copies_of(i).iter().copied(), name_ref)
}

fn first_copy<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let r = arg("firstCopy", a, 0)?;
    let g = h.g;
    Ok(Val::Bool(
        resource_index(g, r).is_none_or(|i| g.first_copy(i)),
    ))
}

fn namespace_known<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let ns = arg_str("namespaceKnown", a, 0)?;
    Ok(Val::Bool(h.g.namespace_known(ns)))
}

fn selects<'g>(_: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let sel = labels_from(arg("selects", a, 0)?);
    let labels = labels_from(arg("selects", a, 1)?);
    Ok(Val::Bool(meshlint_graph::selector_matches(&sel, &labels)))
}

fn ref_at<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let r = arg("refAt", a, 0)?;
    let path = arg_str("refAt", a, 1)?;
    let g = h.g;
    Ok(match direct_index(g, r) {
        Some(i) => ref_value(g, i, path),
        None => Val::Null,
    })
}

fn resources_of<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let kind = arg_str("resourcesOf", a, 0)?;
    let g = h.g;
    let Some(k) = Kind::by_name(kind) else {
        return Ok(Val::list(Vec::new()));
    };
    Ok(Val::list(
        g.of_kind(k).iter().map(|&i| entry(g, i)).collect(),
    ))
}

fn resources_in<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let kind = arg_str("resourcesIn", a, 0)?;
    let ns = arg_str("resourcesIn", a, 1)?;
    let g = h.g;
    let Some(k) = Kind::by_name(kind) else {
        return Ok(Val::list(Vec::new()));
    };
    each(g, g.in_namespace(ns, k).iter().copied(), entry)
}

// ---------------------------------------------------------------------------------------
// ServiceEntry addressing and host scoping (issue 4, ML2xxx rules)

fn tcp_port_conflicts<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
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

fn client_namespaces<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let r = arg("clientNamespaces", a, 0)?;
    let g = h.g;
    Ok(match direct_index(g, r) {
        Some(i) => str_list(&g.client_namespaces(i)),
        None => Val::list(Vec::new()),
    })
}

fn selected_by<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let w = arg("selectedBy", a, 0)?;
    let kind = arg_str("selectedBy", a, 1)?;
    let g = h.g;
    let (Some(i), Some(k)) = (resource_index(g, w), Kind::by_name(kind)) else {
        return Ok(Val::list(Vec::new()));
    };
    each(g, g.selected_by(i, k), name_ref)
}

fn suggest_namespace<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let ns = arg_str("suggestNamespace", a, 0)?;
    Ok(Val::str(&h.g.suggest_namespace(ns).unwrap_or_default()))
}

fn destinations_of<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
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

fn protocol_conflicts<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
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

fn exported_to<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let r = arg("exportedTo", a, 0)?;
    let ns = arg_str("exportedTo", a, 1)?;
    let g = h.g;
    Ok(Val::Bool(match direct_index(g, r) {
        Some(i) => g
            .export_scope_of(i)
            .is_none_or(|scope| scope.iter().any(|n| n == ns)),
        None => false,
    }))
}

fn topology_labels<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let w = arg("topologyLabels", a, 0)?;
    let g = h.g;
    Ok(match resource_index(g, w) {
        Some(i) => labels_owned(&g.topology_labels(i)),
        None => Val::map(Vec::new()),
    })
}

fn hidden_from_clients<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let r = arg("hiddenFromClients", a, 0)?;
    let host = arg_str("hiddenFromClients", a, 1)?;
    let g = h.g;
    let Some(i) = direct_index(g, r) else {
        return Ok(Val::list(Vec::new()));
    };
    Ok(Val::list(
        g.hidden_from_all_clients(i, host)
            .into_iter()
            .map(|(ns, v)| {
                Val::map(vec![
                    ("namespace", Val::str(&ns)),
                    ("reason", Val::str(&v.reason)),
                    (
                        "ref",
                        v.hidden_by
                            .map(|(x, p)| ref_value(g, x, &p))
                            .unwrap_or(Val::Null),
                    ),
                ])
            })
            .collect(),
    ))
}

fn host_exported_to<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let host = arg_str("hostExportedTo", a, 0)?;
    let ns = arg_str("hostExportedTo", a, 1)?;
    Ok(Val::Bool(h.g.host_exported_to(host, ns)))
}

fn gateway_proxy_namespaces<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let reference = arg_str("gatewayProxyNamespaces", a, 0)?;
    let ns = arg_str("gatewayProxyNamespaces", a, 1)?;
    let g = h.g;
    Ok(match g.gateway_ref(reference, ns) {
        Some(i) => str_list(&g.gateway_proxy_namespaces(i)),
        None => Val::Null,
    })
}

// ---------------------------------------------------------------------------------------
// Ambient mode and waypoints (issue 20)

fn data_plane<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let v = arg("dataPlane", a, 0)?;
    let g = h.g;
    let Some(w) = resource_index(g, v) else {
        return Ok(Val::Null);
    };
    if !matches!(
        g.resources[w].typed,
        Typed::Workload(_) | Typed::WorkloadEntry(_)
    ) {
        return Ok(Val::Null);
    }
    let d = g.data_plane(w);
    Ok(Val::map(vec![
        ("plane", Val::borrowed(d.plane.as_str())),
        ("by", Val::str(&d.by)),
        ("ref", opt_ref(g, &d.source)),
        ("known", Val::Bool(d.known)),
        ("ambientIgnoredRef", opt_ref(g, &d.ambient_ignored)),
    ]))
}

fn namespace_data_plane<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let ns = arg_str("namespaceDataPlane", a, 0)?;
    let g = h.g;
    let Some(n) = g.namespace_resource(ns) else {
        return Ok(Val::Null);
    };
    let labels = &g.resources[n].labels;
    let mode = labels
        .get(meshlint_graph::DATAPLANE_LABEL)
        .map(String::as_str)
        .unwrap_or("");
    let injection_label = match labels.get("istio-injection").map(String::as_str) {
        Some(_) => Some("istio-injection"),
        None => labels
            .contains_key("istio.io/rev")
            .then_some("istio.io/rev"),
    };
    let label_ref = |k: &str| ref_value(g, n, &format!("metadata.labels[\"{k}\"]"));
    Ok(Val::map(vec![
        ("mode", Val::borrowed(mode)),
        ("ambient", Val::Bool(g.namespace_ambient(ns))),
        (
            "injected",
            Val::Bool(g.namespace_injection(ns) == meshlint_model::typed::Injection::Enabled),
        ),
        (
            "modeRef",
            if mode.is_empty() {
                Val::Null
            } else {
                label_ref(meshlint_graph::DATAPLANE_LABEL)
            },
        ),
        (
            "injectionRef",
            injection_label.map(label_ref).unwrap_or(Val::Null),
        ),
    ]))
}

fn waypoint_binding<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let v = arg("waypointBinding", a, 0)?;
    let g = h.g;
    let Some(i) = resource_index(g, v) else {
        return Ok(Val::Null);
    };
    let Some(b) = g.waypoint_binding(i) else {
        return Ok(Val::Null);
    };
    let class = b
        .gateway
        .and_then(|x| g.resources[x].node.str_at(&["spec", "gatewayClassName"]))
        .unwrap_or("");
    Ok(Val::map(vec![
        ("name", Val::str(&b.name)),
        ("namespace", Val::str(&b.namespace)),
        ("source", Val::borrowed(b.source)),
        ("outcome", Val::borrowed(b.outcome)),
        ("ref", ref_value(g, b.label.0, &b.label.1)),
        ("namespaceRef", opt_ref(g, &b.namespace_label)),
        (
            "gateway",
            b.gateway.map(|x| name_ref(g, x)).unwrap_or(Val::Null),
        ),
        ("gatewayClass", Val::borrowed(class)),
        ("namespaceKnown", Val::Bool(g.namespace_known(&b.namespace))),
        ("trafficType", Val::str(&b.traffic_type)),
        ("trafficTypeRef", opt_ref(g, &b.traffic_type_source)),
        ("attachmentRef", opt_ref(g, &b.attachment_source)),
    ]))
}

fn ztunnel_authz<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let v = arg("ztunnelAuthz", a, 0)?;
    let g = h.g;
    let Some(i) = resource_index(g, v) else {
        return Ok(Val::Null);
    };
    let Some(z) = g.ztunnel_authz(i) else {
        return Ok(Val::Null);
    };
    let mut fields: Vec<&str> = z.l7.iter().map(|f| f.field.as_str()).collect();
    fields.sort_unstable();
    fields.dedup();
    Ok(Val::map(vec![
        ("action", Val::str(&z.action)),
        ("outcome", Val::borrowed(z.outcome)),
        (
            "l7",
            Val::list(
                z.l7.iter()
                    .map(|f| {
                        Val::map(vec![
                            ("field", Val::str(&f.field)),
                            ("rule", int(f.rule as u32)),
                            ("ref", ref_value(g, i, &f.path)),
                        ])
                    })
                    .collect(),
            ),
        ),
        (
            "fields",
            Val::list(fields.into_iter().map(Val::str).collect()),
        ),
        (
            "workloads",
            Val::list(
                z.workloads
                    .iter()
                    .map(|&w| Val::borrowed(g.resources[w].name()))
                    .collect(),
            ),
        ),
    ]))
}

// mTLS and TLS consistency (issue 4, ML1xxx rules)

fn tls_settings<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let dr = arg("tlsSettings", a, 0)?;
    let g = h.g;
    let Some(i) = resource_index(g, dr) else {
        return Ok(Val::list(Vec::new()));
    };
    if let Some(v) = h.memo.borrow().get(&i) {
        return Ok(v.clone());
    }
    let v = tls_settings_value(g, i);
    h.memo.borrow_mut().insert(i, v.clone());
    Ok(v)
}

fn tls_settings_value(g: &MeshGraph, i: usize) -> Val<'_> {
    let res = &g.resources[i];
    Val::list(
        g.tls_settings(i)
            .iter()
            .map(|t| {
                let mode_path = format!("{}.mode", t.tls.path);
                let at = if res.has_path(&mode_path) {
                    mode_path
                } else {
                    t.tls.path.clone()
                };
                let destinations = t
                    .destinations
                    .iter()
                    .map(|d| {
                        let governed = |ws: &[meshlint_graph::GovernedWorkload]| {
                            ws.iter()
                                .map(|w| {
                                    Val::map(vec![
                                        ("workload", workload_brief(g, w.workload)),
                                        ("containerPort", int(w.container_port)),
                                        ("mode", Val::str(&w.peer.value)),
                                        ("ref", decision_ref(g, &w.peer)),
                                        ("captured", Val::Bool(w.captured)),
                                        ("enforcedBy", Val::borrowed(w.enforced_by)),
                                    ])
                                })
                                .collect()
                        };
                        Val::map(vec![
                            ("host", Val::str(&d.host)),
                            ("target", target_brief(g, d.target, &d.host)),
                            ("port", port_info_value(g, d.target, &d.port)),
                            ("workloads", Val::list(governed(&d.workloads))),
                            ("hbone", Val::list(governed(&d.hbone))),
                        ])
                    })
                    .collect();
                let object = PathSegment::parse_path(&t.tls.path)
                    .and_then(|p| res.node.lookup(&p).map(|(n, _)| n))
                    .map(Val::from_node)
                    .unwrap_or(Val::Null);
                Val::map(vec![
                    ("mode", Val::str(&t.tls.mode)),
                    ("path", Val::str(&t.tls.path)),
                    ("at", Val::str(&at)),
                    ("port", int(t.port.unwrap_or(0))),
                    ("subset", Val::str(t.subset.as_deref().unwrap_or(""))),
                    ("hasCa", Val::Bool(t.tls.has_ca)),
                    ("hasClientCert", Val::Bool(t.tls.has_client_cert)),
                    ("credentialName", Val::Bool(t.tls.credential_name)),
                    ("insecureSkipVerify", Val::Bool(t.tls.insecure_skip_verify)),
                    ("sni", opt_str(t.tls.sni.as_deref())),
                    ("ref", ref_value(g, i, &at)),
                    ("object", object),
                    ("destinations", Val::list(destinations)),
                ])
            })
            .collect(),
    )
}

fn routes_to<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
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

fn peer_targets<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let pa = arg("peerTargets", a, 0)?;
    let g = h.g;
    let Some(i) = resource_index(g, pa) else {
        return Ok(Val::list(Vec::new()));
    };
    Ok(Val::list(
        g.peer_targets(i)
            .iter()
            .map(|t| {
                Val::map(vec![
                    ("host", Val::str(&t.host)),
                    ("port", port_info_value(g, t.target, &t.port)),
                    ("workload", workload_value(g, t.workload)),
                    ("containerPort", int(t.container_port)),
                    ("mode", Val::str(&t.peer.value)),
                    ("ref", decision_ref(g, &t.peer)),
                    ("captured", Val::Bool(t.captured)),
                    ("enforcedBy", Val::borrowed(t.enforced_by)),
                ])
            })
            .collect(),
    ))
}

fn proxies_by_namespace<'g>(h: &GraphHost<'g>, _: &[Val<'g>]) -> R<'g> {
    // The answer is the same for every call; build the list once per host.
    let v = h.proxies.get_or_init(|| {
        Val::list(
            h.g.proxies_by_namespace()
                .iter()
                .map(|p| {
                    Val::map(vec![
                        ("namespace", Val::borrowed(&p.namespace)),
                        ("sidecars", usize_int(p.sidecars)),
                        ("gateways", usize_int(p.gateways)),
                    ])
                })
                .collect(),
        )
    });
    Ok(v.clone())
}

fn services_for<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let w = arg("servicesFor", a, 0)?;
    let g = h.g;
    let Some(i) = resource_index(g, w) else {
        return Ok(Val::list(Vec::new()));
    };
    Ok(Val::list(
        g.services_for(i)
            .into_iter()
            .map(|t| {
                let r = &g.resources[t];
                let host = match &r.typed {
                    Typed::ServiceEntry(se) => se
                        .hosts
                        .first()
                        .map(|h| g.resolve_host(h, r.namespace()))
                        .unwrap_or_default(),
                    _ => format!("{}.{}.svc.{}", r.name(), r.namespace(), g.mesh.dns_domain),
                };
                target_value(g, &HostTarget { resource: t, host })
            })
            .collect(),
    ))
}

fn host_matches<'g>(_: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let pattern = arg_str("hostMatches", a, 0)?;
    let host = arg_str("hostMatches", a, 1)?;
    Ok(Val::Bool(meshlint_graph::host_matches(pattern, host)))
}

// ---------------------------------------------------------------------------------------
// istioctl analyze parity (issue 6, ML3xxx rules)

fn pods_matching<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let sel = labels_from(arg("podsMatching", a, 0)?);
    let g = h.g;
    each(g, g.pods_matching(&sel), pod_value)
}

fn pods_in<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let ns = arg_str("podsIn", a, 0)?;
    let sel = labels_from(arg("podsIn", a, 1)?);
    let g = h.g;
    each(g, g.pods_in(ns, &sel), pod_value)
}

fn services_selecting<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let w = arg("servicesSelecting", a, 0)?;
    let g = h.g;
    let Some(i) = resource_index(g, w) else {
        return Ok(Val::list(Vec::new()));
    };
    each(g, g.services_selecting(i), entry)
}

fn policies_selecting<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let w = arg("policiesSelecting", a, 0)?;
    let kind = arg_str("policiesSelecting", a, 1)?;
    let g = h.g;
    let (Some(i), Some(k)) = (resource_index(g, w), Kind::by_name(kind)) else {
        return Ok(Val::list(Vec::new()));
    };
    each(g, g.policies_selecting_pod(i, k), entry)
}

fn named<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
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

fn lookup<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let kind = arg_str("lookup", a, 0)?;
    let ns = arg_str("lookup", a, 1)?;
    let name = arg_str("lookup", a, 2)?;
    let g = h.g;
    Ok(Kind::by_name(kind)
        .and_then(|k| g.find(k, ns, name))
        .map(|i| entry(g, i))
        .unwrap_or(Val::Null))
}

fn gateway_conflicts<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let gw = arg("gatewayConflicts", a, 0)?;
    let g = h.g;
    let Some(i) = resource_index(g, gw) else {
        return Ok(Val::list(Vec::new()));
    };
    Ok(Val::list(
        g.gateway_conflicts(i)
            .into_iter()
            .map(|(server, others)| {
                Val::map(vec![
                    ("server", usize_int(server)),
                    (
                        "gateways",
                        Val::list(others.iter().map(|&(o, _)| entry(g, o)).collect()),
                    ),
                    (
                        "servers",
                        Val::list(others.iter().map(|&(_, s)| usize_int(s)).collect()),
                    ),
                ])
            })
            .collect(),
    ))
}

fn shared_certificates<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let gw = arg("sharedCertificates", a, 0)?;
    let g = h.g;
    let Some(i) = resource_index(g, gw) else {
        return Ok(Val::list(Vec::new()));
    };
    Ok(Val::list(
        g.gateways_sharing_certificate(i)
            .into_iter()
            .map(|(server, o)| {
                Val::map(vec![
                    ("server", usize_int(server)),
                    ("gateway", entry(g, o)),
                ])
            })
            .collect(),
    ))
}

fn mesh_host_conflicts<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let vs = arg("meshHostConflicts", a, 0)?;
    let g = h.g;
    let Some(i) = resource_index(g, vs) else {
        return Ok(Val::list(Vec::new()));
    };
    Ok(Val::list(
        g.mesh_host_conflicts(i)
            .into_iter()
            .map(|(host, o)| {
                Val::map(vec![
                    ("host", Val::str(&host)),
                    ("virtualService", entry(g, o)),
                ])
            })
            .collect(),
    ))
}

fn destination_of<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
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

fn subset_defined<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let host = arg_str("subsetDefined", a, 0)?;
    let ns = arg_str("subsetDefined", a, 1)?;
    let subset = arg_str("subsetDefined", a, 2)?;
    Ok(Val::Bool(h.g.subset_defined(host, ns, subset)))
}

fn secret<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let ns = arg_str("secret", a, 0)?;
    let name = arg_str("secret", a, 1)?;
    let g = h.g;
    Ok(g.find(Kind::Secret, ns, name)
        .map(|i| secret_value(g, i))
        .unwrap_or(Val::Null))
}

fn hosts_overlap<'g>(_: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let x = arg_str("hostsOverlap", a, 0)?;
    let y = arg_str("hostsOverlap", a, 1)?;
    Ok(Val::Bool(meshlint_graph::hosts_overlap(x, y)))
}

/// The first document of embedded YAML or JSON (a ConfigMap's `values`), or null when
/// it does not load cleanly.
fn parse_yaml<'g>(_: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
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

fn label_selector_matches_fn<'g>(_: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let sel = arg("labelSelectorMatches", a, 0)?;
    let labels = labels_from(arg("labelSelectorMatches", a, 1)?);
    Ok(Val::Bool(label_selector_matches(sel, &labels)))
}

fn subset_routes_to<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let host = arg_str("subsetRoutesTo", a, 0)?;
    let g = h.g;
    each(g, g.subset_routes_to(host), entry)
}

fn namespace_matches<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let pattern = arg_str("namespaceMatches", a, 0)?;
    Ok(Val::Bool(h.g.namespace_pattern_matches(pattern)))
}

// ---------------------------------------------------------------------------------------
// Field validation (issue 14)

/// A resource's [`meshlint_graph::FieldIssue`]s as `{path, code, value, first, numbers,
/// ref, firstRef, detail}`; `ref` points at `path`, `firstRef` at the related field in another
/// resource when there is one, else at `first` (null when empty).
fn field_issues<'g>(
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
                Val::map(vec![
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

fn routes_without_action<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    field_issues(
        h,
        a,
        "routesWithoutAction",
        MeshGraph::routes_without_action,
    )
}

fn weight_issues<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    field_issues(h, a, "weightIssues", MeshGraph::weight_issues)
}

fn duplicate_route_names<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    field_issues(
        h,
        a,
        "duplicateRouteNames",
        MeshGraph::duplicate_route_names,
    )
}

fn port_issues<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    field_issues(h, a, "portIssues", MeshGraph::port_issues)
}

fn invalid_regexes<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    field_issues(h, a, "invalidRegexes", MeshGraph::invalid_regexes)
}

fn duration_issues<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    field_issues(h, a, "durationIssues", MeshGraph::duration_issues)
}

fn retry_on_issues<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    field_issues(h, a, "retryOnIssues", MeshGraph::retry_on_issues)
}

fn shadowed_matches<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    field_issues(h, a, "shadowedMatches", MeshGraph::shadowed_matches)
}

fn delegate_issues<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    field_issues(h, a, "delegateIssues", MeshGraph::delegate_issues)
}

fn servers_without_tls<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    field_issues(h, a, "serversWithoutTls", MeshGraph::servers_without_tls)
}

// ---------------------------------------------------------------------------------------
// mTLS at namespace and mesh level (issue 14)

/// [`meshlint_graph::LevelConflict`]s as `{namespace, level, host, ref}`, `ref` pointing
/// at the other side's deciding field.
fn level_conflicts<'g>(
    h: &GraphHost<'g>,
    a: &[Val<'g>],
    name: &str,
    query: fn(&MeshGraph, usize) -> Vec<meshlint_graph::LevelConflict>,
) -> R<'g> {
    let g = h.g;
    let Some(i) = resource_index(g, arg(name, a, 0)?) else {
        return Ok(Val::list(Vec::new()));
    };
    Ok(Val::list(
        query(g, i)
            .into_iter()
            .map(|c| {
                Val::map(vec![
                    ("namespace", Val::str(&c.namespace)),
                    ("level", Val::borrowed(c.level)),
                    ("host", Val::str(&c.host)),
                    ("ref", ref_value(g, c.other.0, &c.other.1)),
                ])
            })
            .collect(),
    ))
}

fn strict_namespaces_under_disable<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    level_conflicts(
        h,
        a,
        "strictNamespacesUnderDisable",
        MeshGraph::strict_namespaces_under_disable,
    )
}

fn disabled_namespaces_under_istio_mutual<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    level_conflicts(
        h,
        a,
        "disabledNamespacesUnderIstioMutual",
        MeshGraph::disabled_namespaces_under_istio_mutual,
    )
}

fn token_conditions_without_authn<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    field_issues(
        h,
        a,
        "tokenConditionsWithoutAuthn",
        MeshGraph::token_conditions_without_authn,
    )
}

fn strict_without_client_mtls<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    level_conflicts(
        h,
        a,
        "strictWithoutClientMtls",
        MeshGraph::strict_without_client_mtls,
    )
}

fn identity_without_mtls<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
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
                Val::map(vec![
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

#[cfg(test)]
mod tests {
    use super::*;
    use meshlint_model::{build_resources, MeshConfig};

    fn graph(yaml: &str) -> MeshGraph {
        let f = load_source(
            "t.yaml".into(),
            yaml.as_bytes().to_vec(),
            &LoadLimits::default(),
        );
        assert!(f.findings.is_empty(), "{:?}", f.findings);
        MeshGraph::new(build_resources(&f).resources, MeshConfig::default(), false)
    }

    fn call<'g>(h: &GraphHost<'g>, name: &str, args: &[Val<'g>]) -> R<'g> {
        let i = GRAPH_TABLE
            .iter()
            .position(|(n, _, _)| *n == name)
            .unwrap_or_else(|| panic!("no graph function {name}"));
        h.call(i, args)
    }

    #[test]
    fn table_and_names_agree() {
        assert_eq!(GRAPH_TABLE.len(), GRAPH_FUNCTIONS.len());
        for ((n, a, _), (m, b)) in GRAPH_TABLE.iter().zip(GRAPH_FUNCTIONS) {
            assert_eq!((n, a), (m, b));
        }
        let mut names: Vec<_> = GRAPH_FUNCTIONS.iter().map(|(n, _)| *n).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(
            names.len(),
            GRAPH_FUNCTIONS.len(),
            "duplicate graph function"
        );
    }

    #[test]
    fn arguments_are_checked() {
        let g = graph("");
        let h = GraphHost::new(&g);
        assert_eq!(
            call(&h, "resolveHost", &[Val::Int(1), Val::str("shop")]),
            Err(EvalError::Error(
                "`resolveHost` expects a string as argument 1, got int".into()
            ))
        );
        assert_eq!(
            call(&h, "portProtocol", &[Val::str("x"), Val::str("80")]),
            Err(EvalError::Error(
                "`portProtocol` expects an int as argument 2, got string".into()
            ))
        );
        assert_eq!(
            call(&h, "portProtocol", &[Val::str("x"), Val::UInt(80)]),
            Ok(Val::str(""))
        );
        assert!(call(&h, "hostExists", &[]).is_err());
        assert!(h.call(GRAPH_TABLE.len(), &[]).is_err());
        assert_eq!(
            call(&h, "resolveHost", &[Val::str("reviews"), Val::str("shop")]),
            Ok(Val::str("reviews.shop.svc.cluster.local"))
        );
    }

    #[test]
    fn references_round_trip() {
        let g =
            graph("apiVersion: v1\nkind: Service\nmetadata: {name: reviews, namespace: shop}\n");
        let h = GraphHost::new(&g);
        let r = ref_value(&g, 0, "spec.ports[0]");
        assert_eq!(read_ref(&r), Some((0, "spec.ports[0]".to_string())));
        let res = resource_value(&g, 0);
        assert_eq!(read_ref(&res), None);
        assert_eq!(
            read_ref(&res.field("ref").unwrap()),
            Some((0, "metadata.name".to_string()))
        );
        // A reference is read directly or under `ref`, and must be in the graph.
        assert_eq!(resource_index(&g, &res), Some(0));
        assert_eq!(direct_index(&g, &res), None);
        assert_eq!(ref_index(&ref_value(&g, 0, "")), Some(0));
        let stray = Val::map(vec![("_r", Val::Int(7))]);
        assert_eq!(resource_index(&g, &stray), None);
        assert_eq!(
            call(&h, "refAt", &[res.clone(), Val::str("spec")]),
            Ok(Val::Null)
        );
        let at = call(&h, "refAt", &[r, Val::str("spec")]).unwrap();
        assert_eq!(read_ref(&at), Some((0, "spec".to_string())));
        assert_eq!(at.field("kind"), Some(Val::str("Service")));
    }

    #[test]
    fn selectors_read_maps_and_yaml() {
        let g = graph("");
        let h = GraphHost::new(&g);
        let doc = call(
            &h,
            "parseYaml",
            &[Val::str(
                "matchLabels: {app: reviews, n: 1}\nmatchExpressions:\n- {key: tier, operator: In, values: [a, b]}\n",
            )],
        )
        .unwrap();
        assert_eq!(
            labels_from(&doc.field("matchLabels").unwrap()),
            Labels::from([("app".to_string(), "reviews".to_string())])
        );
        let labels = Val::map(vec![("app", Val::str("reviews")), ("tier", Val::str("a"))]);
        let yes = call(&h, "labelSelectorMatches", &[doc.clone(), labels]).unwrap();
        assert_eq!(yes, Val::Bool(true));
        let other = Val::map(vec![("app", Val::str("reviews")), ("tier", Val::str("c"))]);
        let no = call(&h, "labelSelectorMatches", &[doc, other]).unwrap();
        assert_eq!(no, Val::Bool(false));
        assert!(label_selector_matches(&Val::Null, &Labels::new()));

        // The same selector read in place from a resource's tree.
        let g = graph(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: shop}\ndata: {app: reviews, n: 1}\n",
        );
        let object = Val::from_node(&g.resources[0].node);
        assert_eq!(
            labels_from(&object.field("data").unwrap()),
            Labels::from([("app".to_string(), "reviews".to_string())])
        );
    }

    #[test]
    fn parse_yaml_copies_the_document() {
        let g = graph("");
        let h = GraphHost::new(&g);
        let v = call(
            &h,
            "parseYaml",
            &[Val::str("a: '1'\nb: [x, 2.5, null, 3, true]\n")],
        )
        .unwrap();
        assert!(matches!(v, Val::Map(_)));
        assert_eq!(v.field("a"), Some(Val::str("1")));
        assert_eq!(
            v.field("b"),
            Some(Val::list(vec![
                Val::str("x"),
                Val::Double(2.5),
                Val::Null,
                Val::Int(3),
                Val::Bool(true)
            ]))
        );
        assert_eq!(call(&h, "parseYaml", &[Val::str("a: [")]), Ok(Val::Null));
    }

    #[test]
    fn owned_value_keeps_the_last_of_repeated_keys() {
        let span = meshlint_diag::Span::point(1, 1);
        let scalar = |t: &str| Node {
            span,
            value: NodeValue::Scalar(meshlint_load::Scalar {
                text: t.into(),
                plain: true,
            }),
        };
        let node = Node {
            span,
            value: NodeValue::Map(vec![
                (scalar("a"), scalar("1")),
                (scalar("b"), scalar("x")),
                (scalar("a"), scalar("two")),
            ]),
        };
        let v = owned_value(&node);
        assert_eq!(v.container_len(), Some(2));
        assert_eq!(v.field("a"), Some(Val::str("two")));
        assert_eq!(v.field("a"), Val::from_node(&node).field("a"));
    }
}
