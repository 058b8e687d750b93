//! Facts about the file that fixes need: its imports, calls and names, where module-level
//! names are bound, and where a new import goes. Built once per file, only when a finding may
//! have a fix.

use std::cell::OnceCell;

use ruff_python_ast::{self as ast, Expr, Stmt};
use ruff_text_size::{Ranged, TextRange, TextSize};
use rustc_hash::FxHashMap as HashMap;

use crate::validate::uses::Uses;

pub(super) struct FileIndex<'a> {
    pub source: &'a str,
    pub body: &'a [Stmt],
    /// The file's imports at any depth, calls, names and attributes (shared with DS217).
    pub uses: &'a Uses<'a>,
    /// See [`FileIndex::imported`]; each map is built when a fix first asks (most files' fixes
    /// need one of the two).
    imported: OnceCell<HashMap<&'a str, ImportedPath<'a>>>,
    /// See [`FileIndex::module_bindings`].
    module_bindings: OnceCell<HashMap<&'a str, usize>>,
    /// The file's line ending (`\r\n` when its first line ends so).
    pub newline: &'static str,
}

impl<'a> FileIndex<'a> {
    pub fn new(source: &'a str, body: &'a [Stmt], uses: &'a Uses<'a>) -> Self {
        let newline = match source.find('\n') {
            Some(i) if source[..i].ends_with('\r') => "\r\n",
            _ => "\n",
        };
        let (imported, module_bindings) = (OnceCell::new(), OnceCell::new());
        FileIndex { source, body, uses, imported, module_bindings, newline }
    }

    /// Names bound by module-level imports (also under module-level `if`/`try`), to the dotted
    /// path they name: `BashOperator` → `airflow.operators.bash.BashOperator`.
    pub fn imported(&self) -> &HashMap<&'a str, ImportedPath<'a>> {
        self.imported.get_or_init(|| {
            // Sized for a DAG file's imports: growing rehashes.
            let mut imported = HashMap::with_capacity_and_hasher(16, Default::default());
            module_level(self.body, &mut |stmt| import_paths(stmt, &mut imported));
            imported
        })
    }

    /// How many statements bind each name at module level (imports, assignments, `def`,
    /// `class`, `for`/`with` targets), outside functions and classes.
    pub fn module_bindings(&self) -> &HashMap<&'a str, usize> {
        self.module_bindings.get_or_init(|| {
            // Sized for a DAG file's module names: growing rehashes.
            let mut counts = HashMap::with_capacity_and_hasher(32, Default::default());
            module_level(self.body, &mut |stmt| count_bindings(stmt, &mut counts));
            counts
        })
    }

    pub fn text(&self, range: TextRange) -> &'a str {
        self.source.get(range.start().to_usize()..range.end().to_usize()).unwrap_or_default()
    }

    /// The call whose range is `range`, or that has a keyword argument with range `range`,
    /// or a keyword whose value has range `range`.
    pub fn call_at(&self, range: TextRange) -> Option<&'a ast::ExprCall> {
        self.uses.calls.iter().copied().find(|c| {
            c.range() == range || c.arguments.keywords.iter().any(|k| argument_at(c, k, range))
        })
    }

    /// The keyword argument at `range` (itself, its value, or the call up to it) and its call.
    pub fn keyword_at(&self, range: TextRange) -> Option<(&'a ast::ExprCall, &'a ast::Keyword)> {
        let call = self.call_at(range)?;
        let keyword = call.arguments.keywords.iter().find(|k| argument_at(call, k, range))?;
        Some((call, keyword))
    }

    /// The dotted path a call's callee names, through module-level imports: `BashOperator(...)`
    /// → `airflow.operators.bash.BashOperator`, `bash.BashOperator(...)` after
    /// `from airflow.operators import bash` → `airflow.operators.bash.BashOperator`.
    pub fn qualified_callee(&self, func: &Expr) -> Option<String> {
        match func {
            Expr::Name(n) => self.imported().get(n.id.as_str()).map(ImportedPath::qualified),
            Expr::Attribute(a) => {
                Some(crate::catalog::qualified(&self.qualified_callee(&a.value)?, a.attr.as_str()))
            }
            _ => None,
        }
    }

    /// The top-level statement that contains `offset`.
    pub fn top_level_statement(&self, offset: TextSize) -> Option<&'a Stmt> {
        let i = self.body.partition_point(|s| s.end() <= offset);
        self.body.get(i).filter(|s| s.start() <= offset)
    }

    /// Where a new import goes: after the imports at the top of the file (after the module
    /// docstring when there are none), as (offset, whether a line break must come first).
    /// `None` when the next statement shares the last import's line.
    pub fn import_insertion(&self) -> Option<(TextSize, bool)> {
        let mut rest = self.body;
        let mut after: Option<&Stmt> = None;
        if let Some(Stmt::Expr(e)) = rest.first()
            && e.value.is_string_literal_expr()
        {
            after = rest.first();
            rest = &rest[1..];
        }
        let imports =
            rest.iter().take_while(|s| matches!(s, Stmt::Import(_) | Stmt::ImportFrom(_)));
        if let Some(last) = imports.last() {
            after = Some(last);
        }
        let Some(after) = after else {
            // No docstring and no imports: before the first statement, at the start of its line.
            let first = self.body.first().map_or(text_size(self.source.len()), |s| s.start());
            let line_start =
                self.source[..first.to_usize()].rfind('\n').map_or(0, |i| i.saturating_add(1));
            if self.source[line_start..first.to_usize()].trim().is_empty() {
                return Some((text_size(line_start), false));
            }
            return None;
        };
        let end = after.end().to_usize();
        let line_end =
            self.source[end..].find('\n').map_or(self.source.len(), |i| end.saturating_add(i));
        let rest_of_line = self.source[end..line_end].trim_start();
        if !(rest_of_line.is_empty() || rest_of_line.starts_with('#') || rest_of_line == "\r") {
            return None;
        }
        if line_end == self.source.len() {
            return Some((text_size(line_end), true));
        }
        Some((text_size(line_end.saturating_add(1)), false))
    }

    /// Whether the statement at `range` starts its line (only indentation before it), and that
    /// indentation.
    pub fn indentation(&self, range: TextRange) -> Option<&'a str> {
        let start = range.start().to_usize();
        let line_start =
            self.source[..start].rfind(['\n', '\r']).map_or(0, |i| i.saturating_add(1));
        let indent = &self.source[line_start..start];
        indent.chars().all(|c| c == ' ' || c == '\t').then_some(indent)
    }

    /// The calls of the plain name `name` (`Name(...)`), in source order.
    pub fn calls_of<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'a ast::ExprCall> + 's {
        self.uses
            .calls
            .iter()
            .copied()
            .filter(move |c| matches!(c.func.as_ref(), Expr::Name(n) if n.id.as_str() == name))
    }

    /// The module-level `def name(...)` and its index in the body.
    pub fn top_level_function(&self, name: &str) -> Option<(usize, &'a ast::StmtFunctionDef)> {
        self.body.iter().enumerate().find_map(|(i, s)| match s {
            Stmt::FunctionDef(d) if d.name.as_str() == name => Some((i, d)),
            _ => None,
        })
    }

    /// The lines of a statement that has them to itself (indentation before it, at most a
    /// comment after it), with the line break that ends them.
    pub fn whole_lines(&self, range: TextRange) -> Option<TextRange> {
        let indent = self.indentation(range)?;
        let line_end = self.line_end(range.end());
        let after = self.text(TextRange::new(range.end(), line_end)).trim();
        if !(after.is_empty() || after.starts_with('#')) {
            return None;
        }
        let rest = &self.source[line_end.to_usize()..];
        let newline = if rest.starts_with("\r\n") { 2 } else { usize::from(!rest.is_empty()) };
        let start = range.start().checked_sub(TextSize::try_from(indent.len()).ok()?)?;
        let end = line_end.checked_add(TextSize::try_from(newline).ok()?)?;
        Some(TextRange::new(start, end))
    }

    /// The end of the physical line on which `offset` lies (before its line break).
    pub fn line_end(&self, offset: TextSize) -> TextSize {
        let at = offset.to_usize();
        let end = self.source[at..]
            .find(['\n', '\r'])
            .map_or(self.source.len(), |i| at.saturating_add(i));
        text_size(end)
    }
}

/// Calls `f` on every statement that runs at module level (descending into `if`, `try`,
/// `with`, `for` and `while` bodies, not into functions and classes).
pub(super) fn module_level<'a>(body: &'a [Stmt], f: &mut impl FnMut(&'a Stmt)) {
    for stmt in body {
        f(stmt);
        match stmt {
            Stmt::If(s) => {
                module_level(&s.body, f);
                for clause in &s.elif_else_clauses {
                    module_level(&clause.body, f);
                }
            }
            Stmt::Try(s) => {
                module_level(&s.body, f);
                for h in &s.handlers {
                    let ast::ExceptHandler::ExceptHandler(h) = h;
                    module_level(&h.body, f);
                }
                module_level(&s.orelse, f);
                module_level(&s.finalbody, f);
            }
            Stmt::With(s) => module_level(&s.body, f),
            Stmt::For(s) => {
                module_level(&s.body, f);
                module_level(&s.orelse, f);
            }
            Stmt::While(s) => {
                module_level(&s.body, f);
                module_level(&s.orelse, f);
            }
            _ => {}
        }
    }
}

/// The name an import binds for one alias: `import a.b` binds `a`, `import a.b as c` and
/// `from m import b as c` bind `c`, `from m import b` binds `b`.
pub(in crate::validate) fn bound_name(alias: &ast::Alias, from_import: bool) -> &str {
    match &alias.asname {
        Some(asname) => asname.as_str(),
        None if from_import => alias.name.as_str(),
        None => alias.name.split('.').next().unwrap_or(alias.name.as_str()),
    }
}

/// The dotted path an imported name stands for, as the import statement spells it (built into
/// one string only when a fix asks: most files' imports are never looked up).
#[derive(Clone, Copy)]
pub(super) struct ImportedPath<'a> {
    module: &'a str,
    name: Option<&'a str>,
}

impl ImportedPath<'_> {
    pub fn qualified(&self) -> String {
        match self.name {
            Some(name) => crate::catalog::qualified(self.module, name),
            None => self.module.to_string(),
        }
    }
}

/// What one module-level statement imports: bound name → path.
fn import_paths<'a>(stmt: &'a Stmt, imported: &mut HashMap<&'a str, ImportedPath<'a>>) {
    match stmt {
        Stmt::Import(s) => {
            for alias in &s.names {
                let bound = bound_name(alias, false);
                // `import a.b` names the package `a`; `import a.b as c` names `a.b`.
                let path = if alias.asname.is_some() { alias.name.as_str() } else { bound };
                imported.insert(bound, ImportedPath { module: path, name: None });
            }
        }
        Stmt::ImportFrom(s) if s.level == 0 => {
            let module = s.module.as_ref().map_or("", |m| m.as_str());
            for alias in &s.names {
                let name = alias.name.as_str();
                if name != "*" {
                    imported
                        .insert(bound_name(alias, true), ImportedPath { module, name: Some(name) });
                }
            }
        }
        _ => {}
    }
}

/// The names one module-level statement binds, counted.
fn count_bindings<'a>(stmt: &'a Stmt, counts: &mut HashMap<&'a str, usize>) {
    let mut bind = |name: &'a str| {
        let n = counts.entry(name).or_default();
        *n = n.saturating_add(1);
    };
    match stmt {
        Stmt::Import(s) => s.names.iter().for_each(|alias| bind(bound_name(alias, false))),
        Stmt::ImportFrom(s) => {
            for alias in s.names.iter().filter(|a| a.name.as_str() != "*") {
                bind(bound_name(alias, true));
            }
        }
        Stmt::FunctionDef(d) => bind(d.name.as_str()),
        Stmt::ClassDef(c) => bind(c.name.as_str()),
        Stmt::Assign(s) => {
            for t in &s.targets {
                target_names(t, &mut bind);
            }
        }
        Stmt::AnnAssign(s) => target_names(&s.target, &mut bind),
        Stmt::AugAssign(s) => target_names(&s.target, &mut bind),
        Stmt::For(s) => target_names(&s.target, &mut bind),
        Stmt::With(s) => {
            for item in &s.items {
                if let Some(v) = &item.optional_vars {
                    target_names(v, &mut bind);
                }
            }
        }
        _ => {}
    }
}

fn target_names<'a>(target: &'a Expr, bind: &mut impl FnMut(&'a str)) {
    match target {
        Expr::Name(n) => bind(n.id.as_str()),
        Expr::Tuple(t) => t.elts.iter().for_each(|e| target_names(e, bind)),
        Expr::List(l) => l.elts.iter().for_each(|e| target_names(e, bind)),
        Expr::Starred(s) => target_names(&s.value, bind),
        _ => {}
    }
}

/// A byte offset of the source as a `TextSize` (sources are under 4 GiB: the parser's own limit).
fn text_size(n: usize) -> TextSize {
    TextSize::from(u32::try_from(n).unwrap_or(u32::MAX))
}

/// Whether a finding at `range` is about the keyword argument `k` of `call`: its range, its
/// value's, or the span from the call's start to the argument's end (where the validator puts
/// argument errors, so that the line is the one Airflow reports).
fn argument_at(call: &ast::ExprCall, k: &ast::Keyword, range: TextRange) -> bool {
    k.range == range
        || k.value.range() == range
        || (range.start() == call.range().start() && range.end() == k.range.end())
}
