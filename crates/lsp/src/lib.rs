//! `dagsmith lsp`: a Language Server (LSP 3.17, stdio) that brings dagsmith's validator into
//! editors.
//!
//! * Python files that look like DAGs (they mention both `airflow` and `dag`, Airflow's own
//!   DagBag heuristic) are validated when opened and, debounced, as the user types; findings
//!   are published as diagnostics with their rule code, a link to the rule's documentation,
//!   and the hint.
//! * Settings come from the nearest `dagsmith.toml` / `pyproject.toml` `[tool.dagsmith]` above
//!   each file (`dagsmith-config`), as for `dagsmith validate`; `# noqa` comments apply.
//! * Hover: on a finding, the rule's explanation (the text of `dagsmith rules CODE`); on an
//!   imported operator or other Airflow class, its constructor signature in the target
//!   Airflow version, from the embedded catalog.
//! * Code actions: "ignore on this line" (`# noqa: CODE`), built as byte-offset edits turned
//!   into a `WorkspaceEdit` by [`code_actions::workspace_edit`], the path the validator's
//!   structured fixes will take.
//!
//! `initializationOptions`: `{"debounceMs": 300}` (the pause after a change before validating).
//! Positions use UTF-16 code units, LSP's default encoding.

mod check;
pub mod code_actions;
mod diagnostics;
mod document;
mod hover;
mod position;
mod server;

use std::error::Error;
use std::thread;

use lsp_server::Connection;

pub use server::{Options, serve};

/// The server thread's stack: the validator recurses over the syntax tree, as in
/// `dagsmith validate`'s worker threads.
const STACK: usize = 64 << 20;

/// Why the server stopped with an error.
pub type LspError = Box<dyn Error + Send + Sync>;

/// Serves one client on standard input and output until it sends `exit`. `Ok` only after a
/// `shutdown` request came first (then the process should exit 0, otherwise 1, per the LSP).
pub fn run_stdio() -> Result<(), LspError> {
    let (connection, io_threads) = Connection::stdio();
    let server = thread::Builder::new()
        .name("dagsmith-lsp".into())
        .stack_size(STACK)
        .spawn(move || serve(connection))?;
    let result = server.join().map_err(|_| "the language server thread panicked")?;
    // Once the server returns, the client has sent `exit` (the reader thread stops there) or
    // closed its end; either way the I/O threads finish.
    io_threads.join()?;
    result
}
