//! The mesh graph: every resource, host, namespace and workload of the inputs, and the
//! relations between them (defines, selects, configures, routes to, binds, imports).
//!
//! It owns Istio's semantics so rules do not have to: short-host resolution in the
//! writer's namespace, wildcard host matching, selector matching, DestinationRule lookup
//! order and setting precedence (client namespace, service namespace, root namespace;
//! subset over port-level over top-level), PeerAuthentication precedence (port-level,
//! workload, namespace, mesh; UNSET inherits), Sidecar egress imports and `exportTo`
//! visibility, sidecar injection, Gateway references and port protocols, and for one
//! request the VirtualService route it takes and whether AuthorizationPolicies admit
//! it (what `meshlint trace` asks). Every answer
//! carries the resource and field path that decided it, so findings can point there.
//! Lookups go through indexes (by kind, namespace and host); nothing is all-pairs.
#![forbid(unsafe_code)]

mod address_capture;
mod ambient;
mod annotations;
mod authorization;
mod authz_identity;
mod build;
mod control_plane;
mod dataplane;
mod deprecations;
mod destination_rules;
mod dr_index;
mod egress;
mod envoy_filters;
mod fast_map;
mod flat_map;
mod gateway_api;
mod gateway_refs;
mod gateway_servers;
mod hidden_hosts;
mod hosts;
mod identity;
mod indexes;
mod injection;
mod injector;
mod istio;
mod mesh_mtls;
mod mtls;
mod name_index;
mod network_policies;
mod policy_attachment;
mod policy_scope;
mod proxy_bypass;
mod queries;
mod reach;
mod reference_answers;
mod request;
mod resource_index;
mod route_checks;
mod routing;
mod scale;
mod server_first;
mod service_entries;
mod service_ports;
mod sidecar_imports;
mod sidecar_scope;
mod status_conditions;
mod tally;
mod telemetry;
mod tls_answers;
mod undefined_subsets;
mod upstream_tls;
mod validation;
mod visibility;
mod vs_bindings;
mod webhooks;
mod wildcard_index;
mod workloads;

pub use address_capture::{AddressPort, AddressPortConflict};
pub use ambient::{L7Field, WaypointBinding, WaypointListenerIssue, ZtunnelAuthz};
pub use annotations::{annotation_catalogue, invalid_value, is_istio_annotation, AnnotationDef};
pub use authorization::{AuthzDecision, AuthzRequest};
pub use authz_identity::IdentityGap;
pub use build::{Edge, GraphNode, MeshGraph};
pub use control_plane::{UnknownRegistry, WebhookIssue};
pub use dataplane::{AmbientOverride, DataPlane, DataPlaneDecision, DATAPLANE_LABEL};
pub use destination_rules::{MergedDestinationRule, MergedSubset};
pub use egress::{ExternalHostGap, OutboundPolicyDecision};
pub use envoy_filters::OrderDependentPatches;
pub use gateway_api::{hostnames_intersect, RouteBackend, RouteParent};
pub use gateway_refs::GatewayLookup;
pub use gateway_servers::{CredentialProblem, GatewayCredential};
pub use hidden_hosts::{HiddenFrom, HiddenHost};
pub use hosts::{HostLookup, HostState};
pub use injection::ProxyNamespace;
pub use injector::{InjectorValues, NamespaceInjection, StalePod, StaleProxies, SYSTEM_NAMESPACES};
pub use istio::{export_scopes, hosts_overlap};
pub use mesh_mtls::LevelConflict;
pub use mtls::{DisableTowardAmbient, GovernedPort, GovernedWorkload, PeerTarget, TlsSetting};
pub use network_policies::AmbientNetworkBlock;
pub use policy_attachment::{
    IngressBypass, TargetRef, WaypointIdentityRefused, WaypointRouteIssue,
};
pub use policy_scope::{ClaimRouteGap, PolicyReach, SourceNamespace, TelemetryConflicts};
pub use queries::{host_matches, selector_matches, Decision, HostTarget, PortInfo};
pub use reach::ConfigReach;
pub use reference_answers::{EmptySubset, MissingGateway, UndeclaredPort};
pub use request::{
    render_inline, RequestAttrs, RouteChoice, RouteOutcome, VirtualServiceChoice,
    WeightedDestination,
};
pub use route_checks::{DestinationProblem, DestinationProblemKind};
pub use routing::RouteTo;
pub use server_first::TCP_BY_DEFAULT;
pub use service_entries::{
    addresses_overlap, matches_by_address, routes_by_host, ProtocolConflict,
};
pub use service_ports::PortProtocolClash;
pub use sidecar_imports::EmptyImport;
pub use sidecar_scope::{SharedWorkload, SidecarInAmbient};
pub use status_conditions::FailedCondition;
pub use tally::Tally;
pub use tls_answers::{
    BypassedPort, ClientWithoutMtls, DestinationRuleUse, ExternalServer, NonMeshReason,
    PlaintextCallers, PortLevelMtlsIssue, StrictPort, TlsBlockConflict, TlsConflict,
    TlsConflictHit, UncertifiedServer,
};
pub use undefined_subsets::UndefinedSubset;
pub use validation::FieldIssue;
pub use visibility::Visibility;
pub use vs_bindings::GatewayMismatch;
pub use webhooks::{
    selector_node_matches, MissingWebhookService, UninjectedAutoImages, WebhookOverlap,
};
pub use workloads::{SelectorMiss, TargetPortConflict};
