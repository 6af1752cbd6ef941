//! The CRDs' `x-kubernetes-validations` rules and structural constraints are evaluated
//! at their fields, as the API server does on create, and reported as errors with the
//! CRD's message.

use meshlint_load::{load_source, LoadLimits};
use meshlint_model::build_resources_for;
use meshlint_model::schema::release;

fn findings(line: &str, yaml: &str) -> Vec<(String, u32, String)> {
    let loaded = load_source(
        "t.yaml".into(),
        yaml.as_bytes().to_vec(),
        &LoadLimits::default(),
    );
    let set = build_resources_for(&loaded, release(line).unwrap());
    set.findings
        .into_iter()
        .map(|f| (f.rule.to_string(), f.location.span.start.line, f.message))
        .collect()
}

#[test]
fn crd_cel_rules_are_errors_at_their_fields() {
    let text = include_str!("crd-rules/serviceentry-destinationrule.yaml");
    let got = findings("1.30", text);
    let want = [
        (9, "`spec.trafficPolicy.connectionPool.tcp.connectTimeout`: must be a valid duration greater than 1ms"),
        (15, "`spec`: NONE mode cannot set endpoints"),
        (15, "`spec.hosts[0]`: hostname cannot be wildcard"),
        (17, "`spec.ports`: port number cannot be duplicated"),
    ];
    for (line, message) in want {
        assert!(
            got.iter()
                .any(|(r, l, m)| r == "schema-validation" && *l == line && m.starts_with(message)),
            "missing {line}: {message} in {got:#?}"
        );
    }
    assert_eq!(got.len(), want.len(), "{got:#?}");
}

#[test]
fn valid_objects_pass_every_crd_rule() {
    let got = findings(
        "1.30",
        "apiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: se}\nspec:\n  hosts: [api.example.com]\n  ports:\n  - {number: 443, name: https, protocol: TLS}\n  - {number: 80, name: http, protocol: HTTP}\n  resolution: DNS\n---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: dr}\nspec:\n  host: a\n  trafficPolicy:\n    connectionPool: {tcp: {connectTimeout: 250ms}}\n",
    );
    assert!(got.is_empty(), "{got:#?}");
}

#[test]
fn structural_constraints() {
    let got = findings(
        "1.30",
        "apiVersion: extensions.istio.io/v1alpha1\nkind: TrafficExtension\nmetadata: {name: t}\nspec:\n  lua: {inlineCode: x}\n  match:\n  - ports: [{number: 70000}]\n---\napiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: a}\nspec:\n  selector: {matchLabels: {app: x}}\n  targetRef: {kind: Gateway, name: g}\n",
    );
    assert!(
        got.iter().any(
            |(r, l, m)| (r == "schema-constraint" || r == "schema-validation")
                && *l == 7
                && m.contains("at most 65535")
        ),
        "{got:#?}"
    );
    assert!(
        got.iter()
            .any(|(r, l, _)| (r == "schema-constraint" || r == "schema-validation") && *l == 13),
        "{got:#?}"
    );
}

#[test]
fn url_rules_use_the_kubernetes_url_library() {
    let got = findings(
        "1.30",
        "apiVersion: extensions.istio.io/v1alpha1\nkind: WasmPlugin\nmetadata: {name: w}\nspec:\n  url: ftp://example.com/filter.wasm\n---\napiVersion: extensions.istio.io/v1alpha1\nkind: WasmPlugin\nmetadata: {name: ok}\nspec:\n  url: oci://ghcr.io/acme/filter:1.0\n---\napiVersion: security.istio.io/v1\nkind: RequestAuthentication\nmetadata: {name: r}\nspec:\n  jwtRules:\n  - issuer: me\n    jwksUri: example.com/keys\n",
    );
    let lines: Vec<u32> = got
        .iter()
        .filter(|(r, _, _)| r == "schema-validation")
        .map(|(_, l, _)| *l)
        .collect();
    assert_eq!(lines, [5, 19], "{got:#?}");
    assert!(got[0].2.contains("url must have schema one of"), "{got:#?}");
}
