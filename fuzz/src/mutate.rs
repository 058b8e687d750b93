//! Structure-aware mutation of DAG files: parse the input with the same parser the validator
//! uses, pick a statement or an expression, and replace, wrap, duplicate or extend it with code
//! from the generator (`grammar`). Starting from the real DAG files of `../shared/corpus`, this keeps
//! the inputs valid Python that still looks like a DAG file, so the interpreter — not only the
//! parser's error recovery — sees the extreme values and shapes.

use arbitrary::Unstructured;
use ruff_python_ast::visitor::source_order::{self, SourceOrderVisitor};
use ruff_python_ast::{Expr, Stmt};
use ruff_python_parser::{Mode, ParseOptions, parse_unchecked};
use ruff_text_size::{Ranged, TextRange};

use crate::grammar;

/// A small deterministic random source (SplitMix64): libFuzzer hands the mutator a seed.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u32) -> Self {
        Rng(u64::from(seed) ^ 0x9e37_79b9_7f4a_7c15)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 { 0 } else { (self.next_u64() % n as u64) as usize }
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next_u64() as u8).collect()
    }
}

/// Statement and expression ranges of a module, in source order.
#[derive(Default)]
struct Nodes {
    statements: Vec<TextRange>,
    expressions: Vec<TextRange>,
    integers: Vec<TextRange>,
    /// Nesting depth of the visitor, to stay clear of deep inputs.
    depth: u32,
}

impl<'a> SourceOrderVisitor<'a> for Nodes {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        if self.depth > 100 {
            return;
        }
        self.statements.push(stmt.range());
        self.depth += 1;
        source_order::walk_stmt(self, stmt);
        self.depth -= 1;
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        if self.depth > 100 {
            return;
        }
        self.expressions.push(expr.range());
        if matches!(expr, Expr::NumberLiteral(_)) {
            self.integers.push(expr.range());
        }
        self.depth += 1;
        source_order::walk_expr(self, expr);
        self.depth -= 1;
    }
}

/// A mutated copy of `source`, or `None` when it does not parse (the caller then falls back to
/// byte-level mutation).
pub fn mutate(source: &str, rng: &mut Rng) -> Option<String> {
    let parsed = parse_unchecked(source, ParseOptions::from(Mode::Module));
    if !parsed.errors().is_empty() {
        return None;
    }
    let mut nodes = Nodes::default();
    if let Some(module) = parsed.syntax().as_module() {
        for stmt in &module.body {
            nodes.visit_stmt(stmt);
        }
    }
    let bytes = rng.bytes(256);
    let mut u = Unstructured::new(&bytes);
    let pick = |rng: &mut Rng, v: &[TextRange]| v.get(rng.below(v.len())).copied();
    let text = |r: TextRange| &source[r.start().to_usize()..r.end().to_usize()];
    let splice = |r: TextRange, with: &str| {
        let mut out = String::with_capacity(source.len() + with.len());
        out.push_str(&source[..r.start().to_usize()]);
        out.push_str(with);
        out.push_str(&source[r.end().to_usize()..]);
        out
    };
    match rng.below(8) {
        // An expression becomes a generated one.
        0 | 1 => {
            let r = pick(rng, &nodes.expressions)?;
            Some(splice(r, &format!("({})", grammar::expression(&mut u).ok()?)))
        }
        // A number becomes one from the edges.
        2 => {
            let r = pick(rng, &nodes.integers).or_else(|| pick(rng, &nodes.expressions))?;
            Some(splice(r, &format!("({})", grammar::integer(&mut u).ok()?)))
        }
        // An expression becomes a copy of another one of the file.
        3 => {
            let (a, b) = (pick(rng, &nodes.expressions)?, pick(rng, &nodes.expressions)?);
            Some(splice(a, &format!("({})", text(b))))
        }
        // Generated statements go before a statement, at its indentation.
        4 | 5 => {
            let r = pick(rng, &nodes.statements)?;
            let (line_start, prefix) = indentation(source, r)?;
            let code = grammar::statements(&mut u, prefix).ok()?;
            Some(splice(TextRange::empty(line_start.try_into().ok()?), &code))
        }
        // A statement is wrapped in a loop, a DAG context or a condition.
        6 => {
            let r = pick(rng, &nodes.statements)?;
            let (line_start, prefix) = indentation(source, r)?;
            let header = match rng.below(5) {
                0 => format!(
                    "for i in range({}, {}):",
                    grammar::integer(&mut u).ok()?,
                    grammar::integer(&mut u).ok()?
                ),
                1 => "with DAG(dag_id=\"fuzz\") as dag:".to_string(),
                2 => format!(
                    "for i in [{}] * {}:",
                    grammar::expression(&mut u).ok()?,
                    grammar::integer(&mut u).ok()?
                ),
                3 => format!("if {}:", grammar::expression(&mut u).ok()?),
                _ => "with TaskGroup(\"g\") as g:".to_string(),
            };
            let body = text(TextRange::new(line_start.try_into().ok()?, r.end()));
            let indented = body.replace('\n', "\n    ");
            let wrapped = format!("{prefix}{header}\n    {indented}");
            Some(splice(TextRange::new(line_start.try_into().ok()?, r.end()), &wrapped))
        }
        // A statement is repeated, so ids collide and loops nest.
        _ => {
            let r = pick(rng, &nodes.statements)?;
            let (_, prefix) = indentation(source, r)?;
            Some(splice(TextRange::empty(r.end()), &format!("\n{prefix}{}", text(r))))
        }
    }
}

/// Where the line of a statement starts and its indentation, when the statement is the first
/// thing on its line.
fn indentation(source: &str, r: TextRange) -> Option<(usize, &str)> {
    let start = r.start().to_usize();
    let line_start = source[..start].rfind(['\n', '\r']).map_or(0, |i| i + 1);
    let prefix = &source[line_start..start];
    prefix.chars().all(|c| c == ' ' || c == '\t').then_some((line_start, prefix))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAG: &str = "from airflow import DAG\nfrom airflow.operators.empty import EmptyOperator\n\nwith DAG(dag_id=\"d\", schedule=None) as dag:\n    a = EmptyOperator(task_id=\"a\")\n    b = EmptyOperator(task_id=\"b\")\n    a >> b\n";

    #[test]
    fn mutants_differ_and_mostly_parse() {
        let mut rng = Rng::new(7);
        let (mut changed, mut parse) = (0, 0);
        for _ in 0..500 {
            let Some(m) = mutate(DAG, &mut rng) else { continue };
            changed += usize::from(m != DAG);
            let p = parse_unchecked(&m, ParseOptions::from(Mode::Module));
            parse += usize::from(p.errors().is_empty());
        }
        assert!(changed > 400, "{changed}");
        assert!(parse > 300, "{parse}");
    }
}
