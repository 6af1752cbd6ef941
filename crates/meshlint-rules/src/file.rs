//! The rule-file format, its JSON Schema, and loading with precise errors.

use crate::expr::{self, Template};
use meshlint_diag::{Location, Severity, Span};
use meshlint_load::{spanned, Node, PathSegment};
use schemars::JsonSchema;
use serde::Deserialize;
use std::sync::{Arc, OnceLock};

/// Severity as written in a rule file (and in `.meshlint.yaml` severity overrides).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SeverityName {
    Error,
    Warning,
    Info,
}

impl From<SeverityName> for Severity {
    fn from(s: SeverityName) -> Severity {
        match s {
            SeverityName::Error => Severity::Error,
            SeverityName::Warning => Severity::Warning,
            SeverityName::Info => Severity::Info,
        }
    }
}

/// Which resources a rule visits.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MatchSpec {
    /// Kind names (`DestinationRule`, `Deployment`, …; every API version of each),
    /// `group/Kind` for a custom resource (`argoproj.io/Rollout`), or `'*'` for every
    /// resource. An unknown kind is refused with a did-you-mean.
    pub kinds: Vec<String>,
}

/// A secondary location attached to each finding.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RelatedSpec {
    /// CEL: a reference (as returned by graph functions, with `_r` and `path`), a list
    /// of them, or null.
    pub expression: String,
    /// Label text; `{{ expr }}` interpolates CEL, with the reference bound to `ref`.
    pub message: String,
}

/// The rule's documentation: what `meshlint explain` and `docs/rules/` show.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DocsSpec {
    /// What the rule catches.
    pub what: String,
    /// Why it breaks at runtime.
    pub why: String,
    /// YAML that triggers the rule.
    pub bad: String,
    /// The corrected YAML.
    pub good: String,
    /// Anything else worth knowing (limits, severity choice, Istio version notes).
    #[serde(default)]
    pub notes: Option<String>,
}

/// One rule file. Unknown keys are refused.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleFile {
    /// Unique id (built-ins: `ML` + four digits).
    pub id: String,
    /// Stable slug naming what is wrong (`destinationrule-plaintext-to-strict-mtls`).
    #[serde(default)]
    pub name: Option<String>,
    pub severity: SeverityName,
    /// Group for `--select/--ignore` (`mtls`, `tls`, `hosts`, `serviceentry`, …).
    #[serde(default)]
    pub category: Option<String>,
    /// One line: what the rule checks.
    pub summary: String,
    /// The `istioctl analyze` code this rule stands in for.
    #[serde(default)]
    pub istio_code: Option<String>,
    /// The `istioctl analyze` analyzer whose job this rule does (e.g.
    /// `virtualservice.GatewayAnalyzer`), used by the conformance suite.
    #[serde(default)]
    pub istio_analyzer: Option<String>,
    #[serde(rename = "match")]
    pub match_spec: MatchSpec,
    /// CEL list expression: one finding per element (bound to `item`, index `index`).
    #[serde(default)]
    pub for_each: Option<String>,
    /// CEL condition; the rule reports when it is true. Defaults to `true`.
    #[serde(default)]
    pub when: Option<String>,
    /// Message text; `{{ expr }}` interpolates CEL.
    #[serde(default)]
    pub message: Option<String>,
    /// CEL string expression for the message (alternative to `message`).
    #[serde(default, rename = "messageExpression")]
    pub message_expression: Option<String>,
    /// Field path to point at (`spec.http[0].route`); `{{ expr }}` interpolates CEL,
    /// e.g. `spec.subsets[{{ index }}].labels`. Falls back to `metadata.name`.
    #[serde(default)]
    pub at: Option<String>,
    /// What to write instead; `{{ expr }}` interpolates CEL.
    #[serde(default)]
    pub help: Option<String>,
    /// CEL returning `error`, `warning`, `info`, or `''` to keep the rule's severity
    /// (used to soften findings about references outside the inputs).
    #[serde(default, rename = "severityExpression")]
    pub severity_expression: Option<String>,
    #[serde(default)]
    pub related: Vec<RelatedSpec>,
    /// Rules that report the same cause more precisely: a finding of this rule at the
    /// same place as one of theirs is dropped, so the user sees one finding per cause.
    #[serde(default)]
    pub defers_to: Vec<String>,
    #[serde(default)]
    pub docs: Option<DocsSpec>,
}

/// The compiled expressions that decide whether a rule reports.
pub(crate) struct Compiled {
    pub(crate) for_each: Option<meshlint_cel::Program>,
    pub(crate) when: Option<meshlint_cel::Program>,
}

/// The compiled expressions that shape a finding. Most reached rules find nothing on a
/// given input, so a built-in rule compiles these on its first finding: they are most
/// of a rule's expressions (two thirds of the compile time of one small file).
pub(crate) struct Reporting {
    pub(crate) message: Template,
    pub(crate) at: Option<Template>,
    pub(crate) help: Option<Template>,
    pub(crate) severity_expression: Option<meshlint_cel::Program>,
    pub(crate) related: Vec<(meshlint_cel::Program, Template)>,
}

impl Compiled {
    /// The condition's compiled expressions.
    pub(crate) fn programs(&self) -> Vec<&meshlint_cel::Program> {
        self.for_each.iter().chain(&self.when).collect()
    }
}

impl Reporting {
    /// The finding's compiled expressions, templates' interpolations included.
    pub(crate) fn programs(&self) -> Vec<&meshlint_cel::Program> {
        let mut out: Vec<&meshlint_cel::Program> = Vec::new();
        out.extend(&self.severity_expression);
        out.extend(self.message.programs());
        for t in self.at.iter().chain(&self.help) {
            out.extend(t.programs());
        }
        for (expr, template) in &self.related {
            out.push(expr);
            out.extend(template.programs());
        }
        out
    }
}

/// A rule file that loaded. User rules are compiled (and so validated) at load;
/// built-in rules, which the test suite compiles and checks, are compiled on first use,
/// so a run over one small file pays only for the rules its kinds reach.
pub struct Rule {
    pub file: RuleFile,
    pub origin: Arc<str>,
    pub severity: Severity,
    /// The file's spanned tree: parsed at load for user rules; for built-ins (which
    /// start from a build-time digest) only when a span is needed, i.e. on an error.
    root: OnceLock<Node>,
    /// A built-in rule's file text, for `root`.
    builtin_text: Option<&'static str>,
    compiled: OnceLock<Result<Compiled, RuleError>>,
    reporting: OnceLock<Result<Reporting, RuleError>>,
    /// A built-in rule's `docs` section as JSON, deserialized on first use: it is most of
    /// each file, and a check needs it only for SARIF help or `explain`.
    deferred_docs: Option<&'static str>,
    docs: OnceLock<Option<DocsSpec>>,
}

impl Rule {
    fn compiler(&self) -> RuleCompiler<'_> {
        RuleCompiler {
            file: &self.file,
            root: Box::new(|| self.root()),
            origin: &self.origin,
        }
    }

    /// The compiled condition (`for_each`, `when`), compiling it on first call.
    pub(crate) fn compiled(&self) -> Result<&Compiled, &RuleError> {
        self.compiled
            .get_or_init(|| self.compiler().condition())
            .as_ref()
    }

    /// The compiled message, location, help, severity and related locations, compiling
    /// them on first call (a rule's first finding).
    pub(crate) fn reporting(&self) -> Result<&Reporting, &RuleError> {
        self.reporting
            .get_or_init(|| self.compiler().reporting())
            .as_ref()
    }

    /// Compiles now, reporting the first error in the order of the file's keys.
    pub fn validate(&self) -> Result<(), RuleError> {
        if self.compiled.get().is_none() || self.reporting.get().is_none() {
            let (compiled, reporting) = self.compiler().everything()?;
            let _ = self.compiled.set(Ok(compiled));
            let _ = self.reporting.set(Ok(reporting));
        }
        self.compiled().map_err(Clone::clone)?;
        self.reporting().map(|_| ()).map_err(Clone::clone)
    }

    pub fn id(&self) -> &str {
        &self.file.id
    }

    pub fn name(&self) -> &str {
        self.file.name.as_deref().unwrap_or(&self.file.id)
    }

    pub fn category(&self) -> &str {
        self.file.category.as_deref().unwrap_or("general")
    }

    /// The rule's documentation (deserializing a built-in's deferred `docs` now).
    pub fn docs(&self) -> Option<&DocsSpec> {
        if self.file.docs.is_some() {
            return self.file.docs.as_ref();
        }
        self.docs
            .get_or_init(|| serde_json::from_str(self.deferred_docs?).ok())
            .as_ref()
    }

    fn root(&self) -> &Node {
        self.root.get_or_init(|| {
            self.builtin_text
                .and_then(|t| spanned::parse(&self.origin, t.as_bytes().to_vec()).ok())
                .flatten()
                .unwrap_or_else(|| {
                    let empty = meshlint_load::NodeValue::Map(Default::default());
                    Node::new(Span::point(1, 1), empty)
                })
        })
    }
}

/// Why a rule file was refused, with its own location.
#[derive(Debug, Clone)]
pub struct RuleError {
    pub location: Location,
    pub message: String,
}

impl std::fmt::Display for RuleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}:{}: invalid rule file: {}",
            self.location.file,
            self.location.span.start.line,
            self.location.span.start.column,
            self.message
        )
    }
}

/// Parses and compiles one rule file.
pub fn load_rule(origin: &str, text: &str) -> Result<Rule, RuleError> {
    let rule = parse_rule(origin, text)?;
    rule.validate()?;
    Ok(rule)
}

/// Builds a built-in rule with its build-time constructor (see `build.rs`); a file
/// without one is parsed from its YAML, which reports where it is wrong.
pub(crate) fn parse_builtin_rule(
    origin: &str,
    text: &'static str,
    make: Option<fn() -> RuleFile>,
    docs: &'static str,
) -> Result<Rule, RuleError> {
    let Some(make) = make else {
        return parse_rule(origin, text);
    };
    let file = make();
    Ok(Rule {
        severity: file.severity.into(),
        root: OnceLock::new(),
        builtin_text: Some(text),
        compiled: OnceLock::new(),
        reporting: OnceLock::new(),
        origin: origin.into(),
        file,
        deferred_docs: Some(docs),
        docs: OnceLock::new(),
    })
}

/// Parses one rule file; its expressions compile on first use.
pub fn parse_rule(origin: &str, text: &str) -> Result<Rule, RuleError> {
    let origin: Arc<str> = origin.into();
    let at = |span: Span| Location {
        file: origin.clone(),
        span,
    };
    let spanned_error = |e: spanned::SpannedError| RuleError {
        location: e.location,
        message: e.message,
    };
    let Some(root) = spanned::parse(&origin, text.as_bytes().to_vec()).map_err(spanned_error)?
    else {
        return Err(RuleError {
            location: at(Span::point(1, 1)),
            message: "empty rule file".to_string(),
        });
    };
    let root = &root;
    let file: RuleFile =
        spanned::deserialize(&origin, root, spanned::to_json(root)).map_err(spanned_error)?;
    Ok(Rule {
        severity: file.severity.into(),
        root: OnceLock::from(root.clone()),
        builtin_text: None,
        compiled: OnceLock::new(),
        reporting: OnceLock::new(),
        origin,
        file,
        deferred_docs: None,
        docs: OnceLock::new(),
    })
}

/// Compiles a rule file's expressions, in parts; spans are looked up only for an error
/// (a built-in rule's tree is parsed lazily).
struct RuleCompiler<'r> {
    file: &'r RuleFile,
    root: Box<dyn Fn() -> &'r Node + 'r>,
    origin: &'r Arc<str>,
}

impl<'r> RuleCompiler<'r> {
    fn at(&self, span: Span) -> Location {
        Location {
            file: self.origin.clone(),
            span,
        }
    }

    fn field_span(&self, key: &str) -> Span {
        (self.root)()
            .get_entry(key)
            .map(|(_, v)| v.span())
            .unwrap_or(Span::point(1, 1))
    }

    fn expr(
        &self,
        key: &str,
        source: &str,
        span: &dyn Fn() -> Span,
    ) -> Result<meshlint_cel::Program, RuleError> {
        expr::compile(source).map_err(|message| RuleError {
            location: self.at(span()),
            message: format!("`{key}`: {message}"),
        })
    }

    fn template(
        &self,
        key: &str,
        source: &str,
        span: &dyn Fn() -> Span,
    ) -> Result<Template, RuleError> {
        Template::parse(source).map_err(|message| RuleError {
            location: self.at(span()),
            message: format!("`{key}`: {message}"),
        })
    }

    /// An optional expression under a top-level key.
    fn optional_expr(
        &self,
        key: &str,
        source: Option<&str>,
    ) -> Result<Option<meshlint_cel::Program>, RuleError> {
        source
            .map(|s| self.expr(key, s, &|| self.field_span(key)))
            .transpose()
    }

    /// An optional template under a top-level key.
    fn optional_template(
        &self,
        key: &str,
        source: Option<&str>,
    ) -> Result<Option<Template>, RuleError> {
        source
            .map(|s| self.template(key, s, &|| self.field_span(key)))
            .transpose()
    }

    /// The id and the kinds matched.
    fn header(&self) -> Result<(), RuleError> {
        let file = self.file;
        if file.id.trim().is_empty() {
            return Err(RuleError {
                location: self.at(self.field_span("id")),
                message: "`id` must not be empty".to_string(),
            });
        }
        if file.match_spec.kinds.is_empty() {
            return Err(RuleError {
                location: self.at(self.field_span("match")),
                message: "`match.kinds` must name at least one kind".to_string(),
            });
        }
        for (i, kind) in file.match_spec.kinds.iter().enumerate() {
            if let Err(message) = crate::kinds::check_kind(kind) {
                let span = (self.root)()
                    .span_of(&[
                        PathSegment::Key("match".into()),
                        PathSegment::Key("kinds".into()),
                        PathSegment::Index(i),
                    ])
                    .unwrap_or_else(|| self.field_span("match"));
                return Err(RuleError {
                    location: self.at(span),
                    message: format!("`match.kinds`: {message}"),
                });
            }
        }
        Ok(())
    }

    fn message(&self) -> Result<Template, RuleError> {
        match (&self.file.message, &self.file.message_expression) {
            (Some(m), None) => self.template("message", m, &|| self.field_span("message")),
            (None, Some(e)) => Ok(Template::expression(self.expr(
                "messageExpression",
                e,
                &|| self.field_span("messageExpression"),
            )?)),
            (Some(_), Some(_)) => Err(RuleError {
                location: self.at(self.field_span("messageExpression")),
                message: "give either `message` or `messageExpression`, not both".to_string(),
            }),
            (None, None) => Err(RuleError {
                location: self.at((self.root)().head_span()),
                message: "missing field `message` (or `messageExpression`)".to_string(),
            }),
        }
    }

    fn related(&self) -> Result<Vec<(meshlint_cel::Program, Template)>, RuleError> {
        let mut related = Vec::new();
        for (i, r) in self.file.related.iter().enumerate() {
            let span = || {
                (self.root)()
                    .span_of(&[PathSegment::Key("related".into()), PathSegment::Index(i)])
                    .unwrap_or_else(|| self.field_span("related"))
            };
            related.push((
                self.expr("related.expression", &r.expression, &span)?,
                self.template("related.message", &r.message, &span)?,
            ));
        }
        Ok(related)
    }

    /// What decides whether the rule reports.
    fn condition(&self) -> Result<Compiled, RuleError> {
        self.header()?;
        Ok(Compiled {
            for_each: self.optional_expr("for_each", self.file.for_each.as_deref())?,
            when: self.optional_expr("when", self.file.when.as_deref())?,
        })
    }

    /// What shapes a finding.
    fn reporting(&self) -> Result<Reporting, RuleError> {
        let message = self.message()?;
        let related = self.related()?;
        self.reporting_after(message, related)
    }

    /// A finding's shape from its message and related parts, compiling the rest (`at`,
    /// `help`, `severityExpression`) in that order.
    fn reporting_after(
        &self,
        message: Template,
        related: Vec<(meshlint_cel::Program, Template)>,
    ) -> Result<Reporting, RuleError> {
        Ok(Reporting {
            message,
            related,
            at: self.optional_template("at", self.file.at.as_deref())?,
            help: self.optional_template("help", self.file.help.as_deref())?,
            severity_expression: self.optional_expr(
                "severityExpression",
                self.file.severity_expression.as_deref(),
            )?,
        })
    }

    /// Both parts, checked in the order users have always seen errors in: id, kinds,
    /// message, related, for_each, when, at, help, severityExpression.
    fn everything(&self) -> Result<(Compiled, Reporting), RuleError> {
        self.header()?;
        let message = self.message()?;
        let related = self.related()?;
        let compiled = Compiled {
            for_each: self.optional_expr("for_each", self.file.for_each.as_deref())?,
            when: self.optional_expr("when", self.file.when.as_deref())?,
        };
        Ok((compiled, self.reporting_after(message, related)?))
    }
}

/// The JSON Schema of rule files, for editors.
pub fn rule_file_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(RuleFile)).unwrap_or_default()
}
