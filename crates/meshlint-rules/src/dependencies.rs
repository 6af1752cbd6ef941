//! What a rule's findings depend on beyond the resource it is evaluated on: the kinds
//! of resource its graph functions read (`graph_fns/dependencies.rs`) and the
//! Namespace object when it reads `namespaceObject`. The language server uses it to
//! re-run, after an edit, only the rules the edited kinds can change.
//!
//! Not covered here, and left to the caller: the mesh config (`mesh`, and every graph
//! function's notion of the root namespace and domain), which changes everything.

use crate::file::Rule;
use crate::graph_fns::dependencies::{reads, Reads};
use crate::graph_fns::GRAPH_FUNCTIONS;
use meshlint_model::Kind;

/// A set of kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct KindSet(u64);

impl KindSet {
    pub const EMPTY: KindSet = KindSet(0);
    pub const ALL: KindSet = KindSet(u64::MAX);

    const fn bit(kind: Kind) -> u64 {
        1 << (kind as u32)
    }

    pub const fn of(kinds: &[Kind]) -> KindSet {
        let mut bits = 0;
        let mut i = 0;
        while i < kinds.len() {
            bits |= KindSet::bit(kinds[i]);
            i += 1;
        }
        KindSet(bits)
    }

    pub const fn union(self, other: KindSet) -> KindSet {
        KindSet(self.0 | other.0)
    }

    pub const fn without(self, other: KindSet) -> KindSet {
        KindSet(self.0 & !other.0)
    }

    pub fn insert(&mut self, kind: Kind) {
        self.0 |= KindSet::bit(kind);
    }

    pub fn contains(self, kind: Kind) -> bool {
        self.0 & KindSet::bit(kind) != 0
    }

    pub fn intersects(self, other: KindSet) -> bool {
        self.0 & other.0 != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

/// What a rule's findings on a resource read besides that resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RuleReads {
    /// Resources of these kinds.
    pub kinds: KindSet,
    /// Resources of the evaluated resource's own kind (the other documents of the same
    /// object, `copiesOf`).
    pub own_kind: bool,
}

impl RuleReads {
    /// Whether an edit of resources of `changed` kinds may change the rule's findings on
    /// a resource of kind `kind`.
    pub fn sees(self, changed: KindSet, kind: Kind) -> bool {
        self.kinds.intersects(changed) || (self.own_kind && changed.contains(kind))
    }
}

/// What `rule` reads: the kinds whose resources, when added, removed or changed, may
/// change its findings on resources other than them. A rule that does not compile
/// reads every kind (it produces no findings to keep anyway).
pub fn rule_reads(rule: &Rule) -> RuleReads {
    let (Ok(c), Ok(r)) = (rule.compiled(), rule.reporting()) else {
        return RuleReads {
            kinds: KindSet::ALL,
            own_kind: true,
        };
    };
    let mut own_kind = false;
    let mut out = KindSet::EMPTY;
    for program in c.programs().into_iter().chain(r.programs()) {
        for call in program.host_calls() {
            let Some(&(name, _)) = GRAPH_FUNCTIONS.get(call.function) else {
                return RuleReads {
                    kinds: KindSet::ALL,
                    own_kind: true,
                };
            };
            out = out.union(match reads(name) {
                Reads::Kinds(kinds) => kinds,
                Reads::NamedKind => match call.literal {
                    // An unknown kind name finds nothing, whatever the inputs.
                    Some(lit) => Kind::by_name(lit)
                        .map(|k| KindSet::of(&[k]))
                        .unwrap_or(KindSet::EMPTY),
                    None => KindSet::ALL,
                },
                Reads::ArgumentKind => {
                    own_kind = true;
                    KindSet::EMPTY
                }
            });
        }
        if program.mentions("namespaceObject") {
            out.insert(Kind::Namespace);
        }
    }
    RuleReads {
        kinds: out,
        own_kind,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_a_bit() {
        assert!((Kind::Other as u32) < 64);
        let s = KindSet::of(&[Kind::Service, Kind::Other]);
        assert!(s.contains(Kind::Service) && s.contains(Kind::Other));
        assert!(!s.contains(Kind::Namespace));
        assert!(KindSet::ALL.without(s).contains(Kind::Namespace));
        assert!(!KindSet::ALL.without(s).contains(Kind::Other));
    }

    fn rule(yaml: &str) -> Rule {
        crate::parse_rule("test.yaml", yaml).unwrap()
    }

    #[test]
    fn a_rule_reads_what_its_functions_read() {
        let head = "id: X9001\nname: x\ncategory: test\nseverity: warning\nsummary: x\nmatch: {kinds: [DestinationRule]}\n";
        let own = rule(&format!("{head}when: object.spec.host == 'a'\nmessage: \"{{{{ quoted(object.spec.host) }}}}\"\n"));
        assert_eq!(rule_reads(&own), RuleReads::default());
        let peer = rule(&format!(
            "{head}when: peerMode(resource, 80).mode == 'STRICT'\nmessage: m\n"
        ));
        let r = rule_reads(&peer).kinds;
        assert!(r.contains(Kind::PeerAuthentication) && r.contains(Kind::Service));
        assert!(!r.contains(Kind::VirtualService));
        let ns = rule(&format!(
            "{head}when: namespaceObject != null\nmessage: m\n"
        ));
        assert_eq!(rule_reads(&ns).kinds, KindSet::of(&[Kind::Namespace]));
        let secrets = rule(&format!(
            "{head}when: resourcesOf('Secret').size() > 0\nmessage: m\n"
        ));
        assert_eq!(rule_reads(&secrets).kinds, KindSet::of(&[Kind::Secret]));
        let any = rule(&format!(
            "{head}when: resourcesOf(object.kind).size() > 1\nmessage: m\n"
        ));
        assert_eq!(rule_reads(&any).kinds, KindSet::ALL);
        let copies = rule(&format!(
            "{head}when: size(copiesOf(resource.ref)) > 1\nmessage: m\n"
        ));
        let r = rule_reads(&copies);
        assert!(r.own_kind && r.kinds.is_empty());
        let pa = KindSet::of(&[Kind::PeerAuthentication]);
        assert!(r.sees(pa, Kind::PeerAuthentication) && !r.sees(pa, Kind::DestinationRule));
    }
}
