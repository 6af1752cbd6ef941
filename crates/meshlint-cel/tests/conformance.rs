//! The CEL specification's conformance cases (`../shared/conformance/cel/*.json`, read
//! relative to the workspace root; format in its README) run against meshlint's CEL.
//! Prints the pass rate of every file, core and extension totals, and fails when a case
//! named in `tests/cel-conformance-baseline.txt` no longer passes or a total falls below
//! its target (core 99%, extensions 95%). Cases marked `disable_check` are compiled
//! unchecked (unknown functions fail at run time), as the spec evaluates them. Where the shared
//! directory is absent it says so and passes.
//!
//! `MESHLINT_CEL_BASELINE=write cargo test -p meshlint-cel --test conformance` rewrites
//! the baseline with every case that passes now.

use meshlint_cel::{compile, compile_unchecked, EvalError, NoHost, Scope, Val};
use serde_json::Value as J;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Files of the extension libraries Kubernetes enables (the rest is core CEL).
const EXTENSION_FILES: &[&str] = &[
    "bindings_ext",
    "block_ext",
    "encoders_ext",
    "math_ext",
    "network_ext",
    "optionals",
    "string_ext",
];

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn baseline_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cel-conformance-baseline.txt")
}

/// A tagged conformance value as a meshlint value; `None` when meshlint has no such
/// value (bytes, type values, timestamps, durations).
fn to_val(v: &J) -> Option<Val<'static>> {
    Some(match v["t"].as_str()? {
        "int" => Val::Int(v["v"].as_str()?.parse().ok()?),
        "uint" => Val::UInt(v["v"].as_str()?.parse().ok()?),
        "double" => Val::Double(double(&v["v"])?),
        "string" => Val::str(v["v"].as_str()?),
        "bool" => Val::Bool(v["v"].as_bool()?),
        "null" => Val::Null,
        "bytes" => Val::Bytes(hex(v["v"].as_str()?)?.into()),
        "timestamp" => Val::Timestamp(v["s"].as_i64()?, v["n"].as_u64().unwrap_or(0) as u32),
        "duration" => Val::Duration(
            v["s"]
                .as_i64()?
                .checked_mul(1_000_000_000)?
                .checked_add(v["n"].as_i64().unwrap_or(0))?,
        ),
        "list" => Val::list(
            v["v"]
                .as_array()?
                .iter()
                .map(to_val)
                .collect::<Option<Vec<_>>>()?,
        ),
        "map" => Val::Map(std::rc::Rc::new(
            v["v"]
                .as_array()?
                .iter()
                .map(|kv| Some((to_val(&kv[0])?, to_val(&kv[1])?)))
                .collect::<Option<Vec<_>>>()?,
        )),
        _ => return None,
    })
}

fn hex(text: &str) -> Option<Vec<u8>> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

fn double(v: &J) -> Option<f64> {
    match v {
        J::Number(n) => n.as_f64(),
        J::String(s) => match s.as_str() {
            "NaN" => Some(f64::NAN),
            "Infinity" => Some(f64::INFINITY),
            "-Infinity" => Some(f64::NEG_INFINITY),
            other => other.parse().ok(),
        },
        _ => None,
    }
}

/// Whether a result equals an expected tagged value (same type, NaN equals NaN, maps
/// in any order).
fn same(got: &Val<'_>, want: &J) -> bool {
    let Some(tag) = want["t"].as_str() else {
        return false;
    };
    match (tag, got) {
        ("int", Val::Int(i)) => want["v"].as_str() == Some(&i.to_string()),
        ("uint", Val::UInt(u)) => want["v"].as_str() == Some(&u.to_string()),
        ("double", Val::Double(d)) => match double(&want["v"]) {
            Some(w) if w.is_nan() => d.is_nan(),
            Some(w) => w == *d,
            None => false,
        },
        ("string", Val::Str(s)) => want["v"].as_str() == Some(&**s),
        ("bool", Val::Bool(b)) => want["v"].as_bool() == Some(*b),
        ("null", Val::Null) => true,
        ("bytes", Val::Bytes(b)) => want["v"].as_str().and_then(hex).as_deref() == Some(&b[..]),
        ("type", Val::Type(t)) => want["v"].as_str() == Some(t),
        ("timestamp", Val::Timestamp(..)) => to_val(want).is_some_and(|w| w == *got),
        ("duration", Val::Duration(n)) => to_val(want).is_some_and(|w| w == Val::Duration(*n)),
        ("list", _) if got.is_list() => {
            let (Some(items), Some(wants)) = (got.elements(), want["v"].as_array()) else {
                return false;
            };
            items.len() == wants.len() && items.iter().zip(wants).all(|(g, w)| same(g, w))
        }
        ("map", _) if got.is_map() => {
            let (Some(entries), Some(wants)) = (got.entries(), want["v"].as_array()) else {
                return false;
            };
            entries.len() == wants.len()
                && wants.iter().all(|kv| {
                    entries
                        .iter()
                        .any(|(k, v)| same(k, &kv[0]) && same(v, &kv[1]))
                })
        }
        _ => false,
    }
}

/// Runs one case: `Ok(true)` passed, `Ok(false)` failed, `Err` why it could not run.
fn run_case(case: &J) -> bool {
    let expr = case["expr"].as_str().unwrap_or("");
    let mut bound: Vec<(String, Val<'static>)> = Vec::new();
    if let Some(b) = case["bindings"].as_object() {
        for (name, v) in b {
            match to_val(v) {
                Some(v) => bound.push((name.clone(), v)),
                None => return false,
            }
        }
    }
    // `disable_check` cases are evaluated unchecked: unknown functions fail at run time.
    let compiled = if case["disable_check"].as_bool() == Some(true) {
        compile_unchecked(expr, &[])
    } else {
        compile(expr, &[])
    };
    let result: Result<Val<'static>, EvalError> = match compiled {
        Ok(program) => {
            let mut scope = Scope::new();
            for (name, v) in &bound {
                scope.push(name, v.clone());
            }
            // Results own their data (no YAML is bound), so they outlive the scope.
            program.eval(&mut scope, &NoHost).map(|v| own(&v))
        }
        Err(e) => Err(EvalError::Error(e.to_string())),
    };
    match (case["expect"]["k"].as_str(), result) {
        (Some("value"), Ok(v)) => same(&v, &case["expect"]["v"]),
        (Some("error"), Err(_)) => true,
        _ => false,
    }
}

fn own(v: &Val<'_>) -> Val<'static> {
    match v {
        Val::Null => Val::Null,
        Val::Bool(b) => Val::Bool(*b),
        Val::Int(i) => Val::Int(*i),
        Val::UInt(u) => Val::UInt(*u),
        Val::Double(d) => Val::Double(*d),
        Val::Str(s) => Val::str(s),
        Val::Type(t) => Val::Type(t),
        Val::Bytes(b) => Val::Bytes(b.clone()),
        Val::Duration(n) => Val::Duration(*n),
        Val::Timestamp(s, n) => Val::Timestamp(*s, *n),
        _ if v.is_map() => Val::Map(std::rc::Rc::new(
            v.entries()
                .unwrap_or_default()
                .iter()
                .map(|(k, v)| (own(k), own(v)))
                .collect(),
        )),
        _ if v.is_list() => Val::list(v.elements().unwrap_or_default().iter().map(own).collect()),
        _ => Val::Null,
    }
}

struct Tally {
    passed: usize,
    runnable: usize,
}

fn rate(t: &Tally) -> f64 {
    if t.runnable == 0 {
        return 100.0;
    }
    100.0 * t.passed as f64 / t.runnable as f64
}

#[test]
fn cel_spec_conformance() {
    let dir = workspace().join("../shared/conformance/cel");
    if !dir.is_dir() {
        eprintln!("cel conformance: ../shared/conformance/cel not found; SKIPPED");
        return;
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    // Deeply nested parse cases need room; run on a thread with a large stack.
    let (per_file, passing) = std::thread::Builder::new()
        .stack_size(512 << 20)
        .spawn(move || {
            let mut per_file: BTreeMap<String, Tally> = BTreeMap::new();
            let mut passing: Vec<String> = Vec::new();
            for path in files {
                let stem = path.file_stem().unwrap().to_string_lossy().to_string();
                let cases: Vec<J> =
                    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
                let tally = per_file.entry(stem.clone()).or_insert(Tally {
                    passed: 0,
                    runnable: 0,
                });
                for case in &cases {
                    if !case["skip"].is_null() {
                        continue;
                    }
                    tally.runnable += 1;
                    let ok = std::panic::catch_unwind(|| run_case(case)).unwrap_or(false);
                    if ok {
                        tally.passed += 1;
                        passing.push(format!(
                            "{stem}/{}/{}",
                            case["section"].as_str().unwrap_or(""),
                            case["name"].as_str().unwrap_or("")
                        ));
                    }
                }
            }
            (per_file, passing)
        })
        .unwrap()
        .join()
        .unwrap();

    let mut core = Tally {
        passed: 0,
        runnable: 0,
    };
    let mut ext = Tally {
        passed: 0,
        runnable: 0,
    };
    eprintln!("cel conformance, passed / runnable per file:");
    for (file, t) in &per_file {
        let group = if EXTENSION_FILES.contains(&file.as_str()) {
            &mut ext
        } else {
            &mut core
        };
        group.passed += t.passed;
        group.runnable += t.runnable;
        if t.runnable > 0 {
            eprintln!(
                "  {file:<16} {:>4} / {:<4} {:5.1}%",
                t.passed,
                t.runnable,
                rate(t)
            );
        }
    }
    eprintln!(
        "  core {:.1}% ({}/{}), extensions {:.1}% ({}/{})",
        rate(&core),
        core.passed,
        core.runnable,
        rate(&ext),
        ext.passed,
        ext.runnable
    );

    // The targets: 99% of the runnable core cases, 95% of the extension libraries.
    assert!(rate(&core) >= 99.0, "core conformance fell below 99%");
    assert!(rate(&ext) >= 95.0, "extension conformance fell below 95%");

    if std::env::var("MESHLINT_CEL_BASELINE").as_deref() == Ok("write") {
        let mut text = String::from(
            "# CEL conformance cases meshlint's CEL passes (file/section/name), one a line.\n# Written by MESHLINT_CEL_BASELINE=write cargo test -p meshlint-cel --test conformance\n",
        );
        for name in &passing {
            text.push_str(name);
            text.push('\n');
        }
        std::fs::write(baseline_path(), text).unwrap();
        return;
    }
    let baseline = std::fs::read_to_string(baseline_path()).unwrap_or_default();
    let now: std::collections::HashSet<&str> = passing.iter().map(String::as_str).collect();
    let regressed: Vec<&str> = baseline
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter(|l| !now.contains(l))
        .collect();
    assert!(
        regressed.is_empty(),
        "{} baseline cases no longer pass: {regressed:?}",
        regressed.len()
    );
}
