//! The CEL environment: compiling with validation, converting the model into CEL
//! values, and the graph functions rules call.

use cel::objects::{Key, Map};
use cel::{Context, Env, ExecutionError, Program, Value};
use meshlint_graph::{Decision, MeshGraph};
use meshlint_load::{Node, NodeValue, Resolved};
use meshlint_model::typed::Labels;
use meshlint_model::OutboundPolicy;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

/// Graph functions and their arities: the contract of `docs/rule-language.md`.
pub const GRAPH_FUNCTIONS: &[(&str, usize)] = &[
    ("resolveHost", 2),
    ("hostTargets", 1),
    ("hostExists", 1),
    ("suggestHost", 1),
    ("portsOf", 1),
    ("portProtocol", 2),
    ("workloadsForHost", 1),
    ("workloadsSelected", 2),
    ("peerMode", 2),
    ("peerModes", 2),
    ("clientTls", 4),
    ("destinationRuleFor", 2),
    ("hostVisible", 2),
    ("sidecarFor", 1),
    ("gateway", 2),
    ("namespaceKnown", 1),
    ("selects", 2),
    ("refAt", 2),
    ("resourcesOf", 1),
    ("resourcesIn", 2),
    ("tcpPortConflicts", 2),
    ("clientNamespaces", 1),
    ("selectedBy", 2),
    ("suggestNamespace", 1),
    ("destinationsOf", 1),
    ("protocolConflicts", 1),
    ("exportedTo", 2),
    ("topologyLabels", 1),
    ("hiddenFromClients", 2),
    ("hostExportedTo", 2),
    ("gatewayProxyNamespaces", 2),
    ("tlsSettings", 1),
    ("routesTo", 1),
    ("peerTargets", 1),
    ("proxiesByNamespace", 0),
    ("servicesFor", 1),
    ("hostMatches", 2),
    // istioctl analyze parity (issue 6), see cel_istio.rs
    ("podsMatching", 1),
    ("podsIn", 2),
    ("servicesSelecting", 1),
    ("policiesSelecting", 2),
    ("named", 2),
    ("lookup", 3),
    ("gatewayConflicts", 1),
    ("sharedCertificates", 1),
    ("meshHostConflicts", 1),
    ("destinationOf", 3),
    ("subsetDefined", 3),
    ("secret", 2),
    ("hostsOverlap", 2),
    ("parseYaml", 1),
    ("labelSelectorMatches", 2),
    ("subsetRoutesTo", 1),
    ("namespaceMatches", 1),
];

/// Standard-library and extension functions a rule may call.
const STANDARD_FUNCTIONS: &[&str] = &[
    "size",
    "contains",
    "startsWith",
    "endsWith",
    "matches",
    "int",
    "uint",
    "double",
    "string",
    "bytes",
    "bool",
    "type",
    "dyn",
    "duration",
    "timestamp",
    "max",
    "min",
    "has",
    "all",
    "exists",
    "exists_one",
    "map",
    "filter",
    "charAt",
    "indexOf",
    "lastIndexOf",
    "lowerAscii",
    "upperAscii",
    "replace",
    "split",
    "substring",
    "trim",
    "join",
    "format",
    "quote",
    "reverse",
    "distinct",
    "flatten",
    "range",
    "slice",
    "sort",
    "sortBy",
    "first",
    "last",
    "getDays",
    "getHours",
    "getMinutes",
    "getSeconds",
    "getMilliseconds",
    "getFullYear",
    "getMonth",
    "getDate",
    "getDayOfMonth",
    "getDayOfWeek",
    "getDayOfYear",
    "base64",
    "encode",
    "decode",
    "math",
    "greatest",
    "least",
    "ceil",
    "floor",
    "round",
    "abs",
    "sign",
    "isNaN",
    "isInf",
    "isFinite",
];

pub(crate) fn env() -> Arc<Env> {
    static ENV: OnceLock<Arc<Env>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Env::stdlib();
        let _ = env.add_extension(cel::extensions::strings);
        let _ = env.add_extension(cel::extensions::lists);
        Arc::new(env)
    })
    .clone()
}

fn check_calls(e: &cel::IdedExpr, errors: &mut Vec<String>) {
    use cel::common::ast::{EntryExpr, Expr};
    match &e.expr {
        Expr::Call(c) => {
            let name = c.func_name.as_str();
            let is_operator = !name.starts_with(|ch: char| ch.is_ascii_alphabetic());
            if !is_operator {
                if let Some((_, arity)) = GRAPH_FUNCTIONS.iter().find(|(n, _)| *n == name) {
                    if c.target.is_some() {
                        errors.push(format!(
                            "`{name}` is a global function; call it as `{name}(…)`"
                        ));
                    } else if c.args.len() != *arity {
                        errors.push(format!(
                            "`{name}` takes {arity} argument(s), {} given",
                            c.args.len()
                        ));
                    }
                } else if !STANDARD_FUNCTIONS.contains(&name) {
                    let mut msg = format!("unknown function `{name}`");
                    let all = GRAPH_FUNCTIONS
                        .iter()
                        .map(|(n, _)| *n)
                        .chain(STANDARD_FUNCTIONS.iter().copied());
                    if let Some(s) = meshlint_model::schema::did_you_mean(name, all) {
                        msg.push_str(&format!("; did you mean `{s}`?"));
                    }
                    errors.push(msg);
                }
            }
            if let Some(t) = &c.target {
                check_calls(t, errors);
            }
            for a in &c.args {
                check_calls(a, errors);
            }
        }
        Expr::Comprehension(c) => {
            for x in [
                &c.iter_range,
                &c.accu_init,
                &c.loop_cond,
                &c.loop_step,
                &c.result,
            ] {
                check_calls(x, errors);
            }
        }
        Expr::List(l) => l.elements.iter().for_each(|x| check_calls(x, errors)),
        Expr::Map(m) => m.entries.iter().for_each(|en| match &en.expr {
            EntryExpr::MapEntry(me) => {
                check_calls(&me.key, errors);
                check_calls(&me.value, errors);
            }
            EntryExpr::StructField(sf) => check_calls(&sf.value, errors),
        }),
        Expr::Struct(s) => s.entries.iter().for_each(|en| {
            if let EntryExpr::StructField(sf) = &en.expr {
                check_calls(&sf.value, errors)
            }
        }),
        Expr::Select(s) => check_calls(&s.operand, errors),
        _ => {}
    }
}

/// Compiles a CEL expression and checks every function it calls exists with the
/// right number of arguments.
pub fn compile(source: &str) -> Result<Program, String> {
    let program = env()
        .compile(source)
        .map_err(|e| format!("CEL syntax error: {}", e.to_string().trim()))?;
    let mut errors = Vec::new();
    check_calls(program.expression(), &mut errors);
    if let Some(first) = errors.into_iter().next() {
        return Err(first);
    }
    Ok(program)
}

/// Text with `{{ expr }}` interpolations, or a whole CEL string expression.
pub(crate) enum Template {
    Parts(Vec<Part>),
}

pub(crate) enum Part {
    Text(String),
    Expr(Program),
}

impl Template {
    pub fn parse(source: &str) -> Result<Template, String> {
        let mut parts = Vec::new();
        let mut rest = source;
        while let Some(start) = rest.find("{{") {
            if start > 0 {
                parts.push(Part::Text(rest[..start].to_string()));
            }
            let after = &rest[start + 2..];
            let end = after.find("}}").ok_or("`{{` without closing `}}`")?;
            parts.push(Part::Expr(compile(after[..end].trim())?));
            rest = &after[end + 2..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_string()));
        }
        Ok(Template::Parts(parts))
    }

    pub fn expression(p: Program) -> Template {
        Template::Parts(vec![Part::Expr(p)])
    }

    pub fn render(&self, ctx: &Context) -> Result<String, ExecutionError> {
        let Template::Parts(parts) = self;
        let mut out = String::new();
        for p in parts {
            match p {
                Part::Text(t) => out.push_str(t),
                Part::Expr(e) => out.push_str(&display(&e.execute(ctx)?)),
            }
        }
        Ok(out)
    }
}

/// Human text for a CEL value in messages.
pub fn display(v: &Value) -> String {
    match v {
        Value::String(s) => s.to_string(),
        Value::Int(i) => i.to_string(),
        Value::UInt(u) => u.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".to_string(),
        Value::List(l) => l.iter().map(display).collect::<Vec<_>>().join(", "),
        other => format!("{other:?}"),
    }
}

/// Graph functions build many small maps with the same few keys; sharing each key's
/// string (per thread) saves an allocation per entry.
fn interned_key(k: &str) -> Key {
    thread_local! {
        static KEYS: std::cell::RefCell<HashMap<String, Arc<String>>> =
            std::cell::RefCell::new(HashMap::new());
    }
    KEYS.with(|keys| {
        let mut keys = keys.borrow_mut();
        if let Some(a) = keys.get(k) {
            return Key::String(a.clone());
        }
        let a = Arc::new(k.to_string());
        keys.insert(k.to_string(), a.clone());
        Key::String(a)
    })
}

pub(crate) fn map(pairs: Vec<(&str, Value)>) -> Value {
    let mut m: HashMap<Key, Value> = HashMap::with_capacity(pairs.len());
    for (k, v) in pairs {
        m.insert(interned_key(k), v);
    }
    Value::Map(Map { map: Arc::new(m) })
}

pub(crate) fn s(v: &str) -> Value {
    Value::String(Arc::new(v.to_string()))
}

pub(crate) fn list(v: Vec<Value>) -> Value {
    Value::List(Arc::new(v))
}

pub(crate) fn labels_value(l: &Labels) -> Value {
    map(l.iter().map(|(k, v)| (k.as_str(), s(v))).collect())
}

/// Converts a YAML tree into a CEL value (plain scalars resolved by the core schema).
pub fn node_value(node: &Node) -> Value {
    match &node.value {
        NodeValue::Scalar(sc) => match sc.resolved() {
            Resolved::Null => Value::Null,
            Resolved::Bool(b) => Value::Bool(b),
            Resolved::Int(i) => Value::Int(i),
            Resolved::Float(f) => Value::Float(f),
            Resolved::Str(t) => s(t),
        },
        NodeValue::Seq(items) => list(items.iter().map(node_value).collect()),
        NodeValue::Map(entries) => {
            let m: HashMap<Key, Value> = entries
                .iter()
                .map(|(k, v)| (interned_key(k.as_str().unwrap_or("")), node_value(v)))
                .collect();
            Value::Map(Map { map: Arc::new(m) })
        }
    }
}

/// A reference to a resource field, as graph functions return and `related` consumes.
pub fn ref_value(g: &MeshGraph, idx: usize, path: &str) -> Value {
    let r = &g.resources[idx];
    map(vec![
        ("_r", Value::Int(idx as i64)),
        ("path", s(path)),
        ("kind", s(&r.id.kind)),
        ("namespace", s(r.namespace())),
        ("name", s(r.name())),
    ])
}

fn decision_ref(g: &MeshGraph, d: &Decision) -> Value {
    match &d.source {
        Some((i, p)) => ref_value(g, *i, p),
        None => Value::Null,
    }
}

/// The `resource` variable: identity plus a reference to the resource itself.
pub fn resource_value(g: &MeshGraph, idx: usize) -> Value {
    let r = &g.resources[idx];
    map(vec![
        ("kind", s(&r.id.kind)),
        ("apiVersion", s(&r.id.api_version)),
        ("group", s(&r.group)),
        ("version", s(&r.version)),
        ("namespace", s(r.namespace())),
        (
            "namespaceWritten",
            r.id.namespace.as_deref().map(s).unwrap_or(Value::Null),
        ),
        ("name", s(r.name())),
        ("file", s(&r.file)),
        ("labels", labels_value(&r.labels)),
        ("annotations", labels_value(&r.annotations)),
        ("ref", ref_value(g, idx, "metadata.name")),
    ])
}

fn workload_value(g: &MeshGraph, w: usize) -> Value {
    let r = &g.resources[w];
    let (ports, sa) = match &r.typed {
        meshlint_model::Typed::Workload(wl) => (
            wl.ports.iter().map(|p| Value::Int(p.port as i64)).collect(),
            wl.service_account.clone().unwrap_or_default(),
        ),
        meshlint_model::Typed::WorkloadEntry(we) => (
            we.ports.values().map(|p| Value::Int(*p as i64)).collect(),
            we.service_account.clone().unwrap_or_default(),
        ),
        _ => (Vec::new(), String::new()),
    };
    map(vec![
        ("kind", s(&r.id.kind)),
        ("namespace", s(r.namespace())),
        ("name", s(r.name())),
        ("labels", labels_value(g.workload_labels(w))),
        ("sidecar", Value::Bool(g.has_sidecar(w))),
        ("ports", list(ports)),
        ("serviceAccount", s(&sa)),
        ("ref", ref_value(g, w, "metadata.name")),
        ("sidecarKnown", Value::Bool(g.sidecar_known(w))),
        ("injection", s(&g.injection_decision(w).value)),
        ("injectionRef", decision_ref(g, &g.injection_decision(w))),
        ("podMetadataPath", s(&g.pod_metadata_path(w))),
        ("gateway", Value::Bool(g.is_gateway_workload(w))),
        (
            "excludedInboundPorts",
            list(
                g.excluded_inbound_ports(w)
                    .into_iter()
                    .map(|p| Value::Int(p as i64))
                    .collect(),
            ),
        ),
    ])
}

fn port_values(g: &MeshGraph, target: usize) -> Vec<Value> {
    g.ports_of(target)
        .into_iter()
        .map(|p| {
            map(vec![
                ("number", Value::Int(p.number as i64)),
                ("name", s(&p.name)),
                ("protocol", s(&p.protocol)),
                (
                    "targetPort",
                    p.target_port.as_deref().map(s).unwrap_or(Value::Null),
                ),
                ("ref", ref_value(g, target, &p.path)),
            ])
        })
        .collect()
}

fn target_value(g: &MeshGraph, t: &meshlint_graph::HostTarget) -> Value {
    let r = &g.resources[t.resource];
    let (location, resolution, addresses) = match &r.typed {
        meshlint_model::Typed::ServiceEntry(se) => (
            se.location.clone(),
            se.resolution.clone(),
            se.addresses.iter().map(|a| s(a)).collect(),
        ),
        _ => (
            "MESH_INTERNAL".to_string(),
            "SERVICE".to_string(),
            Vec::new(),
        ),
    };
    map(vec![
        ("kind", s(&r.id.kind)),
        ("namespace", s(r.namespace())),
        ("name", s(r.name())),
        ("host", s(&t.host)),
        ("location", s(&location)),
        ("resolution", s(&resolution)),
        ("addresses", list(addresses)),
        ("ports", list(port_values(g, t.resource))),
        ("ref", ref_value(g, t.resource, "metadata.name")),
        (
            "serviceType",
            match &r.typed {
                meshlint_model::Typed::Service(svc) => {
                    s(svc.service_type.as_deref().unwrap_or("ClusterIP"))
                }
                _ => s(""),
            },
        ),
    ])
}

pub(crate) fn labels_from(v: &Value) -> Labels {
    match v {
        Value::Map(m) => m
            .map
            .iter()
            .filter_map(|(k, v)| match (k, v) {
                (Key::String(k), Value::String(v)) => Some((k.to_string(), v.to_string())),
                _ => None,
            })
            .collect(),
        _ => Labels::new(),
    }
}

fn ref_index(v: &Value) -> Option<usize> {
    match v {
        Value::Map(m) => match m.map.get(&Key::String(Arc::new("_r".to_string()))) {
            Some(Value::Int(i)) => usize::try_from(*i).ok(),
            _ => None,
        },
        _ => None,
    }
}

/// Reads a reference map produced by [`ref_value`].
pub fn read_ref(v: &Value) -> Option<(usize, String)> {
    let idx = ref_index(v)?;
    let path = match v {
        Value::Map(m) => match m.map.get(&Key::String(Arc::new("path".to_string()))) {
            Some(Value::String(p)) => p.to_string(),
            _ => String::new(),
        },
        _ => String::new(),
    };
    Some((idx, path))
}

fn kind_of(name: &str) -> Option<meshlint_model::Kind> {
    use meshlint_model::Kind;
    let groups = [
        "",
        "apps",
        "batch",
        "networking.istio.io",
        "security.istio.io",
        "telemetry.istio.io",
        "extensions.istio.io",
        "admissionregistration.k8s.io",
    ];
    groups
        .iter()
        .map(|g| Kind::classify(g, name))
        .find(|k| *k != Kind::Other)
}

/// Adds the graph functions, closing over the graph.
pub fn add_graph_functions(ctx: &mut Context, graph: &Arc<MeshGraph>) {
    let g = graph.clone();
    let _ = ctx.add_function("resolveHost", move |host: Arc<String>, ns: Arc<String>| {
        g.resolve_host(&host, &ns)
    });
    let g = graph.clone();
    let _ = ctx.add_function("hostTargets", move |host: Arc<String>| -> Value {
        list(
            g.host_targets(&host)
                .iter()
                .map(|t| target_value(&g, t))
                .collect(),
        )
    });
    let g = graph.clone();
    let _ = ctx.add_function("hostExists", move |host: Arc<String>| {
        !g.host_targets(&host).is_empty()
    });
    let g = graph.clone();
    let _ = ctx.add_function("suggestHost", move |host: Arc<String>| {
        g.suggest_host(&host).unwrap_or_default()
    });
    let g = graph.clone();
    let _ = ctx.add_function("portsOf", move |host: Arc<String>| -> Value {
        list(
            g.host_targets(&host)
                .iter()
                .flat_map(|t| port_values(&g, t.resource))
                .collect(),
        )
    });
    let g = graph.clone();
    let _ = ctx.add_function(
        "portProtocol",
        move |host: Arc<String>, port: i64| -> String {
            g.host_targets(&host)
                .iter()
                .flat_map(|t| g.ports_of(t.resource))
                .find(|p| p.number as i64 == port)
                .map(|p| p.protocol)
                .unwrap_or_default()
        },
    );
    let g = graph.clone();
    let _ = ctx.add_function("workloadsForHost", move |host: Arc<String>| -> Value {
        list(
            g.workloads_for_host(&host)
                .into_iter()
                .map(|w| workload_value(&g, w))
                .collect(),
        )
    });
    let g = graph.clone();
    let _ = ctx.add_function(
        "workloadsSelected",
        move |ns: Arc<String>, sel: Value| -> Value {
            let sel = labels_from(&sel);
            list(
                g.workloads_selected(&ns, &sel)
                    .into_iter()
                    .map(|w| workload_value(&g, w))
                    .collect(),
            )
        },
    );
    let g = graph.clone();
    let _ = ctx.add_function("peerMode", move |w: Value, port: i64| -> Value {
        let Some(idx) = ref_index(&w).or_else(|| {
            if let Value::Map(m) = &w {
                m.map
                    .get(&Key::String(Arc::new("ref".into())))
                    .and_then(ref_index)
            } else {
                None
            }
        }) else {
            return Value::Null;
        };
        let d = g.peer_mode(idx, u32::try_from(port).ok().filter(|p| *p > 0));
        map(vec![("mode", s(&d.value)), ("ref", decision_ref(&g, &d))])
    });
    let g = graph.clone();
    let _ = ctx.add_function("peerModes", move |host: Arc<String>, port: i64| -> Value {
        let mut out = Vec::new();
        for t in g.host_targets(&host) {
            let ports = g.ports_of(t.resource);
            for w in g.workloads_of(t.resource) {
                let container_port = ports
                    .iter()
                    .find(|p| p.number as i64 == port)
                    .map(|p| g.target_port(w, p))
                    .or(u32::try_from(port).ok().filter(|p| *p > 0));
                let d = g.peer_mode(w, container_port);
                out.push(map(vec![
                    ("workload", workload_value(&g, w)),
                    ("mode", s(&d.value)),
                    ("ref", decision_ref(&g, &d)),
                    (
                        "targetPort",
                        container_port
                            .map(|p| Value::Int(p as i64))
                            .unwrap_or(Value::Null),
                    ),
                    (
                        "captured",
                        Value::Bool(
                            container_port
                                .map(|p| g.inbound_captured(w, p))
                                .unwrap_or_else(|| g.has_sidecar(w)),
                        ),
                    ),
                ]));
            }
        }
        list(out)
    });
    let g = graph.clone();
    let _ = ctx.add_function(
        "clientTls",
        move |ns: Arc<String>, host: Arc<String>, port: i64, subset: Arc<String>| -> Value {
            let port = u32::try_from(port).ok().filter(|p| *p > 0);
            let subset = Some(subset.as_str()).filter(|s| !s.is_empty());
            let (d, tls) = g.client_tls(&ns, &host, port, subset);
            let tls_bool = |f: fn(&meshlint_model::typed::ClientTls) -> bool| {
                Value::Bool(tls.as_ref().is_some_and(f))
            };
            map(vec![
                ("mode", s(&d.value)),
                ("ref", decision_ref(&g, &d)),
                ("hasCa", tls_bool(|t| t.has_ca)),
                ("hasClientCert", tls_bool(|t| t.has_client_cert)),
                ("credentialName", tls_bool(|t| t.credential_name)),
                ("insecureSkipVerify", tls_bool(|t| t.insecure_skip_verify)),
                (
                    "sni",
                    tls.as_ref()
                        .and_then(|t| t.sni.as_deref())
                        .map(s)
                        .unwrap_or(Value::Null),
                ),
            ])
        },
    );
    let g = graph.clone();
    let _ = ctx.add_function(
        "destinationRuleFor",
        move |ns: Arc<String>, host: Arc<String>| -> Value {
            match g.destination_rule_for(&ns, &host) {
                Some(d) => {
                    let r = &g.resources[d];
                    let subsets = match &r.typed {
                        meshlint_model::Typed::DestinationRule(dr) => {
                            dr.subsets.iter().map(|x| s(&x.name)).collect()
                        }
                        _ => Vec::new(),
                    };
                    map(vec![
                        ("namespace", s(r.namespace())),
                        ("name", s(r.name())),
                        ("subsets", list(subsets)),
                        ("ref", ref_value(&g, d, "spec.host")),
                    ])
                }
                None => Value::Null,
            }
        },
    );
    let g = graph.clone();
    let _ = ctx.add_function(
        "hostVisible",
        move |ns: Arc<String>, host: Arc<String>| -> Value {
            let v = g.host_visible(&ns, None, &host);
            map(vec![
                ("visible", Value::Bool(v.visible)),
                ("reason", s(&v.reason)),
                (
                    "ref",
                    v.hidden_by
                        .map(|(i, p)| ref_value(&g, i, &p))
                        .unwrap_or(Value::Null),
                ),
            ])
        },
    );
    let g = graph.clone();
    let _ = ctx.add_function("sidecarFor", move |ns: Arc<String>| -> Value {
        g.sidecar_for(&ns, None)
            .map(|i| ref_value(&g, i, "metadata.name"))
            .unwrap_or(Value::Null)
    });
    let g = graph.clone();
    let _ = ctx.add_function(
        "gateway",
        move |reference: Arc<String>, ns: Arc<String>| -> Value {
            match g.gateway_ref(&reference, &ns) {
                Some(i) => {
                    let r = &g.resources[i];
                    let workloads = match &r.typed {
                        meshlint_model::Typed::Gateway(_) => g
                            .selected_workloads(i)
                            .into_iter()
                            .map(|w| workload_value(&g, w))
                            .collect(),
                        _ => Vec::new(),
                    };
                    map(vec![
                        ("namespace", s(r.namespace())),
                        ("name", s(r.name())),
                        ("object", node_value(&r.node)),
                        ("workloads", list(workloads)),
                        ("ref", ref_value(&g, i, "metadata.name")),
                    ])
                }
                None => Value::Null,
            }
        },
    );
    let g = graph.clone();
    let _ = ctx.add_function("namespaceKnown", move |ns: Arc<String>| {
        g.namespace_known(&ns)
    });
    let _ = ctx.add_function("selects", move |sel: Value, labels: Value| {
        meshlint_graph::selector_matches(&labels_from(&sel), &labels_from(&labels))
    });
    let g = graph.clone();
    let _ = ctx.add_function("refAt", move |r: Value, path: Arc<String>| -> Value {
        match ref_index(&r) {
            Some(i) if i < g.resources.len() => ref_value(&g, i, &path),
            _ => Value::Null,
        }
    });
    let g = graph.clone();
    let _ = ctx.add_function("resourcesOf", move |kind: Arc<String>| -> Value {
        let Some(k) = kind_of(&kind) else {
            return list(Vec::new());
        };
        list(
            g.of_kind(k)
                .iter()
                .map(|&i| resource_entry(&g, i))
                .collect(),
        )
    });
    let g = graph.clone();
    let _ = ctx.add_function(
        "resourcesIn",
        move |kind: Arc<String>, ns: Arc<String>| -> Value {
            let Some(k) = kind_of(&kind) else {
                return list(Vec::new());
            };
            list(
                g.in_namespace(&ns, k)
                    .iter()
                    .map(|&i| resource_entry(&g, i))
                    .collect(),
            )
        },
    );
    add_scoping_functions(ctx, graph);
    add_tls_functions(ctx, graph);
    crate::cel_istio::add_istio_functions(ctx, graph);
}

/// Graph functions for ServiceEntry addressing and host scoping (issue 4, ML2xxx rules).
pub fn add_scoping_functions(ctx: &mut Context, graph: &Arc<MeshGraph>) {
    let g = graph.clone();
    let _ = ctx.add_function("tcpPortConflicts", move |se: Value, port: i64| -> Value {
        let (Some(i), Ok(port)) = (ref_index(&se), u32::try_from(port)) else {
            return list(Vec::new());
        };
        if i >= g.resources.len() {
            return list(Vec::new());
        }
        list(
            g.address_port_conflicts(i, port)
                .into_iter()
                .map(|(o, path)| ref_value(&g, o, &path))
                .collect(),
        )
    });
    let g = graph.clone();
    let _ = ctx.add_function(
        "hostExportedTo",
        move |host: Arc<String>, ns: Arc<String>| -> bool { g.host_exported_to(&host, &ns) },
    );
    let g = graph.clone();
    let _ = ctx.add_function(
        "gatewayProxyNamespaces",
        move |reference: Arc<String>, ns: Arc<String>| -> Value {
            match g.gateway_ref(&reference, &ns) {
                Some(i) => list(g.gateway_proxy_namespaces(i).iter().map(|n| s(n)).collect()),
                None => Value::Null,
            }
        },
    );
    let g = graph.clone();
    let _ = ctx.add_function(
        "hiddenFromClients",
        move |r: Value, host: Arc<String>| -> Value {
            let Some(i) = ref_index(&r).filter(|i| *i < g.resources.len()) else {
                return list(Vec::new());
            };
            list(
                g.hidden_from_all_clients(i, &host)
                    .into_iter()
                    .map(|(ns, v)| {
                        map(vec![
                            ("namespace", s(&ns)),
                            ("reason", s(&v.reason)),
                            (
                                "ref",
                                v.hidden_by
                                    .map(|(h, p)| ref_value(&g, h, &p))
                                    .unwrap_or(Value::Null),
                            ),
                        ])
                    })
                    .collect(),
            )
        },
    );
    let g = graph.clone();
    let _ = ctx.add_function("topologyLabels", move |w: Value| -> Value {
        let idx = ref_index(&w).or_else(|| match &w {
            Value::Map(m) => m
                .map
                .get(&Key::String(Arc::new("ref".into())))
                .and_then(ref_index),
            _ => None,
        });
        match idx {
            Some(i) if i < g.resources.len() => labels_value(&g.topology_labels(i)),
            _ => map(Vec::new()),
        }
    });
    let g = graph.clone();
    let _ = ctx.add_function("exportedTo", move |r: Value, ns: Arc<String>| -> bool {
        match ref_index(&r) {
            Some(i) if i < g.resources.len() => g
                .export_scope_of(i)
                .is_none_or(|scope| scope.iter().any(|n| n == ns.as_str())),
            _ => false,
        }
    });
    let g = graph.clone();
    let _ = ctx.add_function("protocolConflicts", move |se: Value| -> Value {
        let Some(i) = ref_index(&se).filter(|i| *i < g.resources.len()) else {
            return list(Vec::new());
        };
        list(
            g.protocol_conflicts(i)
                .into_iter()
                .map(|c| {
                    map(vec![
                        ("host", s(&c.host)),
                        ("port", Value::Int(c.port as i64)),
                        ("protocol", s(&c.protocol)),
                        ("path", s(&c.path)),
                        ("otherProtocol", s(&c.other_protocol)),
                        ("ref", ref_value(&g, c.other, &c.other_path)),
                    ])
                })
                .collect(),
        )
    });
    let g = graph.clone();
    let _ = ctx.add_function("clientNamespaces", move |r: Value| -> Value {
        match ref_index(&r) {
            Some(i) if i < g.resources.len() => {
                list(g.client_namespaces(i).iter().map(|n| s(n)).collect())
            }
            _ => list(Vec::new()),
        }
    });
    let g = graph.clone();
    let _ = ctx.add_function("selectedBy", move |w: Value, kind: Arc<String>| -> Value {
        let idx = ref_index(&w).or_else(|| match &w {
            Value::Map(m) => m
                .map
                .get(&Key::String(Arc::new("ref".into())))
                .and_then(ref_index),
            _ => None,
        });
        let (Some(i), Some(k)) = (idx, kind_of(&kind)) else {
            return list(Vec::new());
        };
        if i >= g.resources.len() {
            return list(Vec::new());
        }
        list(
            g.selected_by(i, k)
                .into_iter()
                .map(|x| ref_value(&g, x, "metadata.name"))
                .collect(),
        )
    });
    let g = graph.clone();
    let _ = ctx.add_function("suggestNamespace", move |ns: Arc<String>| {
        g.suggest_namespace(&ns).unwrap_or_default()
    });
    let g = graph.clone();
    let _ = ctx.add_function("destinationsOf", move |r: Value| -> Value {
        let Some(i) = ref_index(&r).filter(|i| *i < g.resources.len()) else {
            return list(Vec::new());
        };
        let res = &g.resources[i];
        let meshlint_model::Typed::VirtualService(vs) = &res.typed else {
            return list(Vec::new());
        };
        list(
            vs.destinations
                .iter()
                .map(|d| {
                    map(vec![
                        ("host", s(&d.host)),
                        ("fqdn", s(&g.resolve_host(&d.host, res.namespace()))),
                        ("port", Value::Int(d.port.map(i64::from).unwrap_or(0))),
                        ("subset", s(d.subset.as_deref().unwrap_or(""))),
                        ("protocol", s(d.protocol)),
                        ("mirror", Value::Bool(d.path.contains(".mirror"))),
                        ("path", s(&d.path)),
                        ("ref", ref_value(&g, i, &format!("{}.host", d.path))),
                    ])
                })
                .collect(),
        )
    });
}

fn resource_entry(g: &MeshGraph, i: usize) -> Value {
    let r = &g.resources[i];
    map(vec![
        ("kind", s(&r.id.kind)),
        ("namespace", s(r.namespace())),
        ("name", s(r.name())),
        ("object", node_value(&r.node)),
        ("ref", ref_value(g, i, "metadata.name")),
    ])
}

/// The `mesh` variable.
pub fn mesh_value(g: &MeshGraph) -> Value {
    let m = &g.mesh;
    map(vec![
        ("rootNamespace", s(&m.root_namespace)),
        ("enableAutoMtls", Value::Bool(m.enable_auto_mtls)),
        ("trustDomain", s(&m.trust_domain)),
        ("domain", s(&m.dns_domain)),
        (
            "outboundTrafficPolicy",
            s(match m.outbound_traffic_policy {
                OutboundPolicy::AllowAny => "ALLOW_ANY",
                OutboundPolicy::RegistryOnly => "REGISTRY_ONLY",
            }),
        ),
        ("dnsAutoAllocate", Value::Bool(m.dns_auto_allocate)),
        ("dnsCapture", Value::Bool(m.dns_capture)),
        (
            "extensionProviders",
            list(m.extension_providers.iter().map(|p| s(p)).collect()),
        ),
        ("raw", m.raw.as_ref().map(node_value).unwrap_or(Value::Null)),
    ])
}

/// One port of a Service or ServiceEntry, as `portsOf` returns it.
fn port_info_value(g: &MeshGraph, target: usize, p: &meshlint_graph::PortInfo) -> Value {
    map(vec![
        ("number", Value::Int(p.number as i64)),
        ("name", s(&p.name)),
        ("protocol", s(&p.protocol)),
        (
            "targetPort",
            p.target_port.as_deref().map(s).unwrap_or(Value::Null),
        ),
        ("ref", ref_value(g, target, &p.path)),
    ])
}

fn resource_index(g: &MeshGraph, v: &Value) -> Option<usize> {
    ref_index(v)
        .or_else(|| match v {
            Value::Map(m) => m
                .map
                .get(&Key::String(Arc::new("ref".into())))
                .and_then(ref_index),
            _ => None,
        })
        .filter(|i| *i < g.resources.len())
}

/// The identity of a Service or ServiceEntry plus what TLS rules need, without its
/// port list: `tlsSettings` returns one per governed port, and CEL copies values whole.
fn target_brief(g: &MeshGraph, t: &meshlint_graph::HostTarget) -> Value {
    let r = &g.resources[t.resource];
    let location = match &r.typed {
        meshlint_model::Typed::ServiceEntry(se) => se.location.as_str(),
        _ => "MESH_INTERNAL",
    };
    map(vec![
        ("kind", s(&r.id.kind)),
        ("namespace", s(r.namespace())),
        ("name", s(r.name())),
        ("host", s(&t.host)),
        ("location", s(location)),
        ("ref", ref_value(g, t.resource, "metadata.name")),
    ])
}

/// A workload's identity and sidecar facts (no labels or ports), for `tlsSettings`.
fn workload_brief(g: &MeshGraph, w: usize) -> Value {
    let r = &g.resources[w];
    let injection = g.injection_decision(w);
    map(vec![
        ("kind", s(&r.id.kind)),
        ("namespace", s(r.namespace())),
        ("name", s(r.name())),
        ("sidecar", Value::Bool(g.has_sidecar(w))),
        ("sidecarKnown", Value::Bool(g.sidecar_known(w))),
        ("injection", s(&injection.value)),
        ("injectionRef", decision_ref(g, &injection)),
        ("podMetadataPath", s(&g.pod_metadata_path(w))),
        ("ref", ref_value(g, w, "metadata.name")),
    ])
}

/// Graph functions for mTLS and TLS consistency (issue 4, ML1xxx rules).
pub fn add_tls_functions(ctx: &mut Context, graph: &Arc<MeshGraph>) {
    let g = graph.clone();
    // Several TLS rules ask for the same DestinationRule's settings while its rules are
    // evaluated together; remember them per evaluation context (values are Arc-shared).
    let memo: std::sync::Mutex<HashMap<usize, Value>> = std::sync::Mutex::new(HashMap::new());
    let _ = ctx.add_function("tlsSettings", move |dr: Value| -> Value {
        let Some(i) = resource_index(&g, &dr) else {
            return list(Vec::new());
        };
        if let Some(v) = memo.lock().ok().and_then(|m| m.get(&i).cloned()) {
            return v;
        }
        let v = list(
            g.tls_settings(i)
                .iter()
                .map(|t| {
                    let mode_path = format!("{}.mode", t.tls.path);
                    let at = if g.resources[i].has_path(&mode_path) {
                        mode_path
                    } else {
                        t.tls.path.clone()
                    };
                    let destinations = t
                        .destinations
                        .iter()
                        .map(|d| {
                            let target = meshlint_graph::HostTarget {
                                resource: d.target,
                                host: d.host.clone(),
                            };
                            map(vec![
                                ("host", s(&d.host)),
                                ("target", target_brief(&g, &target)),
                                ("port", port_info_value(&g, d.target, &d.port)),
                                (
                                    "workloads",
                                    list(
                                        d.workloads
                                            .iter()
                                            .map(|w| {
                                                map(vec![
                                                    ("workload", workload_brief(&g, w.workload)),
                                                    (
                                                        "containerPort",
                                                        Value::Int(w.container_port as i64),
                                                    ),
                                                    ("mode", s(&w.peer.value)),
                                                    ("ref", decision_ref(&g, &w.peer)),
                                                    ("captured", Value::Bool(w.captured)),
                                                ])
                                            })
                                            .collect(),
                                    ),
                                ),
                            ])
                        })
                        .collect();
                    map(vec![
                        ("mode", s(&t.tls.mode)),
                        ("path", s(&t.tls.path)),
                        ("at", s(&at)),
                        ("port", Value::Int(t.port.unwrap_or(0) as i64)),
                        ("subset", s(t.subset.as_deref().unwrap_or(""))),
                        ("hasCa", Value::Bool(t.tls.has_ca)),
                        ("hasClientCert", Value::Bool(t.tls.has_client_cert)),
                        ("credentialName", Value::Bool(t.tls.credential_name)),
                        (
                            "insecureSkipVerify",
                            Value::Bool(t.tls.insecure_skip_verify),
                        ),
                        ("sni", t.tls.sni.as_deref().map(s).unwrap_or(Value::Null)),
                        ("ref", ref_value(&g, i, &at)),
                        (
                            "object",
                            meshlint_load::PathSegment::parse_path(&t.tls.path)
                                .and_then(|p| g.resources[i].node.lookup(&p).map(|(n, _)| n))
                                .map(node_value)
                                .unwrap_or(Value::Null),
                        ),
                        ("destinations", list(destinations)),
                    ])
                })
                .collect(),
        );
        if let Ok(mut m) = memo.lock() {
            m.insert(i, v.clone());
        }
        v
    });
    let g = graph.clone();
    let _ = ctx.add_function("routesTo", move |host: Arc<String>| -> Value {
        list(
            g.routes_to(&host)
                .iter()
                .map(|r| {
                    let vs = &g.resources[r.virtual_service];
                    map(vec![
                        ("namespace", s(vs.namespace())),
                        ("name", s(vs.name())),
                        ("port", Value::Int(r.port.unwrap_or(0) as i64)),
                        ("subset", s(r.subset.as_deref().unwrap_or(""))),
                        ("protocol", s(&r.protocol)),
                        ("gateways", list(r.gateways.iter().map(|x| s(x)).collect())),
                        (
                            "gatewayRefs",
                            list(
                                r.gateway_resources
                                    .iter()
                                    .map(|&x| ref_value(&g, x, "metadata.name"))
                                    .collect(),
                            ),
                        ),
                        (
                            "gatewayNamespaces",
                            list(r.gateway_namespaces.iter().map(|x| s(x)).collect()),
                        ),
                        ("ref", ref_value(&g, r.virtual_service, &r.path)),
                    ])
                })
                .collect(),
        )
    });
    let g = graph.clone();
    let _ = ctx.add_function("peerTargets", move |pa: Value| -> Value {
        let Some(i) = resource_index(&g, &pa) else {
            return list(Vec::new());
        };
        list(
            g.peer_targets(i)
                .iter()
                .map(|t| {
                    map(vec![
                        ("host", s(&t.host)),
                        ("port", port_info_value(&g, t.target, &t.port)),
                        ("workload", workload_value(&g, t.workload)),
                        ("containerPort", Value::Int(t.container_port as i64)),
                        ("mode", s(&t.peer.value)),
                        ("ref", decision_ref(&g, &t.peer)),
                        ("captured", Value::Bool(t.captured)),
                    ])
                })
                .collect(),
        )
    });
    let g = graph.clone();
    let _ = ctx.add_function("proxiesByNamespace", move || -> Value {
        list(
            g.proxies_by_namespace()
                .iter()
                .map(|p| {
                    map(vec![
                        ("namespace", s(&p.namespace)),
                        ("sidecars", Value::Int(p.sidecars as i64)),
                        ("gateways", Value::Int(p.gateways as i64)),
                    ])
                })
                .collect(),
        )
    });
    let g = graph.clone();
    let _ = ctx.add_function("servicesFor", move |w: Value| -> Value {
        let Some(i) = resource_index(&g, &w) else {
            return list(Vec::new());
        };
        list(
            g.services_for(i)
                .into_iter()
                .map(|t| {
                    let host = match &g.resources[t].typed {
                        meshlint_model::Typed::ServiceEntry(se) => se
                            .hosts
                            .first()
                            .map(|h| g.resolve_host(h, g.resources[t].namespace()))
                            .unwrap_or_default(),
                        _ => format!(
                            "{}.{}.svc.{}",
                            g.resources[t].name(),
                            g.resources[t].namespace(),
                            g.mesh.dns_domain
                        ),
                    };
                    target_value(&g, &meshlint_graph::HostTarget { resource: t, host })
                })
                .collect(),
        )
    });
    let _ = ctx.add_function(
        "hostMatches",
        move |pattern: Arc<String>, host: Arc<String>| {
            meshlint_graph::host_matches(&pattern, &host)
        },
    );
}
