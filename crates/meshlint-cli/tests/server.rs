//! `meshlint server` end to end: the real binary, spoken to over its stdio with
//! lsp-server's framing and lsp-types' payloads, as an editor would. One workspace, one
//! session: the cross-file diagnostic, an edit of the PeerAuthentication that changes
//! the DestinationRule file's diagnostics, hover, go to definition, quick fixes, an
//! unparsable buffer, and a clean shutdown.

use lsp_server::{Message, Notification, Request, RequestId, Response};
use lsp_types::notification::{
    DidChangeTextDocument, DidOpenTextDocument, Exit, Initialized, Notification as _,
    PublishDiagnostics,
};
use lsp_types::request::{
    CodeActionRequest, GotoDefinition, HoverRequest, Initialize, References, Shutdown,
};
use lsp_types::*;
use std::collections::HashMap;
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

/// Generous: a debug build on a busy two-core machine.
const TIMEOUT: Duration = Duration::from_secs(60);

const NAMESPACE: &str = "\
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {istio-injection: enabled}}
---
apiVersion: v1
kind: Service
metadata: {name: backend, namespace: shop}
spec:
  selector: {app: backend}
  ports: [{name: http-api, port: 80, targetPort: 8080}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: backend-v1, namespace: shop}
spec:
  selector: {matchLabels: {app: backend, version: v1}}
  template:
    metadata: {labels: {app: backend, version: v1}}
    spec:
      containers: [{name: app, image: backend:1, ports: [{containerPort: 8080}]}]
";

const PEER_AUTHENTICATION: &str = "\
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: shop}
spec:
  mtls: {mode: STRICT}
";

const DESTINATION_RULE: &str = "\
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: backend, namespace: shop}
spec:
  host: backend
  trafficPolicy:
    tls:
      mode: DISABLE
  subsets:
  - name: v1
    labels: {version: v1}
";

const VIRTUAL_SERVICE: &str = "\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: backend, namespace: shop}
spec:
  hosts: [backend]
  http:
  - route:
    - destination:
        host: backend
        subset: v1
";

const TYPO: &str = "\
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: other, namespace: shop}
spec:
  host: other.example.com
  trafficPolicy:
    loadBalancer: {simple: ROUND_ROBN}
";

struct Client {
    child: Child,
    stdin: BufWriter<ChildStdin>,
    messages: Receiver<Message>,
    next_id: i32,
    /// The diagnostics last published, by URI.
    diagnostics: HashMap<Url, Vec<Diagnostic>>,
    logs: Vec<String>,
}

impl Client {
    fn start(root: &Path) -> Client {
        let mut child = Command::new(env!("CARGO_BIN_EXE_meshlint"))
            .args(["server", "--stdio"])
            .current_dir(root)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start meshlint server");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            while let Ok(Some(msg)) = Message::read(&mut reader) {
                if tx.send(msg).is_err() {
                    break;
                }
            }
        });
        Client {
            stdin: BufWriter::new(child.stdin.take().unwrap()),
            child,
            messages: rx,
            next_id: 1,
            diagnostics: HashMap::new(),
            logs: Vec::new(),
        }
    }

    fn send(&mut self, msg: Message) {
        msg.write(&mut self.stdin).expect("write to the server");
        self.stdin.flush().unwrap();
    }

    fn notify<N: lsp_types::notification::Notification>(&mut self, params: N::Params) {
        self.send(Notification::new(N::METHOD.to_string(), params).into());
    }

    /// Takes one message from the server, recording notifications.
    fn next(&mut self, deadline: Instant) -> Option<Message> {
        let left = deadline.saturating_duration_since(Instant::now());
        match self.messages.recv_timeout(left) {
            Ok(Message::Notification(n)) if n.method == PublishDiagnostics::METHOD => {
                let p: PublishDiagnosticsParams = serde_json::from_value(n.params).unwrap();
                self.diagnostics.insert(p.uri, p.diagnostics);
                Some(Message::Notification(Notification::new(
                    PublishDiagnostics::METHOD.into(),
                    (),
                )))
            }
            Ok(Message::Notification(n)) => {
                if let Some(m) = n.params.get("message").and_then(|m| m.as_str()) {
                    self.logs.push(m.to_string());
                }
                Some(Message::Notification(n))
            }
            Ok(m) => Some(m),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => panic!("the server closed its output"),
        }
    }

    fn request<R: lsp_types::request::Request>(&mut self, params: R::Params) -> R::Result {
        let id = RequestId::from(self.next_id);
        self.next_id += 1;
        self.send(Request::new(id.clone(), R::METHOD.to_string(), params).into());
        let deadline = Instant::now() + TIMEOUT;
        loop {
            match self.next(deadline) {
                Some(Message::Response(Response {
                    id: got,
                    result,
                    error,
                })) if got == id => {
                    assert!(error.is_none(), "{} failed: {error:?}", R::METHOD);
                    return serde_json::from_value(result.unwrap_or_default()).unwrap();
                }
                Some(_) => {}
                None => panic!("no answer to {}", R::METHOD),
            }
        }
    }

    /// Waits until the diagnostics of `uri` satisfy `ok`.
    fn wait_for(
        &mut self,
        uri: &Url,
        what: &str,
        ok: impl Fn(&[Diagnostic]) -> bool,
    ) -> Vec<Diagnostic> {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(d) = self.diagnostics.get(uri) {
                if ok(d) {
                    return d.clone();
                }
            }
            if self.next(deadline).is_none() {
                panic!(
                    "{what}: diagnostics of {uri} are {:#?}\nserver log: {:#?}",
                    self.diagnostics.get(uri),
                    self.logs
                );
            }
        }
    }

    /// Waits for the background full evaluation after the last edit.
    fn settle(&mut self) {
        let deadline = Instant::now() + TIMEOUT;
        let before = self
            .logs
            .iter()
            .filter(|l| l.contains("full evaluation"))
            .count();
        while self
            .logs
            .iter()
            .filter(|l| l.contains("full evaluation"))
            .count()
            == before
        {
            if self.next(deadline).is_none() {
                panic!("no full evaluation: {:#?}", self.logs);
            }
        }
    }
}

fn codes(d: &[Diagnostic]) -> Vec<String> {
    d.iter()
        .filter_map(|d| match &d.code {
            Some(NumberOrString::String(s)) => Some(s.clone()),
            _ => None,
        })
        .collect()
}

fn has(d: &[Diagnostic], code: &str) -> bool {
    codes(d).iter().any(|c| c == code)
}

fn at(uri: &Url, line: u32, character: u32) -> TextDocumentPositionParams {
    TextDocumentPositionParams {
        text_document: TextDocumentIdentifier { uri: uri.clone() },
        position: Position { line, character },
    }
}

/// Applies a full-line-aware edit list to a text (the client's side of a quick fix).
fn apply(text: &str, edits: &[TextEdit]) -> String {
    let offset = |p: Position| -> usize {
        let mut off = 0;
        for (i, line) in text.split_inclusive('\n').enumerate() {
            if i as u32 == p.line {
                return off
                    + line
                        .chars()
                        .take(p.character as usize)
                        .map(char::len_utf8)
                        .sum::<usize>();
            }
            off += line.len();
        }
        text.len()
    };
    let mut edits = edits.to_vec();
    edits.sort_by_key(|e| std::cmp::Reverse(e.range.start));
    let mut out = text.to_string();
    for e in edits {
        out.replace_range(offset(e.range.start)..offset(e.range.end), &e.new_text);
    }
    out
}

fn change(client: &mut Client, uri: &Url, version: i32, text: &str) {
    client.notify::<DidChangeTextDocument>(DidChangeTextDocumentParams {
        text_document: VersionedTextDocumentIdentifier {
            uri: uri.clone(),
            version,
        },
        content_changes: vec![TextDocumentContentChangeEvent {
            range: None,
            range_length: None,
            text: text.to_string(),
        }],
    });
}

fn open(client: &mut Client, uri: &Url, text: &str) {
    client.notify::<DidOpenTextDocument>(DidOpenTextDocumentParams {
        text_document: TextDocumentItem {
            uri: uri.clone(),
            language_id: "yaml".into(),
            version: 1,
            text: text.to_string(),
        },
    });
}

fn quick_fix(client: &mut Client, uri: &Url, d: &Diagnostic, title: &str) -> Vec<TextEdit> {
    let actions = client
        .request::<CodeActionRequest>(CodeActionParams {
            text_document: TextDocumentIdentifier { uri: uri.clone() },
            range: d.range,
            context: CodeActionContext {
                diagnostics: vec![d.clone()],
                only: None,
                trigger_kind: None,
            },
            work_done_progress_params: Default::default(),
            partial_result_params: Default::default(),
        })
        .unwrap_or_default();
    let titles: Vec<String> = actions
        .iter()
        .map(|a| match a {
            CodeActionOrCommand::CodeAction(a) => a.title.clone(),
            CodeActionOrCommand::Command(c) => c.title.clone(),
        })
        .collect();
    let action = actions
        .into_iter()
        .find_map(|a| match a {
            CodeActionOrCommand::CodeAction(a) if a.title.contains(title) => Some(a),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no quick fix `{title}` among {titles:?}"));
    let mut changes = action.edit.unwrap().changes.unwrap();
    changes.remove(uri).expect("the fix edits the file")
}

#[test]
fn editor_session() {
    let dir = tempfile::tempdir().unwrap();
    let root: PathBuf = dir.path().canonicalize().unwrap();
    let files = [
        ("namespace.yaml", NAMESPACE),
        ("peer-authentication.yaml", PEER_AUTHENTICATION),
        ("destination-rule.yaml", DESTINATION_RULE),
        ("virtual-service.yaml", VIRTUAL_SERVICE),
        ("typo.yaml", TYPO),
    ];
    for (name, text) in files {
        std::fs::write(root.join(name), text).unwrap();
    }
    let uri = |name: &str| Url::from_file_path(root.join(name)).unwrap();
    let (pa, dr, vs, typo) = (
        uri("peer-authentication.yaml"),
        uri("destination-rule.yaml"),
        uri("virtual-service.yaml"),
        uri("typo.yaml"),
    );

    let mut client = Client::start(&root);
    #[allow(deprecated)]
    let init = InitializeParams {
        root_uri: Some(Url::from_file_path(&root).unwrap()),
        ..InitializeParams::default()
    };
    let result = client.request::<Initialize>(init);
    assert!(result.capabilities.hover_provider.is_some());
    client.notify::<Initialized>(InitializedParams {});

    // The cross-file diagnostic: the DestinationRule's DISABLE against the STRICT policy
    // of another file, with the policy as related information and the rule's page linked.
    let diagnostics = client.wait_for(&dr, "ML1001 on the DestinationRule", |d| has(d, "ML1001"));
    let ml1001 = diagnostics
        .iter()
        .find(|d| has(std::slice::from_ref(d), "ML1001"))
        .unwrap();
    assert_eq!(ml1001.severity, Some(DiagnosticSeverity::ERROR));
    assert_eq!(
        ml1001.range.start,
        Position {
            line: 7,
            character: 12
        }
    );
    let href = ml1001
        .code_description
        .as_ref()
        .expect("a link to the rule")
        .href
        .as_str();
    assert!(href.ends_with("/ML1001.md"), "{href}");
    let related = ml1001
        .related_information
        .as_ref()
        .expect("related information");
    assert!(related.iter().any(|r| r.location.uri == pa), "{related:?}");

    // Edit the PeerAuthentication in the editor (unsaved): the DestinationRule's file
    // loses its diagnostic.
    open(&mut client, &pa, PEER_AUTHENTICATION);
    change(
        &mut client,
        &pa,
        2,
        &PEER_AUTHENTICATION.replace("STRICT", "PERMISSIVE"),
    );
    client.wait_for(&dr, "ML1001 gone after PERMISSIVE", |d| !has(d, "ML1001"));
    // And back.
    change(&mut client, &pa, 3, PEER_AUTHENTICATION);
    client.wait_for(&dr, "ML1001 back after STRICT", |d| has(d, "ML1001"));

    // Hover on the VirtualService's destination host: what it resolves to.
    let hover = client
        .request::<HoverRequest>(HoverParams {
            text_document_position_params: at(&vs, 8, 16),
            work_done_progress_params: Default::default(),
        })
        .expect("a hover on the host");
    let HoverContents::Markup(text) = hover.contents else {
        panic!("markdown hover expected");
    };
    for part in [
        "backend.shop.svc.cluster.local",
        "Service shop/backend",
        "DestinationRule shop/backend",
        "STRICT",
    ] {
        assert!(
            text.value.contains(part),
            "`{part}` not in the hover:\n{}",
            text.value
        );
    }
    // Go to definition from the subset, and the host's references.
    let definition = client.request::<GotoDefinition>(GotoDefinitionParams {
        text_document_position_params: at(&vs, 9, 17),
        work_done_progress_params: Default::default(),
        partial_result_params: Default::default(),
    });
    let Some(GotoDefinitionResponse::Array(locations)) = definition else {
        panic!("no definition: {definition:?}");
    };
    assert_eq!(locations.len(), 1, "{locations:?}");
    assert_eq!(locations[0].uri, dr);
    assert_eq!(locations[0].range.start.line, 9);
    let references = client
        .request::<References>(ReferenceParams {
            text_document_position: at(&vs, 8, 16),
            context: ReferenceContext {
                include_declaration: true,
            },
            work_done_progress_params: Default::default(),
            partial_result_params: Default::default(),
        })
        .unwrap_or_default();
    for file in [&dr, &vs, &uri("namespace.yaml")] {
        assert!(
            references.iter().any(|l| &l.uri == file),
            "{file} not among {references:?}"
        );
    }

    // The schema's did-you-mean as a quick fix.
    let diagnostics = client.wait_for(&typo, "the enum typo", |d| !d.is_empty());
    let typo_diagnostic = diagnostics
        .iter()
        .find(|d| d.message.contains("ROUND_ROBIN"))
        .unwrap_or_else(|| panic!("{diagnostics:#?}"))
        .clone();
    let edits = quick_fix(
        &mut client,
        &typo,
        &typo_diagnostic,
        "Replace with `ROUND_ROBIN`",
    );
    let fixed = apply(TYPO, &edits);
    assert!(fixed.contains("simple: ROUND_ROBIN}"), "{fixed}");
    open(&mut client, &typo, TYPO);
    change(&mut client, &typo, 2, &fixed);
    client.wait_for(&typo, "the typo fixed", |d| {
        !d.iter().any(|d| d.message.contains("ROUND_ROBN"))
    });

    // An unparsable buffer: a parse diagnostic there, the rest keeps its diagnostics.
    client.settle();
    change(
        &mut client,
        &typo,
        3,
        "apiVersion: v1\nkind: [unclosed\n  metadata: {\n",
    );
    let broken = client.wait_for(&typo, "a parse diagnostic", |d| has(d, "parse-error"));
    assert_eq!(broken[0].severity, Some(DiagnosticSeverity::ERROR));
    client.settle();
    assert!(
        has(&client.diagnostics[&dr], "ML1001"),
        "{:#?}",
        client.diagnostics
    );

    // Suppress the finding where it is reported: the comment goes on the line above.
    let ml1001 = client.diagnostics[&dr]
        .iter()
        .find(|d| has(std::slice::from_ref(d), "ML1001"))
        .unwrap()
        .clone();
    let edits = quick_fix(&mut client, &dr, &ml1001, "Suppress ML1001");
    let suppressed = apply(DESTINATION_RULE, &edits);
    assert!(
        suppressed.contains("    tls:\n      # meshlint-ignore: ML1001\n      mode: DISABLE\n"),
        "{suppressed}"
    );
    open(&mut client, &dr, DESTINATION_RULE);
    change(&mut client, &dr, 2, &suppressed);
    client.wait_for(&dr, "ML1001 suppressed", |d| !has(d, "ML1001"));

    // A clean shutdown.
    client.request::<Shutdown>(());
    client.notify::<Exit>(());
    let deadline = Instant::now() + TIMEOUT;
    loop {
        if let Some(status) = client.child.try_wait().unwrap() {
            assert!(status.success(), "the server exited with {status}");
            break;
        }
        assert!(Instant::now() < deadline, "the server did not exit");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `.meshlint.yaml` reaches the server as it reaches `check`: the baseline (written by
/// `check --write-baseline` in the workspace) hides the findings it accepts, and the
/// mesh networks file is read and gets its own diagnostics.
#[test]
fn configuration_file_settings_reach_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let root: PathBuf = dir.path().canonicalize().unwrap();
    for (name, text) in [
        ("namespace.yaml", NAMESPACE),
        ("peer-authentication.yaml", PEER_AUTHENTICATION),
        ("destination-rule.yaml", DESTINATION_RULE),
    ] {
        std::fs::write(root.join(name), text).unwrap();
    }
    let written = Command::new(env!("CARGO_BIN_EXE_meshlint"))
        .args([
            "check",
            "--no-config",
            "--write-baseline",
            "baseline.json",
            ".",
        ])
        .current_dir(&root)
        .output()
        .unwrap();
    assert!(
        std::fs::read_to_string(root.join("baseline.json"))
            .unwrap_or_default()
            .contains("ML1001"),
        "{}",
        String::from_utf8_lossy(&written.stderr)
    );
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/rules/ML3019");
    std::fs::copy(fixture.join("bad.yaml"), root.join("secret.yaml")).unwrap();
    std::fs::copy(
        fixture.join("networks-bad.yaml"),
        root.join("networks.yaml"),
    )
    .unwrap();
    std::fs::write(
        root.join(".meshlint.yaml"),
        "baseline: baseline.json\nmesh_networks: networks.yaml\n",
    )
    .unwrap();

    let mut client = Client::start(&root);
    #[allow(deprecated)]
    let init = InitializeParams {
        root_uri: Some(Url::from_file_path(&root).unwrap()),
        ..InitializeParams::default()
    };
    client.request::<Initialize>(init);
    client.notify::<Initialized>(InitializedParams {});
    let networks = Url::from_file_path(root.join("networks.yaml")).unwrap();
    let found = client.wait_for(&networks, "ML3019 on the mesh networks file", |d| {
        codes(d).iter().filter(|c| *c == "ML3019").count() == 2
    });
    assert_eq!(found[0].severity, Some(DiagnosticSeverity::ERROR));
    // The initial load publishes every file at once: the DestinationRule's ML1001 is
    // in the baseline, so it is not among them.
    let dr = Url::from_file_path(root.join("destination-rule.yaml")).unwrap();
    assert!(
        !client
            .diagnostics
            .get(&dr)
            .is_some_and(|d| has(d, "ML1001")),
        "{:#?}",
        client.diagnostics
    );
    assert!(
        client
            .logs
            .iter()
            .all(|l| !l.contains("not read by the language server")),
        "{:#?}",
        client.logs
    );
    client.request::<Shutdown>(());
    client.notify::<Exit>(());
}

/// The Neovim configuration of docs/editors.md, exactly as written there, in a headless
/// Neovim: the cross-file diagnostic reaches the DestinationRule's buffer. Skipped, with
/// a message, where `nvim` is not installed (CI need not have it).
#[test]
fn neovim_headless() {
    let Ok(version) = Command::new("nvim").arg("--version").output() else {
        eprintln!("neovim_headless: skipped, `nvim` is not installed");
        return;
    };
    eprintln!(
        "neovim_headless: {}",
        String::from_utf8_lossy(&version.stdout)
            .lines()
            .next()
            .unwrap_or("")
    );
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/editors.md"
    ))
    .unwrap();
    let start = doc
        .find("```lua\n")
        .expect("a lua block in docs/editors.md")
        + "```lua\n".len();
    let config = &doc[start..start + doc[start..].find("```").unwrap()];

    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    let work = root.join("mesh");
    std::fs::create_dir_all(work.join(".git")).unwrap();
    for (name, text) in [
        ("namespace.yaml", NAMESPACE),
        ("peer-authentication.yaml", PEER_AUTHENTICATION),
        ("destination-rule.yaml", DESTINATION_RULE),
    ] {
        std::fs::write(work.join(name), text).unwrap();
    }
    let init = root.join("init.lua");
    std::fs::write(&init, config).unwrap();
    let out = root.join("out.txt");
    let driver = root.join("driver.lua");
    std::fs::write(
        &driver,
        format!(
            r#"vim.cmd('edit {dr}')
local buf = vim.api.nvim_get_current_buf()
local found = ''
vim.wait(60000, function()
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    found = found .. tostring(d.code) .. ' ' .. d.message .. '\n'
  end
  return found:find('ML1001') ~= nil
end, 100)
local f = io.open('{out}', 'w')
f:write(found)
f:close()
vim.cmd('qa!')
"#,
            dr = work.join("destination-rule.yaml").display(),
            out = out.display()
        ),
    )
    .unwrap();
    let bin = Path::new(env!("CARGO_BIN_EXE_meshlint")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let status = Command::new("nvim")
        .args(["--headless", "-u"])
        .arg(&init)
        .arg("-c")
        .arg(format!("luafile {}", driver.display()))
        .env("PATH", path)
        .current_dir(&work)
        .stdin(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "nvim exited with {status}");
    let found = std::fs::read_to_string(&out).unwrap_or_default();
    assert!(found.contains("ML1001"), "diagnostics in Neovim: {found:?}");
}
