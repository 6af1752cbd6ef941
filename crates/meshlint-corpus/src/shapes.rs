//! Mesh shapes other than the realistic corpus of [`crate::gen`], each the worst case
//! of some query: meshlint must stay linear on all of them (issue 17).
//!
//! - [`Shape::GenMesh`]: the shape of the shared benchmark script `gen_mesh.py`: per
//!   namespace three Services with Deployments, DestinationRules and VirtualServices,
//!   a ServiceEntry, a STRICT PeerAuthentication and a Sidecar importing `./*` and
//!   `istio-system/*` (a namespace absent from the inputs). Byte for byte what the
//!   script writes, so either generator gives the same corpus.
//! - [`Shape::OneNamespace`]: one namespace holding `n` Deployment+Service pairs under
//!   a STRICT PeerAuthentication, and a small namespace without injection calling it.
//! - [`Shape::Wildcards`]: `n` namespaces of ServiceEntries with wildcard hosts, and
//!   Sidecars importing wildcards across namespaces.
//! - [`Shape::BusyNamespace`]: one namespace holding `n` applications with all their
//!   configuration (DestinationRule, VirtualService, AuthorizationPolicy, a Gateway and
//!   the VirtualService binding it, a workload Sidecar), under namespace-wide policies,
//!   and the ingress gateway running every Gateway.
//!
//! Every shape is deterministic and grows by namespaces (or workloads) only, so the
//! corpus of size `n` is a prefix of the corpus of size `4n`.

use crate::gen::OutFile;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    GenMesh,
    OneNamespace,
    Wildcards,
    BusyNamespace,
}

impl Shape {
    pub const ALL: [Shape; 4] = [
        Shape::GenMesh,
        Shape::OneNamespace,
        Shape::Wildcards,
        Shape::BusyNamespace,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Shape::GenMesh => "gen-mesh",
            Shape::OneNamespace => "one-namespace",
            Shape::Wildcards => "wildcards",
            Shape::BusyNamespace => "busy-namespace",
        }
    }

    pub fn parse(name: &str) -> Option<Shape> {
        Shape::ALL.into_iter().find(|s| s.name() == name)
    }

    /// The files of the shape at size `n` (namespaces, or workloads for
    /// [`Shape::OneNamespace`] and [`Shape::BusyNamespace`]).
    pub fn files(self, n: usize) -> Vec<OutFile> {
        match self {
            Shape::GenMesh => (0..n).map(gen_mesh_namespace).collect(),
            Shape::OneNamespace => one_namespace(n),
            Shape::Wildcards => (0..n).map(|i| wildcard_namespace(i, n)).collect(),
            Shape::BusyNamespace => busy_namespace(n),
        }
    }
}

fn file(rel_path: String, docs: Vec<String>) -> OutFile {
    OutFile {
        rel_path,
        content: docs.join("---\n"),
    }
}

fn gen_mesh_namespace(i: usize) -> OutFile {
    let ns = format!("team-{i}");
    let mut docs = vec![format!(
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n  labels:\n    istio-injection: enabled\n"
    )];
    for s in 0..3 {
        let app = format!("svc{s}");
        docs.push(format!(
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: {app}\n  namespace: {ns}\n  labels:\n    app: {app}\nspec:\n  selector:\n    app: {app}\n  ports:\n  - name: http-web\n    port: 8080\n    targetPort: 8080\n  - name: grpc\n    port: 9090\n"
        ));
        docs.push(format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {app}-v1\n  namespace: {ns}\nspec:\n  replicas: 2\n  selector:\n    matchLabels:\n      app: {app}\n      version: v1\n  template:\n    metadata:\n      labels:\n        app: {app}\n        version: v1\n    spec:\n      containers:\n      - name: main\n        image: example/{app}:1.0\n        ports:\n        - containerPort: 8080\n"
        ));
        docs.push(format!(
            "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: {app}\n  namespace: {ns}\nspec:\n  host: {app}.{ns}.svc.cluster.local\n  trafficPolicy:\n    tls:\n      mode: ISTIO_MUTUAL\n    connectionPool:\n      http:\n        http2MaxRequests: 1000\n  subsets:\n  - name: v1\n    labels:\n      version: v1\n"
        ));
        docs.push(format!(
            "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: {app}\n  namespace: {ns}\nspec:\n  hosts:\n  - {app}.{ns}.svc.cluster.local\n  http:\n  - match:\n    - uri:\n        prefix: /api\n    route:\n    - destination:\n        host: {app}.{ns}.svc.cluster.local\n        subset: v1\n        port:\n          number: 8080\n    timeout: 5s\n"
        ));
    }
    docs.push(format!(
        "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n  name: default\n  namespace: {ns}\nspec:\n  mtls:\n    mode: STRICT\n"
    ));
    docs.push(format!(
        "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata:\n  name: ext-{i}\n  namespace: {ns}\nspec:\n  hosts:\n  - api{i}.example.com\n  ports:\n  - number: 443\n    name: https\n    protocol: HTTPS\n  resolution: DNS\n  location: MESH_EXTERNAL\n"
    ));
    docs.push(format!(
        "apiVersion: networking.istio.io/v1\nkind: Sidecar\nmetadata:\n  name: default\n  namespace: {ns}\nspec:\n  egress:\n  - hosts:\n    - \"./*\"\n    - \"istio-system/*\"\n"
    ));
    file(format!("{ns}.yaml"), docs)
}

fn service_and_deployment(ns: &str, app: &str) -> [String; 2] {
    [
        format!(
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: {app}\n  namespace: {ns}\nspec:\n  selector:\n    app: {app}\n  ports:\n  - name: http\n    port: 80\n    targetPort: 8080\n"
        ),
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {app}\n  namespace: {ns}\nspec:\n  selector:\n    matchLabels:\n      app: {app}\n  template:\n    metadata:\n      labels:\n        app: {app}\n    spec:\n      containers:\n      - name: main\n        image: example/{app}:1.0\n        ports:\n        - containerPort: 8080\n"
        ),
    ]
}

/// Namespace `big` with `n` workloads under STRICT mTLS, in files of 50 pairs, and
/// namespace `legacy` (no injection) with two workloads that call into it.
fn one_namespace(n: usize) -> Vec<OutFile> {
    let mut out = vec![file(
        "big/namespace.yaml".into(),
        vec![
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: big\n  labels:\n    istio-injection: enabled\n".into(),
            "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n  name: default\n  namespace: big\nspec:\n  mtls:\n    mode: STRICT\n".into(),
        ],
    )];
    let mut chunk = Vec::new();
    for w in 0..n {
        chunk.extend(service_and_deployment("big", &format!("app-{w}")));
        if chunk.len() == 100 || w + 1 == n {
            out.push(file(
                format!("big/apps-{:04}.yaml", w / 50),
                std::mem::take(&mut chunk),
            ));
        }
    }
    let mut legacy = vec!["apiVersion: v1\nkind: Namespace\nmetadata:\n  name: legacy\n".into()];
    for app in ["billing", "reports"] {
        legacy.extend(service_and_deployment("legacy", app));
    }
    out.push(file("legacy/apps.yaml".into(), legacy));
    out
}

/// Namespace `edge-i`: a ServiceEntry with a wildcard and a concrete host (exported
/// everywhere or only to its namespace, alternately), a DestinationRule on the
/// wildcard, a VirtualService on the concrete host, one workload, and a Sidecar
/// importing its own namespace, every `*.example.com` host, and the next
/// namespace's concrete host.
fn wildcard_namespace(i: usize, n: usize) -> OutFile {
    let ns = format!("edge-{i}");
    let next = (i + 1) % n.max(1);
    let export = if i.is_multiple_of(2) {
        "\"*\""
    } else {
        "\".\""
    };
    let [svc, deploy] = service_and_deployment(&ns, "web");
    let docs = vec![
        format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n  labels:\n    istio-injection: enabled\n"),
        svc,
        deploy,
        format!(
            "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata:\n  name: ext\n  namespace: {ns}\nspec:\n  hosts:\n  - \"*.zone{i}.example.com\"\n  - api{i}.example.com\n  exportTo:\n  - {export}\n  ports:\n  - number: 443\n    name: tls\n    protocol: TLS\n  resolution: NONE\n  location: MESH_EXTERNAL\n"
        ),
        format!(
            "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: zone\n  namespace: {ns}\nspec:\n  host: \"*.zone{i}.example.com\"\n  trafficPolicy:\n    tls:\n      mode: SIMPLE\n"
        ),
        format!(
            "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: api\n  namespace: {ns}\nspec:\n  hosts:\n  - api{i}.example.com\n  tls:\n  - match:\n    - port: 443\n      sniHosts:\n      - api{i}.example.com\n    route:\n    - destination:\n        host: api{i}.example.com\n        port:\n          number: 443\n"
        ),
        format!(
            "apiVersion: networking.istio.io/v1\nkind: Sidecar\nmetadata:\n  name: default\n  namespace: {ns}\nspec:\n  egress:\n  - hosts:\n    - \"./*\"\n    - \"*/*.example.com\"\n    - \"edge-{next}/api{next}.example.com\"\n"
        ),
    ];
    file(format!("{ns}.yaml"), docs)
}

/// Namespace `shop` with `n` applications, each with its Service and Deployment (two
/// versions), a DestinationRule with subsets, a mesh VirtualService splitting between
/// them, an AuthorizationPolicy allowing the previous application's service account, a
/// Gateway for `app-i.shop.example.com` with the VirtualService binding it, and a Sidecar
/// selecting it; namespace-wide STRICT mTLS, a DENY policy and a default Sidecar; and
/// the ingress gateway in `istio-system` that runs every Gateway.
fn busy_namespace(n: usize) -> Vec<OutFile> {
    let ns = "shop";
    let mut out = vec![file(
        "istio-system/ingress.yaml".into(),
        vec![
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: istio-system\n".into(),
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: istio-ingressgateway\n  namespace: istio-system\nspec:\n  selector:\n    matchLabels:\n      istio: ingressgateway\n  template:\n    metadata:\n      labels:\n        istio: ingressgateway\n      annotations:\n        inject.istio.io/templates: gateway\n    spec:\n      containers:\n      - name: istio-proxy\n        image: auto\n        ports:\n        - containerPort: 8443\n".into(),
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: istio-ingressgateway\n  namespace: istio-system\nspec:\n  type: LoadBalancer\n  selector:\n    istio: ingressgateway\n  ports:\n  - name: https\n    port: 443\n    targetPort: 8443\n".into(),
        ],
    )];
    out.push(file(
        format!("{ns}/namespace.yaml"),
        vec![
            format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n  labels:\n    istio-injection: enabled\n"),
            format!("apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n  name: default\n  namespace: {ns}\nspec:\n  mtls:\n    mode: STRICT\n"),
            format!("apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata:\n  name: deny-admin\n  namespace: {ns}\nspec:\n  action: DENY\n  rules:\n  - to:\n    - operation:\n        paths: [\"/admin*\"]\n"),
            format!("apiVersion: networking.istio.io/v1\nkind: Sidecar\nmetadata:\n  name: default\n  namespace: {ns}\nspec:\n  egress:\n  - hosts:\n    - \"./*\"\n    - \"istio-system/*\"\n"),
        ],
    ));
    let mut chunk = Vec::new();
    for i in 0..n {
        let app = format!("app-{i}");
        let caller = format!("app-{}", i.saturating_sub(1));
        let host = format!("{app}.{ns}.svc.cluster.local");
        chunk.push(format!(
            "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: {app}\n  namespace: {ns}\n"
        ));
        chunk.push(format!(
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: {app}\n  namespace: {ns}\nspec:\n  selector:\n    app: {app}\n  ports:\n  - name: http\n    port: 80\n    targetPort: 8080\n"
        ));
        for v in ["v1", "v2"] {
            chunk.push(format!(
                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {app}-{v}\n  namespace: {ns}\nspec:\n  selector:\n    matchLabels:\n      app: {app}\n      version: {v}\n  template:\n    metadata:\n      labels:\n        app: {app}\n        version: {v}\n    spec:\n      serviceAccountName: {app}\n      containers:\n      - name: main\n        image: example/{app}:1.0\n        ports:\n        - containerPort: 8080\n"
            ));
        }
        chunk.push(format!(
            "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: {app}\n  namespace: {ns}\nspec:\n  host: {host}\n  trafficPolicy:\n    tls:\n      mode: ISTIO_MUTUAL\n  subsets:\n  - name: v1\n    labels:\n      version: v1\n  - name: v2\n    labels:\n      version: v2\n"
        ));
        chunk.push(format!(
            "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: {app}\n  namespace: {ns}\nspec:\n  hosts:\n  - {app}\n  http:\n  - route:\n    - destination:\n        host: {app}\n        subset: v1\n      weight: 90\n    - destination:\n        host: {app}\n        subset: v2\n      weight: 10\n"
        ));
        chunk.push(format!(
            "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata:\n  name: {app}\n  namespace: {ns}\nspec:\n  selector:\n    matchLabels:\n      app: {app}\n  action: ALLOW\n  rules:\n  - from:\n    - source:\n        principals: [\"cluster.local/ns/{ns}/sa/{caller}\", \"cluster.local/ns/istio-system/sa/istio-ingressgateway\"]\n    to:\n    - operation:\n        methods: [GET, POST]\n"
        ));
        chunk.push(format!(
            "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata:\n  name: {app}\n  namespace: {ns}\nspec:\n  selector:\n    istio: ingressgateway\n  servers:\n  - port:\n      number: 443\n      name: https-{app}\n      protocol: HTTPS\n    hosts:\n    - {app}.{ns}.example.com\n    tls:\n      mode: SIMPLE\n      credentialName: {app}-cert\n"
        ));
        chunk.push(format!(
            "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: {app}-ingress\n  namespace: {ns}\nspec:\n  hosts:\n  - {app}.{ns}.example.com\n  gateways:\n  - {app}\n  http:\n  - route:\n    - destination:\n        host: {host}\n        subset: v1\n        port:\n          number: 80\n"
        ));
        chunk.push(format!(
            "apiVersion: networking.istio.io/v1\nkind: Sidecar\nmetadata:\n  name: {app}\n  namespace: {ns}\nspec:\n  workloadSelector:\n    labels:\n      app: {app}\n  egress:\n  - hosts:\n    - \"./{caller}.{ns}.svc.cluster.local\"\n    - \"istio-system/*\"\n"
        ));
        if chunk.len() >= 100 || i + 1 == n {
            out.push(file(
                format!("{ns}/apps-{:04}.yaml", i / 10),
                std::mem::take(&mut chunk),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smaller_sizes_are_prefixes_of_larger_ones() {
        // The last namespace of wildcards refers to the first one, so compare all but it.
        for shape in Shape::ALL {
            let small = shape.files(4);
            let large = shape.files(16);
            assert!(small.len() <= large.len(), "{}", shape.name());
            let same = small.len().saturating_sub(2);
            assert_eq!(small[..same], large[..same], "{}", shape.name());
        }
    }

    #[test]
    fn names_round_trip() {
        for shape in Shape::ALL {
            assert_eq!(Shape::parse(shape.name()), Some(shape));
        }
    }
}
