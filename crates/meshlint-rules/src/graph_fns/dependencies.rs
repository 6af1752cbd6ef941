//! What each graph function's answer reads: the kinds of resource that, when an edit
//! adds, removes or changes one, may change the answer. The language server re-runs
//! after an edit of kind K only the rules whose functions read K (see
//! [`crate::dependencies`]); a missing kind here would leave a stale finding until the
//! background full evaluation corrects it, so every entry errs towards reading more.
//!
//! The entries were derived with `scripts/graph-fn-dependencies.py` (a call graph over
//! the graph queries, marking the bodies that name a configuration kind) and reviewed;
//! `python3 scripts/graph-fn-dependencies.py --check` says where a query changed since.
//! A test fails for a graph function without an entry here.
//!
//! Only the configuration kinds in [`TRACKED`] are told apart: every function that reads
//! the graph at all is taken to read every other kind (Namespaces, Services,
//! ServiceEntries, workloads, ConfigMaps, Secrets, …), since host resolution and
//! workload selection, which nearly all of them use, read those.

use crate::dependencies::KindSet;
use meshlint_model::Kind;
use meshlint_model::Kind::*;

/// What one graph function reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reads {
    /// The kinds of the set (and only the resources its arguments name otherwise).
    Kinds(KindSet),
    /// The kind its first argument names (`resourcesOf('Secret')`): every kind when the
    /// argument is not a string literal.
    NamedKind,
    /// Resources of the kind of the resource its argument names (`copiesOf`: the other
    /// documents of the same object). That resource is the rule's own, or one a function
    /// that reads its kind returned, so this adds the kind of the resource evaluated.
    ArgumentKind,
}

/// The configuration kinds told apart; the others are read by every non-pure function.
pub(crate) const TRACKED: KindSet = KindSet::of(&[
    PeerAuthentication,
    DestinationRule,
    VirtualService,
    Gateway,
    Sidecar,
    RequestAuthentication,
    AuthorizationPolicy,
    Telemetry,
    WasmPlugin,
    EnvoyFilter,
    ProxyConfig,
    WorkloadGroup,
    LegacyPolicy,
    LegacyMeshPolicy,
    K8sGateway,
    K8sGatewayClass,
    HTTPRoute,
    GRPCRoute,
    TCPRoute,
    TLSRoute,
    ReferenceGrant,
    NetworkPolicy,
    MutatingWebhookConfiguration,
    ValidatingWebhookConfiguration,
    CustomResourceDefinition,
]);

/// Reads nothing of the graph but the resources its arguments name.
const PURE: Reads = Reads::Kinds(KindSet::EMPTY);
/// Reads every kind.
const ALL: Reads = Reads::Kinds(KindSet::ALL);
/// Reads the untracked kinds only.
const BASE: Reads = Reads::Kinds(KindSet::ALL.without(TRACKED));
const NAMED_KIND: Reads = Reads::NamedKind;
const ARGUMENT_KIND: Reads = Reads::ArgumentKind;

/// The untracked kinds and `kinds`.
const fn base(kinds: &[Kind]) -> Reads {
    Reads::Kinds(KindSet::ALL.without(TRACKED).union(KindSet::of(kinds)))
}

/// Every graph function by name, with what it reads. Besides the script's answers:
/// message helpers and functions of their arguments alone are [`PURE`]; functions
/// taking a kind as an argument are [`NAMED_KIND`] when it is the first, else [`ALL`]
/// (`selectedBy`); `copiesOf` and `firstCopy` read the copies of their argument
/// ([`ARGUMENT_KIND`]).
// One line per function, as the script prints them.
#[rustfmt::skip]
pub(crate) const DEPENDENCIES: &[(&str, Reads)] = &[
    ("dataPlane", base(&[Gateway])),
    ("namespaceDataPlane", BASE),
    ("ambientOverridden", base(&[Gateway])),
    ("waypointBinding", base(&[K8sGateway, K8sGatewayClass])),
    ("waypointListenerIssues", base(&[K8sGateway])),
    ("ztunnelAuthz", base(&[Gateway, AuthorizationPolicy])),
    ("policyTargetRefs", base(&[Gateway, K8sGateway, K8sGatewayClass, HTTPRoute, GRPCRoute, TCPRoute, TLSRoute, ReferenceGrant])),
    ("workloadWaypoints", base(&[K8sGateway, K8sGatewayClass])),
    ("waypointIdentityRefused", base(&[Gateway, AuthorizationPolicy, K8sGateway, K8sGatewayClass])),
    ("policyAmbientWorkloads", base(&[Gateway, K8sGateway, K8sGatewayClass])),
    ("waypointRouteIssues", base(&[DestinationRule, VirtualService, Gateway, Sidecar, RequestAuthentication, AuthorizationPolicy, Telemetry, WasmPlugin, EnvoyFilter, K8sGateway, K8sGatewayClass, HTTPRoute, GRPCRoute, TCPRoute, TLSRoute])),
    ("ingressWaypointBypass", base(&[DestinationRule, VirtualService, Gateway, Sidecar, RequestAuthentication, AuthorizationPolicy, Telemetry, WasmPlugin, EnvoyFilter, K8sGateway, K8sGatewayClass, HTTPRoute, GRPCRoute, TCPRoute, TLSRoute, ReferenceGrant])),
    ("ambientNetworkBlock", base(&[Gateway, NetworkPolicy])),
    ("routeParents", base(&[DestinationRule, VirtualService, Gateway, Sidecar, RequestAuthentication, AuthorizationPolicy, Telemetry, WasmPlugin, EnvoyFilter, K8sGateway, K8sGatewayClass, HTTPRoute, GRPCRoute, TCPRoute, TLSRoute])),
    ("parentsWithoutWaypoint", base(&[DestinationRule, VirtualService, Gateway, Sidecar, RequestAuthentication, AuthorizationPolicy, Telemetry, WasmPlugin, EnvoyFilter, K8sGateway, K8sGatewayClass, HTTPRoute, GRPCRoute, TCPRoute, TLSRoute])),
    ("routeBackends", base(&[DestinationRule, VirtualService, Gateway, Sidecar, RequestAuthentication, AuthorizationPolicy, Telemetry, WasmPlugin, EnvoyFilter, K8sGatewayClass, HTTPRoute, GRPCRoute, TCPRoute, TLSRoute, ReferenceGrant])),
    ("gateway", base(&[Gateway])),
    ("gatewayProxyNamespaces", base(&[Gateway])),
    ("gatewayConflicts", base(&[DestinationRule, VirtualService, Gateway, Sidecar, RequestAuthentication, AuthorizationPolicy, Telemetry, WasmPlugin, EnvoyFilter])),
    ("sharedCertificates", base(&[DestinationRule, VirtualService, Gateway, Sidecar, RequestAuthentication, AuthorizationPolicy, Telemetry, WasmPlugin, EnvoyFilter])),
    ("meshHostConflicts", base(&[DestinationRule, VirtualService, Gateway, Sidecar, RequestAuthentication, AuthorizationPolicy, Telemetry, WasmPlugin, EnvoyFilter])),
    ("gatewayLookup", base(&[Gateway, K8sGateway])),
    ("gatewayHosts", base(&[Gateway, K8sGateway])),
    ("selectsInstalledGateway", BASE),
    ("resolveHost", BASE),
    ("hostTargets", BASE),
    ("hostExists", BASE),
    ("suggestHost", BASE),
    ("namespaceKnown", BASE),
    ("suggestNamespace", BASE),
    ("servicesFor", BASE),
    ("hostMatches", PURE),
    ("hostsOverlap", PURE),
    ("namespaceMatches", base(&[DestinationRule, VirtualService, Gateway, Sidecar, RequestAuthentication, AuthorizationPolicy, Telemetry, WasmPlugin, EnvoyFilter])),
    ("hostLookup", base(&[DestinationRule, VirtualService])),
    ("lookupNamespaces", base(&[DestinationRule, VirtualService])),
    ("namespacePresent", BASE),
    ("copiesOf", ARGUMENT_KIND),
    ("firstCopy", ARGUMENT_KIND),
    ("outboundPolicy", base(&[Sidecar])),
    ("isExternalHost", BASE),
    ("externalHostGap", base(&[DestinationRule, VirtualService, Sidecar])),
    ("wildcardDnsHosts", BASE),
    ("namespaceInjection", BASE),
    ("staleProxies", base(&[DestinationRule, VirtualService, Gateway, Sidecar, RequestAuthentication, AuthorizationPolicy, Telemetry, WasmPlugin, EnvoyFilter, ProxyConfig])),
    ("missingProxy", BASE),
    ("webhookOverlaps", base(&[MutatingWebhookConfiguration])),
    ("missingWebhookServices", base(&[MutatingWebhookConfiguration])),
    ("uninjectedAutoImages", base(&[MutatingWebhookConfiguration])),
    ("plural", PURE),
    ("quoted", PURE),
    ("names", PURE),
    ("display", PURE),
    ("displays", PURE),
    ("didYouMean", PURE),
    ("namesUpTo", PURE),
    ("peerMode", base(&[PeerAuthentication])),
    ("peerModes", base(&[PeerAuthentication, Gateway])),
    ("clientTls", base(&[DestinationRule])),
    ("destinationRuleFor", base(&[DestinationRule])),
    ("tlsSettings", base(&[PeerAuthentication, DestinationRule, Gateway])),
    ("disableTowardAmbient", base(&[PeerAuthentication, DestinationRule, Gateway])),
    ("peerTargets", base(&[PeerAuthentication, Gateway])),
    ("strictNamespacesUnderDisable", base(&[PeerAuthentication, DestinationRule])),
    ("disabledNamespacesUnderIstioMutual", base(&[PeerAuthentication, DestinationRule])),
    ("strictWithoutClientMtls", base(&[PeerAuthentication, DestinationRule])),
    ("meshMtlsWithoutPeerAuthentication", base(&[PeerAuthentication, DestinationRule])),
    ("gatewayWithoutPods", base(&[DestinationRule, VirtualService, Gateway, Sidecar, RequestAuthentication, AuthorizationPolicy, Telemetry, WasmPlugin, EnvoyFilter])),
    ("gatewayCredentials", base(&[DestinationRule, VirtualService, Gateway, Sidecar, RequestAuthentication, AuthorizationPolicy, Telemetry, WasmPlugin, EnvoyFilter])),
    ("gatewayPortsNotExposed", base(&[DestinationRule, VirtualService, Gateway, Sidecar, RequestAuthentication, AuthorizationPolicy, Telemetry, WasmPlugin, EnvoyFilter])),
    ("unsupportedPatches", BASE),
    ("webhookTargetIssues", base(&[MutatingWebhookConfiguration, ValidatingWebhookConfiguration])),
    ("unrestrictedJwksFetch", base(&[RequestAuthentication])),
    ("unknownRegistries", BASE),
    ("telemetryProviderIssues", BASE),
    ("deprecatedFields", base(&[VirtualService, Sidecar, CustomResourceDefinition])),
    ("outdatedGatewayApiCrd", BASE),
    ("failedConditions", base(&[AuthorizationPolicy, K8sGateway, K8sGatewayClass, HTTPRoute, GRPCRoute, TCPRoute, TLSRoute, ReferenceGrant])),
    ("proxyUidUsers", BASE),
    ("externalNamePortWithoutProtocol", BASE),
    ("tlsWithoutCaCertificates", BASE),
    ("gatewayMismatches", base(&[Gateway, K8sGateway])),
    ("internalGatewayRefs", BASE),
    ("destinationsNeedingPort", base(&[DestinationRule, VirtualService, Gateway, Sidecar, RequestAuthentication, AuthorizationPolicy, Telemetry, WasmPlugin, EnvoyFilter])),
    ("serverConflicts", base(&[DestinationRule, VirtualService, Gateway, Sidecar, RequestAuthentication, AuthorizationPolicy, Telemetry, WasmPlugin, EnvoyFilter])),
    ("certificateSharing", base(&[DestinationRule, VirtualService, Gateway, Sidecar, RequestAuthentication, AuthorizationPolicy, Telemetry, WasmPlugin, EnvoyFilter])),
    ("policiesSelecting", base(&[DestinationRule, VirtualService, Gateway, Sidecar, RequestAuthentication, AuthorizationPolicy, Telemetry, WasmPlugin, EnvoyFilter])),
    ("identityWithoutMtls", base(&[PeerAuthentication])),
    ("tokenConditionsWithoutAuthn", base(&[Sidecar, RequestAuthentication])),
    ("policyReach", base(&[DestinationRule, VirtualService, Gateway, Sidecar, RequestAuthentication, AuthorizationPolicy, Telemetry, WasmPlugin, EnvoyFilter])),
    ("unmatchedSourceNamespaces", base(&[DestinationRule, VirtualService, Gateway, Sidecar, RequestAuthentication, AuthorizationPolicy, Telemetry, WasmPlugin, EnvoyFilter])),
    ("claimRoutesWithoutAuthn", base(&[Gateway, RequestAuthentication])),
    ("telemetryConflicts", base(&[Telemetry])),
    ("portProtocolClashes", base(&[DestinationRule, VirtualService, Gateway, Sidecar, RequestAuthentication, AuthorizationPolicy, Telemetry, WasmPlugin, EnvoyFilter])),
    ("sniHostsOutsideHosts", BASE),
    ("unmatchedSelector", BASE),
    ("gatewayApiPodsSelected", base(&[DestinationRule, VirtualService, Gateway, Sidecar, RequestAuthentication, AuthorizationPolicy, Telemetry, WasmPlugin, EnvoyFilter, K8sGateway, K8sGatewayClass, HTTPRoute, GRPCRoute, TCPRoute, TLSRoute, ReferenceGrant])),
    ("subsetBypasses", base(&[DestinationRule, VirtualService, Gateway, Sidecar, RequestAuthentication, AuthorizationPolicy, Telemetry, WasmPlugin, EnvoyFilter])),
    ("undeclaredProtocolPorts", BASE),
    ("missingGateways", base(&[Gateway, K8sGateway])),
    ("emptySubsets", base(&[VirtualService, Gateway])),
    ("refAt", PURE),
    ("resourcesOf", NAMED_KIND),
    ("resourcesIn", NAMED_KIND),
    ("named", NAMED_KIND),
    ("lookup", NAMED_KIND),
    ("secret", BASE),
    ("parseYaml", PURE),
    ("tcpPortConflicts", base(&[DestinationRule, VirtualService, Sidecar])),
    ("destinationsOf", base(&[VirtualService])),
    ("protocolConflicts", base(&[DestinationRule, VirtualService, Sidecar])),
    ("routesTo", base(&[VirtualService, Gateway])),
    ("destinationOf", base(&[DestinationRule, VirtualService, Gateway, Sidecar, RequestAuthentication, AuthorizationPolicy, Telemetry, WasmPlugin, EnvoyFilter])),
    ("subsetDefined", base(&[DestinationRule, VirtualService, Gateway, Sidecar, RequestAuthentication, AuthorizationPolicy, Telemetry, WasmPlugin, EnvoyFilter])),
    ("subsetRoutesTo", base(&[DestinationRule, VirtualService, Gateway, Sidecar, RequestAuthentication, AuthorizationPolicy, Telemetry, WasmPlugin, EnvoyFilter])),
    ("destinationProblems", base(&[DestinationRule, VirtualService])),
    ("addressCapture", BASE),
    ("addressConflicts", base(&[DestinationRule, VirtualService, Sidecar])),
    ("undefinedSubsets", base(&[DestinationRule, VirtualService])),
    ("plaintextCallers", base(&[PeerAuthentication, Gateway])),
    ("clientsWithoutMtls", base(&[PeerAuthentication, DestinationRule, VirtualService, Gateway])),
    ("tlsConflicts", base(&[PeerAuthentication, DestinationRule, VirtualService, Gateway])),
    ("autoMtlsToBypassedPorts", base(&[DestinationRule, VirtualService, Gateway])),
    ("portLevelMtlsIgnored", base(&[PeerAuthentication])),
    ("externalServers", base(&[Gateway])),
    ("serversWithoutCertificate", BASE),
    ("routesWithoutAction", BASE),
    ("weightIssues", BASE),
    ("duplicateRouteNames", BASE),
    ("portIssues", base(&[Gateway])),
    ("serversWithoutTls", BASE),
    ("delegateIssues", base(&[VirtualService])),
    ("invalidRegexes", BASE),
    ("durationIssues", BASE),
    ("retryOnIssues", BASE),
    ("shadowedMatches", BASE),
    ("annotationIssues", BASE),
    ("serverFirstPorts", BASE),
    ("authorizationRuleShape", base(&[AuthorizationPolicy])),
    ("hostVisible", base(&[Sidecar])),
    ("sidecarFor", base(&[Sidecar])),
    ("clientNamespaces", base(&[DestinationRule, VirtualService])),
    ("exportedTo", BASE),
    ("hiddenFromClients", base(&[DestinationRule, VirtualService, Sidecar])),
    ("hostExportedTo", base(&[DestinationRule, VirtualService])),
    ("proxiesByNamespace", base(&[Gateway])),
    ("emptySidecarImports", base(&[DestinationRule, VirtualService, Sidecar])),
    ("hiddenHosts", base(&[DestinationRule, VirtualService, Gateway, Sidecar])),
    ("competingSidecars", base(&[Sidecar])),
    ("sharedWorkloads", base(&[Sidecar])),
    ("sidecarInAmbient", base(&[Sidecar])),
    ("destinationRuleReach", base(&[DestinationRule])),
    ("virtualServiceAudience", base(&[VirtualService])),
    ("portsOf", BASE),
    ("portProtocol", BASE),
    ("workloadsForHost", BASE),
    ("workloadsSelected", BASE),
    ("selects", BASE),
    ("selectedBy", ALL),
    ("topologyLabels", BASE),
    ("podsMatching", base(&[DestinationRule, VirtualService, Gateway, Sidecar, RequestAuthentication, AuthorizationPolicy, Telemetry, WasmPlugin, EnvoyFilter])),
    ("podsIn", base(&[DestinationRule, VirtualService, Gateway, Sidecar, RequestAuthentication, AuthorizationPolicy, Telemetry, WasmPlugin, EnvoyFilter])),
    ("servicesSelecting", base(&[DestinationRule, VirtualService, Gateway, Sidecar, RequestAuthentication, AuthorizationPolicy, Telemetry, WasmPlugin, EnvoyFilter])),
    ("labelSelectorMatches", PURE),
    ("workloadsMaybeSelected", BASE),
    ("orderDependentPatches", BASE),
    ("targetPortConflicts", base(&[DestinationRule, VirtualService, Gateway, Sidecar, RequestAuthentication, AuthorizationPolicy, Telemetry, WasmPlugin, EnvoyFilter])),
    ("selectorMiss", base(&[PeerAuthentication, RequestAuthentication, AuthorizationPolicy, Telemetry, WasmPlugin, EnvoyFilter])),
];

/// What the graph function of `name` reads; every kind for a name without an entry.
pub(crate) fn reads(name: &str) -> Reads {
    DEPENDENCIES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|&(_, r)| r)
        .unwrap_or(ALL)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph_fns::graph_table;

    #[test]
    fn every_graph_function_declares_what_it_reads() {
        let declared: Vec<&str> = DEPENDENCIES.iter().map(|(n, _)| *n).collect();
        let missing: Vec<&str> = graph_table()
            .iter()
            .map(|(n, _, _)| *n)
            .filter(|n| !declared.contains(n))
            .collect();
        assert!(
            missing.is_empty(),
            "graph functions without an entry in graph_fns/dependencies.rs: {missing:?}"
        );
        let unknown: Vec<&str> = declared
            .iter()
            .copied()
            .filter(|n| !graph_table().iter().any(|(m, _, _)| m == n))
            .collect();
        assert!(
            unknown.is_empty(),
            "entries for no graph function: {unknown:?}"
        );
        let mut sorted = declared.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), declared.len(), "a function declared twice");
    }

    #[test]
    fn the_base_set_is_everything_untracked() {
        let Reads::Kinds(base) = BASE else {
            unreachable!()
        };
        assert!(base.contains(Kind::Service) && base.contains(Kind::Namespace));
        assert!(base.contains(Kind::Other) && base.contains(Kind::Pod));
        assert!(!base.contains(Kind::PeerAuthentication));
        let Reads::Kinds(peer) = reads("peerMode") else {
            unreachable!()
        };
        assert!(peer.contains(Kind::PeerAuthentication) && peer.contains(Kind::Service));
        assert!(!peer.contains(Kind::VirtualService));
        assert_eq!(reads("quoted"), PURE);
    }
}
