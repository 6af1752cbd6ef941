//! The mTLS rules' answers (`tls_answers.rs`) and the reference rules' answers
//! (`reference_answers.rs`): each names the resource and field that decided it.

mod common;

use common::{dr, graph, graph_of, idx, pa};
use meshlint_graph::{MeshGraph, NonMeshReason, PortLevelMtlsIssue, TlsConflict};
use meshlint_model::{Kind, MeshConfig};

fn ns(name: &str, inject: bool) -> String {
    let labels = if inject {
        "\n  labels: {istio-injection: enabled}"
    } else {
        ""
    };
    format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {name}{labels}\n---\n")
}

fn app(ns: &str, name: &str, port: u32, annotations: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}, namespace: {ns}}}\nspec:\n  selector: {{matchLabels: {{app: {name}}}}}\n  template:\n    metadata:\n      labels: {{app: {name}}}\n      annotations: {{{annotations}}}\n    spec: {{containers: [{{name: c, image: x, ports: [{{containerPort: {port}}}]}}]}}\n---\napiVersion: v1\nkind: Service\nmetadata: {{name: {name}, namespace: {ns}}}\nspec:\n  selector: {{app: {name}}}\n  ports: [{{name: http, port: 80, targetPort: {port}}}, {{name: https, port: 443, targetPort: 8443}}]\n---\n"
    )
}

fn name(g: &MeshGraph, i: usize) -> String {
    let r = &g.resources[i];
    format!("{}/{}", r.namespace(), r.name())
}

#[test]
fn strict_ports_come_from_the_deciding_policy() {
    let g = graph(
        &(ns("shop", true)
            + &app("shop", "web", 8080, "")
            + &app(
                "shop",
                "db",
                5432,
                "traffic.sidecar.istio.io/excludeInboundPorts: '5432'",
            )
            + &pa("shop", "default", "STRICT")),
    );
    let p = idx(&g, Kind::PeerAuthentication, "shop", "default");
    let ports: Vec<String> = g.strict_ports(p).iter().map(|s| s.address()).collect();
    // db's port 80 reaches 5432, which bypasses the sidecar: not locked.
    assert_eq!(
        ports,
        [
            "web.shop.svc.cluster.local:80",
            "web.shop.svc.cluster.local:443",
            "db.shop.svc.cluster.local:443"
        ]
    );
    assert!(g
        .strict_ports(p)
        .iter()
        .all(|s| s.policy == (p, "spec.mtls.mode".into())));
}

#[test]
fn uninjected_namespace_calls_strict_ports_elsewhere() {
    let yaml = ns("shop", true)
        + &app("shop", "web", 8080, "")
        + &pa("shop", "default", "STRICT")
        + &ns("legacy", false)
        + &app("legacy", "old", 9000, "")
        + &ns("other", true)
        + &app("other", "fine", 9000, "");
    let g = graph(&yaml);
    let c = g
        .plaintext_callers("legacy")
        .expect("legacy calls plaintext");
    assert_eq!(c.workloads, [idx(&g, Kind::Deployment, "legacy", "old")]);
    assert_eq!(c.strict.len(), 2);
    // Injected namespaces, and the STRICT namespace itself, are not plaintext callers.
    assert!(g.plaintext_callers("other").is_none());
    assert!(g.plaintext_callers("shop").is_none());
}

#[test]
fn strict_ports_without_client_tls_when_auto_mtls_is_off() {
    let mesh = MeshConfig {
        enable_auto_mtls: false,
        ..MeshConfig::default()
    };
    let yaml = ns("shop", true)
        + &app("shop", "web", 8080, "")
        + &pa("shop", "default", "STRICT")
        + &ns("front", true)
        + &app("front", "ui", 3000, "")
        + &dr(
            "front",
            "mutual",
            "web.shop.svc.cluster.local",
            "ISTIO_MUTUAL",
        );
    let g = graph_of(&yaml, mesh, false);
    let p = idx(&g, Kind::PeerAuthentication, "shop", "default");
    let pairs: Vec<(String, String)> = g
        .clients_without_mtls(p)
        .iter()
        .map(|c| (c.client.clone(), c.port.address()))
        .collect();
    // `front` finds its own ISTIO_MUTUAL rule; `shop`'s clients find nothing.
    assert_eq!(
        pairs,
        [
            (
                "shop".to_string(),
                "web.shop.svc.cluster.local:80".to_string()
            ),
            (
                "shop".to_string(),
                "web.shop.svc.cluster.local:443".to_string()
            )
        ]
    );
    let misplaced = g.misplaced_istio_mutual(&["web.shop.svc.cluster.local"]);
    assert_eq!(
        misplaced,
        [idx(&g, Kind::DestinationRule, "front", "mutual")]
    );
    // With auto mTLS on, nothing is missing.
    let g = graph(&yaml);
    assert!(g.clients_without_mtls(p).is_empty());
}

#[test]
fn disable_toward_strict_names_the_policy() {
    let yaml = ns("shop", true)
        + &app("shop", "web", 8080, "")
        + &pa("shop", "default", "STRICT")
        + &dr("shop", "plain", "web", "DISABLE");
    let g = graph(&yaml);
    let d = idx(&g, Kind::DestinationRule, "shop", "plain");
    let c = g.tls_conflicts(d, TlsConflict::PlaintextToStrict);
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].at, "spec.trafficPolicy.tls.mode");
    assert_eq!(c[0].hits.len(), 2);
    let p = idx(&g, Kind::PeerAuthentication, "shop", "default");
    assert!(c[0]
        .hits
        .iter()
        .all(|h| h.at == (p, "spec.mtls.mode".to_string())));
    // Used by the proxies of `shop`: not latent.
    assert!(!g.destination_rule_use(d).latent);
    assert!(g
        .tls_conflicts(d, TlsConflict::IstioMutualToNonMesh)
        .is_empty());
}

#[test]
fn istio_mutual_toward_servers_that_cannot_answer() {
    let se = "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: ext, namespace: shop}\nspec:\n  hosts: [api.example.com]\n  location: MESH_EXTERNAL\n  ports: [{number: 443, name: https, protocol: HTTPS}]\n---\n";
    let yaml = ns("shop", true)
        + &app(
            "shop",
            "web",
            8080,
            "traffic.sidecar.istio.io/excludeInboundPorts: '8080'",
        )
        + &ns("legacy", false)
        + &app("legacy", "old", 9000, "")
        + se
        + &dr("shop", "web", "web", "ISTIO_MUTUAL")
        + &dr("shop", "ext", "api.example.com", "ISTIO_MUTUAL")
        + &dr("legacy", "old", "old", "ISTIO_MUTUAL");
    let g = graph(&yaml);
    let reasons = |name: &str, ns: &str| -> Vec<(Option<NonMeshReason>, String)> {
        let d = idx(&g, Kind::DestinationRule, ns, name);
        g.tls_conflicts(d, TlsConflict::IstioMutualToNonMesh)
            .iter()
            .flat_map(|c| c.hits.iter().map(|h| (h.reason, h.at.1.clone())))
            .collect()
    };
    assert_eq!(
        reasons("web", "shop"),
        [(
            Some(NonMeshReason::Bypass),
            "spec.template.metadata.annotations[\"traffic.sidecar.istio.io/excludeInboundPorts\"]"
                .to_string()
        )]
    );
    assert_eq!(
        reasons("ext", "shop"),
        [(Some(NonMeshReason::External), "metadata.name".to_string())]
    );
    // The namespace without an injection label decides.
    let old = reasons("old", "legacy");
    assert_eq!(old.len(), 2);
    assert!(old
        .iter()
        .all(|(r, _)| *r == Some(NonMeshReason::NoSidecar)));
}

#[test]
fn tls_toward_application_tls_ports() {
    let yaml = ns("shop", true)
        + &app("shop", "web", 8080, "")
        + &dr("shop", "mutual", "web", "ISTIO_MUTUAL")
        + &ns("front", true)
        + &app("front", "ui", 3000, "")
        + &dr("front", "simple", "web.shop.svc.cluster.local", "SIMPLE");
    let g = graph(&yaml);
    let mutual = idx(&g, Kind::DestinationRule, "shop", "mutual");
    let c = g.tls_conflicts(mutual, TlsConflict::IstioMutualToAppTls);
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].hits.len(), 1, "only the HTTPS port");
    assert_eq!(c[0].hits[0].port.number, 443);
    assert!(c[0].hits[0].gateway_routes.is_empty());
    let simple = idx(&g, Kind::DestinationRule, "front", "simple");
    let c = g.tls_conflicts(simple, TlsConflict::OriginationOnTlsPort);
    assert_eq!(c.len(), 1);
    assert_eq!(c[0].hits[0].port.number, 443);
    // Outside the lookup path of every other namespace: only `front` uses it.
    let used = g.destination_rule_use(simple);
    assert!(!used.latent && !used.own_namespace_only);
}

#[test]
fn auto_mtls_toward_a_port_bypassing_the_sidecar() {
    let yaml = ns("shop", true)
        + &app(
            "shop",
            "web",
            8080,
            "traffic.sidecar.istio.io/excludeInboundPorts: '8080'",
        )
        + &ns("front", true)
        + &app("front", "ui", 3000, "")
        + &dr("front", "off", "web.shop.svc.cluster.local", "DISABLE");
    let g = graph(&yaml);
    let w = idx(&g, Kind::Deployment, "shop", "web");
    let b = g.auto_mtls_to_bypassed_ports(w);
    assert_eq!(b.len(), 1);
    assert_eq!((b[0].port, b[0].container_port), (80, 8080));
    // `front` turned TLS off for the host; `shop`'s own clients did not.
    assert_eq!(b[0].clients, ["shop"]);
    let ui = idx(&g, Kind::Deployment, "front", "ui");
    assert!(g.auto_mtls_to_bypassed_ports(ui).is_empty());
}

#[test]
fn port_level_mtls_that_never_applies() {
    let pa_ports = |name: &str, selector: &str| {
        format!(
            "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {{name: {name}, namespace: shop}}\nspec:\n{selector}  portLevelMtls:\n    '80': {{mode: DISABLE}}\n    '8080': {{mode: DISABLE}}\n---\n"
        )
    };
    let yaml = ns("shop", true)
        + &app("shop", "web", 8080, "")
        + &pa_ports("wide", "")
        + &pa_ports("web", "  selector: {matchLabels: {app: web}}\n");
    let g = graph(&yaml);
    let wide = idx(&g, Kind::PeerAuthentication, "shop", "wide");
    assert_eq!(
        g.port_level_mtls_ignored(wide),
        [PortLevelMtlsIssue::NoSelector {
            ports: vec!["80".to_string(), "8080".to_string()]
        }]
    );
    let web = idx(&g, Kind::PeerAuthentication, "shop", "web");
    let svc = idx(&g, Kind::Service, "shop", "web");
    assert_eq!(
        g.port_level_mtls_ignored(web),
        [PortLevelMtlsIssue::NoPort {
            port: "80".to_string(),
            workloads: vec![idx(&g, Kind::Deployment, "shop", "web")],
            container_ports: vec!["8080".to_string()],
            service_ports: vec![(svc, "8080".to_string())],
        }]
    );
}

#[test]
fn gateway_servers_facing_outside_clients() {
    let yaml = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: ingress, namespace: edge}\nspec:\n  selector: {matchLabels: {istio: ingressgateway}}\n  template:\n    metadata: {labels: {istio: ingressgateway}}\n    spec: {containers: [{name: istio-proxy, image: proxyv2}]}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: ingress, namespace: edge}\nspec:\n  type: LoadBalancer\n  selector: {istio: ingressgateway}\n  ports: [{name: https, port: 443, targetPort: 8443}]\n---\napiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: public, namespace: edge}\nspec:\n  selector: {istio: ingressgateway}\n  servers:\n  - port: {number: 8443, name: https, protocol: HTTPS}\n    hosts: ['*']\n    tls: {mode: ISTIO_MUTUAL}\n  - port: {number: 15443, name: tls, protocol: TLS}\n    hosts: ['*']\n    tls: {mode: ISTIO_MUTUAL}\n---\n";
    let g = graph(yaml);
    let gw = idx(&g, Kind::Gateway, "edge", "public");
    let s = g.externally_facing_servers(gw);
    // Only 8443 is exposed by the LoadBalancer (through its targetPort).
    assert_eq!(s.len(), 1);
    assert_eq!(
        (s[0].index, s[0].port, s[0].mode.as_str()),
        (0, 8443, "ISTIO_MUTUAL")
    );
    assert_eq!(name(&g, s[0].exposed_by[0]), "edge/ingress");
}

#[test]
fn service_ports_without_a_declared_protocol() {
    let yaml = "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\nspec:\n  ports:\n  - {name: web, port: 80}\n  - {name: http-api, port: 8080}\n  - {port: 9000, appProtocol: grpc}\n  - {port: 53, protocol: UDP}\n  - {port: 7000}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: dns, namespace: kube-system}\nspec:\n  ports: [{name: dns, port: 53}]\n---\n";
    let g = graph(yaml);
    let web = idx(&g, Kind::Service, "shop", "web");
    let ports: Vec<(usize, Option<String>, i64)> = g
        .undeclared_protocol_ports(web)
        .into_iter()
        .map(|p| (p.index, p.name, p.number))
        .collect();
    assert_eq!(ports, [(0, Some("web".to_string()), 80), (4, None, 7000)]);
    let dns = idx(&g, Kind::Service, "kube-system", "dns");
    assert!(g.undeclared_protocol_ports(dns).is_empty());
}

#[test]
fn gateways_entries_naming_nothing() {
    let yaml = "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: public, namespace: istio-system}\nspec:\n  selector: {istio: ingressgateway}\n  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ['*']}]\n---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: web, namespace: shop}\nspec:\n  hosts: [web]\n  gateways: [mesh, public, istio-system/public, elsewhere]\n  http: [{route: [{destination: {host: web}}]}]\n---\n";
    let g = graph(yaml);
    let vs = idx(&g, Kind::VirtualService, "shop", "web");
    let missing = g.missing_gateways(vs);
    let got: Vec<(usize, bool, usize)> = missing
        .iter()
        .map(|m| {
            (
                m.index,
                m.lookup.certain,
                m.lookup.same_name_elsewhere.len(),
            )
        })
        .collect();
    // `public` exists in istio-system (a certain mistake); `elsewhere` may be defined
    // outside the inputs.
    assert_eq!(got, [(1, true, 1), (3, false, 0)]);
}

#[test]
fn subsets_selecting_no_workload() {
    let yaml = ns("shop", true)
        + &app("shop", "web", 8080, "")
        + "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: web, namespace: shop}\nspec:\n  host: web\n  subsets:\n  - {name: all, labels: {app: web}}\n  - {name: v2, labels: {app: web, version: v2}}\n  - {name: none}\n---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: web, namespace: shop}\nspec:\n  hosts: [web]\n  http: [{route: [{destination: {host: web, subset: v2}}]}]\n---\n";
    let g = graph(&yaml);
    let d = idx(&g, Kind::DestinationRule, "shop", "web");
    let (workloads, empty) = g.subsets_selecting_nothing(d);
    assert_eq!(workloads, [idx(&g, Kind::Deployment, "shop", "web")]);
    assert_eq!(empty.len(), 1);
    assert_eq!(
        (empty[0].index, empty[0].name.as_str(), empty[0].routed),
        (1, "v2", true)
    );
}

#[test]
fn gateway_servers_terminating_tls_without_certificate() {
    let yaml = "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: public, namespace: edge}\nspec:\n  selector: {istio: ingressgateway}\n  servers:\n  - port: {number: 443, name: https, protocol: HTTPS}\n    hosts: ['*']\n    tls: {mode: SIMPLE}\n  - port: {number: 8443, name: https2, protocol: HTTPS}\n    hosts: ['*']\n    tls: {mode: SIMPLE, credentialName: cert}\n  - port: {number: 9443, name: tls, protocol: TLS}\n    hosts: ['*']\n    tls: {mode: PASSTHROUGH}\n---\n";
    let g = graph(yaml);
    let gw = idx(&g, Kind::Gateway, "edge", "public");
    let s = g.servers_without_certificate(gw);
    assert_eq!(s.len(), 1);
    assert_eq!(
        (s[0].index, s[0].port.as_str(), s[0].mode.as_str()),
        (0, "443", "SIMPLE")
    );
}
