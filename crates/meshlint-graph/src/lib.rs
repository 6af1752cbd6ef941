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

mod ambient;
mod authorization;
mod authz_identity;
mod build;
mod dataplane;
mod destination_rules;
mod envoy_filters;
mod gateway_refs;
mod hosts;
mod identity;
mod injection;
mod istio;
mod mesh_mtls;
mod mtls;
mod queries;
mod reference_answers;
mod request;
mod route_checks;
mod routing;
mod scale;
mod service_entries;
mod sidecar_imports;
mod tls_answers;
mod validation;
mod visibility;
mod workloads;

pub use ambient::{L7Field, WaypointBinding, ZtunnelAuthz};
pub use authorization::{AuthzDecision, AuthzRequest};
pub use authz_identity::IdentityGap;
pub use build::{Edge, GraphNode, MeshGraph};
pub use dataplane::{DataPlane, DataPlaneDecision, DATAPLANE_LABEL};
pub use destination_rules::{MergedDestinationRule, MergedSubset};
pub use envoy_filters::OrderDependentPatches;
pub use gateway_refs::GatewayLookup;
pub use hosts::{HostLookup, HostState};
pub use injection::ProxyNamespace;
pub use istio::{export_scopes, hosts_overlap};
pub use mesh_mtls::LevelConflict;
pub use mtls::{GovernedPort, GovernedWorkload, PeerTarget, TlsSetting};
pub use queries::{host_matches, selector_matches, Decision, HostTarget, PortInfo};
pub use reference_answers::{EmptySubset, MissingGateway, UndeclaredPort};
pub use request::{
    render_inline, RequestAttrs, RouteChoice, RouteOutcome, VirtualServiceChoice,
    WeightedDestination,
};
pub use route_checks::{DestinationProblem, DestinationProblemKind};
pub use routing::RouteTo;
pub use service_entries::{
    addresses_overlap, matches_by_address, routes_by_host, ProtocolConflict,
};
pub use sidecar_imports::EmptyImport;
pub use tls_answers::{
    BypassedPort, ClientWithoutMtls, DestinationRuleUse, ExternalServer, NonMeshReason,
    PlaintextCallers, PortLevelMtlsIssue, StrictPort, TlsBlockConflict, TlsConflict,
    TlsConflictHit,
};
pub use validation::FieldIssue;
pub use visibility::Visibility;
pub use workloads::{SelectorMiss, TargetPortConflict};
