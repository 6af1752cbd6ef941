//! The kinds meshlint models, keyed by API group and kind name.

/// Every kind the graph or rules treat specially. Everything else is [`Kind::Other`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Namespace,
    Service,
    ServiceAccount,
    ConfigMap,
    Secret,
    Pod,
    Deployment,
    StatefulSet,
    DaemonSet,
    ReplicaSet,
    ReplicationController,
    Job,
    CronJob,
    MutatingWebhookConfiguration,
    ValidatingWebhookConfiguration,
    VirtualService,
    DestinationRule,
    Gateway,
    ServiceEntry,
    Sidecar,
    WorkloadEntry,
    WorkloadGroup,
    EnvoyFilter,
    ProxyConfig,
    PeerAuthentication,
    RequestAuthentication,
    AuthorizationPolicy,
    Telemetry,
    WasmPlugin,
    LegacyPolicy,
    LegacyMeshPolicy,
    MeshConfig,
    K8sGateway,
    K8sGatewayClass,
    HTTPRoute,
    GRPCRoute,
    TCPRoute,
    TLSRoute,
    ReferenceGrant,
    CustomResourceDefinition,
    NetworkPolicy,
    Other,
}

/// The API groups searched, in order, when a kind is named without its group.
const GROUPS_BY_PRECEDENCE: &[&str] = &[
    "",
    "apps",
    "batch",
    "networking.istio.io",
    "security.istio.io",
    "telemetry.istio.io",
    "extensions.istio.io",
    "admissionregistration.k8s.io",
    "apiextensions.k8s.io",
    "gateway.networking.k8s.io",
    "networking.k8s.io",
];

impl Kind {
    /// A kind as rule files name it: `Kind` (core and workload groups first, then Istio's,
    /// so `Gateway` is Istio's) or `group/Kind` (`gateway.networking.k8s.io/Gateway`).
    pub fn by_name(name: &str) -> Option<Kind> {
        if let Some((group, kind)) = name.rsplit_once('/') {
            return Some(Kind::classify(group, kind)).filter(|k| *k != Kind::Other);
        }
        GROUPS_BY_PRECEDENCE
            .iter()
            .map(|g| Kind::classify(g, name))
            .find(|k| *k != Kind::Other)
    }

    /// Classifies an `apiVersion` group and `kind`.
    pub fn classify(group: &str, kind: &str) -> Kind {
        use Kind::*;
        match (group, kind) {
            ("", "Namespace") => Namespace,
            ("", "Service") => Service,
            ("", "ServiceAccount") => ServiceAccount,
            ("", "ConfigMap") => ConfigMap,
            ("", "Secret") => Secret,
            ("", "Pod") => Pod,
            ("", "ReplicationController") => ReplicationController,
            ("apps" | "extensions", "Deployment") => Deployment,
            ("apps", "StatefulSet") => StatefulSet,
            ("apps" | "extensions", "DaemonSet") => DaemonSet,
            ("apps" | "extensions", "ReplicaSet") => ReplicaSet,
            ("batch", "Job") => Job,
            ("batch", "CronJob") => CronJob,
            ("admissionregistration.k8s.io", "MutatingWebhookConfiguration") => {
                MutatingWebhookConfiguration
            }
            ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration") => {
                ValidatingWebhookConfiguration
            }
            ("networking.istio.io", "VirtualService") => VirtualService,
            ("networking.istio.io", "DestinationRule") => DestinationRule,
            ("networking.istio.io", "Gateway") => Gateway,
            ("networking.istio.io", "ServiceEntry") => ServiceEntry,
            ("networking.istio.io", "Sidecar") => Sidecar,
            ("networking.istio.io", "WorkloadEntry") => WorkloadEntry,
            ("networking.istio.io", "WorkloadGroup") => WorkloadGroup,
            ("networking.istio.io", "EnvoyFilter") => EnvoyFilter,
            ("networking.istio.io", "ProxyConfig") => ProxyConfig,
            ("security.istio.io", "PeerAuthentication") => PeerAuthentication,
            ("security.istio.io", "RequestAuthentication") => RequestAuthentication,
            ("security.istio.io", "AuthorizationPolicy") => AuthorizationPolicy,
            ("telemetry.istio.io", "Telemetry") => Telemetry,
            ("extensions.istio.io", "WasmPlugin") => WasmPlugin,
            ("authentication.istio.io", "Policy") => LegacyPolicy,
            ("authentication.istio.io", "MeshPolicy") => LegacyMeshPolicy,
            ("install.istio.io" | "mesh.istio.io", "MeshConfig") => MeshConfig,
            ("gateway.networking.k8s.io", "Gateway") => K8sGateway,
            ("gateway.networking.k8s.io", "GatewayClass") => K8sGatewayClass,
            ("gateway.networking.k8s.io", "HTTPRoute") => HTTPRoute,
            ("gateway.networking.k8s.io", "GRPCRoute") => GRPCRoute,
            ("gateway.networking.k8s.io", "TCPRoute") => TCPRoute,
            ("gateway.networking.k8s.io", "TLSRoute") => TLSRoute,
            ("gateway.networking.k8s.io", "ReferenceGrant") => ReferenceGrant,
            ("networking.k8s.io", "NetworkPolicy") => NetworkPolicy,
            ("apiextensions.k8s.io", "CustomResourceDefinition") => CustomResourceDefinition,
            _ => Other,
        }
    }

    /// Kinds that carry a pod template (or are pods): the workloads of the mesh.
    pub fn is_workload(self) -> bool {
        use Kind::*;
        matches!(
            self,
            Pod | Deployment
                | StatefulSet
                | DaemonSet
                | ReplicaSet
                | ReplicationController
                | Job
                | CronJob
        )
    }

    /// Kinds without a namespace.
    pub fn is_cluster_scoped(self) -> bool {
        use Kind::*;
        matches!(
            self,
            Namespace
                | LegacyMeshPolicy
                | MutatingWebhookConfiguration
                | ValidatingWebhookConfiguration
                | K8sGatewayClass
                | CustomResourceDefinition
        )
    }
}
