//! ServiceEntry ports that Envoy matches by destination address and port alone.
//!
//! For a port whose protocol is not routed by host name (TCP, unset, MONGO, …), Envoy
//! builds a listener on the entry's addresses and that port. An entry without addresses
//! gets `0.0.0.0:<port>`: it captures the port for every destination, its hosts unused
//! (unless the mesh allocates addresses itself: DNS capture with auto-allocation). Two
//! entries claiming such a port on the same (or no) addresses, visible to the same
//! namespaces, collide: one listener, one winner.

use crate::build::MeshGraph;
use meshlint_load::Node;
use meshlint_model::Typed;
use serde::Serialize;

/// A ServiceEntry port matched by address only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AddressPort {
    /// Position in `spec.ports`, and the port number.
    pub index: usize,
    pub number: u32,
    /// The protocol as written (`''` when unset).
    pub protocol: String,
    /// The field that decided: the port's `protocol` when written, else the port.
    pub path: String,
}

/// One port of a ServiceEntry that other entries claim on the same addresses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AddressPortConflict {
    pub port: AddressPort,
    /// Whether this entry writes `spec.addresses` (else both claim `0.0.0.0`).
    pub addressed: bool,
    /// The other entries, each at its conflicting port.
    pub others: Vec<(usize, String)>,
}

/// Protocols Istio routes by host name (HTTP authority, TLS SNI), plus UDP, which is not
/// proxied: what a port declares as written, compared ignoring case.
fn matched_by_host(protocol: &str) -> bool {
    const BY_HOST: [&str; 7] = ["HTTP", "HTTP2", "HTTPS", "GRPC", "GRPC-WEB", "TLS", "UDP"];
    BY_HOST.iter().any(|p| p.eq_ignore_ascii_case(protocol))
}

/// A scalar as text (`true`, `80`, `TCP`), for fields that may be written unquoted.
fn scalar_text(n: &Node) -> Option<&str> {
    n.scalar().map(|s| s.text())
}

impl MeshGraph {
    /// Whether the mesh gives ServiceEntries without addresses addresses of their own:
    /// DNS capture, with auto-allocation by the agent (`ISTIO_META_DNS_AUTO_ALLOCATE`) or
    /// by the control plane (`PILOT_ENABLE_IP_AUTOALLOCATE`).
    pub fn mesh_allocates_addresses(&self) -> bool {
        let controller = self
            .mesh
            .raw
            .as_ref()
            .and_then(|m| m.get("defaultConfig"))
            .and_then(|d| d.get("proxyMetadata"))
            .and_then(|p| p.get("PILOT_ENABLE_IP_AUTOALLOCATE"))
            .and_then(scalar_text)
            == Some("true");
        self.mesh.dns_capture && (self.mesh.dns_auto_allocate || controller)
    }

    /// The ports of a ServiceEntry matched by address only (protocol unset or not routed
    /// by host name), in order.
    pub fn address_matched_ports(&self, se: usize) -> Vec<AddressPort> {
        let r = &self.resources[se];
        let ports = r
            .spec()
            .and_then(|s| s.get("ports"))
            .map(Node::items)
            .unwrap_or(&[]);
        let Typed::ServiceEntry(entry) = &r.typed else {
            return Vec::new();
        };
        entry
            .ports
            .iter()
            .enumerate()
            .filter_map(|(index, p)| {
                let written = ports.get(index).and_then(|n| n.get("protocol"));
                let protocol = written.and_then(scalar_text).unwrap_or("").to_string();
                if written.is_some() && matched_by_host(&protocol) {
                    return None;
                }
                let path = match written {
                    Some(_) => format!("{}.protocol", p.path),
                    None => p.path.to_string(),
                };
                Some(AddressPort {
                    index,
                    number: p.number,
                    protocol,
                    path,
                })
            })
            .collect()
    }

    /// The first port by which a ServiceEntry without addresses (written or allocated in
    /// `status.addresses`) captures every destination, unless the mesh allocates
    /// addresses itself.
    pub fn address_capture(&self, se: usize) -> Option<AddressPort> {
        if !self.service_entry_addresses(se).is_empty() || self.mesh_allocates_addresses() {
            return None;
        }
        self.address_matched_ports(se).into_iter().next()
    }

    /// Each port of a ServiceEntry that other entries claim on overlapping (or no)
    /// addresses within a shared `exportTo` scope (see `address_port_conflicts`).
    pub fn address_conflicts(&self, se: usize) -> Vec<AddressPortConflict> {
        let r = &self.resources[se];
        let Typed::ServiceEntry(entry) = &r.typed else {
            return Vec::new();
        };
        let ports = r
            .spec()
            .and_then(|s| s.get("ports"))
            .map(Node::items)
            .unwrap_or(&[]);
        entry
            .ports
            .iter()
            .enumerate()
            .filter(|(i, _)| ports.get(*i).and_then(|n| n.get("number")).is_some())
            .filter_map(|(index, p)| {
                let others = self.address_port_conflicts(se, p.number);
                if others.is_empty() {
                    return None;
                }
                let protocol = ports
                    .get(index)
                    .and_then(|n| n.get("protocol"))
                    .and_then(scalar_text)
                    .unwrap_or("")
                    .to_string();
                Some(AddressPortConflict {
                    port: AddressPort {
                        index,
                        number: p.number,
                        protocol,
                        path: format!("{}.number", p.path),
                    },
                    addressed: !entry.addresses.is_empty(),
                    others,
                })
            })
            .collect()
    }
}
