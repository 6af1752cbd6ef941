//! The language as rule files use it: literals, operators, macros, the standard
//! library, YAML read in place, and what counts as absent versus a rule bug.

use meshlint_cel::{compile, EvalError, Host, NoHost, Scope, Val};
use meshlint_load::{load_source, LoadLimits, Node};

fn yaml(text: &str) -> Node {
    let loaded = load_source(
        "t.yaml".into(),
        text.as_bytes().to_vec(),
        &LoadLimits::default(),
    );
    loaded
        .documents
        .into_iter()
        .next()
        .expect("one document")
        .root
}

fn run(expr: &str, object: &Node) -> Result<String, EvalError> {
    let program = compile(expr, &[("double_it", 1)]).unwrap_or_else(|e| panic!("{expr}: {e}"));
    struct Doubler;
    impl<'a> Host<'a> for Doubler {
        fn call(&self, f: usize, args: &[Val<'a>]) -> Result<Val<'a>, EvalError> {
            assert_eq!(f, 0);
            Ok(Val::Int(args[0].as_int().unwrap_or(0) * 2))
        }
    }
    let mut scope = Scope::new();
    scope.push("object", Val::from_node(object));
    program.eval(&mut scope, &Doubler).map(|v| format!("{v:?}"))
}

fn ok(expr: &str) -> String {
    let doc = yaml(OBJECT);
    run(expr, &doc).unwrap_or_else(|e| panic!("{expr}: {e}"))
}

const OBJECT: &str = "
spec:
  host: reviews
  port: 9080
  ratio: 0.5
  tls: {mode: ISTIO_MUTUAL}
  subsets:
  - name: v1
    labels: {version: v1}
  - name: v2
    labels: {version: v2}
  empty:
  quoted: '80'
";

#[test]
fn literals_and_arithmetic() {
    assert_eq!(ok("1 + 2 * 3"), "7");
    assert_eq!(ok("(1 + 2) * 3 % 4"), "1");
    assert_eq!(ok("-3 - -4"), "1");
    assert_eq!(ok("7 / 2"), "3");
    assert_eq!(ok("7.0 / 2.0"), "3.5");
    assert_eq!(ok("1u + 2u"), "3u");
    assert_eq!(ok("0x10"), "16");
    assert_eq!(ok("'a\\tb' + \"c\\u00e9\""), "\"a\\tbcé\"");
    assert_eq!(ok("r'\\d+'"), "\"\\\\d+\"");
    assert_eq!(ok("'''multi\nline'''"), "\"multi\\nline\"");
    assert_eq!(ok("[1, 2] + [3]"), "[1, 2, 3]");
    assert_eq!(
        ok("{'a': 1, 'b': [true, null]}"),
        "{\"a\": 1, \"b\": [true, null]}"
    );
    assert_eq!(ok("true ? 'y' : 'n'"), "\"y\"");
}

#[test]
fn equality_and_ordering() {
    assert_eq!(ok("1 == 1.0 && 1u == 1 && 2 > 1.5"), "true");
    assert_eq!(ok("'1' == 1"), "false");
    assert_eq!(ok("[1, 'a'] == [1, 'a'] && {'a': 1} == {'a': 1}"), "true");
    assert_eq!(ok("'abc' < 'abd' && 'b' > 'a'"), "true");
    assert_eq!(
        ok("2 in [1, 2] && 'host' in object.spec && !('nope' in object.spec)"),
        "true"
    );
    assert!(matches!(
        run("1 < 'a'", &yaml(OBJECT)),
        Err(EvalError::Error(_))
    ));
}

#[test]
fn yaml_is_read_in_place() {
    assert_eq!(ok("object.spec.host"), "\"reviews\"");
    assert_eq!(ok("object.spec.port + 1"), "9081");
    assert_eq!(ok("object.spec.ratio"), "0.5");
    assert_eq!(ok("object.spec.quoted"), "\"80\"");
    // A key with a null value is absent, as Kubernetes drops null fields.
    assert_eq!(ok("has(object.spec.empty)"), "false");
    assert_eq!(ok("'empty' in object.spec"), "false");
    assert_eq!(ok("object.spec.subsets[1].labels['version']"), "\"v2\"");
    assert_eq!(ok("object.spec.subsets.map(s, s.name)"), "[\"v1\", \"v2\"]");
    assert_eq!(ok("object.spec.tls.map(k, k)"), "[\"mode\"]");
    assert_eq!(
        ok("size(object.spec.subsets) + object.spec.tls.size()"),
        "3"
    );
    assert_eq!(
        ok("object.spec.subsets[0] == {'name': 'v1', 'labels': {'version': 'v1'}}"),
        "true"
    );
}

#[test]
fn absent_fields_are_absent_and_bugs_are_bugs() {
    let doc = yaml(OBJECT);
    assert_eq!(
        run("object.spec.timeout", &doc),
        Err(EvalError::NoSuchKey("timeout".into()))
    );
    assert_eq!(
        run("object.spec.empty.x", &doc),
        Err(EvalError::NoSuchKey("empty".into()))
    );
    assert_eq!(
        run("object.spec.tls['sni']", &doc),
        Err(EvalError::NoSuchKey("sni".into()))
    );
    assert_eq!(
        ok("has(object.spec.tls) && !has(object.spec.timeout)"),
        "true"
    );
    assert_eq!(ok("has(object.spec.host.x)"), "false");
    assert!(
        matches!(run("object.spec.subsets[5]", &doc), Err(EvalError::Error(m)) if m.contains("out of range"))
    );
    assert!(matches!(
        run("object.spec.host.x", &doc),
        Err(EvalError::Error(_))
    ));
    assert!(
        matches!(run("unknownVar", &doc), Err(EvalError::Error(m)) if m.contains("undeclared"))
    );
    // CEL's commutative logic: the absent field does not decide when the other side does.
    assert_eq!(ok("object.spec.timeout == 1 || true"), "true");
    assert_eq!(ok("object.spec.timeout == 1 && false"), "false");
    assert_eq!(
        run("object.spec.timeout == 1 || false", &doc),
        Err(EvalError::NoSuchKey("timeout".into()))
    );
}

#[test]
fn macros() {
    assert_eq!(ok("[1, 2, 3].all(x, x > 0)"), "true");
    assert_eq!(ok("[1, 2, 3].exists(x, x > 2)"), "true");
    assert_eq!(ok("[1, 2, 3].exists_one(x, x > 1)"), "false");
    assert_eq!(ok("[1, 2, 3].filter(x, x % 2 == 1)"), "[1, 3]");
    assert_eq!(ok("[1, 2, 3].map(x, x * 10)"), "[10, 20, 30]");
    assert_eq!(ok("[1, 2, 3].map(x, x > 1, x * 10)"), "[20, 30]");
    assert_eq!(ok("[[1], [2]].map(x, x.map(y, y + 1))"), "[[2], [3]]");
    // an error on one element is absorbed when another decides
    assert_eq!(ok("[{'a': 1}, {}].exists(x, x.a == 1)"), "true");
    assert_eq!(ok("[{}, {'a': 2}].all(x, x.a == 1)"), "false");
}

#[test]
fn standard_library() {
    assert_eq!(
        ok("'Hello'.startsWith('He') && 'Hello'.endsWith('lo') && 'Hello'.contains('ll')"),
        "true"
    );
    assert_eq!(ok("'v1.2.3'.matches('^v[0-9]+\\\\.[0-9]+')"), "true");
    assert_eq!(ok("'a,b,c'.split(',')"), "[\"a\", \"b\", \"c\"]");
    assert_eq!(ok("['a', 'b'].join(', ')"), "\"a, b\"");
    assert_eq!(ok("'MiXeD'.lowerAscii() + 'x'.upperAscii()"), "\"mixedX\"");
    assert_eq!(
        ok("'héllo'.substring(1, 3) + 'abc'.substring(2)"),
        "\"élc\""
    );
    assert_eq!(ok("'a-b-c'.replace('-', '+')"), "\"a+b+c\"");
    assert_eq!(
        ok("string(80) + string(1.5) + string(true)"),
        "\"801.5true\""
    );
    assert_eq!(ok("int('42') + int(2.9)"), "44");
    assert_eq!(ok("[3, 1, 2, 1].distinct().sort()"), "[1, 2, 3]");
    assert_eq!(ok("[[1, 2], [3], 4].flatten()"), "[1, 2, 3, 4]");
    assert_eq!(ok("[1, 2, 3, 4].slice(1, 3)"), "[2, 3]");
    assert_eq!(ok("lists.range(3)"), "[0, 1, 2]");
    assert_eq!(ok("size('héllo') + size([1]) + size({'a': 1})"), "7");
    assert_eq!(ok("double_it(21)"), "42");
    assert_eq!(ok("math.greatest([1, 5, 3]) + math.least(4, 2)"), "7");
}

#[test]
fn compile_errors_name_the_problem() {
    let host = [("resolveHost", 2)];
    let msg = |src: &str| {
        compile(src, &host)
            .err()
            .map(|e| e.message)
            .unwrap_or_default()
    };
    assert!(msg("resolveHst('a', 'b')").contains("did you mean `resolveHost`"));
    assert!(msg("resolveHost('a')").contains("takes 2 argument(s), 1 given"));
    assert!(msg("'a'.resolveHost('b')").contains("global function"));
    assert!(msg("x.startsWith()").contains("argument"));
    assert!(msg("[1].map(1, 2)").contains("variable name"));
    assert!(msg("has(x)").contains("field selection"));
    assert!(msg("1 +").contains("expected a value"));
    assert!(msg("'open").contains("not closed"));
    assert!(msg("(1").contains("expected `)`"));
    assert!(msg("1 2").contains("after the end"));
    let deep = "(".repeat(500) + "1" + &")".repeat(500);
    assert!(msg(&deep).contains("nests too deeply"));
    assert_eq!(compile("a.b(", &host).err().map(|e| e.offset), Some(4));
}

#[test]
fn no_host_refuses_calls() {
    let p = compile("f(1)", &[("f", 1)]).expect("compiles");
    let mut scope = Scope::new();
    assert!(p.eval(&mut scope, &NoHost).is_err());
}
