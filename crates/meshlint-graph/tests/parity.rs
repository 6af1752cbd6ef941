//! The `istioctl analyze` parity queries of one resource: gateway pods, credentials and
//! ports; EnvoyFilter operations; control-plane webhooks, JWKS fetching, mesh networks;
//! Telemetry providers; deprecations; status conditions; the proxy UID and ExternalName
//! ports; client TLS without a CA.

mod common;
use common::*;
use meshlint_graph::{CredentialProblem, MeshGraph};
use meshlint_load::{load_source, LoadLimits};
use meshlint_model::{Kind, MeshConfig};

fn paths(issues: &[meshlint_graph::FieldIssue]) -> Vec<(&str, &str)> {
    issues.iter().map(|x| (x.code, x.path.as_str())).collect()
}

/// A graph whose mesh config is `mesh` (YAML of a MeshConfig).
fn graph_with_mesh(yaml: &str, mesh: &str) -> MeshGraph {
    let m = load_source(
        "mesh.yaml".into(),
        mesh.as_bytes().to_vec(),
        &LoadLimits::default(),
    );
    let config = MeshConfig::from_node(&m.documents[0].root);
    graph_of(yaml, config, false)
}

const GATEWAY_PODS: &str = r#"
apiVersion: v1
kind: Pod
metadata: {name: ingress-1, namespace: edge, labels: {istio: ingressgateway}}
spec: {containers: [{name: istio-proxy, image: proxyv2}]}
---
apiVersion: v1
kind: Service
metadata: {name: ingress, namespace: edge}
spec:
  selector: {istio: ingressgateway}
  ports:
  - {name: http, port: 80, targetPort: 8080}
  - {name: dns, port: 53, protocol: UDP}
---
apiVersion: v1
kind: Secret
metadata: {name: good-cert, namespace: edge}
type: kubernetes.io/tls
data: {tls.crt: bm90IGEgY2VydA==, tls.key: a2V5}
---
apiVersion: v1
kind: Secret
metadata: {name: wrong-keys, namespace: edge}
data: {certificate: eA==}
"#;

#[test]
fn gateway_servers_against_the_pods_that_run_them() {
    let yaml = format!(
        "{GATEWAY_PODS}---\n{}",
        r#"apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: public, namespace: shop}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: [a.example.com]
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: [a.example.com]
    tls: {mode: SIMPLE, credentialName: missing}
  - port: {number: 443, name: https-2, protocol: HTTPS}
    hosts: [b.example.com]
    tls: {mode: SIMPLE, credentialName: wrong-keys}
  - port: {number: 8443, name: https-3, protocol: HTTPS}
    hosts: [c.example.com]
    tls: {mode: SIMPLE, credentialName: missing}
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: nowhere, namespace: shop}
spec:
  selector: {istio: egressgateway, tier: edge}
  servers:
  - port: {number: 443, name: https, protocol: HTTPS}
    hosts: [a.example.com]
    tls: {mode: SIMPLE, credentialName: missing}
"#
    );
    let g = graph(&yaml);
    let public = idx(&g, Kind::Gateway, "shop", "public");
    let nowhere = idx(&g, Kind::Gateway, "shop", "nowhere");

    // The pods live in `edge`: credentials are looked up there, once per name.
    let creds = g.gateway_credentials(public);
    let summary: Vec<_> = creds
        .iter()
        .map(|c| {
            (
                c.server,
                c.name.as_str(),
                c.namespace.as_str(),
                c.secret.is_some(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (1, "missing", "edge", false),
            (2, "wrong-keys", "edge", true)
        ]
    );
    assert_eq!(
        creds[1].problem,
        Some(CredentialProblem::MissingKeys(vec!["certificate".into()]))
    );
    assert_eq!(
        creds[1].problem.as_ref().unwrap().describe(),
        "has neither `tls.crt`/`tls.key` nor `cert`/`key` (it has `certificate`)"
    );

    // 80 and 8080 are exposed over TCP (53 is UDP); 443 is reported once, 8443 too.
    let ports = g.gateway_ports_not_exposed(public);
    assert_eq!(
        paths(&ports),
        vec![
            ("port-not-exposed", "spec.servers[1].port.number"),
            ("port-not-exposed", "spec.servers[3].port.number"),
        ]
    );
    assert_eq!(ports[0].value, "443");
    assert_eq!(ports[0].numbers, vec![80, 8080]);

    assert!(g.gateway_without_pods(public).is_empty());
    let none = g.gateway_without_pods(nowhere);
    assert_eq!(paths(&none), vec![("no-pods", "spec.selector")]);
    assert_eq!(none[0].value, "istio=egressgateway, tier=edge");
    // Without pods, nothing is said about credentials or ports.
    assert!(g.gateway_credentials(nowhere).is_empty());
    assert!(g.gateway_ports_not_exposed(nowhere).is_empty());
}

#[test]
fn a_gateway_whose_deployment_is_in_the_inputs_has_pods_elsewhere() {
    let g = graph(
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: ingress, namespace: shop}
spec:
  selector: {matchLabels: {istio: ingressgateway}}
  template:
    metadata: {labels: {istio: ingressgateway}}
    spec: {containers: [{name: istio-proxy, image: proxyv2}]}
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: public, namespace: shop}
spec:
  selector: {istio: ingressgateway}
  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["*"]}]
"#,
    );
    let gw = idx(&g, Kind::Gateway, "shop", "public");
    assert!(g.gateway_without_pods(gw).is_empty());
}

#[test]
fn unsupported_envoy_filter_operations_up_to_the_first_patch_without_patch() {
    let g = graph(
        r#"
apiVersion: networking.istio.io/v1alpha3
kind: EnvoyFilter
metadata: {name: ops, namespace: shop}
spec:
  configPatches:
  - {applyTo: HTTP_FILTER, patch: {operation: REPLACE, value: {name: a}}}
  - {applyTo: CLUSTER, patch: {operation: REPLACE}}
  - {applyTo: LISTENER, patch: {operation: REPLACE}}
  - {applyTo: HTTP_ROUTE, patch: {operation: ADD}}
  - {applyTo: ROUTE_CONFIGURATION}
  - {applyTo: HTTP_ROUTE, patch: {operation: REMOVE}}
"#,
    );
    let ef = idx(&g, Kind::EnvoyFilter, "shop", "ops");
    let ops = g.unsupported_patches(ef);
    // The REMOVE comes after a patch without `patch`, where Istio stops reading.
    assert_eq!(
        paths(&ops),
        vec![
            ("replace", "spec.configPatches[1].patch.operation"),
            ("add", "spec.configPatches[3].patch.operation"),
        ]
    );
    assert_eq!((ops[0].value.as_str(), ops[0].numbers[0]), ("CLUSTER", 1));
}

#[test]
fn istio_webhooks_that_cannot_reach_istiod() {
    let g = graph(
        r#"
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata: {name: istio-sidecar-injector-ext}
webhooks:
- {name: blank, clientConfig: {url: }}
- {name: spaces, clientConfig: {url: "https://istiod example:15017/inject"}}
- {name: by-ip, clientConfig: {url: "https://10.0.0.7:15017/inject"}}
- {name: by-service, clientConfig: {service: {name: istiod, namespace: istio-system}}}
- {name: fine, clientConfig: {url: "https://istiod.example.com:15017/inject"}}
---
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata: {name: other-injector}
webhooks:
- {name: blank, clientConfig: {}}
"#,
    );
    let istio = idx(
        &g,
        Kind::MutatingWebhookConfiguration,
        "",
        "istio-sidecar-injector-ext",
    );
    let issues: Vec<_> = g
        .webhook_target_issues(istio)
        .into_iter()
        .map(|w| (w.code, w.webhook, w.path, w.value))
        .collect();
    assert_eq!(
        issues,
        vec![
            (
                "no-target",
                "blank".into(),
                "webhooks[0].clientConfig".into(),
                String::new()
            ),
            (
                "invalid-url",
                "spaces".into(),
                "webhooks[1].clientConfig.url".into(),
                "https://istiod example:15017/inject".into()
            ),
            (
                "ip-address",
                "by-ip".into(),
                "webhooks[2].clientConfig.url".into(),
                "10.0.0.7:15017".into()
            ),
        ]
    );
    let other = idx(&g, Kind::MutatingWebhookConfiguration, "", "other-injector");
    assert!(g.webhook_target_issues(other).is_empty());
}

#[test]
fn istiod_fetches_jwks_unguarded_only_when_some_request_authentication_exists() {
    let istiod = |env: &str| {
        format!(
            r#"
apiVersion: apps/v1
kind: Deployment
metadata: {{name: istiod, namespace: istio-system, labels: {{app: istiod}}}}
spec:
  template:
    spec:
      containers: [{{name: discovery, image: pilot, env: [{env}]}}]
"#
        )
    };
    let ra = "---\napiVersion: security.istio.io/v1\nkind: RequestAuthentication\nmetadata: {name: jwt, namespace: shop}\nspec: {}\n";
    let g = graph(&format!(
        "{}{ra}",
        istiod("{name: PILOT_TRACE_SAMPLING, value: '1'}")
    ));
    let d = idx(&g, Kind::Deployment, "istio-system", "istiod");
    let jwt = idx(&g, Kind::RequestAuthentication, "shop", "jwt");
    assert_eq!(g.unrestricted_jwks_fetch(d), Some(jwt));

    let guarded = graph(&format!(
        "{}{ra}",
        istiod("{name: BLOCKED_CIDRS_IN_JWKS_URIS, value: 169.254.169.254/32}")
    ));
    let d = idx(&guarded, Kind::Deployment, "istio-system", "istiod");
    assert_eq!(guarded.unrestricted_jwks_fetch(d), None);

    let alone = graph(&istiod("{name: X, value: y}"));
    let d = idx(&alone, Kind::Deployment, "istio-system", "istiod");
    assert_eq!(alone.unrestricted_jwks_fetch(d), None);
}

#[test]
fn mesh_network_registries_are_built_in_or_remote_secret_clusters() {
    let secrets = graph(
        r#"
apiVersion: v1
kind: Secret
metadata: {name: istio-remote-secret-west, namespace: istio-system, labels: {istio/multiCluster: "true"}}
data: {west: eA==}
---
apiVersion: v1
kind: Secret
metadata: {name: east, namespace: istio-system}
data: {east: eA==}
"#,
    );
    let mut resources: Vec<_> = (*secrets.resources).clone();
    let file = load_source(
        "meshNetworks.yaml".into(),
        br#"
networks:
  net1:
    endpoints: [{fromRegistry: Kubernetes}, {fromRegistry: west}, {fromRegistry: kubernetes}]
  net2:
    endpoints: [{fromCidr: 10.0.0.0/8}, {fromRegistry: east}]
"#
        .to_vec(),
        &LoadLimits::default(),
    );
    resources.push(meshlint_model::mesh_networks_resource(&file).unwrap());
    let g = MeshGraph::new(resources, MeshConfig::default(), false);
    let nets = g.resources.len() - 1;
    // `east` is a data key of a Secret without the multicluster label: no cluster.
    let unknown: Vec<_> = g
        .unknown_registries(nets)
        .into_iter()
        .map(|u| (u.network, u.registry, u.path))
        .collect();
    assert_eq!(
        unknown,
        vec![
            (
                "net1".into(),
                "kubernetes".into(),
                "networks[\"net1\"].endpoints[2].fromRegistry".into()
            ),
            (
                "net2".into(),
                "east".into(),
                "networks[\"net2\"].endpoints[1].fromRegistry".into()
            ),
        ]
    );
}

#[test]
fn telemetry_providers_against_the_mesh_config() {
    let telemetry = r#"
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: {name: t, namespace: shop}
spec:
  accessLogging:
  - {disabled: true}
  - {providers: [{name: envoy}]}
  - {filter: {expression: "response.code >= 400"}}
  tracing:
  - providers: [{name: otel}, {name: ls}]
"#;
    let mesh = "extensionProviders:\n- {name: ls, lightstep: {address: x:8080}}\n- {name: otel, opentelemetry: {service: c, port: 4317}}\n";
    let g = graph_with_mesh(telemetry, mesh);
    let t = idx(&g, Kind::Telemetry, "shop", "t");
    let issues = g.telemetry_provider_issues(t);
    assert_eq!(
        paths(&issues),
        vec![
            ("no-access-log-provider", "spec.accessLogging[2]"),
            ("lightstep", "spec.tracing[0].providers[1].name"),
        ]
    );
    assert_eq!(issues[0].numbers, vec![2]);
    // A default access-log provider in the mesh config gives such entries somewhere to log.
    let g = graph_with_mesh(telemetry, "defaultProviders: {accessLogging: [envoy]}\n");
    assert!(g.telemetry_provider_issues(t).is_empty());
}

#[test]
fn deprecated_fields_and_outdated_gateway_api_crds() {
    let g = graph(
        r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: r, namespace: shop}
spec:
  hosts: [r]
  http:
  - fault: {delay: {percent: 0, fixedDelay: 1s}}
    route: [{destination: {host: r}}]
  - fault: {delay: {percent: 10, fixedDelay: 1s}}
    route: [{destination: {host: r}}]
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: default, namespace: shop}
spec:
  outboundTrafficPolicy: {mode: ALLOW_ANY, egressProxy: {host: proxy}}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: serviceroles.rbac.istio.io}
spec: {group: rbac.istio.io, names: {kind: ServiceRole}}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: grpcroutes.gateway.networking.k8s.io
  annotations: {gateway.networking.k8s.io/bundle-version: v1.0.0}
spec: {group: gateway.networking.k8s.io, names: {kind: GRPCRoute}}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: tlsroutes.gateway.networking.k8s.io
  annotations: {gateway.networking.k8s.io/bundle-version: v1.5.0-rc.1}
spec: {group: gateway.networking.k8s.io, names: {kind: TLSRoute}}
"#,
    );
    let vs = idx(&g, Kind::VirtualService, "shop", "r");
    let fields = g.deprecated_fields(vs);
    assert_eq!(
        paths(&fields),
        vec![("delay-percent", "spec.http[1].fault.delay.percent")]
    );
    assert_eq!(fields[0].value, "10");
    let sc = idx(&g, Kind::Sidecar, "shop", "default");
    assert_eq!(
        paths(&g.deprecated_fields(sc)),
        vec![("egress-proxy", "spec.outboundTrafficPolicy.egressProxy")]
    );
    let rbac = idx(
        &g,
        Kind::CustomResourceDefinition,
        "",
        "serviceroles.rbac.istio.io",
    );
    assert_eq!(g.deprecated_fields(rbac)[0].value, "ServiceRole");

    let grpc = idx(
        &g,
        Kind::CustomResourceDefinition,
        "",
        "grpcroutes.gateway.networking.k8s.io",
    );
    let old = g.outdated_gateway_api_crd(grpc);
    assert_eq!(
        (old[0].value.as_str(), old[0].numbers.clone()),
        ("v1.0.0", vec![1, 1, 0])
    );
    // A pre-release of the minimum release is that release.
    let tls = idx(
        &g,
        Kind::CustomResourceDefinition,
        "",
        "tlsroutes.gateway.networking.k8s.io",
    );
    assert!(g.outdated_gateway_api_crd(tls).is_empty());
}

#[test]
fn failed_status_conditions_by_kind() {
    let g = graph(
        r#"
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, namespace: shop}
spec: {parentRefs: [{name: public}]}
status:
  parents:
  - parentRef: {name: public}
    conditions:
    - {type: Accepted, status: "True"}
    - {type: ResolvedRefs, status: "False", reason: BackendNotFound, message: no svc}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: p, namespace: shop}
spec: {}
status:
  conditions:
  - {type: WaypointAccepted, status: "True", reason: PartiallyInvalid}
  - {type: Other, status: "False"}
---
apiVersion: v1
kind: Service
metadata: {name: s, namespace: shop}
spec: {ports: [{port: 80}]}
status:
  conditions:
  - {type: istio.io/WaypointBound, status: False}
"#,
    );
    let route = idx(&g, Kind::HTTPRoute, "shop", "web");
    let failed = g.failed_conditions(route);
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].path, "status.parents[0].conditions[1]");
    assert_eq!(failed[0].reason.as_deref(), Some("BackendNotFound"));
    assert_eq!(failed[0].message.as_deref(), Some("no svc"));
    let policy = idx(&g, Kind::AuthorizationPolicy, "shop", "p");
    let failed = g.failed_conditions(policy);
    assert_eq!(
        (failed.len(), failed[0].condition_type.as_str()),
        (1, "WaypointAccepted")
    );
    // An unquoted `False` is the boolean false, not the status a controller writes.
    let svc = idx(&g, Kind::Service, "shop", "s");
    assert!(g.failed_conditions(svc).is_empty());
}

#[test]
fn proxy_uid_and_external_name_ports() {
    let g = graph(
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: app, namespace: shop}
spec:
  template:
    spec:
      containers:
      - {name: istio-proxy, image: proxyv2, securityContext: {runAsUser: 1337}}
      - {name: app, image: app, securityContext: {runAsUser: 1337}}
---
apiVersion: v1
kind: Pod
metadata: {name: ingress, namespace: istio-system, labels: {istio: ingressgateway}}
spec:
  securityContext: {runAsUser: 1337}
  containers: [{name: istio-proxy, image: proxyv2}]
---
apiVersion: v1
kind: Service
metadata: {name: db, namespace: shop}
spec:
  type: ExternalName
  externalName: db.example.com
  ports:
  - {name: dns, port: 53, protocol: UDP}
  - {name: https, port: 443}
  - {port: 5432}
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: shop}
spec:
  type: ExternalName
  externalName: api.example.com
  ports: [{name: tcp, port: 9000}]
"#,
    );
    let app = idx(&g, Kind::Deployment, "shop", "app");
    assert_eq!(
        paths(&g.proxy_uid_users(app)),
        vec![(
            "proxy-uid",
            "spec.template.spec.containers[1].securityContext.runAsUser"
        )]
    );
    // Istio's own gateway runs as the proxy user by design.
    let ingress = idx(&g, Kind::Pod, "istio-system", "ingress");
    assert!(g.proxy_uid_users(ingress).is_empty());

    // A gateway Deployment injected with the `gateway` template, outside Istio's install:
    // its only container is the proxy, so the pod-level UID runs no application code. An
    // application container that sets its own user does not inherit the pod's either.
    let own = graph(
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: shop-gateway, namespace: shop-ingress}
spec:
  template:
    metadata:
      annotations: {inject.istio.io/templates: gateway}
      labels: {app: shop-gateway}
    spec:
      securityContext: {runAsUser: 1337, runAsGroup: 1337}
      containers: [{name: istio-proxy, image: auto}]
---
apiVersion: v1
kind: Pod
metadata: {name: own-user, namespace: shop}
spec:
  securityContext: {runAsUser: 1337}
  containers: [{name: app, image: app, securityContext: {runAsUser: 1000}}]
---
apiVersion: v1
kind: Pod
metadata: {name: inherits, namespace: shop}
spec:
  securityContext: {runAsUser: 1337}
  containers: [{name: istio-proxy, image: proxyv2}, {name: app, image: app}]
"#,
    );
    let gateway = idx(&own, Kind::Deployment, "shop-ingress", "shop-gateway");
    assert!(own.proxy_uid_users(gateway).is_empty());
    assert!(own
        .proxy_uid_users(idx(&own, Kind::Pod, "shop", "own-user"))
        .is_empty());
    assert_eq!(
        paths(&own.proxy_uid_users(idx(&own, Kind::Pod, "shop", "inherits"))),
        vec![("proxy-uid", "spec.securityContext.runAsUser")]
    );

    let db = idx(&g, Kind::Service, "shop", "db");
    let ports = g.external_name_port_without_protocol(db);
    assert_eq!(paths(&ports), vec![("no-protocol", "spec.ports[2]")]);
    assert_eq!(
        (ports[0].value.as_str(), ports[0].numbers.clone()),
        ("", vec![5432])
    );
    // Bare `tcp` declares opaque TCP, which cannot be routed by host.
    let api = idx(&g, Kind::Service, "shop", "api");
    assert_eq!(
        paths(&g.external_name_port_without_protocol(api)),
        vec![("no-protocol", "spec.ports[0].name")]
    );
}

#[test]
fn client_tls_without_a_ca() {
    let g = graph(
        r#"
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: ext, namespace: shop}
spec:
  host: api.example.com
  trafficPolicy:
    tls: {mode: SIMPLE}
    portLevelSettings:
    - port: {number: 443}
      tls: {mode: SIMPLE, caCertificates: /etc/ca.pem}
    - port: {number: 8443}
      tls: {mode: MUTUAL, caCertificates: ""}
    - port: {number: 9443}
      tls: {mode: ISTIO_MUTUAL}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: selected, namespace: shop}
spec:
  host: api.example.com
  workloadSelector: {matchLabels: {app: client}}
  trafficPolicy:
    tls: {mode: SIMPLE, credentialName: client-ca}
"#,
    );
    let ext = idx(&g, Kind::DestinationRule, "shop", "ext");
    let issues = g.tls_without_ca_certificates(ext);
    assert_eq!(
        paths(&issues),
        vec![
            ("top-level", "spec.trafficPolicy.tls.mode"),
            (
                "port-level",
                "spec.trafficPolicy.portLevelSettings[1].tls.mode"
            ),
        ]
    );
    assert_eq!(
        (issues[1].value.as_str(), issues[1].numbers.clone()),
        ("MUTUAL", vec![8443])
    );
    // A credential Secret (which can carry `ca.crt`) for selected workloads names a CA.
    let selected = idx(&g, Kind::DestinationRule, "shop", "selected");
    assert!(g.tls_without_ca_certificates(selected).is_empty());
}

#[test]
fn virtual_service_gateways_and_portless_destinations() {
    let g = graph(
        r#"
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: public, namespace: edge}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["shop/*.example.com"]
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: shop}
spec:
  selector: {app: api}
  ports: [{name: http, port: 80}, {name: grpc, port: 9090}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: blog, namespace: shop}
spec:
  hosts: [blog.example.org]
  gateways: [edge/public, edge/public, mesh, istio-autogenerated-k8s-gateway-x]
  http:
  - route:
    - destination: {host: api}
    - destination: {host: api}
    - destination: {host: web}
    - destination: {host: api, port: {number: 80}}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: shop, namespace: shop}
spec:
  hosts: [www.example.com]
  gateways: [edge/public]
  http: [{route: [{destination: {host: web}}]}]
"#,
    );
    let blog = idx(&g, Kind::VirtualService, "shop", "blog");
    let shop = idx(&g, Kind::VirtualService, "shop", "shop");
    // The Gateway offers `*.example.com` to `shop`, which covers www but not blog.example.org;
    // the repeated entry, `mesh` and the internal Gateway are not judged.
    let m = g.gateway_mismatches(blog);
    assert_eq!(m.len(), 1);
    assert_eq!(
        (
            m[0].path.as_str(),
            m[0].namespace.as_str(),
            m[0].name.as_str(),
            m[0].found
        ),
        ("spec.gateways[0]", "edge", "public", true)
    );
    assert_eq!(m[0].hosts, vec!["*.example.com".to_string()]);
    assert!(g.gateway_mismatches(shop).is_empty());

    assert_eq!(
        paths(&g.internal_gateway_refs(blog)),
        vec![("internal-gateway", "spec.gateways[3]")]
    );

    // `api` has two ports: its first portless destination is reported, once.
    let d = g.destinations_needing_port(blog);
    assert_eq!(
        paths(&d),
        vec![("port-required", "spec.http[0].route[0].destination")]
    );
    assert_eq!(
        (d[0].value.as_str(), d[0].numbers.clone()),
        ("api", vec![80, 9090])
    );
}
