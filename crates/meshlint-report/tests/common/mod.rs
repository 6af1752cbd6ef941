//! A small in-memory fixture shared by the format tests: four findings over two YAML files
//! that have text, one file without findings and one unreadable file without text.

#![allow(dead_code)]

use meshlint_diag::{
    Finding, Location, Pos, Related, ResourceId, RuleInfo, Severity, SourceFile, Span, Summary,
};
use meshlint_report::{render_to_string, Format, HumanOptions, ReportInput};
use std::collections::HashMap;
use std::sync::Arc;

pub const DR: &str = "mesh/dr.yaml";
pub const PA: &str = "mesh/pa.yaml";
pub const CLEAN: &str = "mesh/clean.yaml";
pub const BROKEN: &str = "broken.yaml";
pub const MISSING: &str = "other/missing.yaml";

pub const DR_TEXT: &str = "# café ☕ — DestinationRule for reviews
apiVersion: networking.istio.io/v1beta1
kind: DestinationRule
metadata:
  name: reviews
  namespace: default
spec:
  host: reviews.default.svc.cluster.local
  trafficPolicy:
    tls:
      mode: DISABLE
  subsets:
  - name: v1
    labels:
      ñandú: café-v1
";

pub const PA_TEXT: &str = "apiVersion: security.istio.io/v1beta1
kind: PeerAuthentication
metadata:
  name: default
spec:
  mtls:
    mode: STRICT
";

pub const CLEAN_TEXT: &str = "apiVersion: v1
kind: Service
metadata:
  name: ratings
";

/// The message of the first finding: every character some format has to escape.
pub const TLS_MESSAGE: &str =
    "TLS mode \"DISABLE\" sends plaintext to a STRICT workload: 100% of requests fail with 503 <UC>, see mesh/pa.yaml & retry";
pub const TLS_HELP: &str = "set `tls.mode: ISTIO_MUTUAL` or remove the tls block";
pub const PARSE_MESSAGE: &str = "did not find expected key\nwhile parsing a block mapping";

pub fn span(l1: u32, c1: u32, l2: u32, c2: u32) -> Span {
    Span {
        start: Pos {
            line: l1,
            column: c1,
        },
        end: Pos {
            line: l2,
            column: c2,
        },
    }
}

pub fn loc(file: &str, s: Span) -> Location {
    Location {
        file: file.into(),
        span: s,
    }
}

fn shift(s: Span, by: u32) -> Span {
    span(
        s.start.line + by,
        s.start.column,
        s.end.line + by,
        s.end.column,
    )
}

pub struct Fixture {
    pub findings: Vec<Finding>,
    pub sources: HashMap<Arc<str>, SourceFile>,
    pub rules: Vec<RuleInfo>,
    pub summary: Summary,
}

impl Fixture {
    /// The standard fixture.
    pub fn new() -> Fixture {
        Fixture::with_dr_shift(0)
    }

    /// The fixture with `lines` extra comment lines at the top of `mesh/dr.yaml`, and the
    /// findings there moved down accordingly (for fingerprint stability tests).
    pub fn with_dr_shift(lines: u32) -> Fixture {
        let dr_text = format!("{}{}", "# moved\n".repeat(lines as usize), DR_TEXT);
        let dr_resource = ResourceId {
            api_version: "networking.istio.io/v1beta1".into(),
            kind: "DestinationRule".into(),
            namespace: Some("default".into()),
            name: "reviews".into(),
        };
        let pa_resource = ResourceId {
            api_version: "security.istio.io/v1beta1".into(),
            kind: "PeerAuthentication".into(),
            namespace: None,
            name: "default".into(),
        };

        let mut tls = Finding::new(
            "ML001",
            Severity::Error,
            TLS_MESSAGE,
            loc(DR, shift(span(11, 13, 11, 20), lines)),
        )
        .with_resource(Some(dr_resource.clone()))
        .with_help(TLS_HELP);
        tls.rule_name = Some("tls-disabled-toward-strict".into());
        tls.related = vec![
            Related {
                location: loc(DR, shift(span(8, 9, 8, 42), lines)),
                message: "host resolves to the reviews Service".into(),
            },
            Related {
                location: loc(PA, span(7, 11, 7, 17)),
                message: "STRICT here".into(),
            },
            Related {
                location: loc(MISSING, span(2, 1, 2, 5)),
                message: "also referenced here".into(),
            },
        ];

        let label = Finding::new(
            "ML002",
            Severity::Warning,
            "label value café-v1 selects no pods",
            loc(DR, shift(span(15, 14, 15, 21), lines)),
        )
        .with_resource(Some(dr_resource));

        let parse = Finding::new(
            "parse-error",
            Severity::Error,
            PARSE_MESSAGE,
            loc(BROKEN, span(3, 1, 3, 2)),
        );

        let mut mesh_wide = Finding::new(
            "ML003",
            Severity::Info,
            "PeerAuthentication without namespace applies to the namespace it is applied in",
            loc(PA, span(2, 7, 2, 25)),
        )
        .with_resource(Some(pa_resource));
        mesh_wide.istio_code = Some("IST0134".into());

        // Deliberately out of order: renderers sort.
        let findings = vec![mesh_wide, label, parse, tls];

        let mut sources = HashMap::new();
        for (name, text) in [(DR, dr_text.as_str()), (PA, PA_TEXT), (CLEAN, CLEAN_TEXT)] {
            sources.insert(Arc::<str>::from(name), SourceFile::new(name, text));
        }

        let rules = vec![
            rule("ML001", "tls-disabled-toward-strict", Severity::Error, None),
            rule("ML002", "subset-selects-nothing", Severity::Warning, None),
            rule(
                "ML003",
                "peer-authentication-scope",
                Severity::Info,
                Some("IST0134"),
            ),
            rule("ML999", "unused-rule", Severity::Warning, None),
        ];

        let mut summary = Summary {
            files: 4,
            resources: 3,
            ..Summary::default()
        };
        summary.count(&findings);
        Fixture {
            findings,
            sources,
            rules,
            summary,
        }
    }

    pub fn empty() -> Fixture {
        let mut f = Fixture::new();
        f.findings.clear();
        f.summary.count(&[]);
        f
    }

    pub fn input(&self) -> ReportInput<'_> {
        ReportInput {
            findings: &self.findings,
            sources: &self.sources,
            rules: &self.rules,
            summary: self.summary,
            tool_version: "0.1.0",
            fail_threshold: Some(meshlint_diag::Severity::Info),
        }
    }

    pub fn render(&self, format: Format) -> String {
        render_to_string(format, &self.input(), &HumanOptions::default()).unwrap()
    }

    /// The findings in output order.
    pub fn sorted(&self) -> Vec<&Finding> {
        let mut v: Vec<&Finding> = self.findings.iter().collect();
        v.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        v
    }
}

fn rule(id: &str, name: &str, severity: Severity, istio: Option<&str>) -> RuleInfo {
    RuleInfo {
        id: id.into(),
        name: name.into(),
        category: "security".into(),
        severity,
        summary: format!("summary of {name}"),
        help_markdown: format!(
            "## What it does\n\nChecks {name}.\n\n## Why is this bad?\n\nTraffic *breaks*.\n\n```yaml\nspec: {{}}\n```\n"
        ),
        istio_code: istio.map(String::from),
        help_uri: None,
    }
}
