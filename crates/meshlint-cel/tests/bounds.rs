//! Bounded evaluation: no expression overflows the stack at parse or evaluation, and
//! every evaluation stops when it spends its budget of steps or built elements.

use meshlint_cel::{compile, Budget, EvalError, NoHost, Scope};

fn eval(expr: &str) -> Result<String, EvalError> {
    let program = compile(expr, &[]).map_err(|e| EvalError::Error(e.to_string()))?;
    let mut scope = Scope::new();
    program.eval(&mut scope, &NoHost).map(|v| format!("{v:?}"))
}

#[test]
fn long_chains_are_refused_at_parse_and_allowed_ones_evaluate_on_a_small_stack() {
    let chain = vec!["1"; 30_000].join(" + ");
    let Err(e) = compile(&chain, &[]) else {
        panic!("a 30,000-term chain was accepted")
    };
    let nested = format!("{}1{}", "(".repeat(30_000), ")".repeat(30_000));
    assert!(compile(&nested, &[]).is_err());
    let negated = format!("{}true", "!".repeat(30_000));
    assert!(compile(&negated, &[]).is_err());
    assert!(e.to_string().contains("too long"), "{e}");
    for op in [" && ", " || ", " * ", " == ", "."] {
        let long = vec!["a"; 30_000].join(op);
        assert!(compile(&long, &[]).is_err(), "{op}");
    }
    // The longest accepted chain evaluates (and drops) on a worker of the binary's pool
    // (64 MiB reserved; a debug build's evaluator frame is several KiB).
    let ok = vec!["1"; 999].join(" + ");
    let got = std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(move || eval(&ok).map_err(|e| e.to_string()))
        .unwrap()
        .join()
        .unwrap();
    assert_eq!(got.unwrap(), "999");
}

#[test]
fn budgets_stop_runaway_evaluations() {
    let budget = |r: Result<String, EvalError>| matches!(r, Err(EvalError::Budget(_)));
    assert!(budget(eval("size(lists.range(1000000000)) > 0")));
    assert!(budget(eval(
        "lists.range(5000).all(i, lists.range(5000).all(j, i + j >= 0))"
    )));
    assert!(budget(eval(
        "lists.range(2000).map(i, lists.range(2000)).size() > 0"
    )));
    // Exhaustion is not absorbed by `||` or `exists`.
    assert!(budget(eval("size(lists.range(1000000000)) > 0 || true")));
    assert_eq!(eval("lists.range(1000).all(i, i >= 0)").unwrap(), "true");

    let program = compile("lists.range(100).all(i, i >= 0)", &[]).unwrap();
    let mut scope = Scope::new();
    scope.set_budget(Budget {
        steps: 50,
        built: 1_000,
    });
    assert!(matches!(
        program.eval(&mut scope, &NoHost),
        Err(EvalError::Budget(_))
    ));
    // Each evaluation gets the whole budget again.
    let small = compile("1 + 1", &[]).unwrap();
    assert_eq!(
        format!("{:?}", small.eval(&mut scope, &NoHost).unwrap()),
        "2"
    );
}
