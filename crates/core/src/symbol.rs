//! What a name at a position in a DAG file refers to, through the file's imports: for an
//! editor's hover (`BashOperator` under the cursor → `airflow.providers.standard.operators.bash`
//! `.BashOperator`). Static and approximate, like the rest of dagsmith: every absolute import in
//! the file counts, the last one binding a name wins, and nothing is executed.

use ruff_python_ast::visitor::{self, Visitor};
use ruff_python_ast::{Expr, Stmt};
use ruff_text_size::{Ranged, TextRange, TextSize};
use rustc_hash::FxHashMap as HashMap;

use crate::finding::Position;
use crate::source::LineIndex;
use crate::validate::guard_stack;

/// An imported name found at a position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportedSymbol {
    /// The module the name was looked up in, e.g. `airflow.providers.standard.operators.bash`.
    pub module: String,
    /// The name in that module, e.g. `BashOperator`.
    pub name: String,
    /// The span of the identifier under the position (1-based lines, code-point columns; the
    /// end is exclusive).
    pub start: Position,
    pub end: Position,
}

/// What a local name is bound to by an import.
#[derive(Clone, Debug)]
enum Binding {
    /// `import a.b` binds `a` to module `a`; `import a.b as m` binds `m` to `a.b`.
    Module(String),
    /// `from m import x [as y]`.
    Member(String, String),
}

/// The imported name at 1-based `line` and code-point `column` of `source`: an identifier that
/// an import binds (`BashOperator`, `bash.BashOperator`, `airflow.operators.bash.BashOperator`),
/// or a name in an import statement itself. `None` elsewhere, and for names that are modules.
pub fn imported_symbol_at(source: &str, line: u32, column: u32) -> Option<ImportedSymbol> {
    let lines = LineIndex::new(source);
    let offset = lines.offset(line, column)?;
    let parsed = crate::parse::parse_module(source);
    let ruff_python_ast::Mod::Module(module) = parsed.syntax() else { return None };

    let mut finder = Finder { offset, bindings: HashMap::default(), hit: None, at_import: None };
    for stmt in &module.body {
        finder.visit_stmt(stmt);
    }
    let (module_path, name, range) = match (finder.at_import, finder.hit) {
        (Some(found), _) => found,
        (None, Some((chain, range))) => {
            let (head, rest) = chain.split_first()?;
            let dotted = match finder.bindings.get(head)? {
                Binding::Module(m) => std::iter::once(m.as_str())
                    .chain(rest.iter().map(String::as_str))
                    .collect::<Vec<_>>()
                    .join("."),
                Binding::Member(m, n) => std::iter::once(m.as_str())
                    .chain(std::iter::once(n.as_str()))
                    .chain(rest.iter().map(String::as_str))
                    .collect::<Vec<_>>()
                    .join("."),
            };
            let (module_path, name) = dotted.rsplit_once('.')?;
            (module_path.to_string(), name.to_string(), range)
        }
        (None, None) => return None,
    };
    let (start, end) = lines.span(range);
    Some(ImportedSymbol { module: module_path, name, start, end })
}

struct Finder {
    offset: TextSize,
    bindings: HashMap<String, Binding>,
    /// The innermost name/attribute chain whose last identifier contains the offset.
    hit: Option<(Vec<String>, TextRange)>,
    /// The offset is on a name of an import statement: (module, name, range).
    at_import: Option<(String, String, TextRange)>,
}

fn touches(range: TextRange, offset: TextSize) -> bool {
    range.start() <= offset && offset <= range.end()
}

/// `a.b.c` as `["a", "b", "c"]`; `None` when the chain does not start with a plain name.
fn dotted_chain(expr: &Expr) -> Option<Vec<String>> {
    match expr {
        Expr::Name(n) => Some(vec![n.id.to_string()]),
        Expr::Attribute(a) => {
            let mut chain = dotted_chain(&a.value)?;
            chain.push(a.attr.to_string());
            Some(chain)
        }
        _ => None,
    }
}

impl<'a> Visitor<'a> for Finder {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        match stmt {
            Stmt::Import(imp) => {
                for alias in &imp.names {
                    let full = alias.name.as_str();
                    match &alias.asname {
                        Some(asname) => {
                            self.bindings
                                .insert(asname.to_string(), Binding::Module(full.to_string()));
                        }
                        None => {
                            let head = full.split('.').next().unwrap_or(full);
                            self.bindings
                                .insert(head.to_string(), Binding::Module(head.to_string()));
                        }
                    }
                    if touches(alias.name.range(), self.offset)
                        && let Some((m, n)) = full.rsplit_once('.')
                    {
                        self.at_import = Some((m.to_string(), n.to_string(), alias.name.range()));
                    }
                }
            }
            Stmt::ImportFrom(imp) if imp.level == 0 => {
                let Some(module) = &imp.module else { return };
                for alias in &imp.names {
                    let name = alias.name.as_str();
                    if name == "*" {
                        continue;
                    }
                    let local = alias.asname.as_ref().map_or(name, |a| a.as_str());
                    self.bindings.insert(
                        local.to_string(),
                        Binding::Member(module.to_string(), name.to_string()),
                    );
                    let on_name = touches(alias.name.range(), self.offset);
                    let on_asname =
                        alias.asname.as_ref().is_some_and(|a| touches(a.range(), self.offset));
                    if on_name || on_asname {
                        self.at_import =
                            Some((module.to_string(), name.to_string(), alias.range()));
                    }
                }
            }
            _ => guard_stack(|| visitor::walk_stmt(self, stmt)),
        }
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        if !touches(expr.range(), self.offset) {
            return;
        }
        match expr {
            Expr::Name(n) => self.hit = Some((vec![n.id.to_string()], n.range())),
            Expr::Attribute(a) if touches(a.attr.range(), self.offset) => {
                if let Some(chain) = dotted_chain(expr) {
                    self.hit = Some((chain, a.attr.range()));
                }
                return;
            }
            _ => {}
        }
        guard_stack(|| visitor::walk_expr(self, expr));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOURCE: &str = "\
import airflow.providers.standard.operators.bash
from airflow.providers.standard.operators import bash as bash_ops
from airflow.providers.standard.operators.python import PythonOperator as PyOp
from airflow.sdk import DAG

with DAG(dag_id=\"x\"):
    a = PyOp(task_id=\"a\", python_callable=print)
    b = bash_ops.BashOperator(task_id=\"b\", bash_command=\"echo\")
    c = airflow.providers.standard.operators.bash.BashOperator(task_id=\"c\", bash_command=\"\")
    undefined_thing(a)
";

    fn at(line: u32, column: u32) -> Option<(String, String)> {
        imported_symbol_at(SOURCE, line, column).map(|s| (s.module, s.name))
    }

    fn pair(m: &str, n: &str) -> Option<(String, String)> {
        Some((m.to_string(), n.to_string()))
    }

    #[test]
    fn names_resolve_through_imports() {
        let python = "airflow.providers.standard.operators.python";
        let bash = "airflow.providers.standard.operators.bash";
        // `PyOp` in `a = PyOp(...)`: columns 9-12; the position just after it counts too.
        assert_eq!(at(7, 9), pair(python, "PythonOperator"));
        assert_eq!(at(7, 13), pair(python, "PythonOperator"));
        assert_eq!(at(8, 20), pair(bash, "BashOperator"));
        assert_eq!(at(9, 52), pair(bash, "BashOperator"));
        assert_eq!(at(6, 6), pair("airflow.sdk", "DAG"));
        // On the import itself.
        assert_eq!(at(3, 60), pair(python, "PythonOperator"));
        assert_eq!(at(3, 78), pair(python, "PythonOperator"));
        // Not imported, a keyword argument, blank space, past the end.
        assert_eq!(at(10, 6), None);
        assert_eq!(at(7, 16), None);
        assert_eq!(at(5, 1), None);
        assert_eq!(at(99, 1), None);
        let span = imported_symbol_at(SOURCE, 8, 20).unwrap();
        assert_eq!((span.start.column, span.end.column), (18, 30));
    }

    #[test]
    fn broken_code_does_not_panic() {
        for source in ["", "from import", "x = (", "import", "a.b.c(", "\r\n\r"] {
            for line in 0..4 {
                for column in 0..8 {
                    let _ = imported_symbol_at(source, line, column);
                }
            }
        }
    }
}
