//! The `istioctl analyze` parity checks of one resource: gateway pods, credentials and
//! ports; EnvoyFilter operations; control-plane webhooks, JWKS fetching and mesh
//! networks; Telemetry providers; deprecated fields and CRD versions; status
//! conditions; the proxy's UID and ExternalName ports; client TLS without a CA; what a
//! VirtualService's `gateways` and portless destinations need.

use super::validation::field_issues;
use super::values::*;
use super::{GraphEntry, GraphHost, R};
use meshlint_cel::Val;
use meshlint_graph::MeshGraph;
use meshlint_load::Node;

pub(super) const FUNCTIONS: &[GraphEntry] = &[
    ("gatewayWithoutPods", 1, gateway_without_pods),
    ("gatewayCredentials", 1, gateway_credentials),
    ("gatewayPortsNotExposed", 1, gateway_ports_not_exposed),
    ("unsupportedPatches", 1, unsupported_patches),
    ("webhookTargetIssues", 1, webhook_target_issues),
    ("unrestrictedJwksFetch", 1, unrestricted_jwks_fetch),
    ("unknownRegistries", 1, unknown_registries),
    ("telemetryProviderIssues", 1, telemetry_provider_issues),
    ("deprecatedFields", 1, deprecated_fields),
    ("outdatedGatewayApiCrd", 1, outdated_gateway_api_crd),
    ("failedConditions", 1, failed_conditions),
    ("proxyUidUsers", 1, proxy_uid_users),
    (
        "externalNamePortWithoutProtocol",
        1,
        external_name_port_without_protocol,
    ),
    ("tlsWithoutCaCertificates", 1, tls_without_ca_certificates),
    ("gatewayMismatches", 1, gateway_mismatches),
    ("internalGatewayRefs", 1, internal_gateway_refs),
    ("destinationsNeedingPort", 1, destinations_needing_port),
    ("serverConflicts", 1, server_conflicts),
    ("certificateSharing", 1, certificate_sharing),
];

/// The resource index a function's only argument refers to (`resource.ref`).
fn target(h: &GraphHost, a: &[Val], name: &str) -> Result<Option<usize>, meshlint_cel::EvalError> {
    Ok(resource_index(h.g, arg(name, a, 0)?))
}

fn gateway_without_pods<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    field_issues(h, a, "gatewayWithoutPods", MeshGraph::gateway_without_pods)
}

fn gateway_credentials<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let g = h.g;
    let Some(i) = target(h, a, "gatewayCredentials")? else {
        return Ok(Val::list(Vec::new()));
    };
    Ok(Val::list(
        g.gateway_credentials(i)
            .into_iter()
            .map(|c| {
                Val::map([
                    ("server", usize_int(c.server)),
                    ("path", Val::str(&c.path)),
                    ("name", Val::str(&c.name)),
                    ("namespace", Val::str(&c.namespace)),
                    ("found", Val::Bool(c.secret.is_some())),
                    (
                        "problem",
                        Val::str(&c.problem.map(|p| p.describe()).unwrap_or_default()),
                    ),
                    (
                        "secret",
                        c.secret.map(|s| name_ref(g, s)).unwrap_or(Val::Null),
                    ),
                ])
            })
            .collect(),
    ))
}

fn gateway_ports_not_exposed<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    field_issues(
        h,
        a,
        "gatewayPortsNotExposed",
        MeshGraph::gateway_ports_not_exposed,
    )
}

fn unsupported_patches<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    field_issues(h, a, "unsupportedPatches", MeshGraph::unsupported_patches)
}

fn webhook_target_issues<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let Some(i) = target(h, a, "webhookTargetIssues")? else {
        return Ok(Val::list(Vec::new()));
    };
    Ok(Val::list(
        h.g.webhook_target_issues(i)
            .into_iter()
            .map(|w| {
                Val::map([
                    ("path", Val::str(&w.path)),
                    ("code", Val::borrowed(w.code)),
                    ("webhook", Val::str(&w.webhook)),
                    ("value", Val::str(&w.value)),
                ])
            })
            .collect(),
    ))
}

fn unrestricted_jwks_fetch<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let g = h.g;
    let found = target(h, a, "unrestrictedJwksFetch")?.and_then(|i| g.unrestricted_jwks_fetch(i));
    each(g, found, entry)
}

fn unknown_registries<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let Some(i) = target(h, a, "unknownRegistries")? else {
        return Ok(Val::list(Vec::new()));
    };
    Ok(Val::list(
        h.g.unknown_registries(i)
            .into_iter()
            .map(|u| {
                Val::map([
                    ("path", Val::str(&u.path)),
                    ("network", Val::str(&u.network)),
                    ("registry", Val::str(&u.registry)),
                ])
            })
            .collect(),
    ))
}

fn telemetry_provider_issues<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    field_issues(
        h,
        a,
        "telemetryProviderIssues",
        MeshGraph::telemetry_provider_issues,
    )
}

fn deprecated_fields<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    field_issues(h, a, "deprecatedFields", MeshGraph::deprecated_fields)
}

fn outdated_gateway_api_crd<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    field_issues(
        h,
        a,
        "outdatedGatewayApiCrd",
        MeshGraph::outdated_gateway_api_crd,
    )
}

fn failed_conditions<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let Some(i) = target(h, a, "failedConditions")? else {
        return Ok(Val::list(Vec::new()));
    };
    Ok(Val::list(
        h.g.failed_conditions(i)
            .into_iter()
            .map(|c| {
                Val::map([
                    ("path", Val::str(&c.path)),
                    ("type", Val::str(&c.condition_type)),
                    ("status", Val::str(c.status.as_deref().unwrap_or("unset"))),
                    ("reason", opt_str(c.reason.as_deref())),
                    ("message", opt_str(c.message.as_deref())),
                ])
            })
            .collect(),
    ))
}

fn proxy_uid_users<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    field_issues(h, a, "proxyUidUsers", MeshGraph::proxy_uid_users)
}

fn external_name_port_without_protocol<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    field_issues(
        h,
        a,
        "externalNamePortWithoutProtocol",
        MeshGraph::external_name_port_without_protocol,
    )
}

fn tls_without_ca_certificates<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    field_issues(
        h,
        a,
        "tlsWithoutCaCertificates",
        MeshGraph::tls_without_ca_certificates,
    )
}

fn gateway_mismatches<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let Some(i) = target(h, a, "gatewayMismatches")? else {
        return Ok(Val::list(Vec::new()));
    };
    Ok(Val::list(
        h.g.gateway_mismatches(i)
            .into_iter()
            .map(|m| {
                Val::map([
                    ("path", Val::str(&m.path)),
                    ("namespace", Val::str(&m.namespace)),
                    ("name", Val::str(&m.name)),
                    ("found", Val::Bool(m.found)),
                    ("hosts", str_list(&m.hosts)),
                ])
            })
            .collect(),
    ))
}

fn internal_gateway_refs<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    field_issues(
        h,
        a,
        "internalGatewayRefs",
        MeshGraph::internal_gateway_refs,
    )
}

fn destinations_needing_port<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    field_issues(
        h,
        a,
        "destinationsNeedingPort",
        MeshGraph::destinations_needing_port,
    )
}

/// Server `i` of a Gateway as written.
fn server_node(g: &MeshGraph, gateway: usize, i: usize) -> Option<&Node> {
    g.resources[gateway]
        .node
        .get("spec")?
        .get("servers")?
        .items()
        .get(i)
}

/// [`MeshGraph::gateway_conflicts`] as rules show it: per server of this Gateway also
/// declared (same port, host and bind) by servers of other Gateways on the same pods,
/// `{server, path, port, hosts, gateways, others}` — `port` the number as text (`unset`
/// when missing), `gateways` those Gateways (each object once, however many documents
/// write it), `others` references to their servers.
fn server_conflicts<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let g = h.g;
    let Some(i) = target(h, a, "serverConflicts")? else {
        return Ok(Val::list(Vec::new()));
    };
    Ok(Val::list(
        g.gateway_conflicts(i)
            .into_iter()
            .map(|(server, others)| {
                let node = server_node(g, i, server);
                let port = node
                    .and_then(|s| s.get("port"))
                    .and_then(|p| p.get("number"))
                    .and_then(Node::as_str)
                    .unwrap_or("unset");
                let hosts: Vec<Val> = node
                    .and_then(|s| s.get("hosts"))
                    .map(Node::items)
                    .unwrap_or(&[])
                    .iter()
                    .filter_map(|h| h.as_str().map(Val::borrowed))
                    .collect();
                // Documents of one object are named once; each is still an `others` entry.
                let mut named = std::collections::HashSet::new();
                let gateways: Vec<Val> = others
                    .iter()
                    .filter(|&&(o, _)| {
                        let r = &g.resources[o];
                        named.insert((r.namespace(), r.name()))
                    })
                    .map(|&(o, _)| entry(g, o))
                    .collect();
                Val::map([
                    ("server", usize_int(server)),
                    ("path", Val::str(&format!("spec.servers[{server}]"))),
                    ("port", Val::borrowed(port)),
                    ("hosts", Val::list(hosts)),
                    ("gateways", Val::list(gateways)),
                    (
                        "others",
                        Val::list(
                            others
                                .iter()
                                .map(|&(o, s)| ref_value(g, o, &format!("spec.servers[{s}]")))
                                .collect(),
                        ),
                    ),
                ])
            })
            .collect(),
    ))
}

/// [`MeshGraph::gateways_sharing_certificate`] as rules show it: `{server, path,
/// credential, gateway, other}` — `path` the server's `tls`, `credential` its
/// `credentialName` (`''` when it names certificate files), `gateway` the other Gateway,
/// `other` a reference to its servers.
fn certificate_sharing<'g>(h: &GraphHost<'g>, a: &[Val<'g>]) -> R<'g> {
    let g = h.g;
    let Some(i) = target(h, a, "certificateSharing")? else {
        return Ok(Val::list(Vec::new()));
    };
    Ok(Val::list(
        g.gateways_sharing_certificate(i)
            .into_iter()
            .map(|(server, o)| {
                let credential = server_node(g, i, server)
                    .and_then(|s| s.str_at(&["tls", "credentialName"]))
                    .unwrap_or("");
                Val::map([
                    ("server", usize_int(server)),
                    ("path", Val::str(&format!("spec.servers[{server}].tls"))),
                    ("credential", Val::borrowed(credential)),
                    ("gateway", entry(g, o)),
                    ("other", ref_value(g, o, "spec.servers")),
                ])
            })
            .collect(),
    ))
}
