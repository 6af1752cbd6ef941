//! The protocol loop: requests and notifications in, diagnostics out. One thread owns
//! the workspace; a background thread re-evaluates every rule after each edit (see
//! [`crate::workspace`]) on its own one-thread pool, so that the quick evaluation of
//! the next edit never waits behind it.

use crate::checker::Checker;
use crate::convert::{self, file_name};
use crate::cursor::target_at;
use crate::workspace::Workspace;
use crate::{actions, hover, names};
use crossbeam_channel::{select, unbounded, Sender};
use lsp_server::{Connection, ErrorCode, Message, Notification, Request, Response};
use lsp_types::notification::{
    DidChangeTextDocument, DidChangeWatchedFiles, DidCloseTextDocument, DidOpenTextDocument,
    DidSaveTextDocument, LogMessage, Notification as _, PublishDiagnostics, ShowMessage,
};
use lsp_types::request::{
    CodeActionRequest, GotoDefinition, HoverRequest, References, Request as _,
};
use lsp_types::{
    CodeActionOrCommand, CodeActionProviderCapability, GotoDefinitionResponse, Hover,
    HoverContents, HoverProviderCapability, InitializeParams, Location, LogMessageParams,
    MarkupContent, MarkupKind, MessageType, OneOf, PublishDiagnosticsParams, SaveOptions,
    ServerCapabilities, ServerInfo, ShowMessageParams, TextDocumentSyncCapability,
    TextDocumentSyncKind, TextDocumentSyncOptions, TextDocumentSyncSaveOptions, Url,
};
use meshlint_rules::Evaluation;
use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A background full evaluation: the workspace generation it evaluated, and its result.
type FullPass = (u64, Evaluation);

/// Builds the check pipeline for a workspace root; the messages (a broken
/// `.meshlint.yaml`, say) are shown to the user, and the server goes on.
pub type CheckerFactory = dyn FnOnce(&Path) -> (Arc<dyn Checker>, Vec<String>);

fn capabilities() -> ServerCapabilities {
    ServerCapabilities {
        text_document_sync: Some(TextDocumentSyncCapability::Options(
            TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(TextDocumentSyncKind::FULL),
                save: Some(TextDocumentSyncSaveOptions::SaveOptions(SaveOptions {
                    include_text: Some(false),
                })),
                ..TextDocumentSyncOptions::default()
            },
        )),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        definition_provider: Some(OneOf::Left(true)),
        references_provider: Some(OneOf::Left(true)),
        code_action_provider: Some(CodeActionProviderCapability::Simple(true)),
        ..ServerCapabilities::default()
    }
}

/// Serves one client over `connection` until it shuts down.
pub fn serve(connection: &Connection, make: Box<CheckerFactory>) -> Result<(), String> {
    let (id, params) = connection.initialize_start().map_err(|e| e.to_string())?;
    let params: InitializeParams = serde_json::from_value(params).unwrap_or_default();
    let result = serde_json::json!({
        "capabilities": capabilities(),
        "serverInfo": ServerInfo { name: "meshlint".into(), version: Some(env!("CARGO_PKG_VERSION").into()) },
    });
    connection
        .initialize_finish(id, result)
        .map_err(|e| e.to_string())?;
    let root = workspace_root(&params);
    let (checker, warnings) = make(&root);
    let mut server = Server {
        sender: connection.sender.clone(),
        workspace: Workspace::new(checker),
        open: HashMap::new(),
        root,
        full: None,
        full_running: false,
        full_due: None,
    };
    for w in warnings {
        server.notify::<ShowMessage>(ShowMessageParams {
            typ: MessageType::WARNING,
            message: format!("meshlint: {w}"),
        });
    }
    server.load();
    server.run(connection)
}

/// The workspace folder the client names, else the working directory.
fn workspace_root(params: &InitializeParams) -> PathBuf {
    let from_uri = |u: &Url| u.to_file_path().ok();
    #[allow(deprecated)]
    let root = params
        .workspace_folders
        .as_ref()
        .and_then(|f| f.first())
        .and_then(|f| from_uri(&f.uri))
        .or_else(|| params.root_uri.as_ref().and_then(from_uri));
    root.or_else(|| std::env::current_dir().ok())
        .unwrap_or_else(|| PathBuf::from("."))
}

struct Server {
    sender: Sender<Message>,
    workspace: Workspace,
    /// The editor's buffers, which win over the disk.
    open: HashMap<Arc<str>, String>,
    root: PathBuf,
    /// Where background full evaluations report.
    full: Option<(Sender<FullPass>, rayon::ThreadPool)>,
    full_running: bool,
    /// When the background full evaluation is due: a pause in typing (see [`FULL_DELAY`]).
    full_due: Option<Instant>,
}

/// The background full evaluation starts once edits pause this long, so that it does
/// not compete for the CPU with the quick evaluation of each keystroke.
const FULL_DELAY: Duration = Duration::from_millis(200);

impl Server {
    fn notify<N: lsp_types::notification::Notification>(&self, params: N::Params) {
        let _ = self
            .sender
            .send(Notification::new(N::METHOD.to_string(), params).into());
    }

    fn log(&self, message: String) {
        self.notify::<LogMessage>(LogMessageParams {
            typ: MessageType::LOG,
            message,
        });
    }

    fn load(&mut self) {
        let started = Instant::now();
        let paths = match self.workspace.checker.discover() {
            Ok(p) => p,
            Err(e) => {
                self.notify::<ShowMessage>(ShowMessageParams {
                    typ: MessageType::ERROR,
                    message: format!("meshlint: {e}"),
                });
                Vec::new()
            }
        };
        self.workspace.load(&paths, &self.open);
        self.publish();
        self.log(format!(
            "meshlint: loaded {} files under {} in {} ms",
            paths.len(),
            self.root.display(),
            started.elapsed().as_millis()
        ));
    }

    fn publish(&mut self) {
        for (file, diagnostics) in self.workspace.changed_diagnostics() {
            let Some(uri) = convert::uri(&file) else {
                continue;
            };
            self.notify::<PublishDiagnostics>(PublishDiagnosticsParams {
                uri,
                diagnostics,
                version: None,
            });
        }
    }

    fn run(&mut self, connection: &Connection) -> Result<(), String> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .stack_size(64 << 20)
            .thread_name(|_| "meshlint-full-pass".into())
            .build()
            .map_err(|e| e.to_string())?;
        let (tx, rx) = unbounded();
        self.full = Some((tx, pool));
        loop {
            let wait = match self.full_due {
                Some(due) => due.saturating_duration_since(Instant::now()),
                None => Duration::from_secs(3600),
            };
            select! {
                recv(connection.receiver) -> msg => {
                    let Ok(msg) = msg else { return Ok(()) };
                    if let Message::Request(req) = &msg {
                        if connection.handle_shutdown(req).map_err(|e| e.to_string())? {
                            return Ok(());
                        }
                    }
                    let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| self.handle(msg)));
                    if outcome.is_err() {
                        self.notify::<ShowMessage>(ShowMessageParams {
                            typ: MessageType::ERROR,
                            message: "meshlint: internal error handling a message (see the server's stderr)".into(),
                        });
                    }
                }
                recv(rx) -> done => {
                    self.full_running = false;
                    if let Ok((generation, eval)) = done {
                        let started = Instant::now();
                        if self.workspace.apply_full(generation, eval) {
                            self.publish();
                            self.log(format!("meshlint: full evaluation applied in {} ms", started.elapsed().as_millis()));
                        } else if self.full_due.is_none() {
                            self.start_full();
                        }
                    }
                }
                default(wait) => {
                    if self.full_due.is_some_and(|due| due <= Instant::now()) {
                        if self.full_running {
                            // Try again once the running (now stale) evaluation is done.
                            self.full_due = Some(Instant::now() + FULL_DELAY);
                        } else {
                            self.full_due = None;
                            self.start_full();
                        }
                    }
                }
            }
        }
    }

    /// Starts a full evaluation of the current graph in the background, unless one runs.
    fn start_full(&mut self) {
        if self.full_running {
            return;
        }
        let Some((tx, pool)) = &self.full else {
            return;
        };
        self.full_running = true;
        let tx = tx.clone();
        let graph = self.workspace.graph.clone();
        let checker = self.workspace.checker.clone();
        let generation = self.workspace.generation;
        pool.spawn(move || {
            let eval = meshlint_rules::evaluate_resources(&checker.rules().rules, graph, None);
            let _ = tx.send((generation, eval));
        });
    }

    /// Re-reads one file (buffer or disk) and publishes what changed.
    fn refresh(&mut self, name: &Arc<str>) {
        let started = Instant::now();
        let checker = self.workspace.checker.clone();
        let known = self.workspace.sources.contains_key(name);
        let on_disk = Path::new(&**name).is_file();
        if !known
            && ((!self.open.contains_key(name) && !on_disk) || !checker.accepts(Path::new(&**name)))
        {
            return;
        }
        // A buffer opened or saved unchanged needs no load: the stored text is what
        // loading it would give (already normalised).
        let stored = self.workspace.sources.get(name).map(|s| &*s.text);
        if self
            .open
            .get(name)
            .is_some_and(|t| stored == Some(t.as_str()))
        {
            return;
        }
        let unit = match self.open.get(name) {
            Some(t) => Some(checker.load(name.clone(), t.clone().into_bytes())),
            // Read as a check reads it: bounded, an unreadable file is a finding.
            None if on_disk => Some(checker.read(name.clone())),
            None => None,
        };
        let old = self.workspace.sources.get(name).map(|s| &*s.text);
        if unit.as_ref().map(|u| &*u.source.text) == old && unit.is_some() == known {
            return;
        }
        let update = self.workspace.update(name, unit);
        let published = Instant::now();
        self.publish();
        let publish_ms = published.elapsed().as_secs_f64() * 1000.0;
        let evaluated = if update.exact {
            "every rule on every resource".to_string()
        } else {
            format!(
                "the file's rules and {} other rules on {} resources",
                update.rules, update.resources
            )
        };
        let mut stages: Vec<String> = self
            .workspace
            .last_timings
            .iter()
            .map(|(stage, ms)| format!("{stage} {ms:.1}"))
            .collect();
        if !self.workspace.last_rule_times.is_empty() {
            let slowest: Vec<String> = self
                .workspace
                .last_rule_times
                .iter()
                .map(|(id, ms)| format!("{id} {ms:.1}"))
                .collect();
            stages.push(format!("slowest rules: {}", slowest.join(", ")));
        }
        self.log(format!(
            "meshlint: {name} re-read, {evaluated} re-evaluated, diagnostics published in {} ms ({}, findings and publish {publish_ms:.1})",
            started.elapsed().as_millis(),
            stages.join(", ")
        ));
        if !update.exact {
            self.full_due = Some(Instant::now() + FULL_DELAY);
        }
    }

    fn handle(&mut self, msg: Message) {
        match msg {
            Message::Request(req) => {
                let id = req.id.clone();
                let response = self.request(req);
                let _ = self.sender.send(
                    match response {
                        Ok(value) => Response::new_ok(id, value),
                        Err((code, message)) => Response::new_err(id, code as i32, message),
                    }
                    .into(),
                );
            }
            Message::Notification(n) => self.notification(n),
            Message::Response(_) => {}
        }
    }

    fn notification(&mut self, n: Notification) {
        match n.method.as_str() {
            DidOpenTextDocument::METHOD => {
                if let Ok(p) =
                    n.extract::<lsp_types::DidOpenTextDocumentParams>(DidOpenTextDocument::METHOD)
                {
                    if let Some(name) = file_name(&p.text_document.uri) {
                        self.open.insert(name.clone(), p.text_document.text);
                        self.refresh(&name);
                    }
                }
            }
            DidChangeTextDocument::METHOD => {
                if let Ok(p) = n.extract::<lsp_types::DidChangeTextDocumentParams>(
                    DidChangeTextDocument::METHOD,
                ) {
                    // Full synchronisation: the last change holds the whole text.
                    if let (Some(name), Some(change)) = (
                        file_name(&p.text_document.uri),
                        p.content_changes.into_iter().last(),
                    ) {
                        self.open.insert(name.clone(), change.text);
                        self.refresh(&name);
                    }
                }
            }
            DidSaveTextDocument::METHOD => {
                if let Ok(p) =
                    n.extract::<lsp_types::DidSaveTextDocumentParams>(DidSaveTextDocument::METHOD)
                {
                    if let Some(name) = file_name(&p.text_document.uri) {
                        self.refresh(&name);
                    }
                }
            }
            DidCloseTextDocument::METHOD => {
                if let Ok(p) =
                    n.extract::<lsp_types::DidCloseTextDocumentParams>(DidCloseTextDocument::METHOD)
                {
                    if let Some(name) = file_name(&p.text_document.uri) {
                        self.open.remove(&name);
                        self.refresh(&name);
                    }
                }
            }
            DidChangeWatchedFiles::METHOD => {
                if let Ok(p) = n.extract::<lsp_types::DidChangeWatchedFilesParams>(
                    DidChangeWatchedFiles::METHOD,
                ) {
                    for change in p.changes {
                        if let Some(name) = file_name(&change.uri) {
                            if !self.open.contains_key(&name) {
                                self.refresh(&name);
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }

    fn request(&mut self, req: Request) -> Result<serde_json::Value, (ErrorCode, String)> {
        let bad =
            |e: lsp_server::ExtractError<Request>| (ErrorCode::InvalidParams, format!("{e:?}"));
        let json = |v: serde_json::Value| Ok(v);
        match req.method.as_str() {
            HoverRequest::METHOD => {
                let p: lsp_types::HoverParams = req
                    .extract(HoverRequest::METHOD)
                    .map(|(_, p)| p)
                    .map_err(bad)?;
                let pos = p.text_document_position_params;
                json(
                    serde_json::to_value(self.hover(&pos.text_document.uri, pos.position))
                        .unwrap_or_default(),
                )
            }
            GotoDefinition::METHOD => {
                let p: lsp_types::GotoDefinitionParams = req
                    .extract(GotoDefinition::METHOD)
                    .map(|(_, p)| p)
                    .map_err(bad)?;
                let pos = p.text_document_position_params;
                let locs = self.navigate(&pos.text_document.uri, pos.position, false);
                json(
                    serde_json::to_value(locs.map(GotoDefinitionResponse::Array))
                        .unwrap_or_default(),
                )
            }
            References::METHOD => {
                let p: lsp_types::ReferenceParams = req
                    .extract(References::METHOD)
                    .map(|(_, p)| p)
                    .map_err(bad)?;
                let pos = p.text_document_position;
                json(
                    serde_json::to_value(self.navigate(&pos.text_document.uri, pos.position, true))
                        .unwrap_or_default(),
                )
            }
            CodeActionRequest::METHOD => {
                let p: lsp_types::CodeActionParams = req
                    .extract(CodeActionRequest::METHOD)
                    .map(|(_, p)| p)
                    .map_err(bad)?;
                json(serde_json::to_value(self.code_actions(&p)).unwrap_or_default())
            }
            other => Err((
                ErrorCode::MethodNotFound,
                format!("meshlint does not handle `{other}`"),
            )),
        }
    }

    fn hover(&self, uri: &Url, position: lsp_types::Position) -> Option<Hover> {
        let name = file_name(uri)?;
        let source = self.workspace.sources.get(&name)?;
        let pos = convert::pos(source, position);
        let here: Vec<&meshlint_diag::Finding> = self
            .workspace
            .findings
            .get(&name)
            .map(|list| {
                list.iter()
                    .filter(|f| convert::contains(f.location.span, pos))
                    .collect()
            })
            .unwrap_or_default();
        let graph = &self.workspace.graph;
        let target = target_at(graph, &name, pos);
        let mut text = target
            .as_ref()
            .and_then(|t| hover::resolution_text(graph, t))
            .unwrap_or_default();
        if !here.is_empty() {
            if !text.is_empty() {
                text.push_str("\n---\n\n");
            }
            text.push_str(&hover::findings_text(&here, self.workspace.checker.rules()));
        }
        if text.is_empty() {
            return None;
        }
        Some(Hover {
            contents: HoverContents::Markup(MarkupContent {
                kind: MarkupKind::Markdown,
                value: text,
            }),
            range: target.map(|t| convert::range(Some(source), t.node.span())),
        })
    }

    fn navigate(
        &self,
        uri: &Url,
        position: lsp_types::Position,
        all: bool,
    ) -> Option<Vec<Location>> {
        let name = file_name(uri)?;
        let source = self.workspace.sources.get(&name)?;
        let graph = &self.workspace.graph;
        let target = target_at(graph, &name, convert::pos(source, position))?;
        let named = names::classify(graph, &target)?;
        let found = if all {
            names::references(graph, &named)
        } else {
            names::definitions(graph, &named)
        };
        Some(
            found
                .iter()
                .filter_map(|l| convert::location(&self.workspace.sources, l))
                .collect(),
        )
    }

    fn code_actions(&self, p: &lsp_types::CodeActionParams) -> Vec<CodeActionOrCommand> {
        let Some(name) = file_name(&p.text_document.uri) else {
            return Vec::new();
        };
        let Some(source) = self.workspace.sources.get(&name) else {
            return Vec::new();
        };
        let rules = self.workspace.checker.rules();
        let mut out = Vec::new();
        for f in self.workspace.findings.get(&name).into_iter().flatten() {
            let diagnostic = convert::diagnostic(f, &self.workspace.sources, rules);
            if !actions::overlaps(diagnostic.range, p.range) {
                continue;
            }
            out.extend(
                actions::quick_fixes(f, source, &p.text_document.uri, &diagnostic)
                    .into_iter()
                    .map(CodeActionOrCommand::CodeAction),
            );
        }
        out
    }
}
