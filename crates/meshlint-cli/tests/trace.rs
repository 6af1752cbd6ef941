//! `meshlint trace` on the field-report scenarios (`testdata/scenarios/`): each broken
//! version gives the failure its report describes and names the deciding resource and
//! field; each fixed version delivers. Also: the access-log line of seed 000, an ingress
//! Gateway, an external host with TLS origination, a Sidecar that hides the host, exit
//! codes, the JSON document and odd input.

mod common;

use common::{copy_dir, run, workspace};
use meshlint_cli::{load_mesh, CheckOptions, LoadedMesh};
use meshlint_trace::{trace, trace_access_log, Source, Trace, TraceRequest, Verdict};
use std::path::{Path, PathBuf};

fn scenario(name: &str) -> PathBuf {
    workspace().join("testdata/scenarios").join(name)
}

fn load_dir(dir: &Path, mesh_config: Option<PathBuf>) -> LoadedMesh {
    let opts = CheckOptions {
        paths: vec![dir.to_string_lossy().to_string()],
        mesh_config,
        ..CheckOptions::default()
    };
    load_mesh(&opts).expect("inputs load")
}

/// `bad` or `fixed` of a scenario, with its `meshconfig.yaml` when it has one.
fn load(name: &str, variant: &str) -> LoadedMesh {
    let mc = scenario(name).join("meshconfig.yaml");
    load_dir(&scenario(name).join(variant), mc.exists().then_some(mc))
}

fn split(to: &str) -> (String, Option<u32>) {
    match to.rsplit_once(':') {
        Some((h, p)) => (h.to_string(), p.parse().ok()),
        None => (to.to_string(), None),
    }
}

fn from(m: &LoadedMesh, src: &str, to: &str) -> Trace {
    let (ns, w) = match src.split_once('/') {
        Some((n, w)) => (n.to_string(), Some(w.to_string())),
        None => (src.to_string(), None),
    };
    let (host, port) = split(to);
    let req = TraceRequest {
        source: Source::Workload {
            namespace: ns,
            workload: w,
        },
        host,
        port,
        path: "/".into(),
        method: "GET".into(),
        headers: Vec::new(),
        pin: None,
    };
    trace(&m.graph, &req).unwrap_or_else(|e| panic!("{src} → {to}: {e}"))
}

fn via_gateway(m: &LoadedMesh, gw: &str, to: &str, path: &str, headers: &[(&str, &str)]) -> Trace {
    let (ns, name) = gw.split_once('/').unwrap();
    let (host, port) = split(to);
    let req = TraceRequest {
        source: Source::Gateway {
            namespace: ns.into(),
            name: name.into(),
        },
        host,
        port,
        path: path.into(),
        method: "GET".into(),
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        pin: None,
    };
    trace(&m.graph, &req).unwrap_or_else(|e| panic!("{gw} → {to}: {e}"))
}

/// Whether the top-level `decided_by` names this resource field.
fn decided(t: &Trace, kind: &str, ns: &str, name: &str, field: &str) -> bool {
    t.decided_by
        .iter()
        .any(|b| b.kind == kind && b.namespace == ns && b.name == name && b.field == field)
}

fn assert_decided(t: &Trace, kind: &str, ns: &str, name: &str, field: &str) {
    assert!(
        decided(t, kind, ns, name, field),
        "{kind} {ns}/{name} {field} not in decided_by:\n{:#?}\n{}",
        t.decided_by,
        t.explanation
    );
}

fn assert_delivered(t: &Trace) {
    assert_eq!(
        t.verdict,
        Verdict::Delivered,
        "{:?}: {}\n{:#?}",
        t.symptom,
        t.explanation,
        t.hops
    );
    assert_eq!(t.exit_code(), 0);
}

fn assert_failed(t: &Trace, symptom: &str) {
    assert_eq!(
        t.verdict,
        Verdict::Failed,
        "{}\n{:#?}",
        t.explanation,
        t.hops
    );
    assert_eq!(t.symptom.as_deref(), Some(symptom), "{}", t.explanation);
    assert!(t.fix.is_some());
    assert_eq!(t.exit_code(), 1);
}

// --- 000: 503 UC after turning on mTLS for one backend -------------------------------

#[test]
fn s000_disable_to_strict_backend_is_503_uc_for_both_subsets() {
    let m = load("000-mtls-503", "bad");
    let t = from(&m, "default/weather-frontend", "weather-backend:5000");
    assert_failed(&t, "503 UC");
    assert!(
        t.explanation.starts_with("every destination fails"),
        "{}",
        t.explanation
    );
    assert_decided(
        &t,
        "DestinationRule",
        "default",
        "weather-backend",
        "spec.trafficPolicy.tls.mode",
    );
    assert_decided(
        &t,
        "PeerAuthentication",
        "default",
        "weather-backend",
        "spec.mtls.mode",
    );
    let route = t.hop("route").unwrap();
    assert!(
        route.summary.contains("subset single 50%"),
        "{}",
        route.summary
    );
    assert!(
        route.summary.contains("subset multiple 50%"),
        "{}",
        route.summary
    );
    assert_eq!(t.hops.iter().filter(|h| h.step == "server-mtls").count(), 2);
    let server = t.hop("server-mtls").unwrap();
    assert!(
        server
            .summary
            .contains("STRICT (workload: PeerAuthentication default/weather-backend)"),
        "{}",
        server.summary
    );
}

#[test]
fn s000_fixed_is_delivered() {
    let m = load("000-mtls-503", "fixed");
    let t = from(&m, "default/weather-frontend", "weather-backend:5000");
    assert_delivered(&t);
    assert!(t
        .hop("client-tls")
        .unwrap()
        .summary
        .contains("ISTIO_MUTUAL"));
    // Without a workload, a sidecar-injected one of the namespace that is not behind
    // the destination is the client.
    let t = from(&m, "default", "weather-backend");
    assert_delivered(&t);
    assert_eq!(t.request.from.as_deref(), Some("default/weather-frontend"));
    assert_eq!(t.request.to.port, Some(5000));
}

/// The seed's log line (with the space its copy lost restored in one variant).
const SEED_000_LOG: &str = r#"weather-frontend-7ff5d6d698-9nfbv istio-proxy [2019-03-28T12:53:32.264Z] "GET /api/weatherHTTP/1.1" 503 UC 0 57 1 - "-" "python-requests/2.21.0" "b3785f8b-a8c8-4fc9-bde1-12ffa1e92a01" "weather-backend:5000" "10.52.1.12:5000" outbound|5000|multiple|weather-backend.default.svc.cluster.local - 10.55.253.172:5000 10.52.2.22:54984"#;

#[test]
fn s000_access_log_is_traced_to_the_subset_that_disables_tls() {
    let m = load("000-mtls-503", "bad");
    let t = trace_access_log(&m.graph, SEED_000_LOG, None).unwrap();
    assert_failed(&t, "503 UC");
    // The pod prefix names the client, the cluster pins the subset.
    assert_eq!(t.request.from.as_deref(), Some("default/weather-frontend"));
    assert_eq!(t.request.path, "/api/weather");
    let log = t.access_log.as_ref().unwrap();
    assert!(log.consistent, "{}", log.meaning);
    assert_eq!(log.record.response_flags[0].flag, "UC");
    assert!(log.record.response_flags[0]
        .meaning
        .contains("upstream connection termination"));
    assert!(log.meaning.contains("subset `multiple`"), "{}", log.meaning);
    // Only the logged subset is traced.
    let dest: Vec<&str> = t
        .hops
        .iter()
        .filter(|h| h.step == "destination")
        .map(|h| h.summary.as_str())
        .collect();
    assert_eq!(dest.len(), 1);
    assert!(dest[0].contains("subset multiple"), "{}", dest[0]);
    assert_decided(
        &t,
        "DestinationRule",
        "default",
        "weather-backend",
        "spec.subsets[1]",
    );
    assert_decided(
        &t,
        "DestinationRule",
        "default",
        "weather-backend",
        "spec.trafficPolicy.tls.mode",
    );
    assert_decided(
        &t,
        "PeerAuthentication",
        "default",
        "weather-backend",
        "spec.mtls.mode",
    );
    let tls = t.hop("client-tls").unwrap();
    assert!(tls.summary.contains("DISABLE"), "{}", tls.summary);
    assert!(
        tls.summary.contains("subset `multiple` inherits it"),
        "{}",
        tls.summary
    );

    // The same line on the fixed mesh: the trace delivers, which the log contradicts.
    let fixed = load("000-mtls-503", "fixed");
    let t = trace_access_log(&fixed.graph, SEED_000_LOG, None).unwrap();
    assert_delivered(&t);
    assert!(!t.access_log.unwrap().consistent);
}

#[test]
fn s000_access_log_with_subset_level_disable() {
    // The subset itself disables TLS: the trace names the subset's own tls block, and
    // the other subset is fine.
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(&scenario("000-mtls-503").join("fixed"), tmp.path());
    let f = tmp.path().join("weather-backend.yaml");
    let text = std::fs::read_to_string(&f).unwrap();
    let needle = "    - name: multiple\n      labels:\n        version: multiple\n";
    assert!(text.contains(needle));
    let text = text.replace(
        needle,
        &format!("{needle}      trafficPolicy:\n        tls:\n          mode: DISABLE\n"),
    );
    std::fs::write(&f, text).unwrap();
    let m = load_dir(tmp.path(), None);
    let json_line = r#"{"authority":"weather-backend:5000","method":"GET","path":"/api/weather","response_code":"503","response_flags":"UC","upstream_cluster":"outbound|5000|multiple|weather-backend.default.svc.cluster.local","upstream_host":"10.52.1.12:5000"}"#;
    let src = Some(Source::Workload {
        namespace: "default".into(),
        workload: Some("weather-frontend".into()),
    });
    let t = trace_access_log(&m.graph, json_line, src).unwrap();
    assert_failed(&t, "503 UC");
    assert_decided(
        &t,
        "DestinationRule",
        "default",
        "weather-backend",
        "spec.subsets[1].trafficPolicy.tls.mode",
    );
    assert!(t.access_log.unwrap().consistent);
    // Without the pin, half the traffic fails.
    let t = from(&m, "default/weather-frontend", "weather-backend:5000");
    assert_failed(&t, "503 UC");
    assert!(
        t.explanation.starts_with("50% of requests fail"),
        "{}",
        t.explanation
    );
}

#[test]
fn s000_tcp_service_entries_without_addresses_collide_on_443() {
    let m = load("000-mtls-503", "bad");
    let t = from(
        &m,
        "default/weather-backend-multiple",
        "storage.googleapis.com:443",
    );
    assert_eq!(t.verdict, Verdict::Failed);
    assert_decided(
        &t,
        "ServiceEntry",
        "default",
        "googleapis",
        "spec.ports[0].protocol",
    );
    assert!(t.decided_by.iter().any(|b| b.name == "google-accounts"));
    assert!(
        t.explanation.contains("accounts.google.com"),
        "{}",
        t.explanation
    );
    let m = load("000-mtls-503", "fixed");
    assert_delivered(&from(
        &m,
        "default/weather-backend-multiple",
        "storage.googleapis.com:443",
    ));
}

#[test]
fn s000_unknown_external_host_passes_through_under_allow_any() {
    let m = load("000-mtls-503", "bad");
    let t = from(&m, "default/weather-frontend", "www.example.org:443");
    assert_eq!(t.verdict, Verdict::Passthrough);
    assert_eq!(t.exit_code(), 1);
    assert_decided(
        &t,
        "MeshConfig",
        "",
        "mesh (Istio default)",
        "outboundTrafficPolicy.mode",
    );
}

// --- 001: the JWT policy never applies ------------------------------------------------

#[test]
fn s001_anonymous_request_reaches_customer_through_the_gateway() {
    let m = load("001-jwt-policy-never-applies", "bad");
    let t = via_gateway(
        &m,
        "tutorial/customer-gateway",
        "customer.example.com",
        "/",
        &[],
    );
    // The report's failure: no token, and the request still gets in.
    assert_delivered(&t);
    assert_eq!(t.request.to.port, Some(80));
    let gw = t.hop("gateway").unwrap();
    assert!(gw.summary.contains("server 0"), "{}", gw.summary);
    let auth = t.hop("authorization").unwrap();
    assert!(auth.summary.contains("allowed"), "{}", auth.summary);
    let notes: Vec<&str> = t.notes.iter().map(|n| n.summary.as_str()).collect();
    let jwt = t
        .notes
        .iter()
        .find(|n| n.summary.contains("without a token reaches customer-v1"))
        .unwrap_or_else(|| panic!("{notes:#?}"));
    assert!(jwt
        .decided_by
        .iter()
        .any(|b| b.kind == "AuthorizationPolicy"
            && b.name == "customer-require-jwt"
            && b.field == "spec.selector.matchLabels"));
    assert!(jwt
        .decided_by
        .iter()
        .any(|b| b.kind == "RequestAuthentication" && b.name == "customer-jwt"));
    let legacy = t
        .notes
        .iter()
        .find(|n| {
            n.summary
                .contains("removed authentication.istio.io/v1alpha1")
        })
        .unwrap_or_else(|| panic!("{notes:#?}"));
    assert_eq!(legacy.decided_by[0].kind, "Policy");
    assert_eq!(legacy.decided_by[0].field, "apiVersion");
    // The gateway in the root namespace uses the service's DestinationRule (with the
    // subset), not the catch-all `*.local` rule next to it.
    let tls = t.hop("client-tls").unwrap();
    assert!(
        tls.summary.contains("DestinationRule tutorial/customer"),
        "{}",
        tls.summary
    );
}

#[test]
fn s001_fixed_requires_the_token() {
    let m = load("001-jwt-policy-never-applies", "fixed");
    let t = via_gateway(
        &m,
        "tutorial/customer-gateway",
        "customer.example.com",
        "/",
        &[],
    );
    assert_failed(&t, "403 RBAC: access denied");
    assert!(t
        .decided_by
        .iter()
        .any(|b| b.kind == "AuthorizationPolicy" && b.name == "customer-require-jwt"));
    let t = via_gateway(
        &m,
        "tutorial/customer-gateway",
        "customer.example.com",
        "/",
        &[("authorization", "Bearer eyJhbGciOi.x.y")],
    );
    assert_delivered(&t);
    let server = t.hop("server-mtls").unwrap();
    assert!(server.summary.contains("STRICT"), "{}", server.summary);
}

// --- 002: ISTIO_MUTUAL where SIMPLE was needed (ingress gateway) ----------------------

#[test]
fn s002_gateway_routes_through_the_bad_destination_rule() {
    let m = load("002-istio-mutual-vs-simple", "bad");
    let gw = "istio-ingress/example-gateway";
    let t = via_gateway(&m, gw, "example.com:443", "/c19443/x", &[]);
    assert_failed(&t, "503 UF (TLS error: CERTIFICATE_VERIFY_FAILED)");
    assert_decided(
        &t,
        "DestinationRule",
        "istio-ingress",
        "caddy-from-gateway",
        "spec.trafficPolicy.portLevelSettings[1].tls.mode",
    );
    assert_decided(
        &t,
        "Deployment",
        "caddy",
        "caddy",
        "spec.template.metadata.annotations[\"traffic.sidecar.istio.io/excludeInboundPorts\"]",
    );
    let route = t.hop("route").unwrap();
    assert!(
        route
            .summary
            .contains("http[4] `caddy-https-excluded` (match 0)"),
        "{}",
        route.summary
    );
    let gwhop = t.hop("gateway").unwrap();
    assert!(gwhop.summary.contains("TLS SIMPLE"), "{}", gwhop.summary);

    let t = via_gateway(&m, gw, "example.com:443", "/c443", &[]);
    assert_failed(&t, "400 or connection reset (plaintext to a TLS port)");
    assert_decided(
        &t,
        "DestinationRule",
        "istio-ingress",
        "caddy-from-gateway",
        "spec.trafficPolicy.portLevelSettings[0].tls.mode",
    );

    let t = via_gateway(&m, gw, "example.com:443", "/c19080", &[]);
    assert_failed(&t, "503 UF (TLS error: WRONG_VERSION_NUMBER)");
    assert!(t.explanation.contains("auto mTLS"), "{}", t.explanation);
    assert_decided(
        &t,
        "Deployment",
        "caddy",
        "caddy",
        "spec.template.metadata.annotations[\"traffic.sidecar.istio.io/excludeInboundPorts\"]",
    );

    assert_delivered(&via_gateway(&m, gw, "example.com:443", "/c80", &[]));
    // No route for the path: 404 NR, naming the routes.
    let t = via_gateway(&m, gw, "example.com:443", "/nothing", &[]);
    assert_failed(&t, "404 NR");
    assert_decided(
        &t,
        "VirtualService",
        "istio-ingress",
        "example-com",
        "spec.http",
    );
    // A host no server accepts.
    let t = via_gateway(&m, gw, "other.example.com:443", "/", &[]);
    assert_failed(&t, "404 NR");
}

#[test]
fn s002_fixed_gateway_and_mesh_clients_are_delivered() {
    let m = load("002-istio-mutual-vs-simple", "fixed");
    for p in ["/c80", "/c443", "/c19080", "/c19443", "/app-1"] {
        let t = via_gateway(
            &m,
            "istio-ingress/example-gateway",
            "example.com:443",
            p,
            &[],
        );
        assert_delivered(&t);
    }
    let t = via_gateway(
        &m,
        "istio-ingress/example-gateway",
        "example.com:443",
        "/c443",
        &[],
    );
    assert!(t.hop("client-tls").unwrap().summary.contains("SIMPLE"));
    for port in [80, 443, 19080, 19443] {
        let t = from(&m, "app-1/whereami", &format!("caddy.caddy:{port}"));
        assert_delivered(&t);
    }
}

#[test]
fn s002_mesh_client_gets_auto_mtls_on_excluded_ports() {
    let m = load("002-istio-mutual-vs-simple", "bad");
    let t = from(&m, "app-1/whereami", "caddy.caddy:19443");
    assert_failed(&t, "503 UF (TLS error: CERTIFICATE_VERIFY_FAILED)");
    assert_decided(
        &t,
        "MeshConfig",
        "",
        "mesh (Istio default)",
        "enableAutoMtls",
    );
    let t = from(&m, "app-1/whereami", "caddy.caddy:19080");
    assert_failed(&t, "503 UF (TLS error: WRONG_VERSION_NUMBER)");
}

// --- 003: egress woes -----------------------------------------------------------------

#[test]
fn s003_sidecar_hides_the_external_hosts() {
    let m = load("003-egress-woes", "bad");
    for to in ["api.payments.example:443", "db.partner.example:5432"] {
        let t = from(&m, "shop/orders-v1", to);
        assert_eq!(t.verdict, Verdict::Blackholed, "{to}: {}", t.explanation);
        assert_eq!(t.exit_code(), 1);
        assert!(t.symptom.is_some());
        assert_decided(
            &t,
            "Sidecar",
            "istio-config",
            "default",
            "spec.egress[0].hosts",
        );
        assert_decided(&t, "MeshConfig", "", "mesh", "outboundTrafficPolicy.mode");
        assert!(
            t.fix.as_deref().unwrap().contains("external-services/*"),
            "{:?}",
            t.fix
        );
        let scope = t.hop("sidecar-scope").unwrap();
        assert!(
            scope
                .summary
                .contains("Sidecar istio-config/default does not import it"),
            "{}",
            scope.summary
        );
    }
}

#[test]
fn s003_fixed_tls_origination_to_the_external_host() {
    let m = load("003-egress-woes", "fixed");
    let t = from(&m, "shop/orders-v1", "api.payments.example:80");
    assert_delivered(&t);
    let se = t.hop("service-entry").unwrap();
    assert!(
        se.summary.contains("forwarded to port 443"),
        "{}",
        se.summary
    );
    let tls = t.hop("client-tls").unwrap();
    assert!(tls.summary.contains("tls.mode SIMPLE"), "{}", tls.summary);
    assert!(tls
        .decided_by
        .iter()
        .any(|b| b.field == "spec.trafficPolicy.portLevelSettings[0].tls.mode"));
    assert_decided(
        &t,
        "DestinationRule",
        "external-services",
        "payments-api",
        "spec.trafficPolicy.portLevelSettings[0].tls.mode",
    );
    // The application's own HTTPS on 443 passes through untouched.
    assert_delivered(&from(&m, "shop/orders-v1", "api.payments.example:443"));
    assert_delivered(&from(&m, "shop/orders-v1", "db.partner.example:5432"));
}

#[test]
fn s003_double_encryption_once_the_host_is_visible() {
    // bad/ with the fixed Sidecar: the SIMPLE rule now applies to the application's TLS.
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(&scenario("003-egress-woes").join("bad"), tmp.path());
    std::fs::copy(
        scenario("003-egress-woes").join("fixed/sidecar.yaml"),
        tmp.path().join("sidecar.yaml"),
    )
    .unwrap();
    let m = load_dir(
        tmp.path(),
        Some(scenario("003-egress-woes").join("meshconfig.yaml")),
    );
    let t = from(&m, "shop/orders-v1", "api.payments.example:443");
    assert_failed(&t, "400 or connection reset (double encryption)");
    assert_decided(
        &t,
        "DestinationRule",
        "external-services",
        "payments-api",
        "spec.trafficPolicy.tls.mode",
    );
}

// --- 004: mesh-wide mTLS --------------------------------------------------------------

#[test]
fn s004_bad_clients_send_plaintext_to_strict_servers() {
    let m = load("004-mesh-wide-mtls", "bad");
    let t = from(&m, "bar/sleep", "httpbin.foo:8000");
    assert_failed(&t, "503 UC");
    assert_decided(
        &t,
        "DestinationRule",
        "bar",
        "httpbin-foo",
        "spec.trafficPolicy.tls.mode",
    );
    assert_decided(
        &t,
        "PeerAuthentication",
        "istio-system",
        "default",
        "spec.mtls.mode",
    );

    let t = from(&m, "foo/sleep", "httpbin.bar:8000");
    assert_failed(&t, "503 UC");
    assert_decided(&t, "MeshConfig", "", "mesh", "enableAutoMtls");
    assert_decided(
        &t,
        "DestinationRule",
        "default",
        "default",
        "metadata.namespace",
    );
    assert!(t
        .notes
        .iter()
        .any(|n| n.summary.contains("DestinationRule default/default")));

    let server = t.hop("server-mtls").unwrap();
    assert!(
        server
            .summary
            .contains("STRICT (mesh-wide: PeerAuthentication istio-system/default)"),
        "{}",
        server.summary
    );

    let t = from(&m, "legacy/sleep", "httpbin.foo:8000");
    assert_failed(&t, "connection reset by peer (curl exit 56)");
    assert_decided(&t, "Namespace", "", "legacy", "metadata.name");
    assert!(t.hop("sidecar-scope").is_none());
}

#[test]
fn s004_fixed_every_client_reaches_every_server() {
    let m = load("004-mesh-wide-mtls", "fixed");
    for client in ["foo/sleep", "bar/sleep", "legacy/sleep"] {
        for server in [
            "httpbin.foo:8000",
            "httpbin.bar:8000",
            "httpbin.legacy:8000",
        ] {
            let t = from(&m, client, server);
            assert_delivered(&t);
            assert_decided(
                &t,
                "DestinationRule",
                "istio-system",
                "default",
                "spec.trafficPolicy.tls.mode",
            );
        }
    }
}

// --- bookinfo: a correct mesh ---------------------------------------------------------

#[test]
fn bookinfo_requests_are_delivered_and_authorization_is_enforced() {
    let m = load_dir(&scenario("bookinfo-correct"), None);
    let gw = "istio-system/bookinfo-gateway";
    let t = via_gateway(&m, gw, "bookinfo.example.com:443", "/productpage", &[]);
    assert_delivered(&t);
    assert_eq!(
        t.hops.iter().filter(|h| h.step == "authorization").count(),
        2
    );
    // Port 80 only redirects to https.
    let t = via_gateway(&m, gw, "bookinfo.example.com", "/productpage", &[]);
    assert_delivered(&t);
    assert_eq!(t.request.to.port, Some(80));
    assert!(t.explanation.contains("301"), "{}", t.explanation);
    assert_delivered(&from(&m, "bookinfo/reviews-v2", "ratings:9080"));
    assert_delivered(&from(&m, "bookinfo/productpage-v1", "details:9080"));
    // ratings lets only reviews in.
    let t = from(&m, "bookinfo/productpage-v1", "ratings:9080");
    assert_failed(&t, "403 RBAC: access denied");
    assert!(t
        .decided_by
        .iter()
        .any(|b| b.kind == "AuthorizationPolicy" && b.name == "ratings"));
}

// --- the binary: exit codes, JSON, did-you-mean, odd input ----------------------------

fn bin(args: &[&str]) -> common::Run {
    run(&workspace(), args)
}

#[test]
fn exit_codes_and_json() {
    let bad = "testdata/scenarios/000-mtls-503/bad";
    let fixed = "testdata/scenarios/000-mtls-503/fixed";
    let r = bin(&[
        "trace",
        bad,
        "--from",
        "default/weather-frontend",
        "--to",
        "weather-backend:5000",
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let j = r.json();
    assert_eq!(j["version"], 1);
    assert_eq!(j["verdict"], "failed");
    assert_eq!(j["symptom"], "503 UC");
    assert_eq!(j["request"]["from"], "default/weather-frontend");
    assert!(j["request"]["gateway"].is_null());
    assert_eq!(
        j["request"]["to"]["host"],
        "weather-backend.default.svc.cluster.local"
    );
    assert_eq!(j["request"]["to"]["port"], 5000);
    assert_eq!(j["request"]["method"], "GET");
    let by = j["decided_by"].as_array().unwrap();
    let dr = by
        .iter()
        .find(|b| b["kind"] == "DestinationRule" && b["field"] == "spec.trafficPolicy.tls.mode")
        .unwrap();
    assert_eq!(
        dr["location"]["file"],
        "testdata/scenarios/000-mtls-503/bad/weather-backend.yaml"
    );
    assert!(dr["location"]["line"].as_u64().unwrap() > 1);
    let steps: Vec<&str> = j["hops"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["step"].as_str().unwrap())
        .collect();
    assert!(
        steps.contains(&"route") && steps.contains(&"client-tls") && steps.contains(&"server-mtls"),
        "{steps:?}"
    );

    let r = bin(&[
        "trace",
        fixed,
        "--from",
        "default/weather-frontend",
        "--to",
        "weather-backend:5000",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("✓ delivered"), "{}", r.stdout);

    // Human output: one label per deciding field, with the source line.
    let r = bin(&["trace", bad, "--from", "default", "--to", "weather-backend"]);
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("mode: DISABLE"), "{}", r.stdout);
    assert!(
        r.stdout.contains("╰── DISABLE (top-level) for port 5000"),
        "{}",
        r.stdout
    );

    // Access log from the command line.
    let r = bin(&[
        "trace",
        bad,
        "--access-log",
        SEED_000_LOG,
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let j = r.json();
    assert_eq!(j["access_log"]["record"]["response_flags"][0]["flag"], "UC");
    assert_eq!(j["access_log"]["consistent"], true);
}

#[test]
fn mesh_config_fields_point_into_the_mesh_config_file() {
    let r = bin(&[
        "trace",
        "testdata/scenarios/003-egress-woes/bad",
        "--mesh-config",
        "testdata/scenarios/003-egress-woes/meshconfig.yaml",
        "--from",
        "shop/orders-v1",
        "--to",
        "api.payments.example:443",
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let j = r.json();
    assert_eq!(j["verdict"], "blackholed");
    let mc = j["decided_by"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["kind"] == "MeshConfig")
        .unwrap();
    assert_eq!(
        mc["location"]["file"],
        "testdata/scenarios/003-egress-woes/meshconfig.yaml"
    );
    assert_eq!(mc["location"]["line"], 14);
}

#[test]
fn exit_code_2_with_did_you_mean() {
    let bad = "testdata/scenarios/000-mtls-503/bad";
    let cases: &[(&[&str], &str)] = &[
        (
            &["--from", "defualt", "--to", "weather-backend"],
            "did you mean `default`?",
        ),
        (
            &["--from", "default", "--to", "weather-backnd:5000"],
            "did you mean `weather-backend.default.svc.cluster.local`?",
        ),
        (
            &["--from", "default/frontend", "--to", "weather-backend"],
            "did you mean `weather-frontend`?",
        ),
        (
            &["--from", "default", "--to", "weather-backend.prod"],
            "namespace `prod`",
        ),
        (
            &["--from", "default", "--to", "weather-backend:99999"],
            "not a port",
        ),
        (
            &[
                "--from",
                "default",
                "--to",
                "weather-backend",
                "--header",
                "novalue",
            ],
            "expected name=value",
        ),
        (&["--to", "weather-backend"], "--from"),
        (
            &["--from", "default", "--to", ":80"],
            "expected HOST[:PORT]",
        ),
        (
            &["--from", "default", "--to", "*.default.svc.cluster.local"],
            "not a wildcard",
        ),
        (&["--access-log", "not a log line"], "records no request"),
    ];
    for (args, want) in cases {
        let mut all = vec!["trace", bad];
        all.extend_from_slice(args);
        let r = bin(&all);
        assert_eq!(r.code, 2, "{args:?}: {}{}", r.stdout, r.stderr);
        assert!(r.stderr.contains(want), "{args:?}: {}", r.stderr);
    }
    let r = bin(&[
        "trace",
        "testdata/scenarios/002-istio-mutual-vs-simple/bad",
        "--gateway",
        "istio-ingress/example-gatway",
        "--to",
        "example.com",
    ]);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("did you mean `istio-ingress/example-gateway`?"),
        "{}",
        r.stderr
    );
}

#[test]
fn odd_input_never_panics() {
    // Every namespace × every host × every port (and a few odd ones) of every scenario,
    // and every gateway × every server host, end in a trace or a usage error.
    for name in [
        "000-mtls-503/bad",
        "000-mtls-503/fixed",
        "001-jwt-policy-never-applies/bad",
        "002-istio-mutual-vs-simple/bad",
        "002-istio-mutual-vs-simple/fixed",
        "003-egress-woes/bad",
        "004-mesh-wide-mtls/bad",
        "bookinfo-correct",
    ] {
        let m = load_dir(&scenario(name), None);
        let g = &m.graph;
        let namespaces: Vec<String> = g.known_namespaces().map(str::to_string).collect();
        let mut hosts: Vec<String> = Vec::new();
        for r in &g.resources {
            match &r.typed {
                meshlint_model::typed::Typed::Service(_) => {
                    hosts.push(format!("{}.{}", r.name(), r.namespace()))
                }
                meshlint_model::typed::Typed::ServiceEntry(se) => {
                    hosts.extend(se.hosts.iter().cloned())
                }
                _ => {}
            }
        }
        hosts.extend(["", ".", "*", "a..b", "x:y", "*.example.com"].map(String::from));
        for ns in namespaces.iter().chain(std::iter::once(&String::new())) {
            for host in &hosts {
                for port in [None, Some(0), Some(1), Some(80), Some(443), Some(65535)] {
                    let req = TraceRequest {
                        source: Source::Workload {
                            namespace: ns.clone(),
                            workload: None,
                        },
                        host: host.clone(),
                        port,
                        path: "".into(),
                        method: "".into(),
                        headers: vec![("".into(), "".into())],
                        pin: Some(Default::default()),
                    };
                    let _ = trace(g, &req);
                }
            }
        }
        for &gw in g.of_kind(meshlint_model::Kind::Gateway) {
            let r = g.resource(gw);
            let hosts: Vec<String> = match &r.typed {
                meshlint_model::typed::Typed::Gateway(x) => {
                    x.servers.iter().flat_map(|s| s.hosts.clone()).collect()
                }
                _ => Vec::new(),
            };
            for host in hosts.iter().chain(std::iter::once(&"nope".to_string())) {
                for path in ["/", "", "/c443", "\u{0}"] {
                    let req = TraceRequest {
                        source: Source::Gateway {
                            namespace: r.namespace().into(),
                            name: r.name().into(),
                        },
                        host: host.clone(),
                        port: None,
                        path: path.into(),
                        method: "GET".into(),
                        headers: Vec::new(),
                        pin: None,
                    };
                    let _ = trace(g, &req);
                }
            }
        }
        for line in [
            "",
            "{",
            "[x] \"GET / HTTP/1.1\" 503 UC \"a\" \"b\" outbound|||",
            "\"GET\" outbound|x|y|z",
        ] {
            let _ = trace_access_log(g, line, None);
        }
    }
}

// --- an egress gateway ----------------------------------------------------------------

/// A sidecar sends edition.cnn.com:80 to the egress gateway, which sends it on.
const EGRESS: &str = r#"
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {istio-injection: enabled}}
---
apiVersion: v1
kind: Namespace
metadata: {name: istio-system}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: sleep, namespace: shop}
spec:
  selector: {matchLabels: {app: sleep}}
  template:
    metadata: {labels: {app: sleep}}
    spec: {containers: [{name: sleep, image: curl}]}
---
apiVersion: v1
kind: Service
metadata: {name: istio-egressgateway, namespace: istio-system}
spec:
  selector: {istio: egressgateway}
  ports: [{name: http2, port: 80, targetPort: 8080}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: istio-egressgateway, namespace: istio-system}
spec:
  selector: {matchLabels: {istio: egressgateway}}
  template:
    metadata: {labels: {istio: egressgateway}}
    spec: {containers: [{name: istio-proxy, image: docker.io/istio/proxyv2:1.24.2, args: [proxy, router]}]}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: cnn, namespace: shop}
spec:
  hosts: [edition.cnn.com]
  location: MESH_EXTERNAL
  resolution: DNS
  ports: [{number: 80, name: http-port, protocol: HTTP}]
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: egress, namespace: shop}
spec:
  selector: {istio: egressgateway}
  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: [GATEWAY_HOST]}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: egressgateway-for-cnn, namespace: shop}
spec:
  host: istio-egressgateway.istio-system.svc.cluster.local
  subsets: [{name: cnn}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: cnn-through-egress, namespace: shop}
spec:
  hosts: [edition.cnn.com]
  gateways: [egress, mesh]
  http:
  - match: [{gateways: [mesh], port: 80}]
    route: [{destination: {host: istio-egressgateway.istio-system.svc.cluster.local, subset: cnn, port: {number: 80}}}]
  - match: [{gateways: [egress], port: 80}]
    route: [{destination: {host: edition.cnn.com, port: {number: 80}}}]
"#;

fn egress_mesh(gateway_host: &str) -> (tempfile::TempDir, LoadedMesh) {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("egress.yaml"),
        EGRESS.replace("GATEWAY_HOST", gateway_host),
    )
    .unwrap();
    let m = load_dir(tmp.path(), None);
    (tmp, m)
}

#[test]
fn egress_gateway_hop() {
    let (_tmp, m) = egress_mesh("edition.cnn.com");
    let t = from(&m, "shop/sleep", "edition.cnn.com:80");
    assert_delivered(&t);
    let steps: Vec<&str> = t.hops.iter().map(|h| h.step.as_str()).collect();
    let egress = steps
        .iter()
        .position(|s| *s == "egress-gateway")
        .unwrap_or_else(|| panic!("{steps:?}"));
    // Routed twice: by the sidecar to the gateway, by the gateway to the host.
    assert_eq!(
        steps.iter().filter(|s| **s == "route").count(),
        2,
        "{steps:?}"
    );
    assert!(steps[egress + 1..].contains(&"destination"), "{steps:?}");
    let hop = &t.hops[egress];
    assert!(
        hop.summary.contains("Gateway shop/egress server 0"),
        "{}",
        hop.summary
    );

    // The gateway does not accept the host: 404 NR there.
    let (_tmp, m) = egress_mesh("edition.cnn.org");
    let t = from(&m, "shop/sleep", "edition.cnn.com:80");
    assert_failed(&t, "404 NR");
    assert_decided(&t, "Gateway", "shop", "egress", "spec.servers");
}

// --- exportTo hides a Service --------------------------------------------------------

const EXPORT: &str = r#"
apiVersion: v1
kind: Namespace
metadata: {name: a, labels: {istio-injection: enabled}}
---
apiVersion: v1
kind: Namespace
metadata: {name: b, labels: {istio-injection: enabled}}
---
apiVersion: v1
kind: Service
metadata: {name: internal, namespace: a, annotations: {networking.istio.io/exportTo: "."}}
spec:
  selector: {app: internal}
  ports: [{name: http, port: 8080}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: internal, namespace: a}
spec:
  selector: {matchLabels: {app: internal}}
  template:
    metadata: {labels: {app: internal}}
    spec: {containers: [{name: app, image: x}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: client, namespace: b}
spec:
  selector: {matchLabels: {app: client}}
  template:
    metadata: {labels: {app: client}}
    spec: {containers: [{name: app, image: x}]}
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: a}
spec: {mtls: {mode: MODE}}
"#;

#[test]
fn export_to_hides_a_service_from_other_namespaces() {
    for (mode, verdict) in [
        ("PERMISSIVE", Verdict::Passthrough),
        ("STRICT", Verdict::Failed),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("m.yaml"), EXPORT.replace("MODE", mode)).unwrap();
        let m = load_dir(tmp.path(), None);
        let t = from(&m, "b/client", "internal.a:8080");
        assert_eq!(t.verdict, verdict, "{mode}: {}", t.explanation);
        let scope = t.hop("sidecar-scope").unwrap();
        assert!(scope.summary.contains("exportTo"), "{}", scope.summary);
        assert!(t
            .decided_by
            .iter()
            .any(|b| b.kind == "Service" && b.name == "internal"));
        // From its own namespace the Service is visible.
        assert_delivered(&from(&m, "a/internal", "internal:8080"));
    }
}

#[test]
fn docs_show_the_current_human_trace() {
    // docs/trace.md shows the trace of the seed 000 log line as the binary prints it.
    let line = SEED_000_LOG.replace("weatherHTTP/1.1", "weather HTTP/1.1");
    let r = bin(&[
        "trace",
        "testdata/scenarios/000-mtls-503/bad",
        "--access-log",
        &line,
    ]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let doc = std::fs::read_to_string(workspace().join("docs/trace.md")).unwrap();
    assert!(
        doc.contains(r.stdout.trim_end()),
        "docs/trace.md is stale; the trace now prints:\n{}",
        r.stdout
    );
    assert!(
        doc.contains(&line),
        "docs/trace.md should show the command with this line"
    );
}

#[test]
fn port_level_peer_authentication_decides_for_its_port() {
    // legacy/sleep has no sidecar: plaintext. httpbin in foo is STRICT mesh-wide, but a
    // workload PeerAuthentication makes port 8000 PERMISSIVE.
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(&scenario("004-mesh-wide-mtls").join("bad"), tmp.path());
    std::fs::write(
        tmp.path().join("port-level.yaml"),
        r#"
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: httpbin, namespace: foo}
spec:
  selector: {matchLabels: {app: httpbin}}
  mtls: {mode: STRICT}
  portLevelMtls:
    8000: {mode: PERMISSIVE}
"#,
    )
    .unwrap();
    let m = load_dir(
        tmp.path(),
        Some(scenario("004-mesh-wide-mtls").join("meshconfig.yaml")),
    );
    let t = from(&m, "legacy/sleep", "httpbin.foo:8000");
    assert_delivered(&t);
    let server = t.hop("server-mtls").unwrap();
    assert!(
        server
            .summary
            .contains("PERMISSIVE (port-level: PeerAuthentication foo/httpbin)"),
        "{}",
        server.summary
    );
    // httpbin.bar has no such exception.
    assert_failed(
        &from(&m, "legacy/sleep", "httpbin.bar:8000"),
        "connection reset by peer (curl exit 56)",
    );
}

// --- ambient: ztunnel and waypoint hops ------------------------------------------------

#[test]
fn ambient_bookinfo_goes_through_ztunnel_and_the_waypoint() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(
        &workspace().join("testdata/precision/ambient-bookinfo"),
        dir.path(),
    );
    std::fs::write(
        dir.path().join("legacy.yaml"),
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: legacy}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: cron, namespace: legacy}\nspec:\n  template:\n    metadata: {labels: {app: cron}}\n    spec: {containers: [{name: cron, image: cron}]}\n",
    )
    .unwrap();
    let m = load_dir(dir.path(), None);
    let t = from(&m, "bookinfo/productpage-v1", "reviews:9080");
    assert_delivered(&t);
    let step = |t: &Trace, s: &str| {
        t.hops
            .iter()
            .find(|h| h.step == s)
            .unwrap_or_else(|| panic!("no {s} hop: {:#?}", t.hops))
            .summary
            .clone()
    };
    assert!(step(&t, "source").contains("ztunnel"), "{:#?}", t.hops);
    assert!(step(&t, "client-tls").contains("HBONE"));
    assert!(step(&t, "waypoint").contains("bookinfo/waypoint"));
    assert!(step(&t, "server-mtls").contains("ztunnel terminates HBONE"));
    // A client outside the mesh sends plaintext, which STRICT ztunnel resets.
    let t = from(&m, "legacy/cron", "reviews.bookinfo:9080");
    assert_failed(&t, "connection reset by peer (curl exit 56)");
    assert!(step(&t, "waypoint").contains("do not use waypoints"));
}

/// `trace` reads the configuration file's mesh networks file and Istio release as `check`
/// does: a networks file that is missing, or a release meshlint does not know, is an
/// error (exit 2) naming it, not silently ignored.
#[test]
fn configuration_file_networks_and_release_reach_trace() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&scenario("000-mtls-503").join("fixed"), dir.path());
    let trace_args = [
        "trace",
        ".",
        "--from",
        "default/weather-frontend",
        "--to",
        "weather-backend:5000",
    ];
    let r = run(dir.path(), &trace_args);
    assert_eq!(r.code, 0, "without a configuration file: {}", r.stderr);

    std::fs::write(
        dir.path().join(".meshlint.yaml"),
        "mesh_networks: networks/absent.yaml\n",
    )
    .unwrap();
    let r = run(dir.path(), &trace_args);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("absent.yaml"), "{}", r.stderr);

    std::fs::write(
        dir.path().join(".meshlint.yaml"),
        "istio_version: \"0.1\"\n",
    )
    .unwrap();
    let r = run(dir.path(), &trace_args);
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("0.1"), "{}", r.stderr);
}
