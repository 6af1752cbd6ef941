//! Structural tests of every output format on the in-memory fixture in `common/`.

mod common;

use common::*;
use meshlint_diag::Severity;
use meshlint_report::{render_to_string, Format, HumanOptions, ReportInput, FINGERPRINT_KEY};
use quick_xml::events::Event;
use regex::Regex;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::PathBuf;

// ---------------------------------------------------------------- json

#[test]
fn json_follows_the_contract() {
    let fx = Fixture::new();
    let out = fx.render(Format::Json);
    assert!(out.ends_with("}\n"));
    // The whole of stdout is one JSON document.
    let doc: Value = serde_json::from_str(&out).expect("json output parses");

    let top: BTreeSet<&str> = doc
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    assert_eq!(top, BTreeSet::from(["version", "findings", "summary"]));
    assert_eq!(doc["version"], 1);
    assert_eq!(
        doc["summary"],
        serde_json::json!({"files": 4, "resources": 3, "errors": 2, "warnings": 1, "infos": 1})
    );

    let findings = doc["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 4);
    let keys: BTreeSet<&str> = [
        "rule",
        "severity",
        "message",
        "location",
        "resource",
        "istio_code",
        "related",
    ]
    .into();
    let loc_keys: BTreeSet<&str> = ["file", "line", "column", "end_line", "end_column"].into();
    for f in findings {
        let k: BTreeSet<&str> = f.as_object().unwrap().keys().map(|k| k.as_str()).collect();
        assert_eq!(k, keys);
        let lk: BTreeSet<&str> = f["location"]
            .as_object()
            .unwrap()
            .keys()
            .map(|k| k.as_str())
            .collect();
        assert_eq!(lk, loc_keys);
        assert!(["error", "warning", "info"].contains(&f["severity"].as_str().unwrap()));
    }

    // Sorted: file, then position.
    let order: Vec<(&str, u64)> = findings
        .iter()
        .map(|f| {
            (
                f["location"]["file"].as_str().unwrap(),
                f["location"]["line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        order,
        vec![(BROKEN, 3), (DR, 11), (DR, 15), (PA, 2)],
        "findings are in file/line order"
    );

    let parse = &findings[0];
    assert_eq!(parse["rule"], "parse-error");
    assert_eq!(parse["resource"], Value::Null);
    assert_eq!(parse["istio_code"], Value::Null);
    assert_eq!(parse["message"], PARSE_MESSAGE);
    assert_eq!(parse["related"], serde_json::json!([]));

    let tls = &findings[1];
    assert_eq!(tls["message"], TLS_MESSAGE);
    assert_eq!(
        tls["location"],
        serde_json::json!({"file": DR, "line": 11, "column": 13, "end_line": 11, "end_column": 20})
    );
    assert_eq!(
        tls["resource"],
        serde_json::json!({"api_version": "networking.istio.io/v1beta1", "kind": "DestinationRule", "namespace": "default", "name": "reviews"})
    );
    let related = tls["related"].as_array().unwrap();
    assert_eq!(related.len(), 3);
    assert_eq!(related[1]["location"]["file"], PA);
    assert_eq!(related[1]["location"]["column"], 11);
    assert_eq!(related[1]["message"], "STRICT here");

    let label = &findings[2];
    assert_eq!(label["location"]["column"], 14, "columns count characters");

    let pa = &findings[3];
    assert_eq!(pa["istio_code"], "IST0134");
    assert_eq!(pa["severity"], "info");
    assert!(
        pa["resource"]
            .as_object()
            .unwrap()
            .contains_key("namespace")
            && pa["resource"]["namespace"].is_null(),
        "a missing namespace is null, not absent"
    );
}

#[test]
fn json_with_no_findings() {
    let out = Fixture::empty().render(Format::Json);
    let doc: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["findings"], serde_json::json!([]));
    assert_eq!(doc["summary"]["errors"], 0);
}

// ---------------------------------------------------------------- sarif

fn schema_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/sarif/sarif-schema-2.1.0.json")
}

fn sarif_validator() -> jsonschema::Validator {
    let text = std::fs::read_to_string(schema_path()).expect("SARIF schema in testdata/sarif");
    let schema: Value = serde_json::from_str(&text).expect("schema is JSON");
    assert_eq!(schema["$schema"], "http://json-schema.org/draft-04/schema#");
    assert_eq!(
        schema["title"],
        "Static Analysis Results Format (SARIF) Version 2.1.0 JSON Schema"
    );
    assert_eq!(schema["properties"]["version"]["enum"][0], "2.1.0");
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft4)
        .should_validate_formats(true)
        .build(&schema)
        .expect("schema compiles")
}

fn assert_valid_sarif(doc: &Value) {
    let validator = sarif_validator();
    let errors: Vec<String> = validator
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "SARIF schema violations: {errors:#?}");
}

#[test]
fn sarif_validates_against_the_official_schema() {
    let fx = Fixture::new();
    let doc: Value = serde_json::from_str(&fx.render(Format::Sarif)).unwrap();
    assert_valid_sarif(&doc);
    assert_eq!(doc["version"], "2.1.0");
    assert_eq!(doc["runs"].as_array().unwrap().len(), 1);
}

#[test]
fn sarif_validation_can_fail() {
    // The validator is not vacuous: breaking the log in ways the schema forbids is caught.
    let validator = sarif_validator();
    let fx = Fixture::new();
    let good: Value = serde_json::from_str(&fx.render(Format::Sarif)).unwrap();
    assert!(validator.is_valid(&good));

    let mut bad_level = good.clone();
    bad_level["runs"][0]["results"][0]["level"] = "fatal".into();
    assert!(!validator.is_valid(&bad_level));

    let mut bad_line = good.clone();
    bad_line["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] =
        0.into();
    assert!(!validator.is_valid(&bad_line));

    let mut no_driver_name = good.clone();
    no_driver_name["runs"][0]["tool"]["driver"]
        .as_object_mut()
        .unwrap()
        .remove("name");
    assert!(!validator.is_valid(&no_driver_name));

    let mut extra = good;
    extra["runs"][0]["results"][0]["lineNumber"] = 3.into();
    assert!(!validator.is_valid(&extra));
}

#[test]
fn sarif_content() {
    let fx = Fixture::new();
    let doc: Value = serde_json::from_str(&fx.render(Format::Sarif)).unwrap();
    let run = &doc["runs"][0];
    assert_eq!(run["columnKind"], "unicodeCodePoints");
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "meshlint");
    assert_eq!(driver["version"], "0.1.0");
    assert!(driver["informationUri"]
        .as_str()
        .unwrap()
        .starts_with("https://"));

    // One descriptor per referenced rule (not ML999), sorted by id.
    let rules = driver["rules"].as_array().unwrap();
    let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["ML001", "ML002", "ML003", "parse-error"]);
    let ml003 = &rules[2];
    assert_eq!(ml003["name"], "peer-authentication-scope");
    assert_eq!(
        ml003["shortDescription"]["text"],
        "summary of peer-authentication-scope"
    );
    assert_eq!(
        ml003["fullDescription"]["text"],
        "Checks peer-authentication-scope."
    );
    assert!(ml003["help"]["markdown"]
        .as_str()
        .unwrap()
        .contains("## Why is this bad?"));
    assert_eq!(ml003["defaultConfiguration"]["level"], "note");
    assert_eq!(ml003["properties"]["istio_code"], "IST0134");
    assert_eq!(ml003["properties"]["category"], "security");
    assert_eq!(rules[3]["defaultConfiguration"]["level"], "error");

    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 4);
    for r in results {
        let idx = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[idx]["id"], r["ruleId"], "ruleIndex points at ruleId");
    }
    let levels: Vec<&str> = results
        .iter()
        .map(|r| r["level"].as_str().unwrap())
        .collect();
    assert_eq!(levels, ["error", "error", "warning", "note"]);

    let tls = &results[1];
    assert_eq!(tls["ruleId"], "ML001");
    assert_eq!(
        tls["message"]["text"],
        format!("{TLS_MESSAGE}\nhelp: {TLS_HELP}")
    );
    let pl = &tls["locations"][0]["physicalLocation"];
    assert_eq!(pl["artifactLocation"]["uri"], DR);
    assert_eq!(
        pl["region"],
        serde_json::json!({"startLine": 11, "startColumn": 13, "endLine": 11, "endColumn": 20})
    );
    assert_eq!(
        tls["locations"][0]["logicalLocations"][0]["fullyQualifiedName"],
        "networking.istio.io/v1beta1/DestinationRule/default/reviews"
    );
    let related = tls["relatedLocations"].as_array().unwrap();
    assert_eq!(related.len(), 3);
    assert_eq!(
        related[1]["physicalLocation"]["artifactLocation"]["uri"],
        PA
    );
    assert_eq!(related[1]["physicalLocation"]["region"]["startLine"], 7);
    assert_eq!(related[1]["message"]["text"], "STRICT here");

    // Multi-byte characters: columns are code points.
    let label = &results[2];
    assert_eq!(
        label["locations"][0]["physicalLocation"]["region"]["startColumn"],
        14
    );

    // The parse error has no resource, hence no logical location.
    assert!(results[0]["locations"][0].get("logicalLocations").is_none());
    assert_eq!(results[0]["properties"], Value::Null);
    assert_eq!(results[3]["properties"]["istio_code"], "IST0134");

    // Fingerprints are unique per result.
    let fps: HashSet<&str> = results
        .iter()
        .map(|r| r["partialFingerprints"][FINGERPRINT_KEY].as_str().unwrap())
        .collect();
    assert_eq!(fps.len(), 4);
}

fn sarif_fingerprints(fx: &Fixture) -> Vec<String> {
    let doc: Value = serde_json::from_str(&fx.render(Format::Sarif)).unwrap();
    doc["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r["partialFingerprints"][FINGERPRINT_KEY]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

#[test]
fn sarif_fingerprints_survive_line_moves() {
    let before = Fixture::new();
    let after = Fixture::with_dr_shift(5);
    // The findings did move.
    assert_ne!(
        before.sorted()[1].location.span.start.line,
        after.sorted()[1].location.span.start.line
    );
    assert_eq!(sarif_fingerprints(&before), sarif_fingerprints(&after));

    // ...but a change of the offending field's text is a new alert.
    let mut edited = Fixture::new();
    let dr = edited.sources.get_mut(DR).unwrap();
    *dr = meshlint_diag::SourceFile::new(DR, DR_TEXT.replace("mode: DISABLE", "mode: SIMPLE"));
    let (a, b) = (sarif_fingerprints(&before), sarif_fingerprints(&edited));
    assert_ne!(a[1], b[1]);
    assert_eq!(a[2], b[2]);
}

#[test]
fn sarif_with_no_findings_is_valid() {
    let doc: Value = serde_json::from_str(&Fixture::empty().render(Format::Sarif)).unwrap();
    assert_valid_sarif(&doc);
    assert_eq!(doc["runs"][0]["results"], serde_json::json!([]));
    assert_eq!(
        doc["runs"][0]["tool"]["driver"]["rules"],
        serde_json::json!([])
    );
}

#[test]
fn sarif_odd_file_names_stay_valid() {
    let mut fx = Fixture::new();
    for (i, f) in fx.findings.iter_mut().enumerate() {
        f.location.file = [
            "<stdin>",
            "dir with space/ü.yaml",
            "/abs/x.yaml",
            "C:\\w\\x.yaml",
        ][i]
            .into();
    }
    let doc: Value = serde_json::from_str(&fx.render(Format::Sarif)).unwrap();
    assert_valid_sarif(&doc);
    let uris: BTreeSet<&str> = doc["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(
        uris,
        BTreeSet::from([
            "%3Cstdin%3E",
            "dir%20with%20space/%C3%BC.yaml",
            "file:///abs/x.yaml",
            "file:///C:/w/x.yaml"
        ])
    );
}

// ---------------------------------------------------------------- gcc / concise

#[test]
fn gcc_lines() {
    let fx = Fixture::new();
    let out = fx.render(Format::Gcc);
    let re = Regex::new(
        r"^(?P<file>[^:\n]+):(?P<line>\d+):(?P<col>\d+): (?P<sev>error|warning|note): (?P<msg>.+) \[(?P<rule>[^\]\s]+)\]$",
    )
    .unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 4, "one line per finding:\n{out}");
    let sorted = fx.sorted();
    for (line, f) in lines.iter().zip(&sorted) {
        let c = re
            .captures(line)
            .unwrap_or_else(|| panic!("not a gcc line: {line}"));
        assert_eq!(&c["file"], &*f.location.file);
        assert_eq!(
            c["line"].parse::<u32>().unwrap(),
            f.location.span.start.line
        );
        assert_eq!(
            c["col"].parse::<u32>().unwrap(),
            f.location.span.start.column
        );
        assert_eq!(&c["rule"], &*f.rule);
        let want = match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "note",
        };
        assert_eq!(&c["sev"], want);
    }
    assert_eq!(
        lines[0],
        "broken.yaml:3:1: error: did not find expected key while parsing a block mapping [parse-error]"
    );
    assert_eq!(
        lines[2],
        "mesh/dr.yaml:15:14: warning: label value café-v1 selects no pods [ML002]"
    );
}

#[test]
fn concise_lines() {
    let fx = Fixture::new();
    let out = fx.render(Format::Concise);
    let re = Regex::new(
        r"^(?P<file>[^:\n]+):(?P<line>\d+):(?P<col>\d+): (?P<sev>error|warning|info)\[(?P<rule>[^\]\s]+)\] (?P<msg>.+)$",
    )
    .unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 4);
    for (line, f) in lines.iter().zip(fx.sorted()) {
        let c = re
            .captures(line)
            .unwrap_or_else(|| panic!("not a concise line: {line}"));
        assert_eq!(&c["sev"], f.severity.as_str());
        assert_eq!(&c["rule"], &*f.rule);
    }
    assert_eq!(
        lines[3],
        "mesh/pa.yaml:2:7: info[ML003] PeerAuthentication without namespace applies to the namespace it is applied in"
    );
    assert_eq!(Fixture::empty().render(Format::Concise), "");
}

// ---------------------------------------------------------------- github

fn unescape_workflow(s: &str) -> String {
    s.replace("%0A", "\n")
        .replace("%0D", "\r")
        .replace("%3A", ":")
        .replace("%2C", ",")
        .replace("%25", "%")
}

#[test]
fn github_workflow_commands() {
    let fx = Fixture::new();
    let out = fx.render(Format::Github);
    let re = Regex::new(
        r"^::(?P<cmd>error|warning|notice) file=(?P<file>[^,:]+),line=(?P<line>\d+),endLine=(?P<eline>\d+),col=(?P<col>\d+),endColumn=(?P<ecol>\d+),title=(?P<title>[^,:]+)::(?P<msg>[^\r\n]*)$",
    )
    .unwrap();
    let escapes = Regex::new(r"%(?:25|0A|0D)").unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 4, "{out}");
    for (line, f) in lines.iter().zip(fx.sorted()) {
        let c = re
            .captures(line)
            .unwrap_or_else(|| panic!("not a workflow command: {line}"));
        let cmd = match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "notice",
        };
        assert_eq!(&c["cmd"], cmd);
        assert_eq!(&c["file"], &*f.location.file);
        assert_eq!(
            c["line"].parse::<u32>().unwrap(),
            f.location.span.start.line
        );
        assert_eq!(c["eline"].parse::<u32>().unwrap(), f.location.span.end.line);
        assert_eq!(
            c["col"].parse::<u32>().unwrap(),
            f.location.span.start.column
        );
        assert_eq!(
            c["ecol"].parse::<u32>().unwrap(),
            f.location.span.end.column
        );
        assert_eq!(
            unescape_workflow(&c["title"]),
            format!("meshlint {}", f.rule)
        );
        // The message's '%' is escaped: no stray escape sequences.
        assert!(
            !escapes.replace_all(&c["msg"], "").contains('%'),
            "unescaped % in {line}"
        );
    }
    let tls = re.captures(lines[1]).unwrap();
    assert_eq!(
        unescape_workflow(&tls["msg"]),
        format!(
            "{TLS_MESSAGE}\nhelp: {TLS_HELP}\nrelated: mesh/dr.yaml:8:9: host resolves to the reviews Service\nrelated: mesh/pa.yaml:7:11: STRICT here\nrelated: other/missing.yaml:2:1: also referenced here"
        )
    );
    assert!(tls["msg"].contains("100%25 of requests"));
    let parse = re.captures(lines[0]).unwrap();
    assert_eq!(
        &parse["msg"],
        "did not find expected key%0Awhile parsing a block mapping"
    );
}

#[test]
fn github_escapes_properties() {
    let mut fx = Fixture::new();
    fx.findings.truncate(1);
    fx.findings[0].location.file = "C:\\odd,name%.yaml".into();
    fx.findings[0].rule = "acme:1,2".into();
    let out = fx.render(Format::Github);
    assert_eq!(
        out,
        "::notice file=C%3A\\odd%2Cname%25.yaml,line=2,endLine=2,col=7,endColumn=25,title=meshlint acme%3A1%2C2::PeerAuthentication without namespace applies to the namespace it is applied in\n"
    );
}

// ---------------------------------------------------------------- codeclimate

#[test]
fn codeclimate_report() {
    let fx = Fixture::new();
    let out = fx.render(Format::Codeclimate);
    let doc: Value = serde_json::from_str(&out).expect("codeclimate output parses");
    let issues = doc.as_array().expect("an array of issues");
    assert_eq!(issues.len(), 4);
    let hex = Regex::new("^[0-9a-f]{32}$").unwrap();
    let mut fps = HashSet::new();
    for (issue, f) in issues.iter().zip(fx.sorted()) {
        assert_eq!(issue["type"], "issue");
        assert_eq!(issue["check_name"], &*f.rule);
        assert!(issue["description"]
            .as_str()
            .unwrap()
            .starts_with(&f.message));
        let want = match f.severity {
            Severity::Error => "critical",
            Severity::Warning => "major",
            Severity::Info => "info",
        };
        assert_eq!(issue["severity"], want);
        assert!(["info", "minor", "major", "critical", "blocker"]
            .contains(&issue["severity"].as_str().unwrap()));
        let fp = issue["fingerprint"].as_str().unwrap();
        assert!(hex.is_match(fp), "fingerprint {fp}");
        fps.insert(fp.to_string());
        assert_eq!(issue["location"]["path"], &*f.location.file);
        assert_eq!(
            issue["location"]["lines"]["begin"],
            f.location.span.start.line
        );
        assert!(issue["categories"].as_array().unwrap().len() == 1);
    }
    assert_eq!(fps.len(), 4, "fingerprints are unique");
    assert_eq!(issues[1]["other_locations"].as_array().unwrap().len(), 3);
    assert_eq!(issues[1]["other_locations"][1]["path"], PA);
    assert_eq!(
        issues[1]["description"],
        format!("{TLS_MESSAGE} Help: {TLS_HELP}")
    );

    // Stable across line moves.
    let moved: Value =
        serde_json::from_str(&Fixture::with_dr_shift(3).render(Format::Codeclimate)).unwrap();
    for (a, b) in issues.iter().zip(moved.as_array().unwrap()) {
        assert_eq!(a["fingerprint"], b["fingerprint"]);
    }

    assert_eq!(
        serde_json::from_str::<Value>(&Fixture::empty().render(Format::Codeclimate)).unwrap(),
        serde_json::json!([])
    );
}

// ---------------------------------------------------------------- junit

#[derive(Debug, Default)]
struct Case {
    classname: String,
    name: String,
    failures: Vec<(BTreeMap<String, String>, String)>,
}

#[derive(Debug, Default)]
struct Junit {
    suites_attrs: BTreeMap<String, String>,
    suite_attrs: Vec<BTreeMap<String, String>>,
    cases: Vec<Case>,
}

fn attrs(e: &quick_xml::events::BytesStart) -> BTreeMap<String, String> {
    e.attributes()
        .map(|a| {
            let a = a.expect("well-formed attribute");
            (
                String::from_utf8(a.key.as_ref().to_vec()).unwrap(),
                a.unescape_value().expect("valid escapes").into_owned(),
            )
        })
        .collect()
}

fn parse_junit(xml: &str) -> Junit {
    let mut reader = quick_xml::Reader::from_str(xml);
    reader.config_mut().check_end_names = true;
    let mut j = Junit::default();
    let mut in_failure: Option<BTreeMap<String, String>> = None;
    let mut body = String::new();
    let mut stack: Vec<String> = Vec::new();
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Eof => break,
            Event::Decl(_) => {}
            Event::Start(e) => {
                let name = String::from_utf8(e.name().as_ref().to_vec()).unwrap();
                match name.as_str() {
                    "testsuites" => j.suites_attrs = attrs(&e),
                    "testsuite" => j.suite_attrs.push(attrs(&e)),
                    "testcase" => {
                        let a = attrs(&e);
                        j.cases.push(Case {
                            classname: a["classname"].clone(),
                            name: a["name"].clone(),
                            failures: vec![],
                        })
                    }
                    "failure" => {
                        in_failure = Some(attrs(&e));
                        body.clear();
                    }
                    other => panic!("unexpected element {other}"),
                }
                stack.push(name);
            }
            Event::Empty(e) => {
                let name = String::from_utf8(e.name().as_ref().to_vec()).unwrap();
                assert_eq!(name, "testcase", "only test cases are empty elements");
                let a = attrs(&e);
                j.cases.push(Case {
                    classname: a["classname"].clone(),
                    name: a["name"].clone(),
                    failures: vec![],
                });
            }
            Event::Text(t) => {
                if in_failure.is_some() {
                    body.push_str(&t.unescape().expect("valid text escapes"));
                } else {
                    assert!(t.unescape().unwrap().trim().is_empty());
                }
            }
            Event::End(e) => {
                let name = String::from_utf8(e.name().as_ref().to_vec()).unwrap();
                assert_eq!(stack.pop().as_deref(), Some(name.as_str()));
                if name == "failure" {
                    let a = in_failure.take().unwrap();
                    j.cases.last_mut().unwrap().failures.push((a, body.clone()));
                }
            }
            other => panic!("unexpected XML event {other:?}"),
        }
    }
    assert!(stack.is_empty());
    j
}

#[test]
fn junit_report() {
    let fx = Fixture::new();
    let xml = fx.render(Format::Junit);
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"));
    let j = parse_junit(&xml);
    assert_eq!(j.suite_attrs.len(), 1);
    let suite = &j.suite_attrs[0];
    assert_eq!(suite["name"], "meshlint");
    // 4 failing cases (one per finding) + 1 passing case (mesh/clean.yaml).
    assert_eq!(suite["tests"], "5");
    assert_eq!(suite["failures"], "4");
    assert_eq!(j.suites_attrs["tests"], "5");
    assert_eq!(j.cases.len(), 5);

    let classes: BTreeSet<&str> = j.cases.iter().map(|c| c.classname.as_str()).collect();
    assert_eq!(classes, BTreeSet::from([BROKEN, CLEAN, DR, PA]));

    let clean: Vec<&Case> = j.cases.iter().filter(|c| c.classname == CLEAN).collect();
    assert_eq!(clean.len(), 1);
    assert!(clean[0].failures.is_empty());
    assert_eq!(clean[0].name, CLEAN);

    let failing: Vec<&Case> = j.cases.iter().filter(|c| !c.failures.is_empty()).collect();
    assert_eq!(failing.len(), 4);
    for (case, f) in failing.iter().zip(fx.sorted()) {
        assert_eq!(case.failures.len(), 1);
        let (a, body) = &case.failures[0];
        assert_eq!(a["type"], &*f.rule);
        assert_eq!(a["message"], f.message, "attribute escaping round-trips");
        assert!(body.starts_with(&format!(
            "{}:{}:{}: {}: ",
            f.location.file, f.location.span.start.line, f.location.span.start.column, f.severity
        )));
        assert_eq!(case.classname, &*f.location.file);
    }
    let (_, tls_body) = &failing[1].failures[0];
    assert!(tls_body.contains("\nhelp: set `tls.mode: ISTIO_MUTUAL`"));
    assert!(tls_body.contains("\nrelated: mesh/pa.yaml:7:11: STRICT here"));
    assert!(tls_body.contains("resource: DestinationRule default/reviews"));
    assert!(failing[3].failures[0].1.contains("istio code: IST0134"));
}

#[test]
fn junit_without_findings_passes_every_file() {
    let j = parse_junit(&Fixture::empty().render(Format::Junit));
    assert_eq!(j.suite_attrs[0]["tests"], "3");
    assert_eq!(j.suite_attrs[0]["failures"], "0");
    assert!(j.cases.iter().all(|c| c.failures.is_empty()));
}

// ---------------------------------------------------------------- human

#[test]
fn human_plain_output() {
    let fx = Fixture::new();
    let out = fx.render(Format::Human);
    assert!(
        !out.contains('\u{1b}'),
        "no escape sequences without colour"
    );
    assert!(
        out.is_ascii() || !out.contains('╭'),
        "ASCII art without colour"
    );

    // Every finding's rule and severity, every primary location.
    for needle in [
        "error[parse-error]",
        "error[ML001] tls-disabled-toward-strict",
        "warning[ML002]",
        "info[ML003] (istio IST0134)",
        // Location banners, columns in characters (the ML002 span is after "ñandú: ").
        "[mesh/dr.yaml:11:13]",
        "[mesh/dr.yaml:15:14]",
        "[mesh/pa.yaml:2:7]",
        // No text for broken.yaml: the position is written out.
        "broken.yaml:3:1: did not find expected key",
        // Primary label is the resource.
        "DestinationRule default/reviews",
        // Related: same file as a label, other file as a snippet, unknown file as text.
        "host resolves to the reviews Service",
        "related: STRICT here",
        "[mesh/pa.yaml:7:11]",
        "related: other/missing.yaml:2:1: also referenced here",
        // Help.
        "help: set `tls.mode: ISTIO_MUTUAL` or remove the tls block",
        // The snippets.
        "mode: DISABLE",
        "ñandú: café-v1",
        "mode: STRICT",
    ] {
        assert!(out.contains(needle), "missing {needle:?} in:\n{out}");
    }
    for line in out.lines() {
        assert!(line.chars().count() <= 100, "line wider than 100: {line:?}");
    }
    // Deterministic.
    assert_eq!(out, fx.render(Format::Human));
    insta::assert_snapshot!("human_plain", out);
}

#[test]
fn human_colour_and_width() {
    let fx = Fixture::new();
    let coloured = render_to_string(
        Format::Human,
        &fx.input(),
        &HumanOptions {
            color: true,
            width: Some(60),
        },
    )
    .unwrap();
    assert!(coloured.contains("\u{1b}["), "ANSI colours when asked");
    assert!(coloured.contains('╭'), "Unicode box drawing with colour");
    let narrow = render_to_string(
        Format::Human,
        &fx.input(),
        &HumanOptions {
            color: false,
            width: Some(60),
        },
    )
    .unwrap();
    // Source lines and label lines are never wrapped; messages and help are.
    let snippet = Regex::new(r"^[\s|]*(\d+ \||[:|]\s+[\^`])").unwrap();
    let mut wrapped = 0;
    for line in narrow.lines() {
        if !snippet.is_match(line) {
            assert!(line.chars().count() <= 60, "line wider than 60: {line:?}");
            wrapped += 1;
        }
    }
    assert!(wrapped > 10);
    assert!(narrow.contains("100% of requests fail"));
}

#[test]
fn human_survives_spans_outside_the_text() {
    let mut fx = Fixture::new();
    fx.findings[1].location.span = span(99, 1, 120, 4);
    fx.findings[1].related.clear();
    fx.sources
        .insert(CLEAN.into(), meshlint_diag::SourceFile::new(CLEAN, ""));
    fx.findings[0].location = loc(CLEAN, span(0, 0, 0, 0));
    let out = fx.render(Format::Human);
    assert!(out.contains("warning[ML002]"), "{out}");
    assert!(out.contains("info[ML003]"), "{out}");
    for f in Format::ALL {
        assert!(!fx.render(f).is_empty());
    }
    let sarif: Value = serde_json::from_str(&fx.render(Format::Sarif)).unwrap();
    assert_valid_sarif(&sarif);
}

#[test]
fn human_without_findings_is_empty() {
    assert_eq!(Fixture::empty().render(Format::Human), "");
}

// ---------------------------------------------------------------- all formats

#[test]
fn every_format_is_deterministic_and_order_independent() {
    let fx = Fixture::new();
    let mut reversed = Fixture::new();
    reversed.findings.reverse();
    for format in Format::ALL {
        assert_eq!(
            fx.render(format),
            reversed.render(format),
            "{format} depends on input order"
        );
    }
}

// ------------------------------------------------- reports that agree with the gate

/// (test cases, failures, `system-out` bodies) of a JUnit document, parsed with a real
/// XML reader.
fn junit_outcomes(xml: &str) -> (usize, Vec<String>, Vec<String>) {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(xml);
    let (mut cases, mut failures, mut outs) = (0, Vec::new(), Vec::new());
    let mut in_out = false;
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) | Event::Empty(e) => match e.name().as_ref() {
                b"testcase" => cases += 1,
                b"failure" => failures.push(attrs(&e)["type"].clone()),
                b"system-out" => {
                    in_out = true;
                    outs.push(String::new());
                }
                _ => {}
            },
            Event::Text(t) if in_out => outs
                .last_mut()
                .unwrap()
                .push_str(&t.unescape().expect("valid escapes")),
            Event::End(e) if e.name().as_ref() == b"system-out" => in_out = false,
            Event::Eof => break,
            _ => {}
        }
    }
    (cases, failures, outs)
}

#[test]
fn junit_fails_only_findings_at_or_above_the_fail_level() {
    let fx = Fixture::new();
    let render_at = |t: Option<Severity>| {
        let input = ReportInput {
            fail_threshold: t,
            ..fx.input()
        };
        render_to_string(Format::Junit, &input, &HumanOptions::default()).unwrap()
    };
    let errors = fx
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    assert!(errors > 0 && errors < fx.findings.len());

    let (cases, failures, outs) = junit_outcomes(&render_at(Some(Severity::Error)));
    assert_eq!(cases, 5, "one case per finding and one per clean file");
    assert_eq!(failures.len(), errors);
    assert_eq!(outs.len(), fx.findings.len() - errors);
    for body in &outs {
        assert!(
            body.contains(": warning: ") || body.contains(": info: "),
            "{body}"
        );
    }
    let xml = render_at(Some(Severity::Error));
    assert!(xml.contains(&format!("failures=\"{errors}\"")), "{xml}");

    // `--fail-on never`: a green gate, a green test tab, every message kept.
    let (_, failures, outs) = junit_outcomes(&render_at(None));
    assert!(failures.is_empty());
    assert_eq!(outs.len(), fx.findings.len());
    // `--fail-on info`: every finding fails.
    let (_, failures, outs) = junit_outcomes(&render_at(Some(Severity::Info)));
    assert_eq!(failures.len(), fx.findings.len());
    assert!(outs.is_empty());
}

#[test]
fn sarif_rules_link_their_docs_and_the_run_names_its_automation() {
    let mut fx = Fixture::new();
    for r in &mut fx.rules {
        r.help_uri = Some(format!("https://meshlint.io/docs/rules/{}.md", r.id));
    }
    let doc: Value = serde_json::from_str(&fx.render(Format::Sarif)).unwrap();
    assert_valid_sarif(&doc);
    let run = &doc["runs"][0];
    assert_eq!(
        run["automationDetails"]["id"],
        meshlint_report::AUTOMATION_ID
    );
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let with_info: Vec<&Value> = rules
        .iter()
        .filter(|r| fx.rules.iter().any(|i| i.id == r["id"]))
        .collect();
    assert!(!with_info.is_empty());
    for r in with_info {
        assert_eq!(
            r["helpUri"],
            format!(
                "https://meshlint.io/docs/rules/{}.md",
                r["id"].as_str().unwrap()
            )
        );
    }
}

#[test]
fn human_never_breaks_a_host_name_or_a_path() {
    let mut fx = Fixture::new();
    // Every piece of the two words has a `7`, so it appears nowhere else in the output.
    let host = "alpha7-bravo7-v2.charlie7-delta7.svc.cluster.local";
    let path = "echo7/foxtrot7-golf7/hotel7-india7-juliet7/kilo7.yaml";
    fx.findings[0].message = format!(
        "the host {host} is defined in {path} and in {path}, \
         so {host} resolves twice"
    );
    fx.findings[0].help = Some(format!("delete {path} or rename {host}"));
    for width in [30, 45, 60, 80] {
        let text = render_to_string(
            Format::Human,
            &fx.input(),
            &HumanOptions {
                color: false,
                width: Some(width),
            },
        )
        .unwrap();
        // Every piece of either word on a line is the whole word (the words contain
        // `-`, `.` and `/`, where a wrapping library likes to break).
        for word in [host, path] {
            let pieces: Vec<&str> = word
                .split(['-', '.', '/'])
                .filter(|p| p.contains('7'))
                .collect();
            let mut seen = 0;
            for line in text.lines() {
                seen += line.matches(word).count();
                let rest = line.replace(word, "");
                for p in &pieces {
                    assert!(
                        !rest.contains(p),
                        "width {width}: `{word}` broken on {line:?}\n{text}"
                    );
                }
            }
            assert_eq!(seen, 3, "width {width}:\n{text}");
        }
    }
}
