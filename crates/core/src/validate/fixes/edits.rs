//! Building blocks of fixes: removing or adding an argument, adding an import.

use ruff_python_ast::{self as ast, Stmt};
use ruff_text_size::{Ranged, TextRange, TextSize};

use super::file::FileIndex;

/// One replacement: the range replaced and the new text.
pub(super) type Replacement = (TextRange, String);

/// Removes the argument (positional or keyword) at `range` from a call, with the comma that
/// separates it from its neighbour, keeping the call valid: `f(a, b=1)` → `f(a)`,
/// `f(b=1, c)` → `f(c)`, `f(b=1,)` → `f()`.
pub(super) fn remove_argument(arguments: &ast::Arguments, range: TextRange) -> Option<Replacement> {
    let mut all: Vec<TextRange> = arguments.args.iter().map(Ranged::range).collect();
    all.extend(arguments.keywords.iter().map(|k| k.range));
    all.sort_by_key(|r| r.start());
    let i = all.iter().position(|r| *r == range)?;
    let removed = if let Some(next) = all.get(i.saturating_add(1)) {
        TextRange::new(range.start(), next.start())
    } else if let Some(previous) = i.checked_sub(1).and_then(|p| all.get(p)) {
        TextRange::new(previous.end(), range.end())
    } else {
        // The only argument: everything up to the closing parenthesis (a trailing comma too).
        TextRange::new(range.start(), arguments.range.end().checked_sub(TextSize::from(1))?)
    };
    Some((removed, String::new()))
}

/// Comments out a keyword argument that has lines of its own (only indentation before it,
/// nothing but its comma and a comment after it), with `note` after it:
/// `    command=["x"],` → `    # command=["x"],  # dagsmith: <note>`. What the author wrote stays
/// in the file, unlike a removal. `None` when the argument shares a line with another.
pub(super) fn comment_out_argument(
    file: &FileIndex,
    kw: &ast::Keyword,
    note: &str,
) -> Option<Replacement> {
    let indent = file.indentation(kw.range)?;
    let after = file.text(TextRange::new(kw.range.end(), file.line_end(kw.range.end())));
    let trimmed = after.trim_start();
    let comma = trimmed.starts_with(',');
    let rest = if comma { trimmed[1..].trim_start() } else { trimmed };
    if !(rest.is_empty() || rest.starts_with('#')) {
        return None;
    }
    let end = if comma {
        let skipped = after.len().checked_sub(trimmed.len())?.checked_add(1)?;
        kw.range.end().checked_add(TextSize::try_from(skipped).ok()?)?
    } else {
        kw.range.end()
    };
    let range = TextRange::new(kw.range.start(), end);
    let commented: Vec<String> = file
        .text(range)
        .split('\n')
        .enumerate()
        .map(|(i, line)| match line.strip_prefix(indent) {
            _ if i == 0 => format!("# {line}"),
            Some(rest) => format!("{indent}# {rest}"),
            None => format!("# {line}"),
        })
        .collect();
    Some((range, format!("{}  # dagsmith: {note}", commented.join("\n"))))
}

/// Adds `text` (`dag=dag`) as the call's last argument.
pub(super) fn append_argument(arguments: &ast::Arguments, text: &str) -> Replacement {
    let last_end = arguments
        .args
        .iter()
        .map(Ranged::end)
        .chain(arguments.keywords.iter().map(|k| k.range.end()))
        .max();
    match last_end {
        Some(end) => (TextRange::empty(end), format!(", {text}")),
        None => (
            TextRange::empty(
                arguments
                    .range
                    .start()
                    .checked_add(TextSize::from(1))
                    .unwrap_or(arguments.range.end()),
            ),
            text.to_string(),
        ),
    }
}

/// How a name gets imported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum ImportLine {
    /// `from MODULE import NAME`
    From { module: String, name: String },
    /// `import MODULE`
    Module(String),
}

impl ImportLine {
    pub fn text(&self) -> String {
        match self {
            ImportLine::From { module, name } => format!("from {module} import {name}"),
            ImportLine::Module(m) => format!("import {m}"),
        }
    }
}

/// The edit that adds an import: `name` appended to a `from MODULE import ...` among the top
/// imports when there is one on a single line, else a new line after the top imports.
/// Returns the edit and its message.
pub(super) fn add_import(file: &FileIndex, import: &ImportLine) -> Option<(Replacement, String)> {
    if let ImportLine::From { module, name } = import
        && let Some(existing) = top_import_from(file, module)
        && let Some(last) = existing.names.last()
    {
        let edit = (TextRange::empty(last.range.end()), format!(", {name}"));
        return Some((edit, format!("add `{name}` to `from {module} import ...`")));
    }
    let (at, newline_first) = file.import_insertion()?;
    let nl = file.newline;
    let text = if newline_first {
        format!("{nl}{}{nl}", import.text())
    } else {
        format!("{}{nl}", import.text())
    };
    Some(((TextRange::empty(at), text), format!("add `{}`", import.text())))
}

/// A `from MODULE import a, b` among the imports at the top of the file, on one line without
/// parentheses, `*` or anything after it on the line but a comment.
fn top_import_from<'a>(file: &FileIndex<'a>, module: &str) -> Option<&'a ast::StmtImportFrom> {
    let (insert_at, _) = file.import_insertion()?;
    file.body.iter().take_while(|s| s.start() < insert_at).find_map(|s| match s {
        Stmt::ImportFrom(imp)
            if imp.level == 0
                && imp.module.as_ref().is_some_and(|m| m.as_str() == module)
                && !imp.names.iter().any(|a| a.name.as_str() == "*") =>
        {
            let text = file.text(imp.range);
            let rest = file.text(TextRange::new(imp.range.end(), file.line_end(imp.range.end())));
            let rest = rest.trim();
            (!text.contains(['(', '\n', '\\', ';']) && (rest.is_empty() || rest.starts_with('#')))
                .then_some(imp)
        }
        _ => None,
    })
}
