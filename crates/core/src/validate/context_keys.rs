//! DS210: template and context variables that Airflow 3 removed (`execution_date`, `next_ds`,
//! ...). They do not stop the import, but the task fails or renders wrongly when it runs.

use ruff_python_ast::{self as ast, Expr, Stmt};
use ruff_text_size::TextRange;

use super::{NodeHooks, walk_nodes};

/// Removed in Airflow 3.0, with what to use instead.
const REMOVED: &[(&str, &str)] = &[
    ("execution_date", "logical_date"),
    ("next_execution_date", "data_interval_end"),
    ("prev_execution_date", "prev_data_interval_start_success"),
    ("prev_execution_date_success", "prev_data_interval_start_success"),
    ("next_ds", "{{ data_interval_end | ds }}"),
    ("next_ds_nodash", "{{ data_interval_end | ds_nodash }}"),
    ("prev_ds", "{{ prev_data_interval_start_success | ds }}"),
    ("prev_ds_nodash", "{{ prev_data_interval_start_success | ds_nodash }}"),
    ("tomorrow_ds", "{{ macros.ds_add(ds, 1) }}"),
    ("tomorrow_ds_nodash", "{{ macros.ds_add(ds, 1) }} without dashes"),
    ("yesterday_ds", "{{ macros.ds_add(ds, -1) }}"),
    ("yesterday_ds_nodash", "{{ macros.ds_add(ds, -1) }} without dashes"),
];

/// Whether `source` can use a removed key at all: every one has `execution_date` or `_ds` in
/// its name (a test checks), and a parameter, a subscript or a template names it in the source
/// (escape sequences spelling a key aside). Most files have neither: DS210 then skips them.
pub(super) fn may_use_removed_keys(source: &str) -> bool {
    use memchr::memmem::Finder;
    use std::sync::LazyLock;
    // Built once: setting a searcher up cost as much as searching a file.
    static DS: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new("_ds"));
    static EXECUTION_DATE: LazyLock<Finder<'static>> =
        LazyLock::new(|| Finder::new("execution_date"));
    let bytes = source.as_bytes();
    DS.find(bytes).is_some() || EXECUTION_DATE.find(bytes).is_some()
}

/// Names that conventionally hold the task context.
const CONTEXT_NAMES: &[&str] = &["context", "kwargs", "ctx", "kw", "ti_context"];

/// A use of a removed key: (range, removed key, replacement).
pub(super) type RemovedKey = (TextRange, &'static str, &'static str);

/// Every use in the file, from a walk of its own. Validation gets them from the walk every file
/// gets anyway (see [`Finder`]); this is for a file where that walk stopped early.
pub(super) fn removed_context_keys(body: &[Stmt]) -> Vec<RemovedKey> {
    walk_nodes(body, Finder::default()).found
}

/// Looks at one node at a time ([`NodeHooks`]), its children left to the caller's walk: a walk
/// costs as much as what this looks for, so DS210 shares one.
#[derive(Default)]
pub(super) struct Finder {
    pub found: Vec<RemovedKey>,
}

fn removed(key: &str) -> Option<(&'static str, &'static str)> {
    REMOVED.iter().find(|(k, _)| *k == key).copied()
}

impl Finder {
    /// Identifiers used inside `{{ ... }}` blocks of a template string.
    fn template(&mut self, text: &str, range: TextRange) {
        // Most strings hold no template: one byte search before the substring searches.
        let bytes = text.as_bytes();
        if !memchr::memchr_iter(b'{', bytes).any(|i| bytes.get(i.saturating_add(1)) == Some(&b'{'))
        {
            return;
        }
        let mut rest = text;
        while let Some((_, after)) = rest.split_once("{{") {
            let Some((inner, after_close)) = after.split_once("}}") else { break };
            for word in inner.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
            {
                // `dag_run.execution_date` is gone too; `macros.x` and filters are not context.
                let key = word.rsplit('.').next().unwrap_or(word);
                if (word == key || word.starts_with("dag_run."))
                    && let Some((k, instead)) = removed(key)
                {
                    self.found.push((range, k, instead));
                }
            }
            rest = after_close;
        }
    }
}

impl<'a> NodeHooks<'a> for Finder {
    fn stmt(&mut self, stmt: &'a Stmt) {
        if let Stmt::FunctionDef(def) = stmt
            && def.decorator_list.iter().any(|d| is_task_decorator(&d.expression))
        {
            // TaskFlow injects context variables into parameters of the same name.
            for p in def.parameters.iter() {
                if let Some((k, instead)) = removed(p.name().as_str()) {
                    self.found.push((p.name().range, k, instead));
                }
            }
        }
    }

    fn expr(&mut self, expr: &'a Expr) {
        match expr {
            Expr::StringLiteral(s) => self.template(s.value.to_str(), s.range),
            Expr::FString(f) => {
                for part in f.value.as_slice() {
                    match part {
                        ast::FStringPart::Literal(lit) => self.template(&lit.value, lit.range),
                        ast::FStringPart::FString(fs) => {
                            for element in fs.elements.iter() {
                                if let ast::InterpolatedStringElement::Literal(lit) = element {
                                    self.template(&lit.value, lit.range);
                                }
                            }
                        }
                    }
                }
            }
            Expr::Subscript(s) => {
                if let (Expr::Name(n), Expr::StringLiteral(key)) = (&*s.value, &*s.slice)
                    && CONTEXT_NAMES.contains(&n.id.as_str())
                    && let Some((k, instead)) = removed(key.value.to_str())
                {
                    self.found.push((key.range, k, instead));
                }
            }
            Expr::Call(call) => {
                if let Expr::Attribute(a) = &*call.func
                    && a.attr.as_str() == "get"
                    && let Expr::Name(n) = &*a.value
                    && CONTEXT_NAMES.contains(&n.id.as_str())
                    && let Some(Expr::StringLiteral(key)) = call.arguments.args.first()
                    && let Some((k, instead)) = removed(key.value.to_str())
                {
                    self.found.push((key.range, k, instead));
                }
            }
            _ => {}
        }
    }
}

fn is_task_decorator(e: &Expr) -> bool {
    let e = match e {
        Expr::Call(c) => &*c.func,
        other => other,
    };
    match e {
        Expr::Name(n) => n.id.as_str() == "task",
        Expr::Attribute(a) => matches!(&*a.value, Expr::Name(n) if n.id.as_str() == "task"),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_removed_key_is_found_by_the_file_filter() {
        for (key, _) in REMOVED {
            assert!(may_use_removed_keys(key), "{key}");
            assert!(may_use_removed_keys(&format!("{{{{ {key} }}}}")), "{key}");
        }
        assert!(!may_use_removed_keys("echo {{ ds }} {{ logical_date }}"));
    }
}
