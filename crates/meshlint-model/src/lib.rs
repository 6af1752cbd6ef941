//! The model: what each loaded document *is*.
//!
//! It turns spanned documents into [`Resource`]s — identity (apiVersion, kind,
//! namespace as written, name), the kind meshlint recognises ([`Kind`]), the raw tree
//! for rules, and a typed view ([`Typed`]) of the fields the graph reasons about.
//! It validates Istio kinds against field schemas generated from Istio's CRDs per release (`schema/istio-<line>.schema`), so a
//! typo such as `mode: ISTIO_MUTAL` is reported at its field with a suggestion, and it
//! reads the mesh configuration (MeshConfig or the `istio` ConfigMap). Kinds it does not
//! know are carried as generic resources and never fail a run. Secrets keep only their
//! name and type: their data is never stored.
#![forbid(unsafe_code)]

pub mod crdgen;
mod k8s;
mod kinds;
mod labels;
mod mesh;
mod resource;
pub mod schema;
pub mod secret;
mod text;
pub mod typed;

pub use kinds::Kind;
pub use mesh::{mesh_networks_resource, MeshConfig, OutboundPolicy};
pub use resource::{
    build_resources, build_resources_for, take_resources, take_resources_for, Resource,
    ResourceSet, Skipped, UNSET_NAMESPACE,
};
pub use text::Text;
pub use typed::Typed;

/// Rule ids of the findings the model produces.
pub mod codes {
    pub const SCHEMA_TYPE: &str = "schema-type";
    pub const SCHEMA_ENUM: &str = "schema-enum";
    pub const SCHEMA_UNKNOWN_FIELD: &str = "schema-unknown-field";
    pub const SCHEMA_REQUIRED: &str = "schema-required";
    /// A field, enum value, kind or API version of another Istio release than the target.
    pub const SCHEMA_RELEASE: &str = "schema-release";
    /// A structural constraint of the CRD (length, pattern, range, item count, oneof).
    pub const SCHEMA_CONSTRAINT: &str = "schema-constraint";
    /// A CRD's `x-kubernetes-validations` rule that the object breaks.
    pub const SCHEMA_VALIDATION: &str = "schema-validation";
    pub const INVALID_RESOURCE: &str = "invalid-resource";
    pub const MESH_CONFIG: &str = "mesh-config";
}
