//! The kind names a rule's `match.kinds` may use. A kind that no resource can ever have
//! (`VirtualServce`) would load and never fire, so it is refused with a did-you-mean.

/// Kind names meshlint recognizes without an API group: every kind the model treats
/// specially, the rest of the built-in Kubernetes API, and Istio's older and
/// operator-facing kinds. A custom resource's kind is written `group/Kind`
/// (`argoproj.io/Rollout`), which [`check_kind`] accepts for any group.
pub const KNOWN_KINDS: &[&str] = &[
    // Kubernetes core and workloads.
    "Namespace",
    "Service",
    "ServiceAccount",
    "ConfigMap",
    "Secret",
    "Pod",
    "PodTemplate",
    "ReplicationController",
    "Endpoints",
    "EndpointSlice",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "LimitRange",
    "ResourceQuota",
    "Node",
    "Event",
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "ControllerRevision",
    "Job",
    "CronJob",
    "HorizontalPodAutoscaler",
    "PodDisruptionBudget",
    "Ingress",
    "IngressClass",
    "NetworkPolicy",
    "Role",
    "RoleBinding",
    "ClusterRole",
    "ClusterRoleBinding",
    "StorageClass",
    "PriorityClass",
    "RuntimeClass",
    "Lease",
    "APIService",
    "CertificateSigningRequest",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
    "CustomResourceDefinition",
    // Istio.
    "VirtualService",
    "DestinationRule",
    "Gateway",
    "ServiceEntry",
    "Sidecar",
    "WorkloadEntry",
    "WorkloadGroup",
    "EnvoyFilter",
    "ProxyConfig",
    "PeerAuthentication",
    "RequestAuthentication",
    "AuthorizationPolicy",
    "Telemetry",
    "WasmPlugin",
    "MeshConfig",
    "MeshNetworks",
    "IstioOperator",
    // Istio APIs that were removed (rules report them).
    "Policy",
    "MeshPolicy",
    "ServiceRole",
    "ServiceRoleBinding",
    "RbacConfig",
    "ClusterRbacConfig",
    "HTTPAPISpec",
    "HTTPAPISpecBinding",
    "QuotaSpec",
    "QuotaSpecBinding",
    "attributemanifest",
    "handler",
    "instance",
    "rule",
    "adapter",
    "template",
    // Gateway API.
    "GatewayClass",
    "HTTPRoute",
    "GRPCRoute",
    "TCPRoute",
    "TLSRoute",
    "UDPRoute",
    "ReferenceGrant",
    "BackendTLSPolicy",
];

/// Checks one `match.kinds` entry: `*`, a known kind, or `group/Kind` for a custom
/// resource. The error says what was meant when the entry is a near miss.
pub fn check_kind(kind: &str) -> Result<(), String> {
    if kind == "*" || KNOWN_KINDS.contains(&kind) {
        return Ok(());
    }
    if let Some((group, name)) = kind.split_once('/') {
        let group_ok = !group.is_empty()
            && group
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
        let name_ok = !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric());
        if group_ok && name_ok {
            return Ok(());
        }
        return Err(format!(
            "`{kind}` is not a kind: write `Kind` or `group/Kind` (`argoproj.io/Rollout`)"
        ));
    }
    let hint = match meshlint_diag::did_you_mean(kind, KNOWN_KINDS.iter().copied()) {
        Some(s) => format!("did you mean `{s}`? "),
        None => String::new(),
    };
    Err(format!(
        "unknown kind `{kind}`: no resource would ever match it; {hint}a custom resource's \
         kind is written with its API group (`argoproj.io/Rollout`), every kind as `'*'`"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_checked() {
        assert!(check_kind("VirtualService").is_ok());
        assert!(check_kind("*").is_ok());
        assert!(check_kind("argoproj.io/Rollout").is_ok());
        let e = check_kind("VirtualServce").unwrap_err();
        assert!(e.contains("did you mean `VirtualService`?"), "{e}");
        assert!(check_kind("Rollout").is_err());
        assert!(check_kind("a/b/c").is_err());
    }
}
