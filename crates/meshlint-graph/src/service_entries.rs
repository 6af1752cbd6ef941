//! ServiceEntry addressing: ports Envoy matches by address, overlapping addresses and
//! protocol conflicts between entries.

use crate::build::MeshGraph;
use crate::queries::*;
use crate::visibility::*;
use meshlint_model::typed::*;
use serde::Serialize;

/// A host and port that two ServiceEntries declare with different protocols.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProtocolConflict {
    pub host: String,
    pub port: u32,
    /// This entry's protocol, and the path of its `protocol` field (of the port when unset).
    pub protocol: String,
    pub path: String,
    /// The other entry, its protocol and the path of its `protocol` field (or port).
    pub other: usize,
    pub other_protocol: String,
    pub other_path: String,
}

/// Whether Istio tells services on a port apart by host name (HTTP `Host`/authority or
/// TLS SNI). For every other protocol it matches by destination address and port only.
pub fn routes_by_host(protocol: &str) -> bool {
    matches!(
        protocol,
        "HTTP" | "HTTP2" | "HTTPS" | "GRPC" | "GRPC-WEB" | "TLS"
    )
}

/// Whether a ServiceEntry port with this protocol is matched by address and port alone
/// (TCP, unset, MONGO, MYSQL, REDIS, …; UDP is not proxied at all).
pub fn matches_by_address(protocol: &str) -> bool {
    !routes_by_host(protocol) && protocol != "UDP"
}

/// The upper-case protocol of a ServiceEntry port (`UNKNOWN` when unset).
pub(crate) fn se_port_protocol(p: &meshlint_model::typed::SePort) -> String {
    p.protocol
        .as_deref()
        .map(normalise_protocol)
        .unwrap_or_else(|| "UNKNOWN".to_string())
}

/// Path of a ServiceEntry port's `protocol` field, or of the port when it has none.
pub(crate) fn protocol_path(p: &meshlint_model::typed::SePort) -> String {
    match p.protocol {
        Some(_) => format!("{}.protocol", p.path),
        None => p.path.to_string(),
    }
}

/// An IP address or CIDR block as (bits, left-aligned in 128; prefix length; is IPv6).
pub(crate) fn parse_cidr(s: &str) -> Option<(u128, u32, bool)> {
    let (addr, len) = match s.split_once('/') {
        Some((a, l)) => (a, Some(l.trim().parse::<u32>().ok()?)),
        None => (s, None),
    };
    match addr.trim().parse::<std::net::IpAddr>().ok()? {
        std::net::IpAddr::V4(v4) => {
            let len = len.unwrap_or(32).min(32);
            Some(((u32::from(v4) as u128) << 96, len, false))
        }
        std::net::IpAddr::V6(v6) => Some((u128::from(v6), len.unwrap_or(128).min(128), true)),
    }
}

/// Whether two address lists (IPs or CIDR blocks) share any address.
pub fn addresses_overlap(a: &[String], b: &[String]) -> bool {
    a.iter().any(|x| {
        b.iter().any(|y| {
            if x == y {
                return true;
            }
            match (parse_cidr(x), parse_cidr(y)) {
                (Some((xa, xl, x6)), Some((ya, yl, y6))) if x6 == y6 => {
                    let len = xl.min(yl);
                    let mask = if len == 0 {
                        0
                    } else {
                        u128::MAX << (128 - len)
                    };
                    xa & mask == ya & mask
                }
                _ => false,
            }
        })
    })
}

impl MeshGraph {
    /// The wildcard hosts of a ServiceEntry that resolves by DNS (`DNS`,
    /// `DNS_ROUND_ROBIN`) without `endpoints`: there is no name to look up, so Istio
    /// rejects it. Each host's path (`spec.hosts[1]`) and text, in order.
    pub fn wildcard_dns_hosts(&self, se: usize) -> Vec<(String, String)> {
        let r = &self.resources[se];
        let Typed::ServiceEntry(entry) = &r.typed else {
            return Vec::new();
        };
        if !matches!(entry.resolution.as_str(), "DNS" | "DNS_ROUND_ROBIN") || entry.has_endpoints {
            return Vec::new();
        }
        // Read the list as written so paths keep their index past a non-string entry.
        let hosts = r.spec().and_then(|s| s.get("hosts"));
        hosts
            .map(|h| h.items())
            .unwrap_or_default()
            .iter()
            .enumerate()
            .filter_map(|(i, h)| {
                let host = h.as_str()?;
                host.contains('*')
                    .then(|| (format!("spec.hosts[{i}]"), host.to_string()))
            })
            .collect()
    }

    /// The addresses a ServiceEntry claims: `spec.addresses`, else the ones Istio
    /// allocated (`status.addresses[].value`).
    pub fn service_entry_addresses(&self, se: usize) -> Vec<String> {
        let r = &self.resources[se];
        let Typed::ServiceEntry(entry) = &r.typed else {
            return Vec::new();
        };
        if !entry.addresses.is_empty() {
            return entry.addresses.to_vec();
        }
        r.node
            .get("status")
            .and_then(|s| s.get("addresses"))
            .map(|a| a.items())
            .unwrap_or(&[])
            .iter()
            .filter_map(|a| {
                a.as_str()
                    .or_else(|| a.get("value").and_then(|v| v.as_str()))
            })
            .map(str::to_string)
            .collect()
    }

    /// Other ServiceEntries that claim the same address-matched port (TCP, unset, …) as
    /// ServiceEntry `se`, where Envoy cannot tell them apart: neither has addresses (both
    /// take `0.0.0.0:port`) or their addresses overlap, and their `exportTo` scopes share
    /// a namespace. Each is returned with the path of its conflicting port. With DNS
    /// auto-allocation on, entries without addresses get distinct addresses and do not
    /// conflict.
    pub fn address_port_conflicts(&self, se: usize, port: u32) -> Vec<(usize, String)> {
        // Claims are recorded in resource order, so this is a binary search (one unit of
        // work, not the whole list).
        meshlint_diag::work::add(1);
        let Some(claims) = (*self.host_blind_ports).get(&port) else {
            return Vec::new();
        };
        if claims.binary_search(&se).is_err() {
            return Vec::new();
        }
        let mine = self.service_entry_addresses(se);
        let auto_allocated = self.mesh.dns_auto_allocate && self.mesh.dns_capture;
        if mine.is_empty() && auto_allocated {
            // Entries without addresses get distinct ones; with addresses, no overlap.
            return Vec::new();
        }
        let my_scope = self.export_scope_of(se);
        let ix = self.scale();
        // Candidates instead of every claim on the port: same address as written, a
        // range on either side (compared exactly below), or both without addresses.
        let candidates: Vec<usize> = if mine.iter().any(|a| crate::scale::is_range(a)) {
            // A range overlaps too many ways to index; compare with every claim (counted:
            // the list was taken without the charge above).
            meshlint_diag::work::add(claims.len() as u64);
            claims.clone()
        } else {
            let mut c: Vec<usize> = if mine.is_empty() {
                // Only claims whose scope shares a namespace with mine can conflict.
                match &my_scope {
                    None => ix
                        .unaddressed_claims
                        .get(&port)
                        .cloned()
                        .unwrap_or_default(),
                    Some(list) => std::iter::once("*")
                        .chain(list.iter().map(String::as_str))
                        .flat_map(|n| ix.unaddressed_by_scope.walk(&(port, n.to_string())))
                        .copied()
                        .collect(),
                }
            } else {
                mine.iter()
                    .filter_map(|a| {
                        ix.claims_by_address
                            .get(&(port, crate::scale::address_key(a)))
                    })
                    .flatten()
                    .copied()
                    .chain(ix.range_claims.get(&port).into_iter().flatten().copied())
                    .collect()
            };
            c.sort_unstable();
            c.dedup();
            c
        };
        let mut out = Vec::new();
        for other in candidates {
            if self.same_object(other, se) {
                continue;
            }
            let theirs = self.service_entry_addresses(other);
            let clash = match (mine.is_empty(), theirs.is_empty()) {
                (true, true) => !(self.mesh.dns_auto_allocate && self.mesh.dns_capture),
                (false, false) => addresses_overlap(&mine, &theirs),
                _ => false,
            };
            if !clash || !scopes_overlap(&my_scope, &self.export_scope_of(other)) {
                continue;
            }
            let path = match &self.resources[other].typed {
                Typed::ServiceEntry(e) => e
                    .ports
                    .iter()
                    .find(|p| p.number == port)
                    .map(|p| p.path.to_string())
                    .unwrap_or_else(|| "spec.ports".to_string()),
                _ => "spec.ports".to_string(),
            };
            out.push((other, path));
        }
        out
    }

    /// Ports of other ServiceEntries that declare one of the hosts of ServiceEntry `se`
    /// (exactly, as an FQDN) with the same port number but another protocol, where the
    /// two entries' `exportTo` scopes share a namespace.
    pub fn protocol_conflicts(&self, se: usize) -> Vec<ProtocolConflict> {
        let r = &self.resources[se];
        let Typed::ServiceEntry(entry) = &r.typed else {
            return Vec::new();
        };
        let my_scope = self.export_scope_of(se);
        let mut out = Vec::new();
        let ix = self.scale();
        for h in &entry.hosts {
            let fqdn = self.resolve_host(h, r.namespace());
            // Only entries declaring this host with one of my ports under another
            // protocol can conflict; the index names them without a scan.
            let mut others: Vec<usize> = entry
                .ports
                .iter()
                .filter_map(|p| {
                    let mine = se_port_protocol(p);
                    // A host the graph does not define has no entry (as a missing key).
                    let Some(at) = self.hosts.position_of(fqdn.as_str()) else {
                        meshlint_diag::work::add(1);
                        return None;
                    };
                    ix.se_port_protocols
                        .get(&(at, p.number))
                        .map(move |by| (mine, by))
                })
                .flat_map(|(mine, by)| {
                    by.iter()
                        .filter(move |(proto, _)| *proto != mine)
                        .flat_map(|(_, l)| l.iter().copied())
                })
                .collect();
            others.sort_unstable();
            others.dedup();
            for o in others {
                if self.same_object(o, se) || out.iter().any(|c: &ProtocolConflict| c.other == o) {
                    continue;
                }
                let Typed::ServiceEntry(other) = &self.resources[o].typed else {
                    continue;
                };
                if !scopes_overlap(&my_scope, &self.export_scope_of(o)) {
                    continue;
                }
                for p in &entry.ports {
                    let mine = se_port_protocol(p);
                    if let Some(q) = other
                        .ports
                        .iter()
                        .find(|q| q.number == p.number && se_port_protocol(q) != mine)
                    {
                        out.push(ProtocolConflict {
                            host: fqdn.clone(),
                            port: p.number,
                            protocol: mine,
                            path: protocol_path(p),
                            other: o,
                            other_protocol: se_port_protocol(q),
                            other_path: protocol_path(q),
                        });
                        break;
                    }
                }
            }
        }
        out
    }
}
