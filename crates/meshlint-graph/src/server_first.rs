//! Ports where the server speaks first and Istio would sniff the protocol (issue 14,
//! item 9). Protocol sniffing waits for the client's first bytes; a MySQL or SMTP server
//! waits for nothing but sends its greeting first, which the proxy holds back, so both
//! sides wait.

use crate::queries::infer_protocol;
use crate::{FieldIssue, MeshGraph};
use meshlint_model::Typed;

/// Service ports Istio treats as TCP when nothing declares a protocol (Istio's
/// `ConvertProtocol`: SMTP, DNS, MySQL, MongoDB), so they are never sniffed.
pub const TCP_BY_DEFAULT: &[u32] = &[25, 53, 3306, 27017];

/// Well-known ports of protocols where the server sends the first bytes. Client-first
/// protocols (PostgreSQL's startup message, MongoDB's hello, Redis, HTTP) are sniffed
/// correctly and are not listed.
const SERVER_FIRST_PORTS: &[(u32, &str)] = &[
    (21, "FTP"),
    (25, "SMTP"),
    (110, "POP3"),
    (143, "IMAP"),
    (587, "SMTP"),
    (3306, "MySQL"),
    (4222, "NATS"),
];

/// Port names that say the protocol is a server-first one.
const SERVER_FIRST_NAMES: &[(&str, &str)] = &[
    ("ftp", "FTP"),
    ("smtp", "SMTP"),
    ("pop3", "POP3"),
    ("imap", "IMAP"),
    ("mariadb", "MySQL"),
    ("nats", "NATS"),
];

fn server_first_protocol(
    port: u32,
    target: Option<u32>,
    name: Option<&str>,
) -> Option<&'static str> {
    let by_number = |n: u32| {
        SERVER_FIRST_PORTS
            .iter()
            .find(|(p, _)| *p == n)
            .map(|(_, s)| *s)
    };
    let by_name = name.and_then(|n| {
        let n = n.to_ascii_lowercase();
        SERVER_FIRST_NAMES
            .iter()
            .find(|(w, _)| n.split(['-', '_', '.']).any(|part| part == *w))
            .map(|(_, s)| *s)
    });
    by_number(port)
        .or_else(|| target.and_then(by_number))
        .or(by_name)
}

impl MeshGraph {
    /// Ports of a Service that carry a server-first protocol (by port or target port
    /// number, or by a name like `smtp`) while no protocol is declared (no `appProtocol`,
    /// no recognised name prefix, not UDP/SCTP) and the port is not one Istio treats as
    /// TCP by default. Code `server-first`; `value` the protocol, `numbers` the port and
    /// (when numeric) the target port, `path` the port's `name` or else `port`, `detail`
    /// the mesh's `protocolDetectionTimeout` when one is set (then sniffing gives up after
    /// it and falls back to TCP), else empty (disabled, the default: the connection hangs).
    pub fn server_first_ports(&self, i: usize) -> Vec<FieldIssue> {
        let Typed::Service(s) = &self.resources[i].typed else {
            return Vec::new();
        };
        if s.service_type.as_deref() == Some("ExternalName") {
            return Vec::new();
        }
        let timeout = self
            .mesh
            .raw
            .as_ref()
            .and_then(|m| m.get("protocolDetectionTimeout"))
            .and_then(|t| t.as_str())
            .filter(|t| !matches!(*t, "0s" | "0" | "0ms"))
            .unwrap_or_default();
        s.ports
            .iter()
            .filter(|p| {
                infer_protocol(
                    p.app_protocol.as_deref(),
                    p.name.as_deref(),
                    p.protocol.as_deref(),
                ) == "UNKNOWN"
                    && !TCP_BY_DEFAULT.contains(&p.port)
            })
            .filter_map(|p| {
                let target = p.target_port.as_deref().and_then(|t| t.parse::<u32>().ok());
                let proto = server_first_protocol(p.port, target, p.name.as_deref())?;
                let field = if p.name.is_some() { "name" } else { "port" };
                Some(FieldIssue {
                    path: format!("{}.{field}", p.path),
                    code: "server-first",
                    value: proto.to_string(),
                    first: String::new(),
                    numbers: std::iter::once(p.port as i64)
                        .chain(target.map(i64::from))
                        .collect(),
                    other: None,
                    detail: timeout.to_string(),
                })
            })
            .collect()
    }
}
