//! A small seeded input generator for meshlint's randomized tests (stable Rust, no
//! fuzzing engine): it mutates real manifests (`testdata/rules/*/*.yaml`,
//! `testdata/hostile/`) and hand-written hostile seeds with byte- and token-level edits.
//!
//! Shared by `crates/meshlint-model/tests/fuzz_loader.rs` and
//! `crates/meshlint-cli/tests/fuzz_check.rs` (included with `#[path]`). Every case is
//! a pure function of (seed, case index), so a failure is reproduced by its numbers.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// SplitMix64: tiny, fast, good enough to drive mutations.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// `MESHLINT_FUZZ_CASES` (default `default`) and `MESHLINT_FUZZ_SEED` (default 18).
pub fn budget(default: usize) -> (usize, u64) {
    let cases = std::env::var("MESHLINT_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default);
    let seed = std::env::var("MESHLINT_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(18);
    (cases, seed)
}

/// Tokens that steer the YAML parser into its corners.
const TOKENS: &[&str] = &[
    "&a ",
    "*a",
    "&b ",
    "*b",
    "<<: *a\n",
    "<<: [*a, *b]\n",
    "---\n",
    "...\n",
    "{",
    "}",
    "[",
    "]",
    "\"",
    "'",
    "\n",
    ": ",
    "- ",
    "\t",
    "? ",
    "!!str ",
    "!!binary ",
    "|\n",
    ">-\n",
    "%YAML 9.9\n",
    "%YAML 1.2\n",
    "%TAG ! tag:x,2000:\n",
    "#",
    "\r\n",
    "\u{1b}[31m",
    "\u{202e}",
    "\u{0}",
    "\u{85}",
    "\u{feff}",
    "{{ .Values.x }}",
    "null",
    "~",
    "\"\\x41\\u00e9\"",
    "kind: Secret\n",
    "kind: List\nitems:\n",
    "apiVersion: v1\n",
    "metadata: {name: x}\n",
    "port: \"8O\"\n",
    "ports: 5\n",
    "containers: x\n",
    "- null\n",
    "hosts: [null]\n",
    "number: 70000\n",
    "number: -1\n",
    "0x1F",
    "1e400",
    ".nan",
    "2001-01-01",
    "yes",
    "        ",
    "::error file=x::y\n",
    "data:\n  k: CANARYfuzz\n",
];

/// Hand-written seeds for what the real manifests lack.
const HOSTILE_SEEDS: &[&str] = &[
    "a: &a [x, x, x, x]\nb: &b [*a, *a, *a, *a]\nc: [*b, *b, *b, *b]\n",
    "base: &b {x: 1, y: 2}\nm:\n  <<: *b\n  y: 3\n  y: 4\n",
    "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Secret\n  metadata: {name: s}\n  stringData: {k: &k CANARYfuzz}\n- apiVersion: networking.istio.io/v1\n  kind: VirtualService\n  metadata: {name: v}\n  spec: {hosts: [*k]}\n",
    "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  selector: {app: a}\n  ports:\n  - port: \"8O\"\n    targetPort: x\n",
    "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  selector: {matchLabels: {app: a}}\n  template:\n    metadata: {labels: {app: a}}\n    spec:\n      containers: x\n",
    "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: g}\nspec:\n  servers:\n  - null\n  - port: {number: 70000, name: http, protocol: HTTP}\n    hosts: [null, \"*\"]\n",
    "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"n\",\"labels\":{\"istio-injection\":5}}}",
    "%YAML 1.2\n---\na: !!str 1\n...\n%YAML 1.1\n---\nb: 2\n",
    "key: |\n  ---\n  not a document\n---\nk: v\n",
];

/// Every `.yaml` / `.json` file under `dir`, recursively, sorted.
fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = rd.filter_map(Result::ok).map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            files_under(&p, out);
        } else if p
            .extension()
            .is_some_and(|e| e == "yaml" || e == "yml" || e == "json")
        {
            out.push(p);
        }
    }
}

/// The seed corpus: the hostile seeds plus the rule fixtures and `testdata/hostile/`.
pub fn seeds(workspace: &Path) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = HOSTILE_SEEDS
        .iter()
        .map(|s| s.as_bytes().to_vec())
        .collect();
    let mut files = Vec::new();
    files_under(&workspace.join("testdata/rules"), &mut files);
    files_under(&workspace.join("testdata/hostile"), &mut files);
    for f in files {
        if let Ok(b) = std::fs::read(&f) {
            if b.len() <= 64 * 1024 {
                out.push(b);
            }
        }
    }
    out
}

/// One generated input: a seed (sometimes two spliced) with 1–8 mutations.
pub fn generate(rng: &mut Rng, seeds: &[Vec<u8>]) -> Vec<u8> {
    let mut data = rng.pick(seeds).clone();
    if rng.below(4) == 0 {
        let other = rng.pick(seeds);
        let cut = rng.below(data.len() + 1);
        let from = rng.below(other.len() + 1);
        data.truncate(cut);
        data.extend_from_slice(&other[from..]);
    }
    for _ in 0..1 + rng.below(8) {
        mutate(rng, &mut data);
    }
    data
}

fn mutate(rng: &mut Rng, data: &mut Vec<u8>) {
    let at = rng.below(data.len() + 1);
    match rng.below(8) {
        0..=2 => {
            let t = rng.pick(TOKENS).as_bytes();
            data.splice(at..at, t.iter().copied());
        }
        3 => {
            let end = (at + 1 + rng.below(16)).min(data.len());
            data.drain(at..end);
        }
        4 => {
            let b = rng.next_u64() as u8;
            if at < data.len() {
                data[at] = b;
            } else {
                data.push(b);
            }
        }
        5 => {
            // Duplicate a line-ish range (duplicate keys, repeated documents).
            let end = (at + 1 + rng.below(80)).min(data.len());
            let piece = data[at..end].to_vec();
            data.splice(end..end, piece);
        }
        6 => {
            // Indent or dedent.
            let n = rng.below(5);
            data.splice(at..at, std::iter::repeat_n(b' ', n));
        }
        _ => {
            // A long line: pushes columns past what renderers expect.
            if rng.below(8) == 0 {
                let n = 1 + rng.below(70_000);
                data.splice(at..at, std::iter::repeat_n(b'x', n));
            }
        }
    }
}

/// Saves a failing input where the crash can be found again and added to
/// `testdata/hostile/`. Returns the path.
pub fn save_crash(dir: &Path, seed: u64, case: usize, data: &[u8]) -> PathBuf {
    let p = dir.join(format!("fuzz-crash-{seed}-{case}.yaml"));
    let _ = std::fs::write(&p, data);
    p
}
