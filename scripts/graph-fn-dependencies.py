#!/usr/bin/env python3
"""Which configuration kinds each graph function reads, derived from the source.

The language server re-runs, after an edit of a resource of kind K, only the rules
whose graph functions read K (crates/meshlint-rules/src/graph_fns/dependencies.rs).
That table is written by hand; this script derives it for review: it builds a
name-level call graph over crates/meshlint-graph/src and the graph functions
(crates/meshlint-rules/src/graph_fns), marks every function whose body names a
configuration kind (`Kind::X`, `Typed::X`, the indexes built from X), and propagates
the marks from callee to caller. Names are matched without types, so a shared name
(`get`, `new`) links more than it should: the answer errs towards reading more.

    python3 scripts/graph-fn-dependencies.py          # function: kinds
    python3 scripts/graph-fn-dependencies.py --check  # compare with dependencies.rs
"""
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
GRAPH = ROOT / "crates/meshlint-graph/src"
FNS = ROOT / "crates/meshlint-rules/src/graph_fns"

# The configuration kinds the table tracks; every other kind (Namespace, Service,
# ServiceEntry, workloads, ConfigMap, Secret, …) is read by every graph function.
KINDS = [
    "PeerAuthentication", "DestinationRule", "VirtualService", "Gateway", "Sidecar",
    "RequestAuthentication", "AuthorizationPolicy", "Telemetry", "WasmPlugin",
    "EnvoyFilter", "ProxyConfig", "WorkloadGroup", "LegacyPolicy", "LegacyMeshPolicy",
    "K8sGateway", "K8sGatewayClass", "HTTPRoute", "GRPCRoute", "TCPRoute", "TLSRoute",
    "ReferenceGrant", "NetworkPolicy", "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration", "CustomResourceDefinition",
]
SELECTING = ["RequestAuthentication", "AuthorizationPolicy", "Telemetry", "WasmPlugin", "EnvoyFilter"]
GATEWAY_API = ["K8sGateway", "K8sGatewayClass", "HTTPRoute", "GRPCRoute", "TCPRoute", "TLSRoute", "ReferenceGrant"]
# Markers: text in a function body that means it reads these kinds.
MARKERS = [(re.compile(rf"\b(Kind|Typed)::{k}\b"), [k]) for k in KINDS]
MARKERS += [
    (re.compile(r"\bTyped::Selecting\b"), SELECTING),
    (re.compile(r"\b(self|g|graph)\.gateways\b"), ["Gateway"]),
    # The petgraph edges (`relate` in build.rs) are read only from a given resource
    # (`selected_workloads`) or for a given kind (`selected_by`), which the caller names.
    # Kinds named as strings (`"HTTPRoute"`, `"gateway.networking.k8s.io"`).
    (re.compile(r'"gateway\.networking\.k8s\.io'), GATEWAY_API),
]
MARKERS += [(re.compile(rf'"{k}"'), [k]) for k in KINDS]


def functions(path):
    """(name, body) of every `fn` in a file, test modules left out."""
    text = path.read_text()
    cut = text.find("#[cfg(test)]")
    if cut >= 0:
        text = text[:cut]
    out = []
    for m in re.finditer(r"\bfn\s+(\w+)\s*(<[^{;]*?>)?\s*\(", text):
        start = text.find("{", m.end())
        semi = text.find(";", m.end())
        if start < 0 or (0 <= semi < start and "where" not in text[m.end():semi]):
            continue
        depth, i = 0, start
        while i < len(text):
            c = text[i]
            if c == "{":
                depth += 1
            elif c == "}":
                depth -= 1
                if depth == 0:
                    break
            i += 1
        out.append((m.group(1), text[start:i + 1]))
    return out


STOP = {"new", "default", "from", "get", "list", "map", "text", "str", "len", "is_empty", "iter", "clone", "fmt", "index", "relate", "node", "edge", "contains", "insert", "push", "find", "filter", "any", "all", "first", "last", "next", "as_str", "to_string", "parse", "field", "items", "value", "entry", "matches", "name", "kind", "key", "keys", "values"}
CALL = re.compile(r"(?:(?<![\w.])|(?:\b(?:self|g|graph|h\.g|Self|super|crate|\w+)::)|(?:\b(?:self|g|graph|h\.g)\.))(\w+)\s*(?:::<[^>]*>)?\s*\(")
def main():
    bodies = {}
    for path in sorted(GRAPH.glob("*.rs")) + sorted(FNS.glob("*.rs")):
        if path.name == "dependencies.rs":
            continue
        for name, body in functions(path):
            bodies.setdefault(name, []).append(body)
    names = set(bodies)
    reads = {n: set() for n in names}
    calls = {n: set() for n in names}
    for n, bs in bodies.items():
        for b in bs:
            for rx, kinds in MARKERS:
                if rx.search(b):
                    reads[n].update(kinds)
            calls[n].update(w for w in re.findall(CALL, b) if w in names and w != n and w not in STOP)
    changed = True
    while changed:
        changed = False
        for n in names:
            before = len(reads[n])
            for c in calls[n]:
                reads[n] |= reads[c]
            changed |= len(reads[n]) != before
    table = {}
    for path in sorted(FNS.glob("*.rs")):
        text = path.read_text()
        m = re.search(r"FUNCTIONS: &\[GraphEntry\] = &\[(.*?)\n\];", text, re.S)
        if not m:
            continue
        for name, rust in re.findall(r'\(\s*"(\w+)",\s*\d+,\s*(\w+),?\s*\)', m.group(1)):
            table[name] = sorted(reads.get(rust, set()), key=KINDS.index)
    if "--check" in sys.argv:
        declared = (FNS / "dependencies.rs").read_text()
        bad = 0
        for name, kinds in table.items():
            m = re.search(rf'\("{name}",\s*(.*?)\),\n', declared, re.S)
            if not m:
                print(f"{name}: not declared")
                bad += 1
                continue
            entry = m.group(1)
            if "ALL" in entry or "NAMED_KIND" in entry:
                continue
            missing = [k for k in kinds if not re.search(rf"\b{k}\b", entry)]
            if missing:
                print(f"{name}: declared without {', '.join(missing)}")
                bad += 1
        sys.exit(1 if bad else 0)
    for name, kinds in table.items():
        print(f"{name}: {' '.join(kinds)}")


if __name__ == "__main__":
    main()
