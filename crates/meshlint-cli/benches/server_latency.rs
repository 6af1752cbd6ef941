//! Edit-to-diagnostics latency of `meshlint server` (issue 19): the real binary over
//! stdio, a generated workspace, one-line edits sent as an editor sends them
//! (`didChange`, full text), timed from the send until the server has published the
//! diagnostics the edit changed (its `re-read … published` log line follows the last
//! `publishDiagnostics` of an edit). Also times the initial load and the background
//! full evaluation that follows every edit.
//!
//! `scripts/bench-server.sh` generates the corpus and runs this; directly:
//! `MESHLINT_BENCH_CORPUS=bench-out/corpus-server cargo bench -p meshlint-cli --bench server_latency`.
//! `MESHLINT_BENCH_EDITS` sets the edits per case (default 20); `MESHLINT_BENCH_BIN`
//! runs another `meshlint` binary (an older build, to compare) instead of this one's.

use lsp_server::{Message, Notification, Request, RequestId};
use lsp_types::notification::{
    DidChangeTextDocument, DidOpenTextDocument, Initialized, Notification as _,
};
use lsp_types::request::{Initialize, Request as _};
use lsp_types::*;
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

struct Client {
    stdin: BufWriter<ChildStdin>,
    messages: Receiver<(Instant, Message)>,
}

impl Client {
    fn send(&mut self, msg: Message) {
        msg.write(&mut self.stdin).unwrap();
        self.stdin.flush().unwrap();
    }

    /// Waits for a log line containing `needle`; returns when it arrived.
    fn wait_log(&mut self, needle: &str) -> (Instant, String) {
        loop {
            let (at, msg) = self
                .messages
                .recv_timeout(Duration::from_secs(600))
                .expect("the server answers");
            if let Message::Notification(n) = msg {
                let text = n
                    .params
                    .get("message")
                    .and_then(|m| m.as_str())
                    .unwrap_or("");
                if text.contains(needle) {
                    return (at, text.to_string());
                }
            }
        }
    }

    fn change(&mut self, uri: &Url, version: i32, text: &str) {
        let params = DidChangeTextDocumentParams {
            text_document: VersionedTextDocumentIdentifier {
                uri: uri.clone(),
                version,
            },
            content_changes: vec![TextDocumentContentChangeEvent {
                range: None,
                range_length: None,
                text: text.to_string(),
            }],
        };
        self.send(Notification::new(DidChangeTextDocument::METHOD.into(), params).into());
    }
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else if p.extension().is_some_and(|e| e == "yaml") {
            out.push(p);
        }
    }
    out.sort();
    out
}

fn stats(name: &str, mut ms: Vec<f64>) {
    ms.sort_by(f64::total_cmp);
    let pick = |q: f64| ms[((ms.len() - 1) as f64 * q).round() as usize];
    println!(
        "| {name} | {} | {:.1} | {:.1} | {:.1} | {:.1} |",
        ms.len(),
        pick(0.0),
        pick(0.5),
        pick(0.9),
        ms[ms.len() - 1]
    );
}

fn main() {
    let corpus = std::env::var("MESHLINT_BENCH_CORPUS").unwrap_or_else(|_| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../bench-out/corpus-server").to_string()
    });
    let root = Path::new(&corpus)
        .canonicalize()
        .expect("corpus: see scripts/bench-server.sh");
    let edits: usize = std::env::var("MESHLINT_BENCH_EDITS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let files = files_under(&root);
    let bin = std::env::var("MESHLINT_BENCH_BIN")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_meshlint").to_string());
    println!("server: {bin}");
    let mut child = Command::new(&bin)
        .args(["server", "--no-config"])
        .current_dir(&root)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        while let Ok(Some(msg)) = Message::read(&mut reader) {
            if tx.send((Instant::now(), msg)).is_err() {
                break;
            }
        }
    });
    let mut client = Client {
        stdin: BufWriter::new(child.stdin.take().unwrap()),
        messages: rx,
    };
    let started = Instant::now();
    #[allow(deprecated)]
    let init = InitializeParams {
        root_uri: Some(Url::from_file_path(&root).unwrap()),
        ..InitializeParams::default()
    };
    client.send(Request::new(RequestId::from(1), Initialize::METHOD.into(), init).into());
    client.send(Notification::new(Initialized::METHOD.into(), InitializedParams {}).into());
    let (at, line) = client.wait_log("loaded");
    println!("workspace: {} ({} YAML files)", root.display(), files.len());
    println!(
        "initial load: {} ms client-side ({line})",
        (at - started).as_millis()
    );

    // Each case: a file and a one-line edit toggled back and forth.
    let find = |kind: &str, under: &str| -> PathBuf {
        files
            .iter()
            .find(|p| {
                p.to_string_lossy().contains(under)
                    && std::fs::read_to_string(p)
                        .unwrap()
                        .contains(&format!("kind: {kind}\n"))
            })
            .unwrap_or_else(|| panic!("no {kind} under {under}"))
            .clone()
    };
    let cases = [
        (
            "PeerAuthentication mode, one namespace",
            find("PeerAuthentication", "ns-00042"),
            "mode: STRICT",
            "mode: PERMISSIVE",
        ),
        (
            "DestinationRule TLS mode, one namespace",
            find("DestinationRule", "ns-00042"),
            "mode: ISTIO_MUTUAL",
            "mode: DISABLE",
        ),
        (
            "Service port name, one namespace",
            find("Service", "ns-00043"),
            "name: http",
            "name: tcp",
        ),
        (
            "mesh-wide PeerAuthentication (istio-system)",
            find("PeerAuthentication", "istio-system"),
            "mode: STRICT",
            "mode: PERMISSIVE",
        ),
    ];
    println!();
    println!("| edit | edits | min ms | median ms | p90 ms | max ms |");
    println!("|---|---:|---:|---:|---:|---:|");
    let mut full_ms = Vec::new();
    let mut burst_ms = Vec::new();
    let mut notes = Vec::new();
    for (name, path, from, to) in &cases {
        let text = std::fs::read_to_string(path).unwrap();
        assert!(text.contains(from), "{} has no `{from}`", path.display());
        let edited = text.replacen(from, to, 1);
        let uri = Url::from_file_path(path).unwrap();
        let open = DidOpenTextDocumentParams {
            text_document: TextDocumentItem {
                uri: uri.clone(),
                language_id: "yaml".into(),
                version: 1,
                text: text.clone(),
            },
        };
        client.send(Notification::new(DidOpenTextDocument::METHOD.into(), open).into());
        let mut ms = Vec::new();
        let mut last_line = String::new();
        for i in 0..edits {
            let body = if i % 2 == 0 { &edited } else { &text };
            let sent = Instant::now();
            client.change(&uri, i as i32 + 2, body);
            let (at, line) = client.wait_log("re-read");
            ms.push((at - sent).as_secs_f64() * 1000.0);
            last_line = line.clone();
            if !line.contains("every resource") {
                let (done, _) = client.wait_log("full evaluation");
                full_ms.push((done - sent).as_secs_f64() * 1000.0);
            }
        }
        stats(name, ms);
        notes.push(format!("{name}: {last_line}"));
        // Typing: edits 30 ms apart, not waiting for the background evaluation.
        if name.contains("one namespace") {
            for i in 0..edits {
                let body = if i % 2 == 0 { &edited } else { &text };
                let sent = Instant::now();
                client.change(&uri, (edits + i) as i32 + 2, body);
                let (at, _) = client.wait_log("re-read");
                burst_ms.push((at - sent).as_secs_f64() * 1000.0);
                std::thread::sleep(Duration::from_millis(30));
            }
            client.wait_log("full evaluation");
        }
    }
    stats("one-namespace edits while typing (30 ms apart)", burst_ms);
    stats(
        "background full evaluation, edit to exact diagnostics",
        full_ms,
    );
    println!("\nLast edit of each case, as the server logged it:");
    for n in notes {
        println!("- {n}");
    }
    drop(client);
    let _ = child.kill();
    let _ = child.wait();
}
