//! The mesh model and its YAML rendering.
//!
//! Each namespace is planned from its own PRNG stream (see [`Rng::stream`]), then
//! rendered. Planning decides everything that matters (services, ports, canaries,
//! mTLS mode, egress, gateway, which mistake if any); rendering only writes it
//! out. Because every namespace has its own stream, `ns-00042` is byte-identical
//! in a 100-namespace and a 20,000-namespace corpus generated with the same seed.

use std::fmt::Write as _;
use std::io;

use crate::rng::Rng;

/// Appends one formatted line to a `String` (writing to a `String` cannot fail).
macro_rules! w {
    ($s:expr, $($arg:tt)*) => {{
        let _ = writeln!($s, $($arg)*);
    }};
}

/// Resource kinds the corpus contains, in the order the summary prints them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Namespace,
    Service,
    Deployment,
    DestinationRule,
    VirtualService,
    PeerAuthentication,
    ServiceEntry,
    Sidecar,
    Gateway,
}

pub const KINDS: [Kind; 9] = [
    Kind::Namespace,
    Kind::Service,
    Kind::Deployment,
    Kind::DestinationRule,
    Kind::VirtualService,
    Kind::PeerAuthentication,
    Kind::ServiceEntry,
    Kind::Sidecar,
    Kind::Gateway,
];

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Namespace => "Namespace",
            Kind::Service => "Service",
            Kind::Deployment => "Deployment",
            Kind::DestinationRule => "DestinationRule",
            Kind::VirtualService => "VirtualService",
            Kind::PeerAuthentication => "PeerAuthentication",
            Kind::ServiceEntry => "ServiceEntry",
            Kind::Sidecar => "Sidecar",
            Kind::Gateway => "Gateway",
        }
    }
}

/// The deliberate mistakes the generator can plant. At most one per namespace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mistake {
    /// DestinationRule `trafficPolicy.tls.mode: DISABLE` toward a host in a
    /// namespace whose PeerAuthentication is STRICT (traffic fails with 503).
    DrTlsDisableToStrict,
    /// VirtualService routes to a subset its DestinationRule does not define.
    UndefinedSubset,
    /// ServiceEntry with a TCP port but no `addresses` (captures 0.0.0.0:port).
    TcpServiceEntryWithoutAddresses,
    /// `tls.mode: ISTIO_MUTAL` (typo for ISTIO_MUTUAL) in a DestinationRule.
    TlsModeTypo,
    /// A Service port without a `name` (Istio cannot select the protocol).
    UnnamedServicePort,
    /// VirtualService bound to a Gateway name that does not exist.
    UnknownGateway,
    /// PeerAuthentication whose workload selector matches no pod template.
    SelectorMatchesNothing,
}

pub const MISTAKES: [Mistake; 7] = [
    Mistake::DrTlsDisableToStrict,
    Mistake::UndefinedSubset,
    Mistake::TcpServiceEntryWithoutAddresses,
    Mistake::TlsModeTypo,
    Mistake::UnnamedServicePort,
    Mistake::UnknownGateway,
    Mistake::SelectorMatchesNothing,
];

impl Mistake {
    /// Short stable identifier, used in the summary and the `--mistakes` TSV.
    pub fn id(self) -> &'static str {
        match self {
            Mistake::DrTlsDisableToStrict => "dr-tls-disable-to-strict",
            Mistake::UndefinedSubset => "route-to-undefined-subset",
            Mistake::TcpServiceEntryWithoutAddresses => "tcp-serviceentry-without-addresses",
            Mistake::TlsModeTypo => "tls-mode-typo",
            Mistake::UnnamedServicePort => "unnamed-service-port",
            Mistake::UnknownGateway => "virtualservice-unknown-gateway",
            Mistake::SelectorMatchesNothing => "selector-matches-nothing",
        }
    }
}

/// Where a planted mistake is: enough for a test to look for the finding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Injected {
    pub mistake: Mistake,
    pub namespace: String,
    pub kind: Kind,
    pub name: String,
    /// Path of the file relative to the output directory (directory layout).
    pub file: String,
}

/// One output file: a path relative to the output directory and its YAML text
/// (documents separated by `---`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutFile {
    pub rel_path: String,
    pub content: String,
}

/// Counts gathered while generating.
#[derive(Clone, Debug, Default)]
pub struct Stats {
    /// Generated application namespaces (`istio-system` not included).
    pub namespaces: usize,
    pub files: usize,
    pub resources: usize,
    pub bytes: u64,
    pub by_kind: [usize; KINDS.len()],
    pub injected: Vec<Injected>,
}

impl Stats {
    /// Number of planted mistakes of the given type.
    pub fn mistakes_of(&self, m: Mistake) -> usize {
        self.injected.iter().filter(|i| i.mistake == m).count()
    }

    fn add_file(&mut self, f: &OutFile) {
        self.files += 1;
        self.bytes += f.content.len() as u64;
    }
}

#[derive(Clone, Debug)]
pub struct Config {
    pub seed: u64,
    pub namespaces: usize,
}

/// Probability, per namespace, of planting one mistake. About 16 resources per
/// namespace, so 50 ‰ per namespace is about 3 mistakes per 1000 resources.
const MISTAKE_PER_MILLE: u64 = 50;
/// Share of namespaces left outside the mesh (no injection, no Istio config).
const LEGACY_PER_MILLE: u64 = 50;

/// Generates the whole corpus, handing each file to `sink` as soon as it is
/// rendered: `istio-system` first, then `ns-…` in index order.
pub fn generate<F>(cfg: &Config, mut sink: F) -> io::Result<Stats>
where
    F: FnMut(OutFile) -> io::Result<()>,
{
    let mut stats = Stats {
        namespaces: cfg.namespaces,
        ..Stats::default()
    };
    for f in istio_system(&mut stats) {
        stats.add_file(&f);
        sink(f)?;
    }
    let width = ns_width(cfg.namespaces);
    for idx in 0..cfg.namespaces {
        for f in namespace(cfg.seed, idx, width, &mut stats) {
            stats.add_file(&f);
            sink(f)?;
        }
    }
    Ok(stats)
}

/// Digits in namespace names: at least 5 (`ns-00042`), more past 99,999.
pub fn ns_width(namespaces: usize) -> usize {
    let mut digits = 1;
    let mut n = namespaces.saturating_sub(1);
    while n >= 10 {
        n /= 10;
        digits += 1;
    }
    digits.max(5)
}

pub fn ns_name(idx: usize, width: usize) -> String {
    format!("ns-{idx:0width$}")
}

// ---------------------------------------------------------------------------
// Planning
// ---------------------------------------------------------------------------

#[derive(Clone, Copy, Debug)]
struct Port {
    name: &'static str,
    port: u16,
    target: u16,
}

const HTTP_WEB: Port = Port {
    name: "http-web",
    port: 80,
    target: 8080,
};
const GRPC_API: Port = Port {
    name: "grpc-api",
    port: 9090,
    target: 9090,
};
const HTTP_METRICS: Port = Port {
    name: "http-metrics",
    port: 9102,
    target: 9102,
};
const TCP_CACHE: Port = Port {
    name: "tcp-cache",
    port: 6379,
    target: 6379,
};

/// Port sets of the service flavours. Every profile has at least two ports.
const PROFILES: [&[Port]; 4] = [
    &[HTTP_WEB, GRPC_API, HTTP_METRICS],
    &[GRPC_API, HTTP_METRICS],
    &[HTTP_WEB, TCP_CACHE],
    &[HTTP_WEB, HTTP_METRICS],
];

const SERVICE_NAMES: [&str; 24] = [
    "cart",
    "checkout",
    "payments",
    "catalog",
    "reviews",
    "ratings",
    "search",
    "inventory",
    "shipping",
    "auth",
    "profile",
    "orders",
    "notify",
    "pricing",
    "ledger",
    "frontend",
    "recommend",
    "billing",
    "media",
    "session",
    "audit",
    "quotes",
    "accounts",
    "reports",
];

/// (requests cpu, requests memory, limits memory): no CPU limits, as is common.
const RESOURCE_TIERS: [(&str, &str, &str); 4] = [
    ("50m", "64Mi", "128Mi"),
    ("100m", "128Mi", "256Mi"),
    ("250m", "256Mi", "512Mi"),
    ("500m", "512Mi", "1Gi"),
];

/// (ServiceEntry name, external HTTPS host)
const EXTERNAL_HTTPS: [(&str, &str); 6] = [
    ("payments-partner", "api.payments-partner.example.com"),
    ("identity-provider", "login.idp.example.com"),
    ("object-storage", "storage.objects.example.net"),
    ("chat-webhooks", "hooks.chat.example.org"),
    ("maps-api", "api.maps.example.com"),
    ("telemetry-vendor", "ingest.telemetry.example.io"),
];

/// (port name, port number) of external TCP databases.
const EXTERNAL_TCP: [(&str, u16); 2] = [("tcp-postgres", 5432), ("tcp-mysql", 3306)];

const CANARY_WEIGHTS: [u32; 4] = [95, 90, 80, 50];
const GATEWAY_NAME: &str = "public";

struct Svc {
    name: &'static str,
    profile: &'static [Port],
    canary: bool,
    replicas: u32,
    tier: usize,
    version: (u32, u32, u32),
    /// DestinationRule carries connection pool and outlier detection.
    resilience: bool,
    /// 0: plain route with timeout and retries; 1: URI prefix match first.
    vs_style: u8,
    canary_weight: u32,
}

enum Egress {
    Https(usize),
    Tcp { kind: usize, addresses: bool },
}

struct NsPlan {
    name: String,
    idx: usize,
    team: u64,
    legacy: bool,
    strict: bool,
    services: Vec<Svc>,
    /// Service index whose metrics port gets a port-level PERMISSIVE override.
    selector_pa: Option<usize>,
    egress: Vec<Egress>,
    /// Service index the gateway routes to.
    gateway: Option<usize>,
    mistake: Option<(Mistake, usize)>,
}

fn plan(seed: u64, idx: usize, width: usize) -> NsPlan {
    let mut r = Rng::stream(seed, idx as u64);

    // Namespace 0 always carries a mistake so the small single-file case has
    // something to find.
    let mistake = if idx == 0 || r.chance(MISTAKE_PER_MILLE) {
        Some(*r.pick(&MISTAKES))
    } else {
        None
    };
    let legacy = mistake.is_none() && r.chance(LEGACY_PER_MILLE);

    let n_services = *r.pick(&[2usize, 2, 3, 3, 3, 3, 4, 2]);
    let mut names: Vec<&'static str> = Vec::with_capacity(n_services);
    while names.len() < n_services {
        let n = *r.pick(&SERVICE_NAMES);
        if !names.contains(&n) {
            names.push(n);
        }
    }
    let mut services: Vec<Svc> = names
        .into_iter()
        .map(|name| Svc {
            name,
            profile: PROFILES[r.index(PROFILES.len())],
            canary: r.chance(220),
            replicas: 1 + r.below(4) as u32,
            tier: r.index(RESOURCE_TIERS.len()),
            version: (
                1 + r.below(3) as u32,
                r.below(20) as u32,
                r.below(10) as u32,
            ),
            resilience: r.chance(300),
            vs_style: r.below(2) as u8,
            canary_weight: *r.pick(&CANARY_WEIGHTS),
        })
        .collect();

    let strict = r.chance(750);
    let selector_pa = if r.chance(400) {
        Some(r.index(n_services))
    } else {
        None
    };
    let n_egress = *r.pick(&[0usize, 0, 0, 1, 1, 1, 2, 2]);
    let mut egress = Vec::with_capacity(n_egress);
    let mut https_used = Vec::new();
    for _ in 0..n_egress {
        if r.chance(600) {
            let mut e = r.index(EXTERNAL_HTTPS.len());
            while https_used.contains(&e) {
                e = (e + 1) % EXTERNAL_HTTPS.len();
            }
            https_used.push(e);
            egress.push(Egress::Https(e));
        } else {
            egress.push(Egress::Tcp {
                kind: r.index(EXTERNAL_TCP.len()),
                addresses: true,
            });
        }
    }
    let gateway = if r.chance(200) { Some(0) } else { None };
    let target = r.index(n_services);

    let mut p = NsPlan {
        name: ns_name(idx, width),
        idx,
        team: r.below(40),
        legacy,
        strict,
        services: Vec::new(),
        selector_pa,
        egress,
        gateway,
        mistake: mistake.map(|m| (m, target)),
    };

    // Make each planted mistake's preconditions hold.
    match mistake {
        Some(Mistake::DrTlsDisableToStrict) => p.strict = true,
        Some(Mistake::TcpServiceEntryWithoutAddresses) => {
            let pos = p
                .egress
                .iter()
                .position(|e| matches!(e, Egress::Tcp { .. }));
            match pos {
                Some(i) => {
                    p.egress[i] = Egress::Tcp {
                        kind: 0,
                        addresses: false,
                    }
                }
                None => p.egress.push(Egress::Tcp {
                    kind: 0,
                    addresses: false,
                }),
            }
            p.mistake = Some((Mistake::TcpServiceEntryWithoutAddresses, 0));
        }
        Some(Mistake::UnknownGateway) => p.gateway = Some(0),
        Some(Mistake::SelectorMatchesNothing) => p.selector_pa = Some(target),
        _ => {}
    }
    // The gateway routes to service 0 on its web port.
    if p.gateway.is_some() && !services[0].profile.iter().any(|x| x.name == HTTP_WEB.name) {
        services[0].profile = PROFILES[0];
    }
    // Port-level mTLS needs the metrics port.
    if let Some(s) = p.selector_pa {
        if !services[s]
            .profile
            .iter()
            .any(|x| x.name == HTTP_METRICS.name)
        {
            services[s].profile = PROFILES[3];
        }
    }
    p.services = services;
    p
}

// ---------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------

/// Accumulates the documents of one file and counts them by kind.
struct FileBuf<'a> {
    rel_path: String,
    out: String,
    stats: &'a mut Stats,
}

impl<'a> FileBuf<'a> {
    fn new(rel_path: String, stats: &'a mut Stats) -> Self {
        FileBuf {
            rel_path,
            out: String::with_capacity(4096),
            stats,
        }
    }

    /// Starts a new document of `kind` and returns the buffer to write it in.
    fn doc(&mut self, kind: Kind) -> &mut String {
        if !self.out.is_empty() {
            self.out.push_str("---\n");
        }
        self.stats.resources += 1;
        self.stats.by_kind[kind as usize] += 1;
        &mut self.out
    }

    fn inject(&mut self, mistake: Mistake, namespace: &str, kind: Kind, name: &str) {
        self.stats.injected.push(Injected {
            mistake,
            namespace: namespace.to_string(),
            kind,
            name: name.to_string(),
            file: self.rel_path.clone(),
        });
    }

    fn finish(self) -> OutFile {
        OutFile {
            rel_path: self.rel_path,
            content: self.out,
        }
    }
}

fn header(s: &mut String, api: &str, kind: Kind, name: &str, ns: &str) {
    w!(s, "apiVersion: {api}");
    w!(s, "kind: {}", kind.name());
    w!(s, "metadata:");
    w!(s, "  name: {name}");
    w!(s, "  namespace: {ns}");
}

const NET: &str = "networking.istio.io/v1";
const SEC: &str = "security.istio.io/v1";

fn sidecar(s: &mut String, ns: &str) {
    header(s, NET, Kind::Sidecar, "default", ns);
    w!(s, "spec:");
    w!(s, "  egress:");
    w!(s, "  - hosts:");
    w!(s, "    - \"./*\"");
    w!(s, "    - \"istio-system/*\"");
}

fn istio_system(stats: &mut Stats) -> Vec<OutFile> {
    let ns = "istio-system";
    let mut mesh = FileBuf::new(format!("{ns}/mesh.yaml"), stats);
    {
        let s = mesh.doc(Kind::Namespace);
        w!(s, "apiVersion: v1");
        w!(s, "kind: Namespace");
        w!(s, "metadata:");
        w!(s, "  name: {ns}");
    }
    {
        let s = mesh.doc(Kind::PeerAuthentication);
        header(s, SEC, Kind::PeerAuthentication, "default", ns);
        w!(s, "spec:");
        w!(s, "  mtls:");
        w!(s, "    mode: STRICT");
    }
    sidecar(mesh.doc(Kind::Sidecar), ns);
    let mesh = mesh.finish();

    let mut gw = FileBuf::new(format!("{ns}/ingressgateway.yaml"), stats);
    {
        let s = gw.doc(Kind::Service);
        header(s, "v1", Kind::Service, "istio-ingressgateway", ns);
        w!(s, "  labels:");
        w!(s, "    app: istio-ingressgateway");
        w!(s, "    istio: ingressgateway");
        w!(s, "spec:");
        w!(s, "  type: LoadBalancer");
        w!(s, "  selector:");
        w!(s, "    istio: ingressgateway");
        w!(s, "  ports:");
        for (name, port, target) in [
            ("status-port", 15021, 15021),
            ("http2", 80, 8080),
            ("https", 443, 8443),
        ] {
            w!(s, "  - name: {name}");
            w!(s, "    port: {port}");
            w!(s, "    targetPort: {target}");
        }
    }
    {
        let s = gw.doc(Kind::Deployment);
        header(s, "apps/v1", Kind::Deployment, "istio-ingressgateway", ns);
        w!(s, "spec:");
        w!(s, "  replicas: 3");
        w!(s, "  selector:");
        w!(s, "    matchLabels:");
        w!(s, "      istio: ingressgateway");
        w!(s, "  template:");
        w!(s, "    metadata:");
        w!(s, "      labels:");
        w!(s, "        app: istio-ingressgateway");
        w!(s, "        istio: ingressgateway");
        w!(s, "      annotations:");
        w!(s, "        inject.istio.io/templates: gateway");
        w!(s, "    spec:");
        w!(s, "      containers:");
        w!(s, "      - name: istio-proxy");
        w!(s, "        image: auto");
        w!(s, "        ports:");
        for p in [15021, 8080, 8443] {
            w!(s, "        - containerPort: {p}");
        }
        w!(s, "        resources:");
        w!(s, "          requests:");
        w!(s, "            cpu: 500m");
        w!(s, "            memory: 512Mi");
        w!(s, "          limits:");
        w!(s, "            cpu: \"2\"");
        w!(s, "            memory: 1Gi");
    }
    vec![mesh, gw.finish()]
}

fn namespace(seed: u64, idx: usize, width: usize, stats: &mut Stats) -> Vec<OutFile> {
    let p = plan(seed, idx, width);
    let ns = p.name.as_str();
    let mut files = Vec::with_capacity(p.services.len() + 3);
    let mistake = |m: Mistake| p.mistake.and_then(|(x, t)| (x == m).then_some(t));

    // namespace.yaml: Namespace, PeerAuthentications, Sidecar.
    let mut f = FileBuf::new(format!("{ns}/namespace.yaml"), stats);
    {
        let s = f.doc(Kind::Namespace);
        w!(s, "apiVersion: v1");
        w!(s, "kind: Namespace");
        w!(s, "metadata:");
        w!(s, "  name: {ns}");
        w!(s, "  labels:");
        if p.legacy {
            w!(s, "    istio-injection: disabled");
        } else {
            w!(s, "    istio-injection: enabled");
        }
        w!(s, "    team: team-{:02}", p.team);
    }
    {
        let s = f.doc(Kind::PeerAuthentication);
        header(s, SEC, Kind::PeerAuthentication, "default", ns);
        w!(s, "spec:");
        w!(s, "  mtls:");
        let mode = if p.strict && !p.legacy {
            "STRICT"
        } else {
            "PERMISSIVE"
        };
        w!(s, "    mode: {mode}");
    }
    if let (Some(si), false) = (p.selector_pa, p.legacy) {
        let svc = &p.services[si];
        let name = format!("{}-metrics", svc.name);
        let nothing = mistake(Mistake::SelectorMatchesNothing).is_some();
        {
            let s = f.doc(Kind::PeerAuthentication);
            header(s, SEC, Kind::PeerAuthentication, &name, ns);
            w!(s, "spec:");
            w!(s, "  selector:");
            w!(s, "    matchLabels:");
            if nothing {
                w!(s, "      app: {}-worker", svc.name);
            } else {
                w!(s, "      app: {}", svc.name);
            }
            w!(s, "  mtls:");
            w!(s, "    mode: STRICT");
            w!(s, "  portLevelMtls:");
            w!(s, "    {}:", HTTP_METRICS.target);
            w!(s, "      mode: PERMISSIVE");
        }
        if nothing {
            f.inject(
                Mistake::SelectorMatchesNothing,
                ns,
                Kind::PeerAuthentication,
                &name,
            );
        }
    }
    if !p.legacy {
        sidecar(f.doc(Kind::Sidecar), ns);
    }
    files.push(f.finish());

    // One file per service: Service, Deployment(s), DestinationRule, VirtualService.
    for (si, svc) in p.services.iter().enumerate() {
        let mut f = FileBuf::new(format!("{ns}/{}.yaml", svc.name), stats);
        let unnamed = mistake(Mistake::UnnamedServicePort) == Some(si);
        {
            let s = f.doc(Kind::Service);
            header(s, "v1", Kind::Service, svc.name, ns);
            w!(s, "spec:");
            w!(s, "  selector:");
            w!(s, "    app: {}", svc.name);
            w!(s, "  ports:");
            for (pi, port) in svc.profile.iter().enumerate() {
                if unnamed && pi == 1 {
                    w!(s, "  - port: {}", port.port);
                } else {
                    w!(s, "  - name: {}", port.name);
                    w!(s, "    port: {}", port.port);
                }
                w!(s, "    targetPort: {}", port.target);
            }
        }
        if unnamed {
            f.inject(Mistake::UnnamedServicePort, ns, Kind::Service, svc.name);
        }
        deployment(f.doc(Kind::Deployment), &p, svc, "v1", svc.replicas);
        if svc.canary {
            deployment(f.doc(Kind::Deployment), &p, svc, "v2", 1);
        }
        if !p.legacy {
            let tls_mode = if mistake(Mistake::DrTlsDisableToStrict) == Some(si) {
                f.inject(
                    Mistake::DrTlsDisableToStrict,
                    ns,
                    Kind::DestinationRule,
                    svc.name,
                );
                "DISABLE"
            } else if mistake(Mistake::TlsModeTypo) == Some(si) {
                f.inject(Mistake::TlsModeTypo, ns, Kind::DestinationRule, svc.name);
                "ISTIO_MUTAL"
            } else {
                "ISTIO_MUTUAL"
            };
            destination_rule(f.doc(Kind::DestinationRule), ns, svc, tls_mode);
            let bad_subset = mistake(Mistake::UndefinedSubset) == Some(si);
            virtual_service(f.doc(Kind::VirtualService), ns, svc, bad_subset);
            if bad_subset {
                f.inject(Mistake::UndefinedSubset, ns, Kind::VirtualService, svc.name);
            }
        }
        files.push(f.finish());
    }

    if p.legacy {
        return files;
    }

    // egress.yaml: ServiceEntries to external HTTPS APIs and TCP databases.
    if !p.egress.is_empty() {
        let mut f = FileBuf::new(format!("{ns}/egress.yaml"), stats);
        for (ei, e) in p.egress.iter().enumerate() {
            match *e {
                Egress::Https(k) => {
                    let (name, host) = EXTERNAL_HTTPS[k];
                    let s = f.doc(Kind::ServiceEntry);
                    header(s, NET, Kind::ServiceEntry, name, ns);
                    w!(s, "spec:");
                    w!(s, "  hosts:");
                    w!(s, "  - {host}");
                    w!(s, "  exportTo:");
                    w!(s, "  - \".\"");
                    w!(s, "  location: MESH_EXTERNAL");
                    w!(s, "  ports:");
                    w!(s, "  - number: 443");
                    w!(s, "    name: https");
                    w!(s, "    protocol: HTTPS");
                    w!(s, "  resolution: DNS");
                }
                Egress::Tcp { kind, addresses } => {
                    let (port_name, port) = EXTERNAL_TCP[kind];
                    let name = format!("corp-db-{ei}");
                    let ip = format!(
                        "10.{}.{}.{}",
                        100 + (p.idx / 250) % 150,
                        p.idx % 250,
                        10 + ei
                    );
                    {
                        let s = f.doc(Kind::ServiceEntry);
                        header(s, NET, Kind::ServiceEntry, &name, ns);
                        w!(s, "spec:");
                        w!(s, "  hosts:");
                        w!(s, "  - db-{ei}.{ns}.corp.example");
                        if addresses {
                            w!(s, "  addresses:");
                            w!(s, "  - {ip}/32");
                        }
                        w!(s, "  exportTo:");
                        w!(s, "  - \".\"");
                        w!(s, "  location: MESH_EXTERNAL");
                        w!(s, "  ports:");
                        w!(s, "  - number: {port}");
                        w!(s, "    name: {port_name}");
                        w!(s, "    protocol: TCP");
                        if addresses {
                            w!(s, "  resolution: STATIC");
                            w!(s, "  endpoints:");
                            w!(s, "  - address: {ip}");
                        } else {
                            w!(s, "  resolution: DNS");
                        }
                    }
                    if !addresses {
                        f.inject(
                            Mistake::TcpServiceEntryWithoutAddresses,
                            ns,
                            Kind::ServiceEntry,
                            &name,
                        );
                    }
                }
            }
        }
        files.push(f.finish());
    }

    // gateway.yaml: a Gateway on the shared ingress and the VirtualService bound to it.
    if let Some(si) = p.gateway {
        let svc = &p.services[si];
        let host = format!("{ns}.apps.example.com");
        let mut f = FileBuf::new(format!("{ns}/gateway.yaml"), stats);
        {
            let s = f.doc(Kind::Gateway);
            header(s, NET, Kind::Gateway, GATEWAY_NAME, ns);
            w!(s, "spec:");
            w!(s, "  selector:");
            w!(s, "    istio: ingressgateway");
            w!(s, "  servers:");
            w!(s, "  - port:");
            w!(s, "      number: 443");
            w!(s, "      name: https");
            w!(s, "      protocol: HTTPS");
            w!(s, "    tls:");
            w!(s, "      mode: SIMPLE");
            w!(s, "      credentialName: {ns}-tls");
            w!(s, "    hosts:");
            w!(s, "    - {host}");
        }
        let unknown = mistake(Mistake::UnknownGateway).is_some();
        let vs_name = format!("{GATEWAY_NAME}-ingress");
        {
            let s = f.doc(Kind::VirtualService);
            header(s, NET, Kind::VirtualService, &vs_name, ns);
            w!(s, "spec:");
            w!(s, "  hosts:");
            w!(s, "  - {host}");
            w!(s, "  gateways:");
            if unknown {
                w!(s, "  - pubilc");
            } else {
                w!(s, "  - {GATEWAY_NAME}");
            }
            w!(s, "  http:");
            w!(s, "  - match:");
            w!(s, "    - uri:");
            w!(s, "        prefix: /");
            w!(s, "    route:");
            w!(s, "    - destination:");
            w!(s, "        host: {}.{ns}.svc.cluster.local", svc.name);
            w!(s, "        port:");
            w!(s, "          number: {}", HTTP_WEB.port);
        }
        if unknown {
            f.inject(Mistake::UnknownGateway, ns, Kind::VirtualService, &vs_name);
        }
        files.push(f.finish());
    }
    files
}

fn deployment(s: &mut String, p: &NsPlan, svc: &Svc, version: &str, replicas: u32) {
    let ns = p.name.as_str();
    let name = format!("{}-{version}", svc.name);
    header(s, "apps/v1", Kind::Deployment, &name, ns);
    w!(s, "spec:");
    w!(s, "  replicas: {replicas}");
    w!(s, "  selector:");
    w!(s, "    matchLabels:");
    w!(s, "      app: {}", svc.name);
    w!(s, "      version: {version}");
    w!(s, "  template:");
    w!(s, "    metadata:");
    w!(s, "      labels:");
    w!(s, "        app: {}", svc.name);
    w!(s, "        version: {version}");
    w!(s, "    spec:");
    w!(s, "      containers:");
    w!(s, "      - name: {}", svc.name);
    let (major, minor, patch) = svc.version;
    let minor = if version == "v2" { minor + 1 } else { minor };
    w!(
        s,
        "        image: ghcr.io/acme/team-{:02}/{}:{major}.{minor}.{patch}",
        p.team,
        svc.name
    );
    w!(s, "        ports:");
    for port in svc.profile {
        w!(s, "        - containerPort: {}", port.target);
    }
    let (rc, rm, lm) = RESOURCE_TIERS[svc.tier];
    w!(s, "        resources:");
    w!(s, "          requests:");
    w!(s, "            cpu: {rc}");
    w!(s, "            memory: {rm}");
    w!(s, "          limits:");
    w!(s, "            memory: {lm}");
}

fn destination_rule(s: &mut String, ns: &str, svc: &Svc, tls_mode: &str) {
    header(s, NET, Kind::DestinationRule, svc.name, ns);
    w!(s, "spec:");
    w!(s, "  host: {}.{ns}.svc.cluster.local", svc.name);
    w!(s, "  trafficPolicy:");
    w!(s, "    tls:");
    w!(s, "      mode: {tls_mode}");
    if svc.resilience {
        w!(s, "    connectionPool:");
        w!(s, "      http:");
        w!(s, "        http2MaxRequests: 1000");
        w!(s, "    outlierDetection:");
        w!(s, "      consecutive5xxErrors: 5");
        w!(s, "      interval: 30s");
    }
    w!(s, "  subsets:");
    w!(s, "  - name: v1");
    w!(s, "    labels:");
    w!(s, "      version: v1");
    if svc.canary {
        w!(s, "  - name: v2");
        w!(s, "    labels:");
        w!(s, "      version: v2");
    }
}

fn route(s: &mut String, indent: &str, host: &str, subset: &str, weight: Option<u32>) {
    w!(s, "{indent}- destination:");
    w!(s, "{indent}    host: {host}");
    w!(s, "{indent}    subset: {subset}");
    if let Some(wt) = weight {
        w!(s, "{indent}  weight: {wt}");
    }
}

fn virtual_service(s: &mut String, ns: &str, svc: &Svc, bad_subset: bool) {
    header(s, NET, Kind::VirtualService, svc.name, ns);
    let host = svc.name;
    w!(s, "spec:");
    w!(s, "  hosts:");
    w!(s, "  - {host}");
    w!(s, "  http:");
    if svc.canary {
        w!(s, "  - match:");
        w!(s, "    - headers:");
        w!(s, "        x-canary:");
        w!(s, "          exact: \"true\"");
        w!(s, "    route:");
        route(s, "    ", host, "v2", None);
        w!(s, "  - route:");
        let second = if bad_subset { "v3" } else { "v2" };
        route(s, "    ", host, "v1", Some(svc.canary_weight));
        route(s, "    ", host, second, Some(100 - svc.canary_weight));
    } else {
        let subset = if bad_subset { "v2" } else { "v1" };
        if svc.vs_style == 1 {
            w!(s, "  - match:");
            w!(s, "    - uri:");
            w!(s, "        prefix: /api/");
            w!(s, "    route:");
            route(s, "    ", host, subset, None);
            w!(s, "    timeout: 10s");
            w!(s, "  - route:");
            route(s, "    ", host, "v1", None);
        } else {
            w!(s, "  - route:");
            route(s, "    ", host, subset, None);
            w!(s, "    retries:");
            w!(s, "      attempts: 3");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(seed: u64, namespaces: usize) -> (Vec<OutFile>, Stats) {
        let mut files = Vec::new();
        let stats = generate(&Config { seed, namespaces }, |f| {
            files.push(f);
            Ok(())
        })
        .unwrap();
        (files, stats)
    }

    #[test]
    fn same_seed_same_bytes() {
        let (a, sa) = collect(7, 300);
        let (b, sb) = collect(7, 300);
        assert_eq!(a, b);
        assert_eq!(sa.bytes, sb.bytes);
        assert_eq!(sa.injected, sb.injected);
    }

    #[test]
    fn different_seed_different_bytes() {
        let (a, _) = collect(7, 50);
        let (b, _) = collect(8, 50);
        assert_ne!(a, b);
    }

    #[test]
    fn namespaces_do_not_depend_on_corpus_size() {
        let (small, _) = collect(42, 10);
        let (large, _) = collect(42, 100);
        // Same width (5 digits), so the first 10 namespaces are identical.
        for f in &small {
            let g = large.iter().find(|g| g.rel_path == f.rel_path).unwrap();
            assert_eq!(f, g);
        }
    }

    #[test]
    fn resource_count_scales_linearly() {
        let (_, s1) = collect(42, 1000);
        let (_, s4) = collect(42, 4000);
        let per_ns_1 = s1.resources as f64 / 1000.0;
        let per_ns_4 = s4.resources as f64 / 4000.0;
        assert!(
            (per_ns_1 - per_ns_4).abs() / per_ns_4 < 0.03,
            "{per_ns_1} vs {per_ns_4}"
        );
        // About 16 resources and 4.5 KB per namespace.
        assert!(
            (15.0..17.5).contains(&per_ns_4),
            "{per_ns_4} resources per namespace"
        );
        let bytes_per_ns = s4.bytes as f64 / 4000.0;
        assert!(
            (3500.0..6000.0).contains(&bytes_per_ns),
            "{bytes_per_ns} bytes per namespace"
        );
        let bytes_ratio = s4.bytes as f64 / s1.bytes as f64;
        assert!(
            (3.8..4.2).contains(&bytes_ratio),
            "bytes ratio {bytes_ratio}"
        );
    }

    #[test]
    fn a_few_mistakes_per_thousand_and_every_type_present() {
        let (_, s) = collect(42, 2000);
        let per_thousand = s.injected.len() as f64 * 1000.0 / s.resources as f64;
        assert!(
            (1.5..6.0).contains(&per_thousand),
            "{per_thousand} per 1000"
        );
        for m in MISTAKES {
            assert!(s.mistakes_of(m) > 0, "no {}", m.id());
        }
    }

    #[test]
    fn single_namespace_is_small_and_has_a_mistake() {
        let (files, s) = collect(42, 1);
        assert_eq!(s.namespaces, 1);
        assert_eq!(s.injected.len(), 1);
        assert!(s.resources < 40);
        assert!(s.bytes < 16 * 1024);
        assert!(files.iter().all(
            |f| f.rel_path.starts_with("istio-system/") || f.rel_path.starts_with("ns-00000/")
        ));
    }

    #[test]
    fn documents_are_well_formed() {
        let (files, s) = collect(3, 200);
        let mut docs = 0;
        for f in &files {
            assert!(f.rel_path.ends_with(".yaml"));
            assert!(!f.content.contains('\t'));
            assert!(f.content.ends_with('\n'));
            for d in f.content.split("---\n") {
                docs += 1;
                assert!(d.starts_with("apiVersion: "), "{}: {d}", f.rel_path);
                assert!(d.contains("\nkind: "));
                assert!(d.contains("\nmetadata:\n  name: "));
            }
        }
        assert_eq!(docs, s.resources);
        assert_eq!(s.by_kind.iter().sum::<usize>(), s.resources);
        // Every injected mistake points at a file and a resource that exist.
        for i in &s.injected {
            let f = files.iter().find(|f| f.rel_path == i.file).unwrap();
            assert!(f.content.contains(&format!(
                "kind: {}\nmetadata:\n  name: {}\n",
                i.kind.name(),
                i.name
            )));
        }
    }

    #[test]
    fn mistakes_render_as_intended() {
        let (files, s) = collect(42, 3000);
        let all: String = files.iter().map(|f| f.content.as_str()).collect();
        assert_eq!(
            all.matches("mode: ISTIO_MUTAL\n").count(),
            s.mistakes_of(Mistake::TlsModeTypo)
        );
        assert_eq!(
            all.matches("      mode: DISABLE\n").count(),
            s.mistakes_of(Mistake::DrTlsDisableToStrict)
        );
        assert_eq!(
            all.matches("  - pubilc\n").count(),
            s.mistakes_of(Mistake::UnknownGateway)
        );
        assert_eq!(
            all.matches("\n  - port: ").count(),
            s.mistakes_of(Mistake::UnnamedServicePort)
        );
        assert!(all.contains("subset: v3\n"));
    }

    #[test]
    fn width_grows_past_five_digits() {
        assert_eq!(ns_width(1), 5);
        assert_eq!(ns_width(100_000), 5);
        assert_eq!(ns_width(100_001), 6);
        assert_eq!(ns_name(42, 5), "ns-00042");
    }
}
