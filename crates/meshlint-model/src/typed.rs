//! Typed views of the fields the graph reasons about. Each keeps the field path of
//! what it read, so findings can point back at the YAML.

use crate::kinds::Kind;
use crate::resource::Resource;
use meshlint_load::Node;
use serde::Serialize;
use std::collections::BTreeMap;

pub use crate::labels::Labels;
pub use crate::text::Text;

/// The typed view of a resource, when its kind has one. Views of more than a few words
/// are boxed, so that each resource carries its own view's size rather than the
/// largest (`Typed` was 192 bytes, a DestinationRule's, in every resource).
#[derive(Debug, Clone, Serialize)]
pub enum Typed {
    None,
    Namespace(Namespace),
    Service(Box<Service>),
    Workload(Box<Workload>),
    DestinationRule(Box<DestinationRule>),
    VirtualService(Box<VirtualService>),
    Gateway(Box<Gateway>),
    ServiceEntry(Box<ServiceEntry>),
    Sidecar(Box<Sidecar>),
    PeerAuthentication(Box<PeerAuthentication>),
    /// RequestAuthentication, AuthorizationPolicy, Telemetry, WasmPlugin, EnvoyFilter:
    /// what matters to the graph is which workloads they select. Boxed like the other
    /// views: inline it made every resource's view 24 bytes instead of 16.
    Selecting(Box<Selecting>),
    WorkloadEntry(Box<WorkloadEntry>),
    /// Key names and certificate facts; never values.
    Secret(Box<crate::secret::Secret>),
}

#[derive(Debug, Clone, Serialize)]
pub struct Namespace {
    pub injection: Injection,
}

/// What a namespace label or pod annotation says about sidecar injection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Injection {
    Enabled,
    Disabled,
    Unset,
}

#[derive(Debug, Clone, Serialize)]
pub struct ServicePort {
    pub path: Text,
    pub name: Option<Text>,
    pub port: u32,
    pub target_port: Option<Text>,
    pub protocol: Option<Text>,
    pub app_protocol: Option<Text>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Service {
    pub selector: Option<Labels>,
    pub ports: Box<[ServicePort]>,
    pub export_to: Option<Box<[String]>>,
    pub service_type: Option<Text>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ContainerPort {
    pub name: Option<Text>,
    pub port: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct Workload {
    /// Labels of the pods (the template's for controllers).
    pub labels: Labels,
    pub annotations: Labels,
    pub ports: Box<[ContainerPort]>,
    /// The pod spec says it has a sidecar (an `istio-proxy` container, as in rendered pods).
    pub has_proxy_container: bool,
    /// `sidecar.istio.io/inject` on the pod (annotation or label).
    pub inject: Injection,
    pub service_account: Option<String>,
    /// Path to the pod spec within the resource (`spec.template.spec`, …).
    pub pod_spec_path: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct ClientTls {
    pub mode: Text,
    /// Path of the `tls` block.
    pub path: Text,
    pub has_ca: bool,
    pub has_client_cert: bool,
    pub credential_name: bool,
    pub sni: Option<Text>,
    pub insecure_skip_verify: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct PortTls {
    pub port: u32,
    pub tls: Option<ClientTls>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct TrafficPolicy {
    pub tls: Option<ClientTls>,
    pub port_level: Box<[PortTls]>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Subset {
    pub name: Text,
    pub path: Text,
    pub labels: Labels,
    /// `None` when the subset sets no TLS (most subsets only select pods): a policy
    /// inline took 80 bytes in every subset. Read it through [`Subset::traffic_policy`].
    pub own_traffic_policy: Option<Box<TrafficPolicy>>,
}

impl Subset {
    /// The subset's traffic policy (empty when it has none).
    pub fn traffic_policy(&self) -> &TrafficPolicy {
        static NONE: std::sync::OnceLock<TrafficPolicy> = std::sync::OnceLock::new();
        self.own_traffic_policy
            .as_deref()
            .unwrap_or_else(|| NONE.get_or_init(TrafficPolicy::default))
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct DestinationRule {
    pub host: String,
    pub export_to: Option<Box<[String]>>,
    pub workload_selector: Option<Labels>,
    pub traffic_policy: TrafficPolicy,
    pub subsets: Box<[Subset]>,
}

/// One route destination of a VirtualService.
#[derive(Debug, Clone, Serialize)]
pub struct RouteDestination {
    /// Path of the `destination` block.
    pub path: Text,
    pub host: String,
    pub port: Option<u32>,
    pub subset: Option<Text>,
    /// `http`, `tcp` or `tls`.
    pub protocol: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct GatewayRef {
    pub path: Text,
    pub name: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct VirtualService {
    pub hosts: Box<[String]>,
    pub gateways: Box<[GatewayRef]>,
    pub export_to: Option<Box<[String]>>,
    pub destinations: Box<[RouteDestination]>,
}

#[derive(Debug, Clone, Serialize)]
pub struct GatewayServer {
    pub path: Text,
    pub port: u32,
    pub protocol: Text,
    pub hosts: Box<[String]>,
    pub tls_mode: Option<Text>,
    pub credential_name: Option<String>,
    pub has_cert_files: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Gateway {
    pub selector: Labels,
    pub servers: Box<[GatewayServer]>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SePort {
    pub path: Text,
    pub number: u32,
    pub protocol: Option<Text>,
    pub name: Option<Text>,
    pub target_port: Option<u32>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ServiceEntry {
    pub hosts: Box<[String]>,
    pub addresses: Box<[String]>,
    pub ports: Box<[SePort]>,
    pub location: Text,
    pub resolution: Text,
    pub export_to: Option<Box<[String]>>,
    pub has_endpoints: bool,
    pub workload_selector: Option<Labels>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SidecarEgress {
    pub path: Text,
    pub port: Option<u32>,
    pub hosts: Box<[(Text, Text)]>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Sidecar {
    pub selector: Option<Labels>,
    pub egress: Box<[SidecarEgress]>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PortMode {
    pub port: u32,
    pub mode: Text,
    pub path: Text,
}

#[derive(Debug, Clone, Serialize)]
pub struct PeerAuthentication {
    pub selector: Option<Labels>,
    /// `UNSET` when absent.
    pub mode: Text,
    pub port_level: Box<[PortMode]>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Selecting {
    pub selector: Option<Labels>,
    pub has_target_ref: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct WorkloadEntry {
    pub labels: Labels,
    pub address: Option<String>,
    pub ports: BTreeMap<String, u32>,
    pub service_account: Option<String>,
}

/// A string-to-string mapping (labels, annotations, selectors); non-string values read
/// as empty.
pub(crate) fn labels(node: Option<&Node>) -> Labels {
    node.map(|n| {
        n.entries()
            .iter()
            .filter_map(|(k, v)| Some((k.as_str()?, v.as_str().unwrap_or(""))))
            .collect()
    })
    .unwrap_or_default()
}

/// The items of the sequence at `key` (nothing when absent or not a sequence).
fn items<'a>(node: Option<&'a Node>, key: &str) -> &'a [Node] {
    node.and_then(|n| n.get(key))
        .map(Node::items)
        .unwrap_or(&[])
}

fn strings(node: Option<&Node>) -> Box<[String]> {
    node.map(|n| {
        n.items()
            .iter()
            .filter_map(|i| i.as_str().map(str::to_string))
            .collect::<Vec<_>>()
    })
    .map(exact)
    .unwrap_or_default()
}

/// A list with no room to spare (nor a capacity word). Typed views live to the end of
/// the run, and a list collected through a filter or built by pushing starts with room
/// for four.
fn exact<T>(list: Vec<T>) -> Box<[T]> {
    list.into_boxed_slice()
}

fn opt_strings(node: Option<&Node>) -> Option<Box<[String]>> {
    node.filter(|n| n.as_seq().is_some())
        .map(|n| strings(Some(n)))
}

fn string(node: Option<&Node>) -> Option<String> {
    node.and_then(Node::as_str).map(str::to_string)
}

/// A string many resources write alike (a name, a mode, a protocol): shared.
fn text(node: Option<&Node>) -> Option<Text> {
    node.and_then(Node::as_str).map(Text::new)
}

/// A field path, formatted once per distinct spelling and shared.
fn path(args: std::fmt::Arguments<'_>) -> Text {
    match args.as_str() {
        Some(literal) => Text::new(literal),
        None => Text::new(&args.to_string()),
    }
}

fn port_number(node: Option<&Node>) -> Option<u32> {
    node.and_then(Node::as_i64)
        .and_then(|p| u32::try_from(p).ok())
}

fn selector(spec: Option<&Node>, key: &str) -> Option<Labels> {
    spec.and_then(|s| s.get(key))
        .and_then(|w| w.get("matchLabels").or(w.get("labels")))
        .map(|m| labels(Some(m)))
}

/// Reads an `exportTo` list from a field or the `networking.istio.io/exportTo` annotation.
fn export_to(r: &Resource) -> Option<Box<[String]>> {
    if let Some(list) = opt_strings(r.spec().and_then(|s| s.get("exportTo"))) {
        return Some(list);
    }
    r.annotations.get("networking.istio.io/exportTo").map(|v| {
        v.split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    })
}

impl Typed {
    pub fn extract(r: &Resource) -> Typed {
        let spec = r.spec();
        match r.kind {
            Kind::Namespace => Typed::Namespace(Namespace {
                injection: namespace_injection(&r.labels),
            }),
            Kind::Service => Typed::Service(Box::new(service(r, spec))),
            k if k.is_workload() => Typed::Workload(Box::new(workload(r))),
            Kind::DestinationRule => Typed::DestinationRule(Box::new(destination_rule(r, spec))),
            Kind::VirtualService => Typed::VirtualService(Box::new(virtual_service(r, spec))),
            Kind::Gateway => Typed::Gateway(Box::new(gateway(spec))),
            Kind::ServiceEntry => Typed::ServiceEntry(Box::new(service_entry(r, spec))),
            Kind::Sidecar => Typed::Sidecar(Box::new(sidecar(spec))),
            Kind::PeerAuthentication => {
                Typed::PeerAuthentication(Box::new(peer_authentication(spec)))
            }
            Kind::RequestAuthentication
            | Kind::AuthorizationPolicy
            | Kind::Telemetry
            | Kind::WasmPlugin
            | Kind::EnvoyFilter => Typed::Selecting(Box::new(Selecting {
                selector: selector(spec, "selector").or_else(|| selector(spec, "workloadSelector")),
                has_target_ref: spec
                    .is_some_and(|s| s.get("targetRef").is_some() || s.get("targetRefs").is_some()),
            })),
            Kind::WorkloadEntry => Typed::WorkloadEntry(Box::new(workload_entry(spec))),
            _ => Typed::None,
        }
    }
}

/// Injection as the namespace labels request it. `istio.io/rev` counts as enabled.
pub fn namespace_injection(labels: &Labels) -> Injection {
    match labels.get("istio-injection") {
        Some("enabled") => return Injection::Enabled,
        Some("disabled") => return Injection::Disabled,
        _ => {}
    }
    if labels.contains_key("istio.io/rev") {
        return Injection::Enabled;
    }
    Injection::Unset
}

fn service(r: &Resource, spec: Option<&Node>) -> Service {
    let ports = items(spec, "ports")
        .iter()
        .enumerate()
        .map(|(i, p)| ServicePort {
            path: path(format_args!("spec.ports[{i}]")),
            name: text(p.get("name")),
            port: port_number(p.get("port")).unwrap_or(0),
            target_port: text(p.get("targetPort")),
            protocol: text(p.get("protocol")),
            app_protocol: text(p.get("appProtocol")),
        })
        .collect();
    Service {
        selector: spec
            .and_then(|s| s.get("selector"))
            .map(|s| labels(Some(s))),
        ports,
        export_to: export_to(r),
        service_type: text(spec.and_then(|s| s.get("type"))),
    }
}

fn pod_template(r: &Resource) -> (Option<&Node>, Option<&Node>, &'static str) {
    let spec = r.spec();
    match r.kind {
        Kind::Pod => (r.node.get("metadata"), spec, "spec"),
        Kind::CronJob => {
            let t = spec
                .and_then(|s| s.get("jobTemplate"))
                .and_then(|j| j.get("spec"))
                .and_then(|s| s.get("template"));
            (
                t.and_then(|t| t.get("metadata")),
                t.and_then(|t| t.get("spec")),
                "spec.jobTemplate.spec.template.spec",
            )
        }
        _ => {
            let t = spec.and_then(|s| s.get("template"));
            (
                t.and_then(|t| t.get("metadata")),
                t.and_then(|t| t.get("spec")),
                "spec.template.spec",
            )
        }
    }
}

fn injection_value(v: Option<&str>) -> Injection {
    match v {
        Some("true" | "enabled") => Injection::Enabled,
        Some("false" | "disabled") => Injection::Disabled,
        _ => Injection::Unset,
    }
}

fn workload(r: &Resource) -> Workload {
    let (meta, pod, pod_spec_path) = pod_template(r);
    let pod_labels = labels(meta.and_then(|m| m.get("labels")));
    let pod_annotations = labels(meta.and_then(|m| m.get("annotations")));
    let containers = items(pod, "containers");
    let ports = containers
        .iter()
        .flat_map(|c| items(Some(c), "ports"))
        .filter_map(|p| {
            Some(ContainerPort {
                name: text(p.get("name")),
                port: port_number(p.get("containerPort"))?,
            })
        })
        .collect::<Vec<_>>();
    let ports = exact(ports);
    let has_proxy_container = containers
        .iter()
        .any(|c| c.str_at(&["name"]) == Some("istio-proxy"));
    let inject = match injection_value(pod_labels.get("sidecar.istio.io/inject")) {
        Injection::Unset => injection_value(pod_annotations.get("sidecar.istio.io/inject")),
        other => other,
    };
    Workload {
        labels: pod_labels,
        annotations: pod_annotations,
        ports,
        has_proxy_container,
        inject,
        service_account: string(pod.and_then(|p| p.get("serviceAccountName")))
            .or_else(|| string(pod.and_then(|p| p.get("serviceAccount")))),
        pod_spec_path,
    }
}

fn client_tls(node: Option<&Node>, path: Text) -> Option<ClientTls> {
    let tls = node?;
    tls.as_map()?;
    Some(ClientTls {
        mode: text(tls.get("mode")).unwrap_or_else(|| Text::new("DISABLE")),
        path,
        has_ca: tls.get("caCertificates").is_some_and(|n| !n.is_null()),
        has_client_cert: tls.get("clientCertificate").is_some() || tls.get("privateKey").is_some(),
        credential_name: tls.get("credentialName").is_some_and(|n| !n.is_null()),
        sni: text(tls.get("sni")),
        insecure_skip_verify: tls.get("insecureSkipVerify").and_then(Node::as_bool) == Some(true),
    })
}

fn traffic_policy(node: Option<&Node>, at: &str) -> TrafficPolicy {
    let Some(tp) = node else {
        return TrafficPolicy::default();
    };
    let port_level = items(Some(tp), "portLevelSettings")
        .iter()
        .enumerate()
        .filter_map(|(i, pls)| {
            let port = port_number(pls.get("port").and_then(|p| p.get("number")))?;
            Some(PortTls {
                port,
                tls: client_tls(
                    pls.get("tls"),
                    path(format_args!("{at}.portLevelSettings[{i}].tls")),
                ),
            })
        })
        .collect::<Vec<_>>();
    let port_level = exact(port_level);
    TrafficPolicy {
        tls: client_tls(tp.get("tls"), path(format_args!("{at}.tls"))),
        port_level,
    }
}

fn destination_rule(r: &Resource, spec: Option<&Node>) -> DestinationRule {
    let subsets = items(spec, "subsets")
        .iter()
        .enumerate()
        .map(|(i, s)| Subset {
            name: text(s.get("name")).unwrap_or_else(|| Text::new("")),
            path: path(format_args!("spec.subsets[{i}]")),
            labels: labels(s.get("labels")),
            own_traffic_policy: s.get("trafficPolicy").and_then(|tp| {
                let policy = traffic_policy(Some(tp), &format!("spec.subsets[{i}].trafficPolicy"));
                (policy.tls.is_some() || !policy.port_level.is_empty()).then(|| Box::new(policy))
            }),
        })
        .collect();
    DestinationRule {
        host: string(spec.and_then(|s| s.get("host"))).unwrap_or_default(),
        export_to: export_to(r),
        workload_selector: selector(spec, "workloadSelector"),
        traffic_policy: traffic_policy(
            spec.and_then(|s| s.get("trafficPolicy")),
            "spec.trafficPolicy",
        ),
        subsets,
    }
}

fn virtual_service(r: &Resource, spec: Option<&Node>) -> VirtualService {
    let mut destinations = Vec::new();
    let mut gateways: Vec<GatewayRef> = items(spec, "gateways")
        .iter()
        .enumerate()
        .filter_map(|(i, g)| {
            Some(GatewayRef {
                path: path(format_args!("spec.gateways[{i}]")),
                name: g.as_str()?.to_string(),
            })
        })
        .collect();
    for protocol in ["http", "tcp", "tls"] {
        let routes = items(spec, protocol);
        for (ri, route) in routes.iter().enumerate() {
            for (mi, m) in items(Some(route), "match").iter().enumerate() {
                for (gi, g) in items(Some(m), "gateways").iter().enumerate() {
                    if let Some(name) = g.as_str() {
                        gateways.push(GatewayRef {
                            path: path(format_args!(
                                "spec.{protocol}[{ri}].match[{mi}].gateways[{gi}]"
                            )),
                            name: name.to_string(),
                        });
                    }
                }
            }
            let mut push = |dest: Option<&Node>, path: Text| {
                // A destination without a host is the schema's finding (a required
                // field); no rule may resolve the empty string as a host.
                let host = dest.and_then(|d| string(d.get("host")).filter(|h| !h.is_empty()));
                if let (Some(d), Some(host)) = (dest, host) {
                    destinations.push(RouteDestination {
                        path,
                        host,
                        port: port_number(d.get("port").and_then(|p| p.get("number"))),
                        subset: text(d.get("subset")),
                        protocol,
                    });
                }
            };
            for (di, rd) in items(Some(route), "route").iter().enumerate() {
                push(
                    rd.get("destination"),
                    path(format_args!(
                        "spec.{protocol}[{ri}].route[{di}].destination"
                    )),
                );
            }
            push(
                route.get("mirror"),
                path(format_args!("spec.{protocol}[{ri}].mirror")),
            );
            for (mi, m) in items(Some(route), "mirrors").iter().enumerate() {
                push(
                    m.get("destination"),
                    path(format_args!(
                        "spec.{protocol}[{ri}].mirrors[{mi}].destination"
                    )),
                );
            }
        }
    }
    VirtualService {
        hosts: strings(spec.and_then(|s| s.get("hosts"))),
        gateways: exact(gateways),
        export_to: export_to(r),
        destinations: exact(destinations),
    }
}

fn gateway(spec: Option<&Node>) -> Gateway {
    let servers = items(spec, "servers")
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let tls = s.get("tls");
            GatewayServer {
                path: path(format_args!("spec.servers[{i}]")),
                port: port_number(s.get("port").and_then(|p| p.get("number"))).unwrap_or(0),
                protocol: Text::new(
                    &string(s.get("port").and_then(|p| p.get("protocol")))
                        .unwrap_or_default()
                        .to_ascii_uppercase(),
                ),
                hosts: strings(s.get("hosts")),
                tls_mode: tls
                    .map(|t| text(t.get("mode")).unwrap_or_else(|| Text::new("PASSTHROUGH"))),
                credential_name: string(tls.and_then(|t| t.get("credentialName"))),
                has_cert_files: tls.is_some_and(|t| {
                    t.get("serverCertificate").is_some() || t.get("privateKey").is_some()
                }),
            }
        })
        .collect();
    Gateway {
        selector: labels(spec.and_then(|s| s.get("selector"))),
        servers,
    }
}

fn service_entry(r: &Resource, spec: Option<&Node>) -> ServiceEntry {
    let ports = items(spec, "ports")
        .iter()
        .enumerate()
        .map(|(i, p)| SePort {
            path: path(format_args!("spec.ports[{i}]")),
            number: port_number(p.get("number")).unwrap_or(0),
            protocol: string(p.get("protocol")).map(|s| Text::new(&s.to_ascii_uppercase())),
            name: text(p.get("name")),
            target_port: port_number(p.get("targetPort")),
        })
        .collect();
    ServiceEntry {
        hosts: strings(spec.and_then(|s| s.get("hosts"))),
        addresses: strings(spec.and_then(|s| s.get("addresses"))),
        ports,
        location: text(spec.and_then(|s| s.get("location")))
            .unwrap_or_else(|| Text::new("MESH_EXTERNAL")),
        resolution: text(spec.and_then(|s| s.get("resolution")))
            .unwrap_or_else(|| Text::new("NONE")),
        export_to: export_to(r),
        has_endpoints: spec
            .and_then(|s| s.get("endpoints"))
            .is_some_and(|e| !e.items().is_empty()),
        workload_selector: selector(spec, "workloadSelector"),
    }
}

fn sidecar(spec: Option<&Node>) -> Sidecar {
    let egress = items(spec, "egress")
        .iter()
        .enumerate()
        .map(|(i, e)| SidecarEgress {
            path: path(format_args!("spec.egress[{i}]")),
            port: port_number(e.get("port").and_then(|p| p.get("number"))),
            hosts: items(Some(e), "hosts")
                .iter()
                .filter_map(Node::as_str)
                .map(|h| match h.split_once('/') {
                    Some((ns, host)) => (Text::new(ns), Text::new(host)),
                    None => (Text::new("*"), Text::new(h)),
                })
                .collect(),
        })
        .collect();
    Sidecar {
        selector: selector(spec, "workloadSelector"),
        egress,
    }
}

fn peer_authentication(spec: Option<&Node>) -> PeerAuthentication {
    let mode = text(spec.and_then(|s| s.get("mtls")).and_then(|m| m.get("mode")))
        .unwrap_or_else(|| Text::new("UNSET"));
    let port_level = spec
        .and_then(|s| s.get("portLevelMtls"))
        .map(|p| p.entries())
        .unwrap_or(&[])
        .iter()
        .filter_map(|(k, v)| {
            let port: u32 = k.as_str()?.parse().ok()?;
            Some(PortMode {
                port,
                mode: text(v.get("mode")).unwrap_or_else(|| Text::new("UNSET")),
                path: path(format_args!("spec.portLevelMtls[\"{port}\"]")),
            })
        })
        .collect();
    PeerAuthentication {
        selector: selector(spec, "selector"),
        mode,
        port_level,
    }
}

fn workload_entry(spec: Option<&Node>) -> WorkloadEntry {
    WorkloadEntry {
        labels: labels(spec.and_then(|s| s.get("labels"))),
        address: string(spec.and_then(|s| s.get("address"))),
        ports: spec
            .and_then(|s| s.get("ports"))
            .map(|p| p.entries())
            .unwrap_or(&[])
            .iter()
            .filter_map(|(k, v)| Some((k.as_str()?.to_string(), port_number(Some(v))?)))
            .collect(),
        service_account: string(spec.and_then(|s| s.get("serviceAccount"))),
    }
}
