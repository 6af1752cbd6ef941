//! The walk of one request through the graph's answers.

use crate::{
    DecidedBy, Hop, HostPort, Position, RequestOut, Source, Trace, TraceError, TraceRequest,
    Verdict,
};
use meshlint_graph::{
    selector_matches, AuthzRequest, MeshGraph, PortInfo, RequestAttrs, RouteOutcome,
    WeightedDestination,
};
use meshlint_load::{Node, PathSegment};
use meshlint_model::typed::{Injection, Labels, Typed};
use meshlint_model::{Kind, OutboundPolicy};

/// How a protocol is routed: `http` (HTTP, HTTP2, gRPC, sniffed), `tls` (TLS, HTTPS:
/// by SNI, the payload opaque) or `tcp`.
fn class(protocol: &str) -> &'static str {
    match protocol {
        "HTTPS" | "TLS" => "tls",
        "HTTP" | "HTTP2" | "GRPC" | "GRPC-WEB" | "UNKNOWN" => "http",
        _ => "tcp",
    }
}

/// What travels on the wire from the client's proxy (or application) to the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wire {
    Plain,
    IstioMtls,
    /// TLS the proxy originates (SIMPLE / MUTUAL) around plaintext.
    Originated,
    /// The application's own TLS, passed through.
    AppTls,
    /// TLS originated around the application's own TLS.
    Double,
}

/// The end of a trace that is not plain delivery, or what shaped a delivery.
#[derive(Debug, Clone)]
struct Outcome {
    verdict: Verdict,
    symptom: Option<String>,
    explanation: String,
    fix: Option<String>,
    decided_by: Vec<DecidedBy>,
}

impl Outcome {
    fn failed(symptom: &str, explanation: String, fix: String, decided_by: Vec<DecidedBy>) -> Self {
        Outcome {
            verdict: Verdict::Failed,
            symptom: Some(symptom.to_string()),
            explanation,
            fix: Some(fix),
            decided_by,
        }
    }
}

/// The proxy (or bare application) that sends the request upstream.
struct Client {
    ns: String,
    workload: Option<usize>,
    proxy: bool,
    /// The application speaks TLS itself on this port (only sidecar clients).
    app_tls: bool,
    is_gateway: bool,
    /// The fields that decided whether the client has a sidecar.
    source_by: Vec<DecidedBy>,
    /// The client runs in ambient mode: its node's ztunnel sends its traffic over HBONE.
    ambient: bool,
}

struct Ctx<'g> {
    g: &'g MeshGraph,
    hops: Vec<Hop>,
    notes: Vec<Hop>,
    /// Prefix of hop summaries while tracing one of several weighted destinations.
    prefix: String,
    /// The subset an access log's upstream cluster names (`Some(None)`: no subset).
    pin: Option<Option<String>>,
    /// Gateways entered so far (a guard against routing loops).
    depth: usize,
}

fn describe(g: &MeshGraph, r: usize) -> String {
    let res = g.resource(r);
    if res.namespace().is_empty() {
        format!("{} {}", res.id.kind, res.name())
    } else {
        format!("{} {}/{}", res.id.kind, res.namespace(), res.name())
    }
}

impl<'g> Ctx<'g> {
    fn by(&self, r: usize, field: &str, label: impl Into<String>) -> DecidedBy {
        let res = self.g.resource(r);
        let loc = res.location_of(field);
        DecidedBy {
            kind: res.id.kind.to_string(),
            namespace: res.namespace().to_string(),
            name: res.name().to_string(),
            field: field.to_string(),
            location: Some(Position {
                file: loc.file.to_string(),
                line: loc.span.start.line,
                column: loc.span.start.column,
                location: Some(loc),
            }),
            label: label.into(),
        }
    }

    fn mesh_by(&self, field: &str, label: impl Into<String>) -> DecidedBy {
        let origin = self.g.mesh.origin.clone();
        DecidedBy {
            kind: "MeshConfig".to_string(),
            namespace: String::new(),
            name: if origin.is_some() || self.g.mesh.raw.is_some() {
                "mesh".to_string()
            } else {
                "mesh (Istio default)".to_string()
            },
            field: field.to_string(),
            location: origin.map(|loc| Position {
                file: loc.file.to_string(),
                line: loc.span.start.line,
                column: loc.span.start.column,
                location: Some(loc),
            }),
            label: label.into(),
        }
    }

    fn hop(&mut self, step: &str, summary: String, decided_by: Vec<DecidedBy>) {
        self.hops.push(Hop {
            step: step.to_string(),
            summary: format!("{}{summary}", self.prefix),
            decided_by,
        });
    }

    fn note(&mut self, step: &str, summary: String, decided_by: Vec<DecidedBy>) {
        if !self.notes.iter().any(|n| n.summary == summary) {
            self.notes.push(Hop {
                step: step.to_string(),
                summary,
                decided_by,
            });
        }
    }
}

fn err(message: String) -> TraceError {
    TraceError { message }
}

fn did_you_mean(word: &str, candidates: &[String]) -> String {
    meshlint_diag::did_you_mean(word, candidates.iter().map(String::as_str))
        .or_else(|| {
            // `frontend` for `weather-frontend`: a name that contains the word.
            (!word.is_empty())
                .then(|| {
                    candidates
                        .iter()
                        .find(|c| c.contains(word))
                        .map(String::as_str)
                })
                .flatten()
        })
        .map(|s| format!("; did you mean `{s}`?"))
        .unwrap_or_default()
}

fn check_namespace(g: &MeshGraph, ns: &str) -> Result<(), TraceError> {
    if g.namespace_known(ns) {
        return Ok(());
    }
    let known: Vec<String> = g.known_namespaces().map(str::to_string).collect();
    Err(err(format!(
        "namespace `{ns}` is not in the inputs{}",
        did_you_mean(ns, &known)
    )))
}

fn workloads_in(g: &MeshGraph, ns: &str) -> Vec<usize> {
    let mut out = Vec::new();
    for (i, r) in g.resources.iter().enumerate() {
        if r.kind.is_workload() && r.namespace() == ns {
            out.push(i);
        }
    }
    out
}

/// A workload by its name, or by the name of one of its pods (`name-<hash>-<id>`).
fn find_workload(g: &MeshGraph, ns: &str, name: &str) -> Option<usize> {
    let all = workloads_in(g, ns);
    if let Some(&w) = all.iter().find(|&&w| g.resource(w).name() == name) {
        return Some(w);
    }
    all.iter()
        .copied()
        .filter(|&w| name.starts_with(&format!("{}-", g.resource(w).name())))
        .max_by_key(|&w| g.resource(w).name().len())
}

/// The workload that wrote an access-log line, from its pod name.
pub(crate) fn source_from_pod(g: &MeshGraph, pod: Option<&str>, host: &str) -> Option<Source> {
    let pod = pod?;
    let mut namespaces: Vec<&str> = g.known_namespaces().collect();
    // Prefer the destination's namespace when a pod name fits several.
    if let Some(ns) = g.host_namespace(host) {
        namespaces.sort_by_key(|n| *n != ns);
    }
    for ns in namespaces {
        if let Some(w) = find_workload(g, ns, pod) {
            return Some(Source::Workload {
                namespace: ns.to_string(),
                workload: Some(g.resource(w).name().to_string()),
            });
        }
    }
    None
}

fn port_of(
    g: &MeshGraph,
    targets: &[meshlint_graph::HostTarget],
    port: u32,
) -> Option<(usize, PortInfo)> {
    targets.iter().find_map(|t| {
        g.ports_of(t.resource)
            .into_iter()
            .find(|p| p.number == port)
            .map(|p| (t.resource, p))
    })
}

/// The port a request without one goes to: the only port, else the first HTTP one.
fn default_port(g: &MeshGraph, targets: &[meshlint_graph::HostTarget]) -> Option<u32> {
    let ports: Vec<PortInfo> = targets
        .iter()
        .flat_map(|t| g.ports_of(t.resource))
        .collect();
    ports
        .iter()
        .find(|p| class(&p.protocol) == "http")
        .or(ports.first())
        .map(|p| p.number)
}

fn resolve(g: &MeshGraph, host: &str, ns: &str) -> String {
    let host = host.trim_end_matches('.');
    if !host.contains('.') {
        return g.resolve_host(host, ns);
    }
    if host.matches('.').count() == 1 {
        let full = format!("{host}.svc.{}", g.mesh.dns_domain);
        if !g.host_targets(&full).is_empty() {
            return full;
        }
    }
    host.to_string()
}

/// Fails with exit code 2 for hosts that look meant to exist but do not.
fn check_host(g: &MeshGraph, fqdn: &str) -> Result<(), TraceError> {
    if !g.host_targets(fqdn).is_empty() || g.implicit_host(fqdn) {
        return Ok(());
    }
    // `name.ns` where `name` is a Service somewhere: the namespace is what is wrong.
    if let Some((name, ns)) = fqdn.split_once('.').filter(|(_, ns)| !ns.contains('.')) {
        let same_name: Vec<String> = g
            .of_kind(Kind::Service)
            .iter()
            .map(|&s| g.resource(s))
            .filter(|r| r.name() == name)
            .map(|r| format!("{}.{}", r.name(), r.namespace()))
            .collect();
        if !same_name.is_empty() {
            return Err(err(format!(
                "host `{fqdn}`: namespace `{ns}` has no Service `{name}`; did you mean `{}`?",
                same_name[0]
            )));
        }
    }
    if let Some(ns) = g.host_namespace(fqdn) {
        check_namespace(g, ns)?;
        let hint = g
            .suggest_host(fqdn)
            .map(|s| format!("; did you mean `{s}`?"))
            .unwrap_or_default();
        return Err(err(format!(
            "host `{fqdn}` is defined by no Service or ServiceEntry in the inputs{hint}"
        )));
    }
    if let Some(s) = g.suggest_host(fqdn) {
        return Err(err(format!(
            "host `{fqdn}` is defined by no Service or ServiceEntry in the inputs; did you mean `{s}`?"
        )));
    }
    Ok(())
}

/// Traces one request.
pub fn trace(g: &MeshGraph, req: &TraceRequest) -> Result<Trace, TraceError> {
    let mut cx = Ctx {
        g,
        hops: Vec::new(),
        notes: Vec::new(),
        prefix: String::new(),
        pin: req.pin.as_ref().map(|p| p.subset.clone()),
        depth: 0,
    };
    let (outcome, request_out) = match &req.source {
        Source::Workload {
            namespace,
            workload,
        } => from_workload(&mut cx, req, namespace, workload.as_deref())?,
        Source::Gateway { namespace, name } => from_gateway(&mut cx, req, namespace, name)?,
    };
    Ok(Trace {
        version: 1,
        request: request_out,
        verdict: outcome.verdict,
        symptom: outcome.symptom,
        explanation: outcome.explanation,
        fix: outcome.fix,
        decided_by: outcome.decided_by,
        hops: cx.hops,
        notes: cx.notes,
        access_log: None,
    })
}

fn from_workload(
    cx: &mut Ctx,
    req: &TraceRequest,
    ns: &str,
    workload: Option<&str>,
) -> Result<(Outcome, RequestOut), TraceError> {
    let g = cx.g;
    check_namespace(g, ns)?;
    let w = match workload {
        Some(name) => Some(find_workload(g, ns, name).ok_or_else(|| {
            let names: Vec<String> = workloads_in(g, ns)
                .iter()
                .map(|&w| g.resource(w).name().to_string())
                .collect();
            err(format!(
                "no workload `{name}` in namespace `{ns}`{}",
                did_you_mean(name, &names)
            ))
        })?),
        None => {
            // A sidecar-injected workload of the namespace, preferably not one behind
            // the destination itself.
            let all = workloads_in(g, ns);
            let behind = g.workloads_for_host(&resolve(g, &req.host, ns));
            let injected = |w: &usize| g.has_sidecar(*w) && !g.is_gateway_workload(*w);
            all.iter()
                .copied()
                .find(|w| injected(w) && !behind.contains(w))
                .or_else(|| all.iter().copied().find(injected))
                .or(all.first().copied())
        }
    };
    let fqdn = resolve(g, &req.host, ns);
    check_host(g, &fqdn)?;
    let targets = g.host_targets(&fqdn);
    let port = req.port.or_else(|| default_port(g, &targets));
    let request_out = RequestOut {
        from: Some(match w {
            Some(w) => format!("{ns}/{}", g.resource(w).name()),
            None => ns.to_string(),
        }),
        gateway: None,
        to: HostPort {
            host: fqdn.clone(),
            port,
        },
        path: req.path.clone(),
        method: req.method.clone(),
    };
    let proxy = match w {
        Some(w) => g.has_sidecar(w),
        None => g.namespace_injection(ns) == Injection::Enabled,
    };
    // source
    let mut by = Vec::new();
    let who = match w {
        Some(w) => {
            let d = g.injection_decision(w);
            if let Some((r, path)) = &d.source {
                by.push(cx.by(
                    *r,
                    path,
                    if proxy {
                        "gives the client a sidecar"
                    } else {
                        "leaves the client without a sidecar"
                    },
                ));
            }
            format!("{} ({})", describe(g, w), d.value)
        }
        None => format!("namespace {ns} (no workload in the inputs)"),
    };
    let ambient = !proxy && w.is_some_and(|w| g.is_ambient(w));
    if ambient {
        // The data plane, not the injection decision, says why there is no sidecar.
        by.clear();
        let d = g.data_plane(w.unwrap());
        if let Some((r, path)) = &d.source {
            by.push(cx.by(*r, path, "enrolls the client in ambient mode"));
        }
    }
    let source_by = by.clone();
    if ambient {
        let who = match w {
            Some(w) => format!("{} ({})", describe(g, w), g.data_plane(w).by),
            None => who.clone(),
        };
        cx.hop(
            "source",
            format!("{who}: ambient mode, no sidecar; the node's ztunnel captures its traffic and carries it over HBONE (mutual TLS on port 15008); no Sidecar, VirtualService or DestinationRule applies on the client side"),
            by,
        );
    } else if proxy {
        cx.hop(
            "source",
            format!("{who}: requests leave through its Istio sidecar"),
            by,
        );
    } else {
        cx.hop(
            "source",
            format!("{who}: no sidecar, so the application's traffic leaves the pod as it is sent; no Sidecar, VirtualService or DestinationRule applies"),
            by,
        );
    }
    let port_info = port.and_then(|p| port_of(g, &targets, p));
    let protocol = port_info
        .as_ref()
        .map(|(_, p)| p.protocol.clone())
        .unwrap_or_else(|| "UNKNOWN".to_string());
    let client = Client {
        ns: ns.to_string(),
        workload: w,
        proxy,
        app_tls: class(&protocol) == "tls",
        is_gateway: false,
        source_by,
        ambient,
    };
    let attrs = RequestAttrs {
        host: fqdn.clone(),
        port,
        path: req.path.clone(),
        method: req.method.clone(),
        headers: req
            .headers
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
            .collect(),
        source_namespace: Some(ns.to_string()),
        source_labels: w.map(|w| g.workload_labels(w).clone()),
        gateway: None,
    };

    if proxy {
        // sidecar-scope
        let sc = g.sidecar_for(ns, w);
        let vis = g.host_visible(ns, w, &fqdn);
        let known = !targets.is_empty() || g.implicit_host(&fqdn);
        let mut by = Vec::new();
        if let Some((r, path)) = &vis.hidden_by {
            by.push(cx.by(*r, path, format!("hides {fqdn} from {ns}")));
        }
        let summary = match (sc, vis.visible) {
            (_, false) => format!("{fqdn} is not in the proxy's registry: {}", vis.reason),
            (Some(s), true) => format!("{} scopes the proxy; it imports {fqdn}", describe(g, s)),
            (None, true) => {
                "no Sidecar scopes the proxy: every host exported to the namespace is known"
                    .to_string()
            }
        };
        if let (Some(s), true) = (sc, vis.visible) {
            by.push(cx.by(s, "spec", "scopes the client's proxy"));
        }
        cx.hop("sidecar-scope", summary, by.clone());
        if !known || !vis.visible {
            let why = if known {
                vis.reason.clone()
            } else {
                "no ServiceEntry declares it".to_string()
            };
            return Ok((registry_miss(cx, &fqdn, port, &why, by), request_out));
        }
        let Some(p) = port else {
            return Ok((
                registry_miss(cx, &fqdn, None, "the host declares no port", by),
                request_out,
            ));
        };
        if port_info.is_none() {
            let mut by = Vec::new();
            for t in &targets {
                by.push(cx.by(t.resource, "spec.ports", "declares the host's ports"));
            }
            return Ok((
                registry_miss(
                    cx,
                    &fqdn,
                    Some(p),
                    &format!("port {p} is not declared for the host"),
                    by,
                ),
                request_out,
            ));
        }
        if let Some((t, pi)) = &port_info {
            if let Some(o) = service_entry_hop(cx, *t, pi, &fqdn) {
                return Ok((o, request_out));
            }
        }
        let outcome = route_and_deliver(cx, &client, &attrs, None, &protocol)?;
        return Ok((outcome, request_out));
    }

    // No sidecar: straight to the destination.
    if targets.is_empty() {
        let o = Outcome {
            verdict: Verdict::Delivered,
            symptom: None,
            explanation: format!(
                "{fqdn} is outside the mesh and the client has no sidecar: the application reaches it directly"
            ),
            fix: None,
            decided_by: Vec::new(),
        };
        return Ok((o, request_out));
    }
    let dest = WeightedDestination {
        host: fqdn.clone(),
        port,
        subset: None,
        weight: 100,
        path: String::new(),
    };
    let o = deliver(cx, &client, &attrs, &dest, None)?;
    Ok((finish(cx, vec![(100, o)], &[]), request_out))
}

fn from_gateway(
    cx: &mut Ctx,
    req: &TraceRequest,
    ns: &str,
    name: &str,
) -> Result<(Outcome, RequestOut), TraceError> {
    let g = cx.g;
    check_namespace(g, ns)?;
    let gw = g.find(Kind::Gateway, ns, name).ok_or_else(|| {
        let names: Vec<String> = g
            .of_kind(Kind::Gateway)
            .iter()
            .map(|&i| {
                let r = g.resource(i);
                format!("{}/{}", r.namespace(), r.name())
            })
            .collect();
        err(format!(
            "no Gateway `{ns}/{name}` in the inputs{}",
            did_you_mean(&format!("{ns}/{name}"), &names)
        ))
    })?;
    let Typed::Gateway(gateway) = &g.resource(gw).typed else {
        return Err(err(format!("`{ns}/{name}` is not a Gateway")));
    };
    let host = req.host.trim_end_matches('.').to_ascii_lowercase();
    let port = req.port.or_else(|| {
        gateway
            .servers
            .iter()
            .filter(|s| s.hosts.iter().any(|h| server_host_ok(h, &host)))
            .map(|s| s.port)
            .min_by_key(|p| (*p != 80, *p))
    });
    let request_out = RequestOut {
        from: None,
        gateway: Some(format!("{ns}/{name}")),
        to: HostPort {
            host: host.clone(),
            port,
        },
        path: req.path.clone(),
        method: req.method.clone(),
    };
    let attrs = RequestAttrs {
        host,
        port,
        path: req.path.clone(),
        method: req.method.clone(),
        headers: req
            .headers
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
            .collect(),
        source_namespace: None,
        source_labels: None,
        gateway: Some(gw),
    };
    let outcome = through_gateway(cx, gw, &attrs, "gateway", None)?;
    Ok((outcome, request_out))
}

/// Whether a Gateway server host (`host` or `namespace/host`) accepts `host`.
fn server_host_ok(server_host: &str, host: &str) -> bool {
    let h = server_host
        .split_once('/')
        .map(|x| x.1)
        .unwrap_or(server_host);
    meshlint_graph::host_matches(h, host)
}

/// A request entering Gateway `gw`'s proxies (ingress, or an egress gateway a sidecar
/// routed to): the server that accepts it, then the gateway's own routing. `wire` is
/// what the sending sidecar put on the wire, for egress gateways.
fn through_gateway(
    cx: &mut Ctx,
    gw: usize,
    attrs: &RequestAttrs,
    step: &str,
    wire: Option<(Wire, Vec<DecidedBy>)>,
) -> Result<Outcome, TraceError> {
    let g = cx.g;
    cx.depth += 1;
    if cx.depth > 4 {
        return Ok(Outcome::failed(
            "503 (routing loop)",
            "the request keeps going from gateway to gateway".to_string(),
            "route the gateway to the destination, not back to a gateway".to_string(),
            Vec::new(),
        ));
    }
    let Typed::Gateway(gateway) = &g.resource(gw).typed else {
        return Err(err(format!("{} is not a Gateway", describe(g, gw))));
    };
    let gname = describe(g, gw);
    let host = attrs.host.clone();
    let port = attrs.port;
    let proxies = g.selected_workloads(gw);
    let proxy_ns = g
        .gateway_proxy_namespaces(gw)
        .into_iter()
        .next()
        .unwrap_or_else(|| g.resource(gw).namespace().to_string());
    let server =
        gateway.servers.iter().enumerate().find(|(_, s)| {
            Some(s.port) == port && s.hosts.iter().any(|h| server_host_ok(h, &host))
        });
    let Some((si, server)) = server else {
        let on_port = gateway.servers.iter().any(|s| Some(s.port) == port);
        let by = vec![cx.by(
            gw,
            "spec.servers",
            "no server accepts the host on this port",
        )];
        cx.hop(
            step,
            format!(
                "no server of {gname} accepts {host} on port {}",
                port.map(|p| p.to_string()).unwrap_or_else(|| "?".into())
            ),
            by.clone(),
        );
        let (symptom, what) = if on_port {
            (
                "404 NR",
                "a server listens on the port but none lists the host",
            )
        } else {
            ("connection refused", "no server listens on the port")
        };
        return Ok(Outcome::failed(
            symptom,
            format!("{gname}: {what}"),
            format!("add {host} to the `hosts` of a server on that port of {gname}"),
            by,
        ));
    };
    let tls_mode = server.tls_mode.clone().unwrap_or_default();
    let mut by = vec![cx.by(
        gw,
        &format!("spec.servers[{si}].hosts"),
        format!("server {si} accepts {host} on port {}", server.port),
    )];
    if !tls_mode.is_empty() {
        by.push(cx.by(
            gw,
            &format!("spec.servers[{si}].tls.mode"),
            format!("TLS mode {tls_mode} at the gateway"),
        ));
    }
    let proxy_names: Vec<String> = proxies.iter().map(|&w| describe(g, w)).collect();
    cx.hop(
        step,
        format!(
            "{gname} server {si} (port {}, {}{}) accepts {host}; proxies: {}",
            server.port,
            server.protocol,
            if tls_mode.is_empty() {
                String::new()
            } else {
                format!(", TLS {tls_mode}")
            },
            if proxy_names.is_empty() {
                format!("not in the inputs (assumed in {proxy_ns})")
            } else {
                proxy_names.join(", ")
            }
        ),
        by.clone(),
    );
    if proxies.is_empty() && g.closed_world {
        let by = vec![cx.by(gw, "spec.selector", "matches no workload")];
        return Ok(Outcome::failed(
            "connection refused",
            format!("no gateway workload matches the selector of {gname}"),
            "deploy the gateway, or fix `spec.selector` to match its pod labels".to_string(),
            by,
        ));
    }
    if let Some((wire, mut wby)) = wire {
        let wants_mtls = tls_mode == "ISTIO_MUTUAL";
        if wants_mtls && wire != Wire::IstioMtls {
            wby.extend(by);
            return Ok(Outcome::failed(
                "503 UC",
                format!(
                    "{gname} server {si} accepts only Istio mTLS, and the sidecar does not send it"
                ),
                "set tls.mode ISTIO_MUTUAL in the DestinationRule for the egress gateway's host"
                    .to_string(),
                wby,
            ));
        }
        if !wants_mtls && wire == Wire::IstioMtls && !tls_mode.is_empty() {
            wby.extend(by);
            return Ok(Outcome::failed(
                "503 UF (TLS error)",
                format!("the sidecar sends Istio mTLS to {gname} server {si}, which expects TLS mode {tls_mode}"),
                "make the gateway server ISTIO_MUTUAL or stop sending mTLS to it".to_string(),
                wby,
            ));
        }
    }
    let redirect = PathSegment::parse_path(&format!("spec.servers[{si}].tls.httpsRedirect"))
        .and_then(|p| {
            g.resource(gw)
                .node
                .lookup(&p)
                .map(|n| n.0.as_bool() == Some(true))
        })
        .unwrap_or(false);
    if redirect {
        let rby = vec![cx.by(
            gw,
            &format!("spec.servers[{si}].tls.httpsRedirect"),
            "answers with a redirect to https",
        )];
        cx.hop(
            step,
            format!("server {si} redirects every request to https://{host}"),
            rby.clone(),
        );
        return Ok(Outcome {
            verdict: Verdict::Delivered,
            symptom: None,
            explanation: format!("{gname} answers 301 with https://{host}{} (tls.httpsRedirect); trace the https request to go on", attrs.path),
            fix: None,
            decided_by: rby,
        });
    }
    let proto = server.protocol.to_ascii_uppercase();
    let passthrough = tls_mode == "PASSTHROUGH" || tls_mode == "AUTO_PASSTHROUGH";
    let protocol = match proto.as_str() {
        "HTTP" | "HTTP2" | "GRPC" => "HTTP",
        "HTTPS" if !passthrough => "HTTP",
        "HTTPS" | "TLS" if passthrough => "TLS",
        _ => "TCP",
    };
    let client = Client {
        ns: proxy_ns,
        workload: proxies.first().copied(),
        proxy: true,
        app_tls: passthrough,
        is_gateway: true,
        source_by: Vec::new(),
        ambient: false,
    };
    let attrs = RequestAttrs {
        gateway: Some(gw),
        source_namespace: None,
        source_labels: None,
        ..attrs.clone()
    };
    route_and_deliver(cx, &client, &attrs, Some(gw), protocol)
}

/// A host (or port) the client's proxy does not know: `PassthroughCluster` or
/// `BlackHoleCluster`, as the mesh's outbound traffic policy says.
fn registry_miss(
    cx: &mut Ctx,
    fqdn: &str,
    port: Option<u32>,
    why: &str,
    mut by: Vec<DecidedBy>,
) -> Outcome {
    let policy = cx.g.mesh.outbound_traffic_policy;
    let hidden = by.iter().find(|b| b.kind == "Sidecar").cloned();
    let mut host_ns: Vec<String> =
        cx.g.host_targets(fqdn)
            .iter()
            .map(|t| cx.g.resource(t.resource).namespace().to_string())
            .collect();
    host_ns.dedup();
    let fix = match &hidden {
        Some(s) => format!(
            "import the host in the egress hosts of Sidecar {}/{} (e.g. `{}/*`)",
            s.namespace,
            s.name,
            host_ns.first().map(String::as_str).unwrap_or("<namespace>")
        ),
        None => format!("declare {fqdn} with a ServiceEntry exported to the client's namespace"),
    };
    match policy {
        OutboundPolicy::AllowAny => {
            by.push(cx.mesh_by(
                "outboundTrafficPolicy.mode",
                "ALLOW_ANY: unknown destinations pass through",
            ));
            cx.hop(
                "sidecar-scope",
                "outboundTrafficPolicy ALLOW_ANY: the request leaves through PassthroughCluster"
                    .to_string(),
                vec![cx.mesh_by("outboundTrafficPolicy.mode", "ALLOW_ANY")],
            );
            // A mesh workload reached around the registry gets plaintext from the
            // client's proxy: a STRICT sidecar there resets it.
            let strict = cx.g.workloads_for_host(fqdn).into_iter().find_map(|w| {
                let cp = port?;
                let d = cx.g.peer_mode(w, Some(cp));
                (cx.g.inbound_captured(w, cp) && d.value == "STRICT").then_some((w, d))
            });
            if let Some((w, d)) = strict {
                let name = cx.g.resource(w).name().to_string();
                let mut sby = Vec::new();
                if let Some((r, path)) = &d.source {
                    sby.push(cx.by(*r, path, format!("STRICT for {name}")));
                }
                cx.hop(
                    "server-mtls",
                    format!("{name}: sidecar enforces STRICT; PassthroughCluster sends plaintext"),
                    sby.clone(),
                );
                by.extend(sby);
                return Outcome::failed(
                    "503 UC",
                    format!(
                        "{fqdn} is not in the client proxy's registry ({why}); under ALLOW_ANY the request leaves through PassthroughCluster as plaintext, and {name}'s sidecar accepts only Istio mTLS (STRICT)"
                    ),
                    fix,
                    by,
                );
            }
            Outcome {
                verdict: Verdict::Passthrough,
                symptom: None,
                explanation: format!(
                    "{fqdn}{} is not in the client proxy's registry ({why}); under ALLOW_ANY it leaves through PassthroughCluster, so it is delivered as the application sent it, but no VirtualService, DestinationRule or TLS origination applies",
                    port.map(|p| format!(":{p}")).unwrap_or_default()
                ),
                fix: Some(fix),
                decided_by: by,
            }
        }
        OutboundPolicy::RegistryOnly => {
            by.push(cx.mesh_by(
                "outboundTrafficPolicy.mode",
                "REGISTRY_ONLY: unknown destinations are dropped",
            ));
            cx.hop(
                "sidecar-scope",
                "outboundTrafficPolicy REGISTRY_ONLY: the request goes to BlackHoleCluster"
                    .to_string(),
                vec![cx.mesh_by("outboundTrafficPolicy.mode", "REGISTRY_ONLY")],
            );
            let symptom = if matches!(port, Some(443) | None) {
                "connection reset (TLS handshake fails)"
            } else {
                "502 Bad Gateway (BlackHoleCluster), or a reset for TCP"
            };
            Outcome {
                verdict: Verdict::Blackholed,
                symptom: Some(symptom.to_string()),
                explanation: format!(
                    "{fqdn}{} is not in the client proxy's registry ({why}) and outboundTrafficPolicy is REGISTRY_ONLY: the request goes to BlackHoleCluster",
                    port.map(|p| format!(":{p}")).unwrap_or_default()
                ),
                fix: Some(fix),
                decided_by: by,
            }
        }
    }
}

/// The `service-entry` hop; an outcome when the entry loses its port to another.
fn service_entry_hop(cx: &mut Ctx, target: usize, port: &PortInfo, fqdn: &str) -> Option<Outcome> {
    let g = cx.g;
    let Typed::ServiceEntry(se) = &g.resource(target).typed else {
        return None;
    };
    let mut by = vec![cx.by(
        target,
        &format!("{}.protocol", port.path),
        format!("port {} is {}", port.number, port.protocol),
    )];
    let mut summary = format!(
        "{} declares {fqdn} port {} ({}, {}, resolution {})",
        describe(g, target),
        port.number,
        port.protocol,
        if se.location.is_empty() {
            "MESH_EXTERNAL"
        } else {
            &se.location
        },
        if se.resolution.is_empty() {
            "NONE"
        } else {
            &se.resolution
        }
    );
    if let Some(tp) = &port.target_port {
        summary.push_str(&format!(", forwarded to port {tp}"));
    }
    let by_address = meshlint_graph::matches_by_address(&port.protocol);
    if by_address && se.addresses.is_empty() {
        summary.push_str(&format!(
            "; {} is matched by destination address and port only, so without `addresses` the entry takes 0.0.0.0:{}",
            port.protocol, port.number
        ));
        let conflicts = g.address_port_conflicts(target, port.number);
        if let Some((winner, wpath)) = conflicts.iter().find(|(o, _)| *o < target) {
            let winner_host = match &g.resource(*winner).typed {
                Typed::ServiceEntry(w) => w.hosts.first().cloned().unwrap_or_default(),
                _ => String::new(),
            };
            by.push(cx.by(
                *winner,
                wpath,
                format!("claims 0.0.0.0:{} first", port.number),
            ));
            cx.hop("service-entry", summary, by.clone());
            return Some(Outcome::failed(
                "connection to the wrong server (TLS error: certificate name mismatch)",
                format!(
                    "{} and {} both claim 0.0.0.0:{} as {}; istiod keeps the first and rejects this one, so connections to {fqdn}:{} are sent to {winner_host}",
                    describe(g, *winner),
                    describe(g, target),
                    port.number,
                    port.protocol,
                    port.number
                ),
                format!(
                    "declare port {} of both entries as TLS (matched by SNI), or give each entry its `addresses`",
                    port.number
                ),
                by,
            ));
        }
    }
    cx.hop("service-entry", summary, by);
    None
}

fn is_fault_abort(g: &MeshGraph, vs: usize, route_path: &str) -> Option<String> {
    let path = PathSegment::parse_path(&format!("{route_path}.fault.abort"))?;
    let (abort, _) = g.resource(vs).node.lookup(&path)?;
    let pct = abort
        .get("percentage")
        .and_then(|p| p.get("value"))
        .and_then(|v| v.scalar().and_then(|s| s.as_f64()))
        .unwrap_or(100.0);
    if pct < 100.0 {
        return None;
    }
    let status = abort.get("httpStatus").and_then(Node::as_i64);
    Some(match status {
        Some(s) => format!("{s} FI"),
        None => "FI".to_string(),
    })
}

fn route_and_deliver(
    cx: &mut Ctx,
    client: &Client,
    attrs: &RequestAttrs,
    gateway: Option<usize>,
    protocol: &str,
) -> Result<Outcome, TraceError> {
    let g = cx.g;
    let kind = class(protocol);
    let choice = g.virtual_service_for(&client.ns, gateway, &attrs.host);
    let mut shaping: Vec<DecidedBy> = Vec::new();
    let destinations: Vec<WeightedDestination> = match &choice {
        None => {
            if let Some(gw) = gateway {
                let by = vec![cx.by(
                    gw,
                    "metadata.name",
                    "no VirtualService binds this Gateway for the host",
                )];
                cx.hop(
                    "route",
                    format!(
                        "no VirtualService bound to {} serves {}",
                        describe(g, gw),
                        attrs.host
                    ),
                    by.clone(),
                );
                return Ok(Outcome::failed(
                    "404 NR",
                    format!(
                        "the gateway accepts {} but no VirtualService bound to it has the host, so it has no route",
                        attrs.host
                    ),
                    format!(
                        "bind a VirtualService with host {} to {} (spec.gateways)",
                        attrs.host,
                        describe(g, gw)
                    ),
                    by,
                ));
            }
            cx.hop(
                "route",
                format!(
                    "no VirtualService for {}: the default route to {}:{}",
                    attrs.host,
                    attrs.host,
                    attrs.port.map(|p| p.to_string()).unwrap_or_default()
                ),
                Vec::new(),
            );
            vec![WeightedDestination {
                host: attrs.host.clone(),
                port: attrs.port,
                subset: None,
                weight: 100,
                path: String::new(),
            }]
        }
        Some(c) => {
            let vs = c.virtual_service;
            for other in &c.shadowed {
                let note_by =
                    vec![cx.by(*other, "spec.hosts", "not used by this proxy for the host")];
                cx.note(
                    "route",
                    format!(
                        "{} also names the host but {} is the one used",
                        describe(g, *other),
                        describe(g, vs)
                    ),
                    note_by,
                );
            }
            let has_kind = g
                .resource(vs)
                .spec()
                .and_then(|s| s.get(kind))
                .is_some_and(|n| !n.items().is_empty());
            if !has_kind {
                cx.hop(
                    "route",
                    format!(
                        "{} has no `{kind}` routes for this {protocol} port: the default route",
                        describe(g, vs)
                    ),
                    vec![cx.by(vs, &c.host_path, "matches the host")],
                );
                if gateway.is_some() {
                    return Ok(Outcome::failed(
                        "404 NR",
                        format!("{} has no `{kind}` route for the gateway", describe(g, vs)),
                        format!("add a `{kind}` route to {}", describe(g, vs)),
                        vec![cx.by(vs, &c.host_path, "matches the host")],
                    ));
                }
                vec![WeightedDestination {
                    host: attrs.host.clone(),
                    port: attrs.port,
                    subset: None,
                    weight: 100,
                    path: String::new(),
                }]
            } else {
                match g.route_for(vs, kind, attrs) {
                    RouteOutcome::NoMatch { routes } => {
                        let by = vec![cx.by(
                            vs,
                            &format!("spec.{kind}"),
                            format!("none of the {routes} routes matches"),
                        )];
                        cx.hop(
                            "route",
                            format!(
                                "{}: none of its {routes} `{kind}` routes matches {} {}",
                                describe(g, vs),
                                attrs.method,
                                attrs.path
                            ),
                            by.clone(),
                        );
                        let symptom = if kind == "http" {
                            "404 NR"
                        } else {
                            "connection reset (no route)"
                        };
                        return Ok(Outcome::failed(
                            symptom,
                            format!(
                                "{} serves {} but no route matches the request",
                                describe(g, vs),
                                attrs.host
                            ),
                            format!("add a route without `match` (a default) at the end of spec.{kind} of {}", describe(g, vs)),
                            by,
                        ));
                    }
                    RouteOutcome::Matched(rc) => {
                        let field = match rc.match_index {
                            Some(m) => format!("{}.match[{m}]", rc.path),
                            None => rc.path.clone(),
                        };
                        let label = match rc.match_index {
                            Some(m) => format!("route {} matches (condition {m})", rc.index),
                            None => format!(
                                "route {} (no match conditions) takes every request",
                                rc.index
                            ),
                        };
                        let mut by = vec![cx.by(vs, &field, label)];
                        let dests: Vec<String> = rc
                            .destinations
                            .iter()
                            .map(|d| {
                                format!(
                                    "{}{}{} {}%",
                                    d.host,
                                    d.port.map(|p| format!(":{p}")).unwrap_or_default(),
                                    d.subset
                                        .as_ref()
                                        .map(|s| format!(" subset {s}"))
                                        .unwrap_or_default(),
                                    d.weight
                                )
                            })
                            .collect();
                        let mut summary = format!(
                            "{} {}[{}]{}{} → {}",
                            describe(g, vs),
                            kind,
                            rc.index,
                            rc.name
                                .as_ref()
                                .map(|n| format!(" `{n}`"))
                                .unwrap_or_default(),
                            rc.match_index
                                .map(|m| format!(" (match {m})"))
                                .unwrap_or_default(),
                            if dests.is_empty() {
                                "no destination".to_string()
                            } else {
                                dests.join(", ")
                            }
                        );
                        for (path, value) in &rc.behaviour {
                            let key = path.rsplit('.').next().unwrap_or(path);
                            summary.push_str(&format!("; {key} {value}"));
                            by.push(cx.by(vs, path, format!("{key}: {value}")));
                        }
                        cx.hop("route", summary, by.clone());
                        shaping.extend(by.iter().take(1).cloned());
                        if let Some(symptom) = is_fault_abort(g, vs, &rc.path) {
                            let fby = vec![cx.by(
                                vs,
                                &format!("{}.fault.abort", rc.path),
                                "aborts every request",
                            )];
                            return Ok(Outcome::failed(
                                &symptom,
                                format!(
                                    "route {} of {} injects an abort for every request",
                                    rc.index,
                                    describe(g, vs)
                                ),
                                format!("remove or lower `fault.abort` in {}", describe(g, vs)),
                                fby,
                            ));
                        }
                        let answered_by_proxy = rc.behaviour.iter().any(|(p, _)| {
                            p.ends_with(".redirect") || p.ends_with(".directResponse")
                        });
                        if answered_by_proxy {
                            return Ok(Outcome {
                                verdict: Verdict::Delivered,
                                symptom: None,
                                explanation: format!(
                                    "route {} of {} answers the request in the proxy (redirect or direct response)",
                                    rc.index,
                                    describe(g, vs)
                                ),
                                fix: None,
                                decided_by: by,
                            });
                        }
                        rc.destinations
                    }
                }
            }
        }
    };
    let destinations = match &cx.pin {
        Some(subset) => pinned(&destinations, subset.as_deref()),
        None => destinations,
    };
    let mut results: Vec<(u32, Outcome)> = Vec::new();
    let multiple = destinations.len() > 1;
    for d in &destinations {
        cx.prefix = if multiple {
            format!(
                "[{}{} {}%] ",
                d.host.split('.').next().unwrap_or(&d.host),
                d.subset
                    .as_ref()
                    .map(|s| format!(" subset {s}"))
                    .unwrap_or_default(),
                d.weight
            )
        } else {
            String::new()
        };
        let o = deliver(
            cx,
            client,
            attrs,
            d,
            choice.as_ref().map(|c| c.virtual_service),
        )?;
        results.push((d.weight, o));
    }
    cx.prefix.clear();
    Ok(finish(cx, results, &shaping))
}

/// Keeps only the destinations an access log pinned (its cluster's subset).
pub(crate) fn pinned(
    dests: &[WeightedDestination],
    subset: Option<&str>,
) -> Vec<WeightedDestination> {
    let hit: Vec<WeightedDestination> = dests
        .iter()
        .filter(|d| d.subset.as_deref() == subset)
        .cloned()
        .collect();
    if hit.is_empty() {
        dests.to_vec()
    } else {
        hit
    }
}

/// Adds a deciding field unless the same field of the same resource is already there.
fn push_unique(by: &mut Vec<DecidedBy>, b: &DecidedBy) {
    if !by.iter().any(|x| {
        x.kind == b.kind && x.namespace == b.namespace && x.name == b.name && x.field == b.field
    }) {
        by.push(b.clone());
    }
}

fn finish(_cx: &mut Ctx, results: Vec<(u32, Outcome)>, shaping: &[DecidedBy]) -> Outcome {
    let total: u32 = results.iter().map(|r| r.0).sum::<u32>().max(1);
    let failed: Vec<&(u32, Outcome)> = results
        .iter()
        .filter(|r| r.1.verdict != Verdict::Delivered)
        .collect();
    if failed.is_empty() {
        let mut by: Vec<DecidedBy> = shaping.to_vec();
        for (_, o) in &results {
            for b in &o.decided_by {
                push_unique(&mut by, b);
            }
        }
        let explanation = results
            .first()
            .map(|r| r.1.explanation.clone())
            .unwrap_or_default();
        return Outcome {
            verdict: Verdict::Delivered,
            symptom: None,
            explanation,
            fix: None,
            decided_by: by,
        };
    }
    let first = failed[0].1.clone();
    let share: u32 = failed.iter().map(|r| r.0).sum();
    let mut by: Vec<DecidedBy> = Vec::new();
    for (_, o) in &failed {
        for b in &o.decided_by {
            push_unique(&mut by, b);
        }
    }
    let explanation = if results.len() > 1 && share * 100 / total < 100 {
        format!(
            "{}% of requests fail: {}",
            share * 100 / total,
            first.explanation
        )
    } else if results.len() > 1 {
        format!("every destination fails: {}", first.explanation)
    } else {
        first.explanation.clone()
    };
    Outcome {
        verdict: first.verdict,
        symptom: first.symptom,
        explanation,
        fix: first.fix,
        decided_by: by,
    }
}

fn service_account(g: &MeshGraph, w: usize) -> String {
    match &g.resource(w).typed {
        Typed::Workload(wl) => wl
            .service_account
            .clone()
            .unwrap_or_else(|| "default".to_string()),
        _ => "default".to_string(),
    }
}

/// One destination: its workloads, the client TLS, the server's mTLS and authorization.
fn deliver(
    cx: &mut Ctx,
    client: &Client,
    attrs: &RequestAttrs,
    d: &WeightedDestination,
    vs: Option<usize>,
) -> Result<Outcome, TraceError> {
    let g = cx.g;
    let targets = g.host_targets(&d.host);
    if targets.is_empty() {
        if g.implicit_host(&d.host) {
            cx.hop(
                "destination",
                format!(
                    "{} (a host every cluster has; its workloads are not in the inputs)",
                    d.host
                ),
                Vec::new(),
            );
            return Ok(delivered(format!("delivered to {}", d.host), Vec::new()));
        }
        let by = match vs {
            Some(v) => vec![cx.by(
                v,
                &format!("{}.host", d.path),
                "names a host nothing defines",
            )],
            None => Vec::new(),
        };
        cx.hop(
            "destination",
            format!("{} is defined by no Service or ServiceEntry", d.host),
            by.clone(),
        );
        let hint = g
            .suggest_host(&d.host)
            .map(|s| format!(" (did you mean {s}?)"))
            .unwrap_or_default();
        return Ok(Outcome::failed(
            "503 NC",
            format!(
                "the route sends the request to {}, which no Service or ServiceEntry defines{hint}",
                d.host
            ),
            "point the route at a host that exists, or define the host".to_string(),
            by,
        ));
    }
    let port = d.port.or(attrs.port).or_else(|| default_port(g, &targets));
    let Some((target, pinfo)) = port.and_then(|p| port_of(g, &targets, p)).or_else(|| {
        // A route without a port to a host with a single port uses that port.
        let all: Vec<(usize, PortInfo)> = targets
            .iter()
            .flat_map(|t| {
                g.ports_of(t.resource)
                    .into_iter()
                    .map(move |p| (t.resource, p))
            })
            .collect();
        (d.port.is_none() && all.len() == 1).then(|| all[0].clone())
    }) else {
        let mut by: Vec<DecidedBy> = Vec::new();
        if let Some(v) = vs {
            if !d.path.is_empty() {
                by.push(cx.by(
                    v,
                    &format!("{}.port", d.path),
                    "names a port the host does not declare",
                ));
            }
        }
        by.push(cx.by(targets[0].resource, "spec.ports", "the declared ports"));
        cx.hop(
            "destination",
            format!(
                "{} declares no port {}",
                d.host,
                port.map(|p| p.to_string()).unwrap_or_default()
            ),
            by.clone(),
        );
        return Ok(Outcome::failed(
            "503 NC",
            format!(
                "{} has no port {}",
                d.host,
                port.map(|p| p.to_string()).unwrap_or_default()
            ),
            "route to a port the Service or ServiceEntry declares".to_string(),
            by,
        ));
    };
    let merged = g.merged_destination_rule(&client.ns, &d.host);
    let mut dest_by = vec![cx.by(
        target,
        &pinfo.path,
        format!(
            "port {} ({}) is {}",
            pinfo.number, pinfo.name, pinfo.protocol
        ),
    )];
    let mut subset_labels: Option<Labels> = None;
    if let Some(s) = &d.subset {
        let found = merged
            .as_ref()
            .and_then(|m| m.subset(s).map(|ms| (ms.member, ms.index)));
        match found {
            Some((member, index)) => {
                dest_by.push(cx.by(
                    member,
                    &format!("spec.subsets[{index}]"),
                    format!("defines subset `{s}`"),
                ));
                subset_labels = merged
                    .as_ref()
                    .and_then(|m| g.merged_subset(m, s))
                    .map(|x| x.labels.clone());
            }
            None => {
                let mut by = Vec::new();
                if let Some(v) = vs {
                    by.push(cx.by(
                        v,
                        &format!("{}.subset", d.path),
                        format!("names subset `{s}`"),
                    ));
                }
                if let Some(m) = &merged {
                    by.push(cx.by(
                        m.primary(),
                        "spec.subsets",
                        "defines no such subset for this client",
                    ));
                }
                cx.hop(
                    "destination",
                    format!(
                        "subset `{s}` of {} is not defined in any DestinationRule the client uses",
                        d.host
                    ),
                    by.clone(),
                );
                return Ok(Outcome::failed(
                    "503 NC",
                    format!("the route names subset `{s}` of {}, which no DestinationRule visible to {} defines, so the cluster does not exist", d.host, client.ns),
                    format!("define subset `{s}` in the DestinationRule for {}", d.host),
                    by,
                ));
            }
        }
    }
    let se = match &g.resource(target).typed {
        Typed::ServiceEntry(se) => Some(se.clone()),
        _ => None,
    };
    let external = se
        .as_ref()
        .is_some_and(|s| s.location != "MESH_INTERNAL" && s.workload_selector.is_none());
    let workloads: Vec<usize> = g
        .workloads_for_host(&d.host)
        .into_iter()
        .filter(|&w| {
            subset_labels
                .as_ref()
                .is_none_or(|l| selector_matches(l, g.workload_labels(w)))
        })
        .collect();
    let names: Vec<String> = workloads
        .iter()
        .map(|&w| g.resource(w).name().to_string())
        .collect();
    let behind = if external {
        "an external server".to_string()
    } else if names.is_empty() {
        "no workload in the inputs".to_string()
    } else {
        names.join(", ")
    };
    cx.hop(
        "destination",
        format!(
            "{}:{}{} ({} `{}`, {}) → {behind}",
            d.host,
            pinfo.number,
            d.subset
                .as_ref()
                .map(|s| format!(" subset {s}"))
                .unwrap_or_default(),
            describe(g, target),
            pinfo.name,
            pinfo.protocol,
        ),
        dest_by.clone(),
    );
    if !external && workloads.is_empty() {
        let host_ns = g.resource(target).namespace().to_string();
        if se.is_none() && (g.closed_world || g.namespace_described(&host_ns)) {
            return Ok(Outcome::failed(
                "503 UH",
                format!(
                    "no workload behind {}{} matches: the cluster has no endpoints",
                    d.host,
                    d.subset
                        .as_ref()
                        .map(|s| format!(" subset {s}"))
                        .unwrap_or_default()
                ),
                "check the Service selector and the subset labels against the pods' labels"
                    .to_string(),
                dest_by,
            ));
        }
        return Ok(delivered(
            format!("{}:{} is reached (its workloads are not in the inputs, so the server side is not checked)", d.host, pinfo.number),
            dest_by,
        ));
    }

    // client TLS
    let server_has_sidecar = workloads.iter().any(|&w| g.has_sidecar(w));
    let (wire, mut tls_by, tls_summary) = client_tls(
        cx,
        client,
        &d.host,
        &pinfo,
        d.subset.as_deref(),
        server_has_sidecar,
        external,
    );
    // The subset the route picked is part of what decided its TLS.
    if client.proxy {
        if let Some(def) = dest_by
            .iter()
            .find(|b| b.field.starts_with("spec.subsets["))
        {
            if tls_by.iter().any(|b| b.kind == "DestinationRule") {
                tls_by.insert(0, def.clone());
            }
        }
    }
    if !client.proxy {
        tls_by.extend(client.source_by.iter().cloned());
    }
    let off_path = off_path_rule_notes(cx, client, &d.host);
    if client.proxy && !tls_by.iter().any(|b| b.kind == "DestinationRule") {
        tls_by.extend(off_path);
    }
    // HBONE: an ambient client's ztunnel always sends it; a sidecar sends it to ambient
    // endpoints in place of ISTIO_MUTUAL or no TLS (TLS it originates goes inside).
    let server_ambient = !workloads.is_empty() && workloads.iter().all(|&w| g.is_ambient(w));
    let (wire, tls_summary) = if client.ambient {
        (
            Wire::IstioMtls,
            "ztunnel sends HBONE (mutual TLS on port 15008) with the client's identity; DestinationRules do not apply".to_string(),
        )
    } else if client.proxy && server_ambient && matches!(wire, Wire::IstioMtls | Wire::Plain) {
        (
            Wire::IstioMtls,
            format!("the destination's pods run in ambient mode: the client's proxy sends HBONE (mutual TLS on port 15008) instead ({tls_summary})"),
        )
    } else {
        (wire, tls_summary)
    };
    cx.hop("client-tls", tls_summary.clone(), tls_by.clone());
    // The waypoint of the destination service: ambient clients go through it, sidecar
    // clients never do.
    let mut waypoint_principal = None;
    if server_ambient && !client.is_gateway {
        if let Some(b) = g.waypoint_binding(target) {
            let mut by = vec![cx.by(b.label.0, &b.label.1, "binds the service to its waypoint")];
            let name = format!("{}/{}", b.namespace, b.name);
            let summary = match (b.outcome, client.ambient) {
                ("bound", true) => {
                    if let Some(gw) = b.gateway {
                        by.push(cx.by(gw, "metadata.name", "the waypoint"));
                    }
                    waypoint_principal = Some(format!(
                        "{}/ns/{}/sa/{}",
                        g.mesh.trust_domain, b.namespace, b.name
                    ));
                    Some(format!("waypoint {name}: the request goes through it (its L7 policies and routes apply); the destination ztunnel then sees the waypoint's identity"))
                }
                ("bound", false) => Some(format!("waypoint {name} is bound to {}, but {} do not use waypoints: its L7 policies and routes are skipped for this request", d.host, if client.proxy { "sidecar clients" } else { "clients outside the mesh" })),
                ("opted-out", _) => None,
                (outcome, _) => Some(format!("waypoint {name} is not usable ({outcome}): ztunnel sends the request straight to the destination, and L7 policies meant for the waypoint are skipped")),
            };
            if let Some(summary) = summary {
                cx.hop("waypoint", summary, by);
            }
        }
    }

    // A sidecar routed to an egress gateway: the gateway's server and routing take over
    // for the original host.
    if !client.is_gateway && !workloads.is_empty() {
        let gws: Vec<usize> = g
            .of_kind(Kind::Gateway)
            .iter()
            .copied()
            .filter(|&gw| {
                let sel = g.selected_workloads(gw);
                workloads.iter().any(|w| sel.contains(w))
            })
            .collect();
        if !gws.is_empty() {
            let accepts = |gw: usize| match &g.resource(gw).typed {
                Typed::Gateway(x) => x.servers.iter().any(|s| {
                    s.port == pinfo.number && s.hosts.iter().any(|h| server_host_ok(h, &attrs.host))
                }),
                _ => false,
            };
            let gw = gws.iter().copied().find(|&x| accepts(x)).unwrap_or(gws[0]);
            let eattrs = RequestAttrs {
                port: Some(pinfo.number),
                ..attrs.clone()
            };
            cx.prefix.clear();
            return through_gateway(cx, gw, &eattrs, "egress-gateway", Some((wire, tls_by)));
        }
    }

    let server_app_tls = class(&pinfo.protocol) == "tls";
    if external {
        let target_port = se
            .as_ref()
            .and_then(|s| s.ports.iter().find(|p| p.number == pinfo.number))
            .and_then(|p| p.target_port);
        let server_tls = server_app_tls || target_port == Some(443);
        let summary = format!(
            "{} at port {}{}: outside the mesh, no sidecar; it expects {}",
            d.host,
            target_port.unwrap_or(pinfo.number),
            if target_port.is_some() {
                " (targetPort)"
            } else {
                ""
            },
            if server_tls { "TLS" } else { "plaintext" }
        );
        cx.hop("server-mtls", summary, dest_by.clone());
        let mut by = tls_by.clone();
        by.extend(dest_by.iter().cloned());
        return Ok(match (wire, server_tls) {
            (Wire::Double, _) => double_tls(&d.host, &pinfo, by),
            (Wire::IstioMtls, _) => Outcome::failed(
                "503 UF (TLS error: CERTIFICATE_VERIFY_FAILED)",
                format!("the client's proxy sends Istio mTLS to {}, a server outside the mesh that cannot present a mesh certificate", d.host),
                "use tls.mode SIMPLE (TLS origination) or DISABLE for this host".to_string(),
                by,
            ),
            (Wire::Plain, true) => Outcome::failed(
                "400 or connection reset (plaintext to a TLS port)",
                format!("plaintext reaches {} on a port that expects TLS", d.host),
                format!("originate TLS: tls.mode SIMPLE for port {} in a DestinationRule for {}", pinfo.number, d.host),
                by,
            ),
            (Wire::Originated | Wire::AppTls, false) => Outcome::failed(
                "503 UF (TLS error: WRONG_VERSION_NUMBER)",
                format!("TLS reaches {} on a plaintext port", d.host),
                "send plaintext to this port, or declare the TLS port".to_string(),
                by,
            ),
            (Wire::Originated, true) => delivered(
                format!("the client's proxy originates TLS to {} ({tls_summary})", d.host),
                by,
            ),
            _ => delivered(format!("{} is reached ({tls_summary})", d.host), by),
        });
    }

    let mut outcome: Option<Outcome> = None;
    for &w in &workloads {
        let cp = g.target_port(w, &pinfo);
        let captured = g.inbound_captured(w, cp);
        let peer = g.peer_mode(w, Some(cp));
        let mut by = Vec::new();
        let peer_desc = match &peer.source {
            Some((r, path)) => {
                let level = peer_level(g, *r, path, w);
                by.push(cx.by(
                    *r,
                    path,
                    format!("{} ({level}) for {}", peer.value, g.resource(w).name()),
                ));
                format!("{} ({level}: {})", peer.value, describe(g, *r))
            }
            None => format!("{} (default: no PeerAuthentication)", peer.value),
        };
        let inj = g.injection_decision(w);
        if g.is_ambient(w) {
            let plane = g.data_plane(w);
            if let Some((r, path)) = &plane.source {
                by.push(cx.by(
                    *r,
                    path,
                    format!("{} runs in ambient mode", g.resource(w).name()),
                ));
            }
            let disabled = if peer.value == "DISABLE" {
                " (DISABLE is ignored in ambient: not STRICT)"
            } else {
                ""
            };
            cx.hop(
                "server-mtls",
                format!("{} port {cp}: ambient ({}), ztunnel terminates HBONE and enforces {peer_desc}{disabled}", g.resource(w).name(), plane.by),
                by.clone(),
            );
            let mut all_by = tls_by.clone();
            all_by.extend(by);
            let o = match wire {
                Wire::Plain | Wire::AppTls if peer.value == "STRICT" => Outcome::failed(
                    "connection reset by peer (curl exit 56)",
                    format!("the client sends plaintext and {}'s ztunnel accepts only HBONE (STRICT): it resets the connection", g.resource(w).name()),
                    "run the client in the mesh (ambient or sidecar), or make the server PERMISSIVE".to_string(),
                    all_by,
                ),
                Wire::Double => double_tls(&d.host, &pinfo, all_by),
                _ => {
                    let principal = (wire == Wire::IstioMtls)
                        .then(|| {
                            waypoint_principal.clone().or_else(|| client.workload.map(|cw| {
                                format!("{}/ns/{}/sa/{}", g.mesh.trust_domain, g.resource(cw).namespace(), service_account(g, cw))
                            }))
                        })
                        .flatten();
                    match authorization(cx, w, attrs, cp, principal, client, wire == Wire::IstioMtls) {
                        Some(denied) => denied,
                        None => delivered(
                            format!("{} accepts the request on port {cp} ({tls_summary}; ztunnel, {})", g.resource(w).name(), peer.value),
                            all_by,
                        ),
                    }
                }
            };
            if o.verdict != Verdict::Delivered {
                return Ok(o);
            }
            outcome.get_or_insert(o);
            continue;
        }
        let summary = if !g.has_sidecar(w) {
            if let Some((r, path)) = &inj.source {
                by.push(cx.by(
                    *r,
                    path,
                    format!("{} runs without a sidecar", g.resource(w).name()),
                ));
            }
            format!(
                "{} port {cp}: no sidecar ({}); the application answers itself, {}",
                g.resource(w).name(),
                inj.value,
                if server_app_tls {
                    "with its own TLS"
                } else {
                    "in plaintext"
                }
            )
        } else if !captured {
            let path = format!(
                "{}.annotations[\"traffic.sidecar.istio.io/excludeInboundPorts\"]",
                g.pod_metadata_path(w)
            );
            by.push(cx.by(w, &path, format!("port {cp} bypasses the sidecar")));
            format!("{} port {cp}: excluded from the sidecar (traffic.sidecar.istio.io/excludeInboundPorts); the application answers itself, {}", g.resource(w).name(), if server_app_tls { "with its own TLS" } else { "in plaintext" })
        } else {
            format!(
                "{} port {cp}: sidecar enforces {peer_desc}",
                g.resource(w).name()
            )
        };
        cx.hop("server-mtls", summary, by.clone());
        let mut all_by = tls_by.clone();
        all_by.extend(by);
        let strict = peer.value == "STRICT";
        let o = if !captured {
            match wire {
                Wire::Double => double_tls(&d.host, &pinfo, all_by),
                Wire::IstioMtls if server_app_tls => Outcome::failed(
                    "503 UF (TLS error: CERTIFICATE_VERIFY_FAILED)",
                    format!("the client's proxy sends Istio mTLS to port {cp} of {}, where no sidecar listens: the application answers the handshake with its own certificate, which the proxy cannot verify against the mesh CA", g.resource(w).name()),
                    format!("use tls.mode SIMPLE (with the server's CA in caCertificates) for port {} in the DestinationRule the client uses", pinfo.number),
                    all_by,
                ),
                Wire::IstioMtls => Outcome::failed(
                    "503 UF (TLS error: WRONG_VERSION_NUMBER)",
                    format!("the client's proxy sends Istio mTLS to port {cp} of {}, where no sidecar listens and the application speaks plaintext; auto mTLS decides per pod and cannot see excluded ports", g.resource(w).name()),
                    format!("set tls.mode DISABLE for port {} in a DestinationRule the client uses", pinfo.number),
                    all_by,
                ),
                Wire::Plain if server_app_tls => Outcome::failed(
                    "400 or connection reset (plaintext to a TLS port)",
                    format!("plaintext reaches port {cp} of {}, whose application expects TLS", g.resource(w).name()),
                    format!("use tls.mode SIMPLE for port {}", pinfo.number),
                    all_by,
                ),
                Wire::Originated | Wire::AppTls if !server_app_tls => Outcome::failed(
                    "503 UF (TLS error: WRONG_VERSION_NUMBER)",
                    format!("TLS reaches port {cp} of {}, whose application speaks plaintext", g.resource(w).name()),
                    format!("use tls.mode DISABLE for port {}", pinfo.number),
                    all_by,
                ),
                _ => delivered(format!("{} answers on port {cp} without a sidecar ({tls_summary})", g.resource(w).name()), all_by),
            }
        } else {
            match wire {
                Wire::Double => double_tls(&d.host, &pinfo, all_by),
                Wire::Plain | Wire::AppTls | Wire::Originated if strict => {
                    let fix = if !client.proxy {
                        "give the client a sidecar (label its namespace istio-injection=enabled), or make the server PERMISSIVE".to_string()
                    } else if tls_by.iter().any(|b| b.kind == "DestinationRule") {
                        let dr = tls_by.iter().find(|b| b.kind == "DestinationRule").map(|b| format!("{}/{}", b.namespace, b.name)).unwrap_or_default();
                        format!("set tls.mode ISTIO_MUTUAL in DestinationRule {dr} (or remove its tls block so auto mTLS applies)")
                    } else {
                        "add a DestinationRule with tls.mode ISTIO_MUTUAL where the client finds it (its namespace, the service's, or the root namespace), or enable auto mTLS".to_string()
                    };
                    let sent = match wire {
                        Wire::Plain => "plaintext",
                        Wire::AppTls => "its own TLS, not Istio mTLS",
                        _ => "TLS without a mesh certificate",
                    };
                    if client.proxy {
                        Outcome::failed(
                            "503 UC",
                            format!(
                                "the client's proxy sends {sent} and {}'s sidecar accepts only Istio mTLS (STRICT): it closes the connection, so the client's proxy reports upstream connection termination",
                                g.resource(w).name()
                            ),
                            fix,
                            all_by,
                        )
                    } else {
                        Outcome::failed(
                            "connection reset by peer (curl exit 56)",
                            format!(
                                "the client has no sidecar, so it sends {sent}, and {}'s sidecar accepts only Istio mTLS (STRICT): it resets the connection",
                                g.resource(w).name()
                            ),
                            fix,
                            all_by,
                        )
                    }
                }
                Wire::IstioMtls if server_app_tls && client.is_gateway => Outcome::failed(
                    "400 or connection reset (plaintext to a TLS port)",
                    format!("the gateway terminated the client's TLS and sends Istio mTLS; {}'s sidecar unwraps it and hands plaintext to port {cp}, where the application expects TLS", g.resource(w).name()),
                    format!("use tls.mode SIMPLE for port {} (the application terminates TLS itself)", pinfo.number),
                    all_by,
                ),
                Wire::Plain if server_app_tls => Outcome::failed(
                    "400 or connection reset (plaintext to a TLS port)",
                    format!("plaintext reaches port {cp} of {}, whose application expects TLS", g.resource(w).name()),
                    format!("use tls.mode SIMPLE for port {}", pinfo.number),
                    all_by,
                ),
                Wire::Originated if !server_app_tls => Outcome::failed(
                    "503 UF (TLS error: WRONG_VERSION_NUMBER)",
                    format!("the client's proxy originates TLS to port {cp} of {}, whose application speaks plaintext behind a PERMISSIVE sidecar", g.resource(w).name()),
                    "use ISTIO_MUTUAL (or leave tls unset for auto mTLS) toward a mesh workload".to_string(),
                    all_by,
                ),
                _ => {
                    let principal = (wire == Wire::IstioMtls)
                        .then(|| client.workload.map(|cw| {
                            format!("{}/ns/{}/sa/{}", g.mesh.trust_domain, g.resource(cw).namespace(), service_account(g, cw))
                        }))
                        .flatten();
                    match authorization(cx, w, attrs, cp, principal, client, wire == Wire::IstioMtls) {
                        Some(denied) => denied,
                        None => delivered(
                            format!("{} accepts the request on port {cp} ({tls_summary}; server {})", g.resource(w).name(), peer.value),
                            all_by,
                        ),
                    }
                }
            }
        };
        if o.verdict != Verdict::Delivered {
            return Ok(o);
        }
        outcome.get_or_insert(o);
    }
    Ok(outcome.unwrap_or_else(|| delivered(format!("delivered to {}", d.host), Vec::new())))
}

/// The precedence level of the PeerAuthentication field that decided a workload's mode:
/// `port-level`, `workload` (selector), `namespace` or `mesh-wide` (root namespace).
fn peer_level(g: &MeshGraph, pa: usize, path: &str, w: usize) -> &'static str {
    if path.contains("portLevelMtls") {
        return "port-level";
    }
    let r = g.resource(pa);
    let has_selector = matches!(&r.typed, Typed::PeerAuthentication(p) if p.selector.as_ref().is_some_and(|s| !s.is_empty()));
    if has_selector {
        "workload"
    } else if r.namespace() == g.mesh.root_namespace && g.resource(w).namespace() != r.namespace() {
        "mesh-wide"
    } else if r.namespace() == g.mesh.root_namespace {
        "mesh-wide (root namespace)"
    } else {
        "namespace"
    }
}

fn delivered(explanation: String, decided_by: Vec<DecidedBy>) -> Outcome {
    Outcome {
        verdict: Verdict::Delivered,
        symptom: None,
        explanation,
        fix: None,
        decided_by,
    }
}

fn double_tls(host: &str, p: &PortInfo, by: Vec<DecidedBy>) -> Outcome {
    Outcome::failed(
        "400 or connection reset (double encryption)",
        format!("the application already speaks TLS on port {} ({}) and the proxy wraps it in a second TLS session: the server finds a TLS ClientHello where it expects a request", p.number, p.protocol),
        format!("let the application send plaintext and keep TLS origination (e.g. a port-80 HTTP port with targetPort 443), or remove tls.mode SIMPLE for port {} of {host}", p.number),
        by,
    )
}

/// The TLS the client's proxy (or bare application) puts on the wire.
#[allow(clippy::too_many_arguments)]
fn client_tls(
    cx: &mut Ctx,
    client: &Client,
    host: &str,
    p: &PortInfo,
    subset: Option<&str>,
    server_has_sidecar: bool,
    external: bool,
) -> (Wire, Vec<DecidedBy>, String) {
    let g = cx.g;
    if !client.proxy {
        let wire = if client.app_tls {
            Wire::AppTls
        } else {
            Wire::Plain
        };
        return (
            wire,
            Vec::new(),
            format!(
                "no client sidecar: the application sends {}",
                if client.app_tls {
                    "its own TLS"
                } else {
                    "plaintext"
                }
            ),
        );
    }
    let (dec, tls) = g.client_tls(&client.ns, host, Some(p.number), subset);
    let mut by = Vec::new();
    let level = |path: &str| {
        if path.contains("subsets") && path.contains("portLevelSettings") {
            "subset port-level"
        } else if path.contains("subsets") {
            "subset"
        } else if path.contains("portLevelSettings") {
            "port-level"
        } else {
            "top-level"
        }
    };
    let mode = dec.value.clone();
    if mode == "UNSET" {
        if let Some((r, path)) = &dec.source {
            by.push(cx.by(
                *r,
                path,
                "the DestinationRule the client uses sets no TLS mode",
            ));
        }
        let auto = g.mesh.enable_auto_mtls;
        if auto && server_has_sidecar && !external {
            by.push(cx.mesh_by(
                "enableAutoMtls",
                "auto mTLS: Istio mTLS to pods with sidecars",
            ));
            return (
                Wire::IstioMtls,
                by,
                "no TLS mode set: auto mTLS sends Istio mTLS (the destination's pods run sidecars)"
                    .to_string(),
            );
        }
        if !auto {
            by.push(cx.mesh_by(
                "enableAutoMtls",
                "auto mTLS is off: no DestinationRule, no mTLS",
            ));
        }
        let wire = if client.app_tls {
            Wire::AppTls
        } else {
            Wire::Plain
        };
        let what = if client.app_tls {
            "the application's own TLS, passed through"
        } else {
            "plaintext"
        };
        let why = if !auto {
            "auto mTLS is off (enableAutoMtls: false)"
        } else if external {
            "the destination is outside the mesh"
        } else {
            "the destination's pods have no sidecar"
        };
        return (
            wire,
            by,
            format!("no TLS mode set and {why}: the proxy sends {what}"),
        );
    }
    if let Some((r, path)) = &dec.source {
        let lvl = level(path);
        let whose = match subset {
            Some(s) if !path.contains("subsets") => {
                format!(" (subset `{s}` sets no TLS of its own)")
            }
            Some(s) => format!(" for subset `{s}`"),
            None => String::new(),
        };
        by.push(cx.by(
            *r,
            path,
            format!("{mode} ({lvl}) for port {}{whose}", p.number),
        ));
    }
    let wire = match mode.as_str() {
        "ISTIO_MUTUAL" => Wire::IstioMtls,
        "SIMPLE" | "MUTUAL" if client.app_tls && !client.is_gateway => Wire::Double,
        "SIMPLE" | "MUTUAL" => Wire::Originated,
        _ => {
            if client.app_tls {
                Wire::AppTls
            } else {
                Wire::Plain
            }
        }
    };
    let source = dec
        .source
        .as_ref()
        .map(|(r, path)| format!("{} {} ({})", describe(g, *r), path, level(path)))
        .unwrap_or_default();
    let extra = tls
        .as_ref()
        .map(|t| {
            let mut v = Vec::new();
            if let Some(s) = &t.sni {
                v.push(format!("sni {s}"));
            }
            if t.has_ca {
                v.push("caCertificates".to_string());
            }
            if v.is_empty() {
                String::new()
            } else {
                format!(" with {}", v.join(", "))
            }
        })
        .unwrap_or_default();
    let what = match wire {
        Wire::IstioMtls => "Istio mTLS",
        Wire::Originated => "TLS it originates",
        Wire::Double => "TLS it originates around the application's own TLS",
        Wire::AppTls => "the application's own TLS, passed through",
        Wire::Plain => "plaintext",
    };
    let inherit = match (subset, &dec.source) {
        (Some(s), Some((_, path))) if !path.contains("subsets") => {
            format!(" (subset `{s}` inherits it)")
        }
        _ => String::new(),
    };
    (
        wire,
        by,
        format!("tls.mode {mode}{extra} from {source}{inherit}: the proxy sends {what}"),
    )
}

/// Notes DestinationRules for the host that sit outside the client's lookup path.
fn off_path_rule_notes(cx: &mut Ctx, client: &Client, host: &str) -> Vec<DecidedBy> {
    let mut out = Vec::new();
    let g = cx.g;
    let root = g.mesh.root_namespace.clone();
    let host_ns: Vec<String> = g
        .host_targets(host)
        .iter()
        .map(|t| g.resource(t.resource).namespace().to_string())
        .collect();
    for &d in g.of_kind(Kind::DestinationRule) {
        let r = g.resource(d);
        let Typed::DestinationRule(dr) = &r.typed else {
            continue;
        };
        let ns = r.namespace();
        if ns == client.ns || ns == root || host_ns.iter().any(|h| h == ns) {
            continue;
        }
        let h = g.resolve_host(&dr.host, ns);
        if !meshlint_graph::host_matches(&h, host) {
            continue;
        }
        let by = vec![cx.by(
            d,
            "metadata.namespace",
            format!(
                "namespace {ns} is not on the lookup path of clients in {}",
                client.ns
            ),
        )];
        out.extend(by.iter().cloned());
        cx.note(
            "client-tls",
            format!(
                "{} (host {}) does not apply: DestinationRules are looked up in the client's namespace ({}), the service's ({}) and the root namespace ({root})",
                describe(g, d),
                dr.host,
                client.ns,
                host_ns.first().cloned().unwrap_or_default()
            ),
            by,
        );
    }
    out
}

/// The `authorization` hop; an outcome when the request is denied.
fn authorization(
    cx: &mut Ctx,
    w: usize,
    attrs: &RequestAttrs,
    cp: u32,
    principal: Option<String>,
    client: &Client,
    mtls: bool,
) -> Option<Outcome> {
    let g = cx.g;
    let has_token = attrs.headers.iter().any(|(k, v)| {
        k == "authorization" && v.trim_start().to_ascii_lowercase().starts_with("bearer ")
    });
    let areq = AuthzRequest {
        method: attrs.method.clone(),
        path: attrs.path.clone(),
        port: cp,
        has_token,
        principal,
        source_namespace: if mtls {
            client
                .workload
                .map(|cw| g.resource(cw).namespace().to_string())
        } else {
            None
        },
    };
    let decision = g.authorize(w, &areq);
    let ns = g.resource(w).namespace().to_string();
    // Policies in the namespace that select nothing, and ignored removed APIs.
    let mut stray = Vec::new();
    for &p in g.in_namespace(&ns, Kind::AuthorizationPolicy) {
        if let Typed::Selecting(s) = &g.resource(p).typed {
            if let Some(sel) = s.selector.as_ref().filter(|l| !l.is_empty()) {
                if g.workloads_selected(&ns, sel).is_empty() {
                    stray.push(p);
                }
            }
        }
    }
    let legacy: Vec<usize> = g
        .in_namespace(&ns, Kind::LegacyPolicy)
        .iter()
        .chain(g.of_kind(Kind::LegacyMeshPolicy).iter())
        .copied()
        .collect();
    if decision.policies.is_empty()
        && decision.request_authentications.is_empty()
        && stray.is_empty()
        && legacy.is_empty()
    {
        return None;
    }
    let mut by: Vec<DecidedBy> = decision
        .decided_by
        .iter()
        .map(|(r, path)| {
            cx.by(
                *r,
                path,
                if decision.allowed {
                    "lets the request in"
                } else {
                    "rejects the request"
                },
            )
        })
        .collect();
    let wname = g.resource(w).name().to_string();
    let mut summary = format!(
        "{wname}: {} ({})",
        if decision.allowed {
            "allowed"
        } else {
            "denied"
        },
        decision.reason
    );
    if !decision.request_authentications.is_empty() {
        let ras: Vec<String> = decision
            .request_authentications
            .iter()
            .map(|&r| describe(g, r))
            .collect();
        summary.push_str(&format!(
            "; {} {}",
            ras.join(", "),
            if has_token {
                "validates the bearer token (meshlint cannot check it; assumed valid)"
            } else {
                "checks tokens only when present: a request without one passes it"
            }
        ));
        for &r in &decision.request_authentications {
            by.push(cx.by(r, "spec.jwtRules", "validates tokens that are present"));
        }
    }
    cx.hop("authorization", summary, by.clone());
    if !has_token && decision.allowed && !decision.request_authentications.is_empty() {
        let mut nby: Vec<DecidedBy> = decision
            .request_authentications
            .iter()
            .map(|&r| cx.by(r, "spec.jwtRules", "rejects only invalid tokens"))
            .collect();
        for &p in &stray {
            nby.push(cx.by(
                p,
                "spec.selector.matchLabels",
                "selects no workload, so it requires nothing",
            ));
        }
        cx.note(
            "authorization",
            format!(
                "a request without a token reaches {wname}: no AuthorizationPolicy selecting it requires a request principal{}",
                if stray.is_empty() {
                    String::new()
                } else {
                    format!(
                        " ({} selects no workload)",
                        stray.iter().map(|&p| describe(g, p)).collect::<Vec<_>>().join(", ")
                    )
                }
            ),
            nby,
        );
    }
    for &l in &legacy {
        let by = vec![cx.by(l, "apiVersion", "removed in Istio 1.6: ignored")];
        cx.note(
            "authorization",
            format!(
                "{} uses the removed authentication.istio.io/v1alpha1 API: neither its JWT (origins) nor its mTLS (peers) settings are in force",
                describe(g, l)
            ),
            by,
        );
    }
    if decision.allowed {
        return None;
    }
    Some(Outcome::failed(
        "403 RBAC: access denied",
        format!("{wname}'s sidecar rejects the request: {}", decision.reason),
        if !has_token
            && decision.decided_by.iter().any(|(r, _)| {
                g.resource(*r)
                    .spec()
                    .is_some_and(|s| format!("{s:?}").contains("requestPrincipals"))
            })
        {
            "send a valid token (Authorization: Bearer …) from the issuer the RequestAuthentication names".to_string()
        } else {
            "add an ALLOW rule that matches this request, or remove the DENY rule".to_string()
        },
        by,
    ))
}
