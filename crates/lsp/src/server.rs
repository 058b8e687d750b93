//! The server loop: the LSP handshake, document sync, debounced validation and the requests.
//!
//! One thread does everything: validating a file takes milliseconds, and doing it here keeps
//! answers in order with the text they describe. A changed document is validated once the
//! client has been quiet about it for the debounce time; opening, saving, hovering and asking
//! for code actions validate at once whatever is pending for that document.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use lsp_server::{Connection, ErrorCode, Message, Notification, Request, Response};
use lsp_types::notification::{
    DidChangeTextDocument, DidCloseTextDocument, DidOpenTextDocument, DidSaveTextDocument,
    Notification as _, PublishDiagnostics, ShowMessage,
};
use lsp_types::request::{CodeActionRequest, HoverRequest, Request as _};
use lsp_types::{
    CodeActionKind, CodeActionOptions, CodeActionParams, CodeActionProviderCapability,
    DidChangeTextDocumentParams, DidCloseTextDocumentParams, DidOpenTextDocumentParams,
    DidSaveTextDocumentParams, HoverParams, HoverProviderCapability, InitializeParams,
    InitializeResult, MessageType, PositionEncodingKind, PublishDiagnosticsParams,
    ServerCapabilities, ServerInfo, ShowMessageParams, TextDocumentSyncCapability,
    TextDocumentSyncKind, TextDocumentSyncOptions, TextDocumentSyncSaveOptions, Uri,
};

use crate::check::{self, Checked};
use crate::document::{Document, uri_to_path};
use crate::{LspError, code_actions, diagnostics, hover};

/// How the server behaves; from the client's `initializationOptions`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// Quiet time after a change before the document is validated.
    pub debounce: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options { debounce: Duration::from_millis(300) }
    }
}

impl Options {
    /// `{"debounceMs": N}` (0–10000); anything else keeps the default.
    fn from_initialization(value: Option<&serde_json::Value>) -> Self {
        let mut options = Options::default();
        if let Some(ms) = value.and_then(|v| v.get("debounceMs")).and_then(|v| v.as_u64()) {
            options.debounce = Duration::from_millis(ms.min(10_000));
        }
        options
    }
}

fn capabilities() -> ServerCapabilities {
    ServerCapabilities {
        position_encoding: Some(PositionEncodingKind::UTF16),
        text_document_sync: Some(TextDocumentSyncCapability::Options(TextDocumentSyncOptions {
            open_close: Some(true),
            change: Some(TextDocumentSyncKind::FULL),
            save: Some(TextDocumentSyncSaveOptions::Supported(true)),
            ..Default::default()
        })),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        code_action_provider: Some(CodeActionProviderCapability::Options(CodeActionOptions {
            code_action_kinds: Some(vec![CodeActionKind::QUICKFIX]),
            resolve_provider: Some(false),
            ..Default::default()
        })),
        ..Default::default()
    }
}

/// Runs the handshake and serves `connection` until the client sends `exit`. An error for a
/// broken protocol, or for `exit` without `shutdown` first.
pub fn serve(connection: Connection) -> Result<(), LspError> {
    let (id, params) = connection.initialize_start()?;
    let params: InitializeParams =
        serde_json::from_value(params).map_err(|e| format!("invalid initialize params: {e}"))?;
    let result = InitializeResult {
        capabilities: capabilities(),
        server_info: Some(ServerInfo {
            name: "dagsmith".into(),
            version: Some(dagsmith_core::VERSION.into()),
        }),
    };
    let result = serde_json::to_value(result)
        .map_err(|e| format!("cannot encode the initialize result: {e}"))?;
    connection.initialize_finish(id, result)?;

    let workspace = workspace_dir(&params);
    let options = Options::from_initialization(params.initialization_options.as_ref());
    let mut server = Server {
        connection,
        options,
        workspace,
        documents: HashMap::new(),
        pending: HashMap::new(),
        reported_errors: HashSet::new(),
    };
    server.run()
}

/// The first workspace folder, else the (deprecated) root URI, else the working directory:
/// where settings are looked up for documents that are not files.
#[allow(deprecated)]
fn workspace_dir(params: &InitializeParams) -> PathBuf {
    params
        .workspace_folders
        .as_ref()
        .and_then(|folders| folders.first())
        .and_then(|f| uri_to_path(&f.uri))
        .or_else(|| params.root_uri.as_ref().and_then(uri_to_path))
        .or_else(|| std::env::current_dir().ok())
        .unwrap_or_default()
}

struct Server {
    connection: Connection,
    options: Options,
    workspace: PathBuf,
    documents: HashMap<Uri, Document>,
    /// Changed documents and when to validate them.
    pending: HashMap<Uri, Instant>,
    /// Settings errors already shown (each once, not on every keystroke).
    reported_errors: HashSet<String>,
}

impl Server {
    fn run(&mut self) -> Result<(), LspError> {
        loop {
            let next = self.pending.values().min().copied();
            let message = match next {
                None => match self.connection.receiver.recv() {
                    Ok(m) => Some(m),
                    // The client went away without `exit`.
                    Err(_) => return Ok(()),
                },
                Some(deadline) => {
                    let wait = deadline.saturating_duration_since(Instant::now());
                    match self.connection.receiver.recv_timeout(wait) {
                        Ok(m) => Some(m),
                        Err(e) if e.is_timeout() => None,
                        Err(_) => return Ok(()),
                    }
                }
            };
            match message {
                Some(Message::Request(request)) => {
                    if self.connection.handle_shutdown(&request)? {
                        return Ok(());
                    }
                    self.on_request(request);
                }
                Some(Message::Notification(n)) if n.method == "exit" => {
                    return Err("exit before shutdown".into());
                }
                Some(Message::Notification(n)) => self.on_notification(n),
                Some(Message::Response(_)) | None => {}
            }
            self.validate_due();
        }
    }

    fn send(&self, message: impl Into<Message>) {
        // Fails only when the client has gone; the loop then ends at the next receive.
        let _ = self.connection.sender.send(message.into());
    }

    fn on_notification(&mut self, n: Notification) {
        let method = n.method.clone();
        match method.as_str() {
            DidOpenTextDocument::METHOD => {
                if let Ok(p) = n.extract::<DidOpenTextDocumentParams>(DidOpenTextDocument::METHOD) {
                    let d = p.text_document;
                    let uri = d.uri.clone();
                    self.documents.insert(
                        uri.clone(),
                        Document::new(d.uri, d.text, d.version, d.language_id),
                    );
                    self.validate(&uri);
                }
            }
            DidChangeTextDocument::METHOD => {
                if let Ok(p) =
                    n.extract::<DidChangeTextDocumentParams>(DidChangeTextDocument::METHOD)
                    && let Some(doc) = self.documents.get_mut(&p.text_document.uri)
                {
                    doc.apply(p.text_document.version, p.content_changes);
                    self.pending
                        .insert(p.text_document.uri, Instant::now() + self.options.debounce);
                }
            }
            DidSaveTextDocument::METHOD => {
                if let Ok(p) = n.extract::<DidSaveTextDocumentParams>(DidSaveTextDocument::METHOD) {
                    let uri = p.text_document.uri;
                    let path = uri.as_str();
                    if path.ends_with("/pyproject.toml") || path.ends_with("/dagsmith.toml") {
                        // Settings changed: every open document may read differently now.
                        let all: Vec<Uri> = self.documents.keys().cloned().collect();
                        for uri in all {
                            self.validate(&uri);
                        }
                    } else if self.documents.contains_key(&uri) {
                        self.validate(&uri);
                    }
                }
            }
            DidCloseTextDocument::METHOD => {
                if let Ok(p) = n.extract::<DidCloseTextDocumentParams>(DidCloseTextDocument::METHOD)
                {
                    let uri = p.text_document.uri;
                    self.documents.remove(&uri);
                    self.pending.remove(&uri);
                    self.publish(uri, Vec::new(), None);
                }
            }
            _ => {}
        }
    }

    fn on_request(&mut self, request: Request) {
        let Request { id, method, params } = request;
        let response = match method.as_str() {
            HoverRequest::METHOD => match serde_json::from_value::<HoverParams>(params) {
                Ok(p) => {
                    let uri = p.text_document_position_params.text_document.uri;
                    let at = p.text_document_position_params.position;
                    let answer = self
                        .checked(&uri)
                        .and_then(|(doc, checked)| hover::hover(doc, checked, at));
                    Response::new_ok(id, answer)
                }
                Err(e) => invalid_params(id, e),
            },
            CodeActionRequest::METHOD => match serde_json::from_value::<CodeActionParams>(params) {
                Ok(p) => {
                    let actions = self
                        .checked(&p.text_document.uri)
                        .map(|(doc, checked)| code_actions::actions(doc, checked, &p))
                        .unwrap_or_default();
                    Response::new_ok(id, actions)
                }
                Err(e) => invalid_params(id, e),
            },
            _ => Response::new_err(
                id,
                ErrorCode::MethodNotFound as i32,
                format!("dagsmith does not handle {method}"),
            ),
        };
        self.send(response);
    }

    /// The document and its validation of the current text (validated now if it changed).
    fn checked(&mut self, uri: &Uri) -> Option<(&Document, &Checked)> {
        if self.documents.get(uri)?.checked.is_none() {
            self.validate(uri);
        }
        let doc = self.documents.get(uri)?;
        Some((doc, doc.checked.as_ref()?))
    }

    fn validate_due(&mut self) {
        let now = Instant::now();
        let due: Vec<Uri> =
            self.pending.iter().filter(|(_, at)| **at <= now).map(|(u, _)| u.clone()).collect();
        for uri in due {
            self.validate(&uri);
        }
    }

    /// Validates a document now and publishes its diagnostics.
    fn validate(&mut self, uri: &Uri) {
        self.pending.remove(uri);
        let Some(doc) = self.documents.get_mut(uri) else { return };
        let (checked, error) = check::check(doc, &self.workspace);
        let diagnostics = diagnostics::diagnostics(&doc.text, &checked.report);
        let version = doc.version;
        doc.checked = Some(checked);
        if let Some(e) = error {
            let message = format!("dagsmith: {e} (checking with the defaults)");
            if self.reported_errors.insert(message.clone()) {
                self.send(Notification::new(
                    ShowMessage::METHOD.to_string(),
                    ShowMessageParams { typ: MessageType::ERROR, message },
                ));
            }
        }
        self.publish(uri.clone(), diagnostics, Some(version));
    }

    fn publish(&self, uri: Uri, diagnostics: Vec<lsp_types::Diagnostic>, version: Option<i32>) {
        self.send(Notification::new(
            PublishDiagnostics::METHOD.to_string(),
            PublishDiagnosticsParams { uri, diagnostics, version },
        ));
    }
}

fn invalid_params(id: lsp_server::RequestId, e: serde_json::Error) -> Response {
    Response::new_err(id, ErrorCode::InvalidParams as i32, format!("invalid params: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debounce_from_initialization_options() {
        let o = |v: serde_json::Value| Options::from_initialization(Some(&v)).debounce;
        assert_eq!(o(serde_json::json!({"debounceMs": 50})), Duration::from_millis(50));
        assert_eq!(o(serde_json::json!({"debounceMs": 99_999})), Duration::from_secs(10));
        assert_eq!(o(serde_json::json!({"debounceMs": "x"})), Options::default().debounce);
        assert_eq!(Options::from_initialization(None), Options::default());
    }
}
