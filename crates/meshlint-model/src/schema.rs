//! Field schemas for Istio kinds, kept as data in `schema/*.yaml` (see its README) and
//! checked against each resource's `spec`: unknown fields (warning), wrong types and
//! unknown enum values (error, with a did-you-mean), missing required fields.

use crate::codes;
use crate::resource::Resource;
use meshlint_diag::{Finding, Location, Severity, Span};
use meshlint_load::Scalar;
use meshlint_load::{load_source, LoadLimits, Node, NodeValue};
use std::collections::HashMap;
use std::sync::OnceLock;

/// The embedded schema files: (name, YAML text).
pub const SCHEMA_FILES: &[(&str, &str)] = &[
    ("networking.yaml", include_str!("../schema/networking.yaml")),
    ("security.yaml", include_str!("../schema/security.yaml")),
    ("telemetry.yaml", include_str!("../schema/telemetry.yaml")),
    ("extensions.yaml", include_str!("../schema/extensions.yaml")),
    ("meshconfig.yaml", include_str!("../schema/meshconfig.yaml")),
];

#[derive(Debug, Clone, PartialEq)]
pub enum Ty {
    Str,
    Bool,
    Int,
    Uint,
    Number,
    Duration,
    IntOrString,
    Any,
    List(Box<Ty>),
    Map(Box<Ty>),
    Enum(Vec<String>),
    Named(String),
}

#[derive(Debug, Clone)]
pub struct Field {
    pub ty: Ty,
    pub required: bool,
    pub deprecated: bool,
}

#[derive(Debug, Clone)]
pub struct KindSchema {
    pub versions: Vec<String>,
    pub spec: String,
}

/// All types and kinds of the embedded schema files.
#[derive(Debug, Default)]
pub struct Schema {
    pub types: HashMap<String, Vec<(String, Field)>>,
    pub kinds: HashMap<(String, String), KindSchema>,
}

fn parse_ty(text: &str) -> Ty {
    let t = text.trim();
    if let Some(inner) = t.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
        return Ty::List(Box::new(parse_ty(inner)));
    }
    if let Some(inner) = t.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
        return Ty::Map(Box::new(parse_ty(inner)));
    }
    if let Some(values) = t.strip_prefix("enum ") {
        return Ty::Enum(values.split_whitespace().map(str::to_string).collect());
    }
    match t {
        "string" => Ty::Str,
        "bool" => Ty::Bool,
        "int" => Ty::Int,
        "uint" => Ty::Uint,
        "number" => Ty::Number,
        "duration" => Ty::Duration,
        "intOrString" => Ty::IntOrString,
        "any" => Ty::Any,
        other => Ty::Named(other.to_string()),
    }
}

impl Schema {
    /// Parses schema files. Errors name the file and the offending entry.
    pub fn parse(files: &[(&str, &str)]) -> Result<Schema, String> {
        let mut schema = Schema::default();
        for (name, text) in files {
            let loaded = load_source(
                (*name).into(),
                text.as_bytes().to_vec(),
                &LoadLimits::default(),
            );
            if let Some(f) = loaded.findings.first() {
                return Err(format!("{name}: {}", f.message));
            }
            let Some(doc) = loaded.documents.first() else {
                continue;
            };
            for k in doc.root.get("kinds").map(|k| k.items()).unwrap_or(&[]) {
                let kind = k
                    .str_at(&["kind"])
                    .ok_or(format!("{name}: kind entry without kind"))?;
                let group = k.str_at(&["group"]).unwrap_or("");
                let versions = k
                    .get("versions")
                    .map(|v| {
                        v.items()
                            .iter()
                            .filter_map(|i| i.as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default();
                let spec = k
                    .str_at(&["spec"])
                    .ok_or(format!("{name}: {kind} without spec type"))?;
                schema.kinds.insert(
                    (group.to_string(), kind.to_string()),
                    KindSchema {
                        versions,
                        spec: spec.to_string(),
                    },
                );
            }
            for (tname, fields) in doc.root.get("types").map(|t| t.entries()).unwrap_or(&[]) {
                let tname = tname
                    .as_str()
                    .ok_or(format!("{name}: non-string type name"))?;
                let mut out = Vec::new();
                for (fname, fty) in fields.entries() {
                    let raw = fname.as_str().unwrap_or("");
                    let (fname, required) = match raw.strip_suffix('!') {
                        Some(n) => (n, true),
                        None => (raw, false),
                    };
                    let tytext = fty.as_str().unwrap_or("any");
                    let (tytext, deprecated) = match tytext.strip_prefix("deprecated ") {
                        Some(t) => (t, true),
                        None => (tytext, false),
                    };
                    out.push((
                        fname.to_string(),
                        Field {
                            ty: parse_ty(tytext),
                            required,
                            deprecated,
                        },
                    ));
                }
                schema.types.insert(tname.to_string(), out);
            }
        }
        Ok(schema)
    }

    /// Names referenced but not defined (a schema-file bug; tested).
    pub fn undefined_types(&self) -> Vec<String> {
        fn walk(ty: &Ty, schema: &Schema, out: &mut Vec<String>) {
            match ty {
                Ty::List(t) | Ty::Map(t) => walk(t, schema, out),
                Ty::Named(n) if !schema.types.contains_key(n) => out.push(n.clone()),
                _ => {}
            }
        }
        let mut out = Vec::new();
        for fields in self.types.values() {
            for (_, f) in fields {
                walk(&f.ty, self, &mut out);
            }
        }
        for k in self.kinds.values() {
            walk(&Ty::Named(k.spec.clone()), self, &mut out);
        }
        out.sort();
        out.dedup();
        out
    }
}

/// The embedded schema, parsed once.
pub fn embedded() -> &'static Schema {
    static SCHEMA: OnceLock<Schema> = OnceLock::new();
    SCHEMA.get_or_init(|| Schema::parse(SCHEMA_FILES).unwrap_or_default())
}

pub use meshlint_diag::did_you_mean;

fn camel_from_snake(s: &str) -> Option<String> {
    if !s.contains('_') {
        return None;
    }
    let mut out = String::new();
    let mut upper = false;
    for ch in s.chars() {
        if ch == '_' {
            upper = true;
        } else if upper {
            out.extend(ch.to_uppercase());
            upper = false;
        } else {
            out.push(ch);
        }
    }
    Some(out)
}

struct Validator<'a> {
    schema: &'a Schema,
    resource: &'a Resource,
    findings: Vec<Finding>,
}

impl Validator<'_> {
    fn report(
        &mut self,
        code: &'static str,
        severity: Severity,
        span: Span,
        message: String,
        help: Option<String>,
    ) {
        let mut f = Finding::new(
            code,
            severity,
            message,
            Location {
                file: self.resource.file.clone(),
                span,
            },
        )
        .with_resource(Some(self.resource.id.clone()));
        if code != codes::SCHEMA_UNKNOWN_FIELD {
            f.istio_code = Some("IST0106".into());
        }
        f.help = help;
        self.findings.push(f);
    }

    fn type_error(&mut self, node: &Node, what: &str, expected: &str) {
        let found = match &node.value {
            NodeValue::Map(_) => "a mapping".to_string(),
            NodeValue::Seq(_) => "a list".to_string(),
            NodeValue::Scalar(s) => describe_scalar(s),
        };
        self.report(
            codes::SCHEMA_TYPE,
            Severity::Error,
            node.head_span(),
            format!(
                "`{what}` must be {expected}, found {found}; the API server rejects this resource"
            ),
            None,
        );
    }

    fn check(&mut self, node: &Node, ty: &Ty, what: &str) {
        if node.is_null() {
            return;
        }
        match ty {
            Ty::Any => {}
            Ty::Str => match node.scalar() {
                Some(s) if matches!(s.resolved(), meshlint_load::Resolved::Str(_)) || !s.plain => {}
                Some(s) if s.as_f64().is_some() || s.as_bool().is_some() => {
                    self.type_error(node, what, "a string (quote the value)")
                }
                Some(_) => {}
                None => self.type_error(node, what, "a string"),
            },
            Ty::Bool => {
                if node.as_bool().is_none() {
                    self.type_error(node, what, "true or false")
                }
            }
            Ty::Int | Ty::Uint => {
                let v = node
                    .scalar()
                    .and_then(|s| s.as_i64().or_else(|| s.text.trim().parse().ok()));
                match v {
                    Some(v) if *ty == Ty::Uint && v < 0 => {
                        self.type_error(node, what, "a non-negative integer")
                    }
                    Some(_) => {}
                    None => self.type_error(node, what, "an integer"),
                }
            }
            Ty::Number => {
                if node
                    .scalar()
                    .and_then(|s| s.as_f64().or_else(|| s.text.trim().parse().ok()))
                    .is_none()
                {
                    self.type_error(node, what, "a number")
                }
            }
            Ty::Duration => match node.as_str() {
                Some(s) if is_duration(s) => {}
                _ => self.type_error(node, what, "a duration such as `5s` or `250ms`"),
            },
            Ty::IntOrString => {
                if node.scalar().is_none() {
                    self.type_error(node, what, "an integer or a string")
                }
            }
            Ty::Enum(values) => {
                let Some(s) = node.scalar() else {
                    return self.type_error(node, what, "one of the allowed values");
                };
                if values.iter().any(|v| *v == *s.text) || (s.plain && s.as_i64().is_some()) {
                    return;
                }
                let suggestion = did_you_mean(&s.text, values.iter().map(String::as_str));
                let mut message = format!("`{}` is not a valid value for `{what}`", s.text);
                if let Some(sug) = suggestion {
                    message.push_str(&format!("; did you mean `{sug}`?"));
                }
                message.push_str(" Istio rejects the resource (or ignores the setting).");
                self.report(
                    codes::SCHEMA_ENUM,
                    Severity::Error,
                    node.span,
                    message,
                    Some(format!("valid values: {}", values.join(", "))),
                );
            }
            Ty::List(inner) => match node.as_seq() {
                Some(items) => {
                    for (i, item) in items.iter().enumerate() {
                        self.check(item, inner, &format!("{what}[{i}]"));
                    }
                }
                None => self.type_error(node, what, "a list"),
            },
            Ty::Map(inner) => match node.as_map() {
                Some(entries) => {
                    for (k, v) in entries {
                        let key = k.as_str().unwrap_or("?");
                        self.check(v, inner, &format!("{what}.{key}"));
                    }
                }
                None => self.type_error(node, what, "a mapping"),
            },
            Ty::Named(name) => {
                let Some(fields) = self.schema.types.get(name) else {
                    return;
                };
                let Some(entries) = node.as_map() else {
                    return self.type_error(node, what, "a mapping");
                };
                for (k, v) in entries {
                    let Some(key) = k.as_str() else { continue };
                    let field = fields.iter().find(|(n, _)| n == key).or_else(|| {
                        let camel = camel_from_snake(key)?;
                        fields.iter().find(|(n, _)| *n == camel)
                    });
                    match field {
                        Some((fname, f)) => {
                            let f = f.clone();
                            self.check(v, &f.ty, &format!("{what}.{fname}"));
                        }
                        None => {
                            let sug = did_you_mean(key, fields.iter().map(|(n, _)| n.as_str()));
                            let mut message = format!("unknown field `{key}` in `{what}`");
                            match sug {
                                Some(s) => message.push_str(&format!("; did you mean `{s}`?")),
                                None => message.push_str("; Istio ignores or rejects it"),
                            }
                            self.report(
                                codes::SCHEMA_UNKNOWN_FIELD,
                                Severity::Warning,
                                k.span,
                                message,
                                None,
                            );
                        }
                    }
                }
                for (fname, f) in fields {
                    if f.required && node.get(fname).is_none() {
                        self.report(
                            codes::SCHEMA_REQUIRED,
                            Severity::Error,
                            node.head_span(),
                            format!("`{what}` is missing its required field `{fname}`"),
                            None,
                        );
                    }
                }
            }
        }
    }
}

fn describe_scalar(s: &Scalar) -> String {
    match s.resolved() {
        meshlint_load::Resolved::Null => "null".into(),
        meshlint_load::Resolved::Bool(b) => format!("the boolean `{b}`"),
        meshlint_load::Resolved::Int(i) => format!("the number `{i}`"),
        meshlint_load::Resolved::Float(f) => format!("the number `{f}`"),
        meshlint_load::Resolved::Str(t) => format!("the string `{t}`"),
    }
}

/// Go-style durations (`1h2m`, `0.5s`, `250ms`).
pub fn is_duration(s: &str) -> bool {
    let mut rest = s.trim();
    if rest.is_empty() {
        return false;
    }
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if num_len == 0 {
            return false;
        }
        rest = &rest[num_len..];
        let unit = ["ns", "us", "µs", "ms", "s", "m", "h"]
            .into_iter()
            .find(|u| rest.starts_with(u) && !(*u == "m" && rest.starts_with("ms")));
        match unit {
            Some(u) => rest = &rest[u.len()..],
            None => return false,
        }
    }
    true
}

/// Validates a resource's `spec` if its kind has a schema.
pub fn validate(resource: &Resource) -> Vec<Finding> {
    validate_with(embedded(), resource)
}

pub fn validate_with(schema: &Schema, resource: &Resource) -> Vec<Finding> {
    let key = (resource.group.clone(), resource.id.kind.clone());
    let Some(kind) = schema.kinds.get(&key) else {
        return Vec::new();
    };
    let mut v = Validator {
        schema,
        resource,
        findings: Vec::new(),
    };
    if !kind.versions.is_empty() && !kind.versions.contains(&resource.version) {
        let span = resource
            .node
            .get("apiVersion")
            .map(|n| n.span)
            .unwrap_or_else(|| resource.name_span());
        v.report(
            codes::SCHEMA_TYPE,
            Severity::Error,
            span,
            format!(
                "{} is not served as `{}`; the API server refuses it",
                resource.id.kind, resource.id.api_version
            ),
            Some(format!(
                "use one of: {}",
                kind.versions
                    .iter()
                    .map(|ver| format!("{}/{ver}", resource.group))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        );
    }
    if let Some(spec) = resource.node.get("spec") {
        v.check(spec, &Ty::Named(kind.spec.clone()), "spec");
    }
    v.findings
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resource::build_resources;

    const TEST_SCHEMA: &str = "kinds:\n- kind: DestinationRule\n  group: networking.istio.io\n  versions: [v1alpha3, v1beta1, v1]\n  spec: DR\ntypes:\n  DR:\n    host!: string\n    trafficPolicy: TP\n    exportTo: \"[string]\"\n  TP:\n    tls: TLS\n    connectTimeout: duration\n  TLS:\n    mode: \"enum DISABLE SIMPLE MUTUAL ISTIO_MUTUAL\"\n    insecureSkipVerify: bool\n";

    fn findings(yaml: &str) -> Vec<(String, u32, u32, String)> {
        let schema = Schema::parse(&[("t.yaml", TEST_SCHEMA)]).unwrap();
        let f = load_source(
            "r.yaml".into(),
            yaml.as_bytes().to_vec(),
            &LoadLimits::default(),
        );
        let set = build_resources(&f);
        validate_with(&schema, &set.resources[0])
            .into_iter()
            .map(|f| {
                (
                    f.rule.to_string(),
                    f.location.span.start.line,
                    f.location.span.start.column,
                    f.message,
                )
            })
            .collect()
    }

    #[test]
    fn enum_typo_gets_a_suggestion_at_its_value() {
        let got = findings("apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: r}\nspec:\n  host: a\n  trafficPolicy:\n    tls:\n      mode: ISTIO_MUTAL\n");
        assert_eq!(got.len(), 1);
        assert_eq!(
            (got[0].0.as_str(), got[0].1, got[0].2),
            ("schema-enum", 8, 13)
        );
        assert!(
            got[0].3.contains("did you mean `ISTIO_MUTUAL`"),
            "{}",
            got[0].3
        );
    }

    #[test]
    fn unknown_fields_types_required_and_versions() {
        let got = findings("apiVersion: networking.istio.io/v2\nkind: DestinationRule\nmetadata: {name: r}\nspec:\n  trafficPolcy:\n    tls: {}\n  exportTo: .\n");
        let rules: Vec<_> = got.iter().map(|g| (g.0.as_str(), g.1)).collect();
        assert_eq!(
            rules,
            vec![
                ("schema-type", 1),
                ("schema-unknown-field", 5),
                ("schema-type", 7),
                ("schema-required", 5)
            ]
        );
        assert!(got[1].3.contains("did you mean `trafficPolicy`"));
    }

    #[test]
    fn valid_resources_are_quiet_and_snake_case_is_accepted() {
        let got = findings("apiVersion: networking.istio.io/v1beta1\nkind: DestinationRule\nmetadata: {name: r}\nspec:\n  host: a\n  traffic_policy:\n    connectTimeout: 1.5s\n    tls: {mode: SIMPLE, insecureSkipVerify: true}\n");
        assert!(got.is_empty(), "{got:?}");
    }

    #[test]
    fn durations() {
        for ok in ["5s", "0.25s", "1h30m", "250ms"] {
            assert!(is_duration(ok), "{ok}");
        }
        for bad in ["", "5", "s", "5x", "1.5"] {
            assert!(!is_duration(bad), "{bad}");
        }
    }

    #[test]
    fn embedded_schema_is_consistent() {
        let schema = Schema::parse(SCHEMA_FILES).expect("embedded schema parses");
        assert!(
            schema.undefined_types().is_empty(),
            "{:?}",
            schema.undefined_types()
        );
        for kind in [
            "VirtualService",
            "DestinationRule",
            "Gateway",
            "ServiceEntry",
            "Sidecar",
            "PeerAuthentication",
            "AuthorizationPolicy",
            "RequestAuthentication",
            "Telemetry",
            "WasmPlugin",
            "EnvoyFilter",
            "WorkloadEntry",
            "WorkloadGroup",
            "ProxyConfig",
        ] {
            assert!(
                schema.kinds.keys().any(|(_, k)| k == kind),
                "{kind} has no schema"
            );
        }
    }
}
