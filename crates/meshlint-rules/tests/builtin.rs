//! Built-in rules compile lazily at run time, so this test compiles every one of them:
//! a CEL typo in `rules/` fails here, with the rule file's position.

use meshlint_rules::{load_rule, RuleSet};

#[test]
fn every_builtin_rule_compiles() {
    let set = RuleSet::builtin().expect("built-in rules parse");
    let errors: Vec<String> = set
        .rules
        .iter()
        .filter_map(|r| r.validate().err().map(|e| e.to_string()))
        .collect();
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}

#[test]
fn user_rules_are_validated_at_load() {
    let err = load_rule(
        "acme.yaml",
        "id: A\nseverity: info\nsummary: s\nmatch: {kinds: [Service]}\nwhen: \"hostExists()\"\nmessage: m\n",
    )
    .err()
    .expect("wrong arity is refused");
    assert_eq!(err.location.span.start.line, 5);
    assert!(err.message.contains("takes 1 argument"), "{}", err.message);
    let err = load_rule(
        "acme.yaml",
        "id: A\nseverity: info\nsummary: s\nmatch: {kinds: [Service]}\nmessage: m\nwhne: x\n",
    )
    .err()
    .expect("unknown key is refused");
    assert_eq!(err.location.span.start.line, 6);
    assert!(
        err.message.contains("unknown field `whne`"),
        "{}",
        err.message
    );
    let err = load_rule(
        "acme.yaml",
        "id: A\nsummary: s\nmatch: {kinds: [Service]}\nmessage: m\n",
    )
    .err()
    .expect("missing key is refused");
    assert!(err.message.contains("severity"), "{}", err.message);
}
