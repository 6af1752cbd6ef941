//! Results that used to be silently wrong or refused, now as CEL specifies them.

use meshlint_cel::{compile, NoHost, Scope, Val};

fn eval(expr: &str) -> Result<String, String> {
    let program = compile(expr, &[]).map_err(|e| e.to_string())?;
    let mut scope = Scope::new();
    program
        .eval(&mut scope, &NoHost)
        .map(|v| format!("{v:?}"))
        .map_err(|e| e.to_string())
}

#[test]
fn type_values_and_the_int_or_string_idiom() {
    assert_eq!(eval("type(1) == int").unwrap(), "true");
    assert_eq!(eval("type('80') == string").unwrap(), "true");
    assert_eq!(eval("type(80) == string").unwrap(), "false");
    assert_eq!(eval("type(type(1)) == type").unwrap(), "true");
    assert_eq!(
        eval("type(duration('1s'))").unwrap(),
        "google.protobuf.Duration"
    );
}

#[test]
fn durations() {
    assert_eq!(eval("duration('1ms') < duration('0.5s')").unwrap(), "true");
    assert_eq!(eval("string(duration('1h1m1.5s'))").unwrap(), "\"3661.5s\"");
    assert_eq!(eval("duration('90m').getHours()").unwrap(), "1");
    assert_eq!(
        eval("duration('1s') + duration('-250ms') == duration('750ms')").unwrap(),
        "true"
    );
    assert!(eval("duration('5')").is_err());
}

#[test]
fn formerly_silent_mistakes() {
    assert_eq!(eval("'abc'.split('')").unwrap(), "[\"a\", \"b\", \"c\"]");
    assert_eq!(eval("string(1.0)").unwrap(), "\"1\"");
    assert_eq!(eval("string(1e6)").unwrap(), "\"1000000\"");
    assert_eq!(eval("string(1e21)").unwrap(), "\"1e+21\"");
    assert!(eval("null < null").is_err());
    assert!(eval("int(' 12')").is_err());
    assert!(eval("{1.5: 1}").is_err());
    assert!(eval("{null: 1}").is_err());
}

#[test]
fn two_variable_comprehensions() {
    assert_eq!(eval("[1, 2, 3].all(i, v, v == i + 1)").unwrap(), "true");
    assert_eq!(
        eval("{'a': 1}.exists(k, v, k == 'a' && v == 1)").unwrap(),
        "true"
    );
    assert_eq!(eval("[5, 7].transformList(i, v, i * v)").unwrap(), "[0, 7]");
    assert_eq!(
        eval("{'a': 1, 'b': 2}.transformMap(k, v, v > 1, v * 10)").unwrap(),
        "{\"b\": 20}"
    );
    let _ = Val::Null;
}

#[test]
fn optionals() {
    assert_eq!(eval("{'a': {'b': 1}}.?a.?b.orValue(0)").unwrap(), "1");
    assert_eq!(eval("{'a': {}}.?a.?b.orValue(0)").unwrap(), "0");
    assert_eq!(eval("{}.?a.b.hasValue()").unwrap(), "false");
    assert_eq!(eval("[1][?3].orValue(9)").unwrap(), "9");
    assert_eq!(eval("[?optional.none(), ?optional.of(2)]").unwrap(), "[2]");
    assert_eq!(
        eval("{?'k': optional.none(), 'j': 1}").unwrap(),
        "{\"j\": 1}"
    );
    assert_eq!(
        eval("optional.of(2).optMap(x, x * 10).value()").unwrap(),
        "20"
    );
    assert!(eval("optional.none().value()").is_err());
    assert_eq!(
        eval("type(optional.none()) == optional_type").unwrap(),
        "true"
    );
}

#[test]
fn format() {
    assert_eq!(
        eval("'%s has %d ports, %.1f%%'.format(['svc', 3, 12.25])").unwrap(),
        "\"svc has 3 ports, 12.2%\""
    );
    assert_eq!(
        eval("'%s'.format([{'b': [1, 'x'], 'a': null}])").unwrap(),
        "\"{a: null, b: [1, x]}\""
    );
    assert_eq!(
        eval("'%x %X %b %o'.format([255, 255u, 5, 8])").unwrap(),
        "\"ff FF 101 10\""
    );
    assert_eq!(
        eval("'%e'.format([1052.032911275])").unwrap(),
        "\"1.052033e+03\""
    );
    assert!(eval("'%s %s'.format(['one'])").is_err());
    assert!(eval("'%d'.format(['x'])").is_err());
}

#[test]
fn unchecked_programs_and_qualified_names() {
    let program = meshlint_cel::compile_unchecked("f_unknown(1) || true", &[]).unwrap();
    let mut scope = Scope::new();
    assert_eq!(
        format!("{:?}", program.eval(&mut scope, &NoHost).unwrap()),
        "true"
    );
    assert!(
        compile("f_unknown(1) || true", &[]).is_err(),
        "rule files stay checked"
    );
    assert_eq!(
        eval("{'content-type': 'json'}.`content-type`").unwrap(),
        "\"json\""
    );
    assert_eq!(eval("double('1.38e-23') == 1.38e-23").unwrap(), "true");
    let _ = Val::Null;
}
