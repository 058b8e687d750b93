//! `dagsmith lsp` driven over stdio with real LSP messages, as an editor drives it:
//! initialize, didOpen, debounced didChange, publishDiagnostics, hover (rule text and an
//! operator's signature for the configured Airflow version), codeAction (whose edit is applied
//! and re-checked), didClose, shutdown and exit.

use std::io::{BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use lsp_server::{Message, Notification, Request, RequestId, Response};
use serde_json::{Value, json};

mod common;
use common::TempDir;

const BIN: &str = env!("CARGO_BIN_EXE_dagsmith");

/// Generous: CI machines are busy, and only a hang should fail this.
const TIMEOUT: Duration = Duration::from_secs(60);

/// The debounce the tests ask for (`initializationOptions.debounceMs`).
const DEBOUNCE_MS: u64 = 400;

/// DS102 on line 8: `timedelta` is never imported.
const BROKEN: &str = r#"from datetime import datetime

from airflow import DAG
from airflow.operators.bash import BashOperator

with DAG(dag_id="etl", start_date=datetime(2024, 1, 1), schedule=None) as dag:
    extract = BashOperator(task_id="extract", bash_command="echo hi",
                           retry_delay=timedelta(minutes=5))
"#;

struct Client {
    child: Child,
    stdin: ChildStdin,
    incoming: mpsc::Receiver<Message>,
    /// Notifications received while waiting for something else, in order.
    notifications: Vec<Notification>,
    next_id: i32,
}

impl Client {
    fn start(dir: &Path) -> Client {
        let mut child = Command::new(BIN)
            .arg("lsp")
            .current_dir(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start dagsmith lsp");
        let stdin = child.stdin.take().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let (tx, incoming) = mpsc::channel();
        thread::spawn(move || {
            while let Ok(Some(message)) = Message::read(&mut stdout) {
                if tx.send(message).is_err() {
                    break;
                }
            }
        });
        Client { child, stdin, incoming, notifications: Vec::new(), next_id: 1 }
    }

    fn send(&mut self, messages: &[Message]) {
        // One write: the server sees the messages together, as from a fast typist.
        let mut bytes = Vec::new();
        for m in messages {
            m.clone().write(&mut bytes).unwrap();
        }
        self.stdin.write_all(&bytes).unwrap();
        self.stdin.flush().unwrap();
    }

    fn receive(&mut self) -> Message {
        self.incoming.recv_timeout(TIMEOUT).expect("a message from the server in time")
    }

    fn request(&mut self, method: &str, params: Value) -> Response {
        let id = RequestId::from(self.next_id);
        self.next_id += 1;
        self.send(&[Request::new(id.clone(), method.into(), params).into()]);
        loop {
            match self.receive() {
                Message::Response(r) if r.id == id => return r,
                Message::Notification(n) => self.notifications.push(n),
                other => panic!("unexpected {other:?}"),
            }
        }
    }

    fn result(&mut self, method: &str, params: Value) -> Value {
        match self.request(method, params).response_result {
            Ok(result) => result,
            Err(e) => panic!("{method}: {e:?}"),
        }
    }

    /// Waits for the diagnostics of `uri` at `version`; returns them and every notification
    /// that came before.
    fn diagnostics(&mut self, uri: &str, version: Option<i64>) -> (Vec<Value>, Vec<Notification>) {
        let mut before = std::mem::take(&mut self.notifications);
        loop {
            let n = match before.iter().position(|n| is_publish(n, uri, version)) {
                Some(i) => before.remove(i),
                None => match self.receive() {
                    Message::Notification(n) if is_publish(&n, uri, version) => n,
                    Message::Notification(n) => {
                        before.push(n);
                        continue;
                    }
                    other => panic!("unexpected {other:?}"),
                },
            };
            return (n.params["diagnostics"].as_array().unwrap().clone(), before);
        }
    }
}

fn is_publish(n: &Notification, uri: &str, version: Option<i64>) -> bool {
    n.method == "textDocument/publishDiagnostics"
        && n.params["uri"] == uri
        && n.params["version"].as_i64() == version
}

fn notification(method: &str, params: Value) -> Message {
    Notification::new(method.into(), params).into()
}

fn did_change(uri: &str, version: i64, text: &str) -> Message {
    notification(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]}),
    )
}

fn file_uri(path: &Path) -> String {
    format!("file://{}", path.display())
}

/// The LSP position (0-based, UTF-16; these texts are ASCII) of the first `needle` in `text`.
fn position_of(text: &str, needle: &str) -> Value {
    let offset = text.find(needle).unwrap_or_else(|| panic!("{needle} in {text}"));
    let line = text[..offset].matches('\n').count();
    let character = offset - text[..offset].rfind('\n').map_or(0, |i| i + 1);
    json!({"line": line, "character": character})
}

fn offset_of(text: &str, position: &Value) -> usize {
    let line = position["line"].as_u64().unwrap() as usize;
    let start: usize = text.split_inclusive('\n').take(line).map(str::len).sum();
    start + position["character"].as_u64().unwrap() as usize
}

fn start(dir: &Path) -> Client {
    let mut client = Client::start(dir);
    let result = client.result(
        "initialize",
        json!({
            "processId": null,
            "rootUri": file_uri(dir),
            "capabilities": {},
            "initializationOptions": {"debounceMs": DEBOUNCE_MS},
        }),
    );
    let caps = &result["capabilities"];
    assert_eq!(caps["positionEncoding"], "utf-16");
    assert_eq!(caps["textDocumentSync"]["change"], 1, "full text sync");
    assert_eq!(caps["hoverProvider"], true);
    assert_eq!(caps["codeActionProvider"]["codeActionKinds"], json!(["quickfix"]));
    assert_eq!(result["serverInfo"]["name"], "dagsmith");
    client.send(&[notification("initialized", json!({}))]);
    client
}

fn stop(mut client: Client) {
    let response = client.request("shutdown", Value::Null);
    assert_eq!(response.response_result.unwrap(), Value::Null);
    client.send(&[notification("exit", Value::Null)]);
    let deadline = Instant::now() + TIMEOUT;
    loop {
        if let Some(status) = client.child.try_wait().unwrap() {
            assert_eq!(status.code(), Some(0), "exit after shutdown");
            return;
        }
        assert!(Instant::now() < deadline, "the server did not exit");
        thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn an_editor_session() {
    let dir = TempDir::new("lsp");
    // The settings file next to the DAG sets the target: hover shows Airflow 2.9's operator.
    dir.write("dagsmith.toml", "airflow-version = \"2.9\"\n");
    let path = dir.write("dags/etl.py", BROKEN);
    let uri = file_uri(&path);
    let mut client = start(dir.path());

    client.send(&[notification(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": BROKEN}}),
    )]);
    let (diagnostics, _) = client.diagnostics(&uri, Some(1));
    let ds102 = diagnostics
        .iter()
        .find(|d| d["code"] == "DS102")
        .unwrap_or_else(|| panic!("DS102 in {diagnostics:?}"));
    assert_eq!(ds102["severity"], 1);
    assert_eq!(ds102["source"], "dagsmith");
    assert_eq!(ds102["range"]["start"], position_of(BROKEN, "timedelta"));
    assert!(ds102["message"].as_str().unwrap().contains("timedelta"), "{ds102}");
    assert!(
        ds102["codeDescription"]["href"].as_str().unwrap().ends_with("docs/RULES.md#ds102"),
        "{ds102}"
    );

    // Hover on the finding: the rule's explanation.
    let hover = client.result(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": position_of(BROKEN, "timedelta(")}),
    );
    let text = hover["contents"]["value"].as_str().unwrap();
    assert!(text.starts_with("**DS102** `undefined-name` (error)"), "{text}");
    // Hover on the operator: its signature in Airflow 2.9, where it lives there.
    let hover = client.result(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": position_of(BROKEN, "BashOperator(")}),
    );
    let text = hover["contents"]["value"].as_str().unwrap();
    assert!(text.contains("BashOperator(*, bash_command"), "{text}");
    assert!(text.contains("`airflow.operators.bash.BashOperator` in Airflow 2.9"), "{text}");
    assert!(text.contains("`retry_delay`"), "{text}");
    assert_eq!(hover["range"]["start"], position_of(BROKEN, "BashOperator("));
    // Nothing to say on blank space.
    let hover = client.result(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": {"line": 1, "character": 0}}),
    );
    assert_eq!(hover, Value::Null);

    // Code actions for the finding: first the validator's fix (add the import), preferred
    // because it is safe; then "ignore on this line". Each edit, applied, clears the finding.
    let actions = client.result(
        "textDocument/codeAction",
        json!({
            "textDocument": {"uri": uri},
            "range": ds102["range"],
            "context": {"diagnostics": [ds102]},
        }),
    );
    let all = actions.as_array().unwrap();
    let fix = &all[0];
    assert!(fix["title"].as_str().unwrap().starts_with("DS102: "), "{actions}");
    assert_eq!(fix["isPreferred"], true, "{actions}");
    let mut edits: Vec<&Value> = fix["edit"]["changes"][&uri].as_array().unwrap().iter().collect();
    edits.sort_by_key(|e| std::cmp::Reverse(offset_of(BROKEN, &e["range"]["start"])));
    let mut fixed_by_action = BROKEN.to_string();
    for e in edits {
        let (start, end) =
            (offset_of(BROKEN, &e["range"]["start"]), offset_of(BROKEN, &e["range"]["end"]));
        fixed_by_action.replace_range(start..end, e["newText"].as_str().unwrap());
    }
    assert!(fixed_by_action.contains("timedelta"), "{fixed_by_action}");
    assert!(
        fixed_by_action.contains("import datetime, timedelta\n")
            || fixed_by_action.contains("from datetime import timedelta\n"),
        "{fixed_by_action}"
    );
    let action = all
        .iter()
        .find(|a| a["title"].as_str().unwrap().contains("noqa: DS102"))
        .unwrap_or_else(|| panic!("a DS102 noqa action in {actions}"));
    assert_eq!(action["kind"], "quickfix");
    let edits = action["edit"]["changes"][&uri].as_array().unwrap();
    assert_eq!(edits.len(), 1);
    let mut silenced = BROKEN.to_string();
    silenced.insert_str(
        offset_of(BROKEN, &edits[0]["range"]["start"]),
        edits[0]["newText"].as_str().unwrap(),
    );
    assert!(silenced.contains("retry_delay=timedelta(minutes=5))  # noqa: DS102\n"), "{silenced}");

    // Three changes at typing speed: validated once, for the last one, after the debounce.
    let fixed = BROKEN.replace("import datetime\n", "import datetime, timedelta\n");
    let sent = Instant::now();
    client.send(&[
        did_change(&uri, 2, &silenced),
        did_change(&uri, 3, BROKEN),
        did_change(&uri, 4, &fixed),
    ]);
    let (diagnostics, before) = client.diagnostics(&uri, Some(4));
    assert!(sent.elapsed() >= Duration::from_millis(DEBOUNCE_MS), "{:?}", sent.elapsed());
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    assert!(
        !before
            .iter()
            .any(|n| n.method == "textDocument/publishDiagnostics" && n.params["uri"] == uri),
        "versions 2 and 3 were not validated: {before:?}"
    );
    // The code action's text is clean too.
    client.send(&[did_change(&uri, 5, &silenced)]);
    let (diagnostics, _) = client.diagnostics(&uri, Some(5));
    assert!(diagnostics.is_empty(), "{diagnostics:?}");

    // A Python file that is not a DAG gets no diagnostics.
    let helper = file_uri(&dir.path().join("dags/helpers.py"));
    client.send(&[notification(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": helper, "languageId": "python", "version": 1, "text": "x = undefined\n"}}),
    )]);
    let (diagnostics, _) = client.diagnostics(&helper, Some(1));
    assert!(diagnostics.is_empty());

    // Closing clears the file's diagnostics.
    client.send(&[notification("textDocument/didClose", json!({"textDocument": {"uri": uri}}))]);
    let (diagnostics, _) = client.diagnostics(&uri, None);
    assert!(diagnostics.is_empty());

    // Unknown requests are refused, not ignored.
    let response = client.request(
        "textDocument/definition",
        json!({"textDocument": {"uri": uri}, "position": {"line": 0, "character": 0}}),
    );
    let error = response.response_result.unwrap_err();
    assert_eq!(error.code, lsp_server::ErrorCode::MethodNotFound as i32);

    stop(client);
}

#[test]
fn a_broken_settings_file_is_shown_once_and_the_defaults_apply() {
    let dir = TempDir::new("lsp-settings");
    dir.write("dagsmith.toml", "select = [\"DS9\"]\n");
    let path = dir.write("dag.py", BROKEN);
    let uri = file_uri(&path);
    let mut client = start(dir.path());
    client.send(&[notification(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": BROKEN}}),
    )]);
    let (diagnostics, before) = client.diagnostics(&uri, Some(1));
    let shown: Vec<&Notification> =
        before.iter().filter(|n| n.method == "window/showMessage").collect();
    assert_eq!(shown.len(), 1, "{before:?}");
    assert_eq!(shown[0].params["type"], 1);
    let message = shown[0].params["message"].as_str().unwrap();
    assert!(message.contains("dagsmith.toml:1:11: unknown rule \"DS9\""), "{message}");
    assert!(diagnostics.iter().any(|d| d["code"] == "DS102"), "{diagnostics:?}");

    client.send(&[did_change(&uri, 2, &BROKEN.replace("etl", "etl2"))]);
    let (_, before) = client.diagnostics(&uri, Some(2));
    assert!(!before.iter().any(|n| n.method == "window/showMessage"), "shown once: {before:?}");
    stop(client);
}
