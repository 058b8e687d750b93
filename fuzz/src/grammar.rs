//! A generator of Python that looks like Airflow DAG files, driven by fuzzer bytes.
//!
//! Byte-level mutation of real DAG files rarely writes Python that reaches the validator's
//! interpreter in new ways (issue 12: `range()` over the whole i64 range was never tried). This
//! grammar writes syntactically valid modules made of what DAG files are made of — imports,
//! `with DAG(...)`, `@dag`/`@task`/`@task_group` functions, operators, `>>` edges, loops over
//! `range()` and literals, comprehensions, f-strings — and fills them with the values that break
//! interpreters: extreme and huge integers, `*`/`**`/`<<` between any operands, deep nesting,
//! format widths, unicode. Every choice comes from an `arbitrary::Unstructured`, so the same
//! bytes give the same file and libFuzzer's mutations of the bytes become structural changes.

use arbitrary::{Result, Unstructured};

/// Integers that sit on or past the edges interpreters get wrong.
const INTS: &[&str] = &[
    "0",
    "1",
    "-1",
    "2",
    "3",
    "10",
    "63",
    "64",
    "255",
    "256",
    "257",
    "1000",
    "65536",
    "2147483647",
    "-2147483648",
    "4294967296",
    "9223372036854775807",
    "-9223372036854775807",
    "-9223372036854775808",
    "9223372036854775808",
    "18446744073709551616",
    "10**100",
    "2**63",
    "-2**63",
    "1 << 62",
    "0x7fffffffffffffff",
    "0b1111",
    "0o777",
    "1_000_000",
    "True",
    "False",
];

const STRINGS: &[&str] = &[
    "\"\"",
    "\"etl\"",
    "\"extract\"",
    "\"load_data\"",
    "\"my dag\"",
    "\"task.id\"",
    "\"@daily\"",
    "\"@continuous\"",
    "\"0 0 * * *\"",
    "\"*/5 * * * *\"",
    "\"x\" * 300",
    "'é'",
    "\"日本語\"",
    "\"😀\"",
    "\"a\\u0000b\"",
    "\"{}\"",
    "\"{0}_{1}\"",
    "\"%s_%d\"",
    "\"{{}}\"",
    "\"\"\"multi\nline\"\"\"",
    "r\"\\d+\"",
    "b\"bytes\"",
    "\"all_success\"",
    "\"none_failed\"",
];

const NAMES: &[&str] = &[
    "dag",
    "t",
    "t1",
    "t2",
    "tasks",
    "i",
    "x",
    "y",
    "n",
    "s",
    "items",
    "cfg",
    "default_args",
    "name",
    "group",
    "op",
    "ids",
    "É",
    "δ",
    "_",
    "__name__",
    "globals",
    "range",
    "len",
    "str",
    "list",
    "enumerate",
    "datetime",
    "timedelta",
    "DAG",
    "task",
    "chain",
];

const IMPORTS: &[&str] = &[
    "from airflow import DAG",
    "from airflow.models import DAG",
    "from airflow.sdk import DAG, dag, task, task_group, chain",
    "from airflow.decorators import dag, task, task_group",
    "from airflow.operators.bash import BashOperator",
    "from airflow.operators.python import PythonOperator, BranchPythonOperator",
    "from airflow.operators.empty import EmptyOperator",
    "from airflow.operators.dummy import DummyOperator",
    "from airflow.providers.standard.operators.empty import EmptyOperator",
    "from airflow.providers.standard.operators.bash import BashOperator",
    "from airflow.utils.task_group import TaskGroup",
    "from airflow.utils.edgemodifier import Label",
    "from airflow.models.baseoperator import chain, cross_downstream",
    "from airflow.utils.dates import days_ago",
    "from airflow.utils.trigger_rule import TriggerRule",
    "from airflow.datasets import Dataset",
    "from airflow.sdk import Asset",
    "from airflow.providers.amazon.aws.operators.s3 import S3CreateBucketOperator",
    "from airflow.providers.postgres.operators.postgres import PostgresOperator",
    "from airflow.contrib.operators.bash_operator import BashOperator",
    "from airflow.operators.bash_operator import BashOperator",
    "from datetime import datetime, timedelta",
    "import pendulum",
    "import os, sys, json",
    "from __future__ import annotations",
    "from typing import TYPE_CHECKING",
    "from mylib import *",
    "import numpy as np",
];

const OPERATORS: &[&str] = &[
    "BashOperator",
    "PythonOperator",
    "EmptyOperator",
    "DummyOperator",
    "BranchPythonOperator",
    "S3CreateBucketOperator",
    "PostgresOperator",
    "TaskGroup",
    "Label",
    "MyOperator",
];

const OPERATOR_KWARGS: &[&str] = &[
    "bash_command",
    "python_callable",
    "op_kwargs",
    "retries",
    "retry_delay",
    "trigger_rule",
    "dag",
    "task_group",
    "start_date",
    "depends_on_past",
    "bucket_name",
    "sql",
    "postgres_conn_id",
    "provide_context",
    "group_id",
    "prefix_group_id",
    "parent_group",
    "default_args",
    "pool",
    "bogus_argument",
];

const DAG_KWARGS: &[&str] = &[
    "schedule",
    "schedule_interval",
    "timetable",
    "start_date",
    "catchup",
    "default_args",
    "tags",
    "max_active_runs",
    "description",
    "params",
    "concurrency",
    "retries",
    "dagrun_timeout",
    "render_template_as_native_obj",
];

const BINOPS: &[&str] = &["+", "-", "*", "/", "//", "%", "**", "<<", ">>", "&", "|", "^", "@"];
const AUGOPS: &[&str] = &["+=", "-=", "*=", "//=", "%=", "**=", "<<=", ">>=", "|=", "&=", "^="];
const CMPOPS: &[&str] = &["==", "!=", "<", "<=", ">", ">=", "in", "not in", "is", "is not"];
const FORMAT_SPECS: &[&str] = &[
    "",
    ":02d",
    ":>10",
    ":<5",
    ":^{n}",
    ":*^30",
    ":,",
    ":_",
    ":x",
    ":08.3f",
    ":>999999999",
    ":.999999999",
    ":{x}{y}",
    "!r",
    "!s:>20",
    "=",
];
const STR_METHODS: &[&str] = &[
    "lower()",
    "upper()",
    "strip()",
    "title()",
    "replace(\"\", \"xx\")",
    "replace(\"a\", \"aa\")",
    "format(1, 2)",
    "format(*items)",
    "join(items)",
    "split(\"_\")",
    "zfill(999999)",
    "center(10**9)",
    "ljust(64)",
];

/// Deepest nesting of blocks the generator produces.
const MAX_DEPTH: u32 = 12;
/// Deepest nesting of expressions in one another (a statement deep in brackets is written on
/// purpose, up to past CPython's limit of 200).
const MAX_EXPR_DEPTH: u32 = 5;

/// Writes a module from the fuzzer's bytes.
pub fn module(u: &mut Unstructured) -> Result<String> {
    let mut g = Gen::new("");
    let imports = u.int_in_range(0..=5)?;
    for _ in 0..imports {
        g.line(u.choose(IMPORTS)?);
    }
    let statements = u.int_in_range(1..=12)?;
    for _ in 0..statements {
        g.statement(u)?;
    }
    Ok(g.out)
}

/// One to three statements, every line starting with `prefix` (the indentation of the place
/// they go to) and ending with a newline.
pub fn statements(u: &mut Unstructured, prefix: &str) -> Result<String> {
    let mut g = Gen::new(prefix);
    g.budget = 60;
    let n = u.int_in_range(1..=3)?;
    for _ in 0..n {
        g.statement(u)?;
    }
    Ok(g.out)
}

/// One expression (a single line).
pub fn expression(u: &mut Unstructured) -> Result<String> {
    let mut g = Gen::new("");
    g.budget = 30;
    g.expr(u)
}

/// One integer literal from the edges.
pub fn integer(u: &mut Unstructured) -> Result<String> {
    Gen::new("").int(u)
}

struct Gen {
    out: String,
    /// Put before every line, before the indentation.
    prefix: String,
    indent: usize,
    depth: u32,
    expr_depth: u32,
    /// Statements and expressions left, so that any input ends quickly.
    budget: u32,
}

impl Gen {
    fn new(prefix: &str) -> Self {
        Gen {
            out: String::new(),
            prefix: prefix.to_string(),
            indent: 0,
            depth: 0,
            expr_depth: 0,
            budget: 400,
        }
    }

    fn line(&mut self, text: &str) {
        self.out.push_str(&self.prefix);
        for _ in 0..self.indent {
            self.out.push_str("    ");
        }
        self.out.push_str(text);
        self.out.push('\n');
    }

    fn spend(&mut self) -> bool {
        self.budget = self.budget.saturating_sub(1);
        self.budget > 0
    }

    /// A block: `header:` and one or more indented statements.
    fn block(&mut self, u: &mut Unstructured, header: &str) -> Result<()> {
        self.line(&format!("{header}:"));
        self.indent += 1;
        self.depth += 1;
        let n = u.int_in_range(1..=4)?;
        for _ in 0..n {
            self.statement(u)?;
        }
        self.depth -= 1;
        self.indent -= 1;
        Ok(())
    }

    // Kept whole: one short `match` arm per kind of statement, read together because the arm
    // numbers set how often each kind is drawn.
    fn statement(&mut self, u: &mut Unstructured) -> Result<()> {
        if !self.spend() || self.depth >= MAX_DEPTH {
            let e = self.simple_expr(u)?;
            self.line(&format!("x = {e}"));
            return Ok(());
        }
        match u.int_in_range(0..=21)? {
            0 => {
                let args = self.dag_kwargs(u)?;
                let id = self.expr(u)?;
                let header = format!("with DAG(dag_id={id}{args}) as dag");
                self.block(u, &header)?;
            }
            1 => {
                let args = self.dag_kwargs(u)?;
                let name = self.name(u)?;
                self.line(&format!("@dag({})", args.trim_start_matches(", ")));
                let params = self.params(u)?;
                self.block(u, &format!("def {name}({params})"))?;
                self.line(&format!("{name}()"));
            }
            2 => {
                let decorator = u.choose(&[
                    "@task",
                    "@task()",
                    "@task.bash",
                    "@task(task_id=\"t\")",
                    "@task.branch",
                    "@task_group",
                    "@task_group(group_id=\"g\")",
                    "@staticmethod",
                ])?;
                let name = self.name(u)?;
                self.line(decorator);
                let params = self.params(u)?;
                self.block(u, &format!("def {name}({params})"))?;
                let calls = u.int_in_range(0..=3)?;
                for _ in 0..calls {
                    let arg = self.expr(u)?;
                    self.line(&format!("{name}({arg})"));
                }
            }
            3 | 4 => {
                let target = self.name(u)?;
                let op = self.operator_call(u)?;
                self.line(&format!("{target} = {op}"));
            }
            5 => {
                let (a, b) = (self.expr(u)?, self.expr(u)?);
                let arrow = u.choose(&[">>", "<<"])?;
                let c = if u.arbitrary()? {
                    format!(" {arrow} {}", self.expr(u)?)
                } else {
                    String::new()
                };
                self.line(&format!("{a} {arrow} {b}{c}"));
            }
            6 | 7 => {
                let target = self.target(u)?;
                let iter = self.iterable(u)?;
                self.block(u, &format!("for {target} in {iter}"))?;
            }
            8 => {
                let test = self.expr(u)?;
                self.block(u, &format!("if {test}"))?;
                if u.arbitrary()? {
                    let test = self.expr(u)?;
                    self.block(u, &format!("elif {test}"))?;
                }
                if u.arbitrary()? {
                    self.block(u, "else")?;
                }
            }
            9 => {
                self.block(u, "try")?;
                let handler = u.choose(&[
                    "except ImportError",
                    "except Exception as e",
                    "except",
                    "finally",
                ])?;
                self.block(u, handler)?;
            }
            10 => {
                let name = self.name(u)?;
                let params = self.params(u)?;
                self.block(u, &format!("def {name}({params})"))?;
                let arg = self.expr(u)?;
                self.line(&format!("{name}({arg})"));
            }
            11 => {
                let name = self.name(u)?;
                let base =
                    u.choose(&["", "(BaseOperator)", "(DAG)", "(object)", "(EmptyOperator)"])?;
                self.block(u, &format!("class {name}{base}"))?;
            }
            12 => {
                let test = self.expr(u)?;
                self.block(u, &format!("while {test}"))?;
            }
            13 => {
                let id = self.expr(u)?;
                self.block(u, &format!("with TaskGroup({id}) as group"))?;
            }
            14 => {
                let target = self.name(u)?;
                let op = u.choose(AUGOPS)?;
                let value = self.expr(u)?;
                self.line(&format!("{target} {op} {value}"));
            }
            15 => {
                let args = self.args(u)?;
                let f = u.choose(&["chain", "cross_downstream", "chain_linear", "print", "len"])?;
                self.line(&format!("{f}({args})"));
            }
            16 => {
                let list = self.name(u)?;
                let method = u.choose(&["append", "extend", "set_upstream", "set_downstream"])?;
                let arg = self.expr(u)?;
                self.line(&format!("{list}.{method}({arg})"));
            }
            17 => {
                let subject = self.expr(u)?;
                self.line(&format!("match {subject}:"));
                self.indent += 1;
                self.depth += 1;
                let pattern = u.choose(&["1", "\"a\" | \"b\"", "[x, *rest]", "{\"k\": v}", "_"])?;
                self.block(u, &format!("case {pattern}"))?;
                self.depth -= 1;
                self.indent -= 1;
            }
            18 => {
                let stmt = u.choose(&[
                    "pass",
                    "break",
                    "continue",
                    "return",
                    "return dag",
                    "raise ValueError(\"no\")",
                    "global dag",
                    "del x",
                    "assert x, \"msg\"",
                    "yield x",
                    "globals()[\"dag_\" + str(i)] = dag",
                    "exec(\"x = 1\")",
                    "if __name__ == \"__main__\": dag.test()",
                    "type X = int",
                ])?;
                self.line(stmt);
            }
            19 => {
                // A deep expression: nested brackets or operators, close to CPython's limit.
                let depth = u.int_in_range(1..=210)?;
                let (open, close) =
                    u.choose(&[("[", "]"), ("(", ",)"), ("f(", ")"), ("-(", ")"), ("{1: ", "}")])?;
                let inner = self.simple_expr(u)?;
                self.line(&format!("x = {}{inner}{}", open.repeat(depth), close.repeat(depth)));
            }
            _ => {
                let target = self.target(u)?;
                let value = self.expr(u)?;
                self.line(&format!("{target} = {value}"));
            }
        }
        Ok(())
    }

    fn dag_kwargs(&mut self, u: &mut Unstructured) -> Result<String> {
        let mut out = String::new();
        let n = u.int_in_range(0..=4)?;
        for _ in 0..n {
            let k = u.choose(DAG_KWARGS)?;
            let v = self.expr(u)?;
            out.push_str(&format!(", {k}={v}"));
        }
        if u.ratio(1, 8)? {
            out.push_str(", **cfg");
        }
        Ok(out)
    }

    fn operator_call(&mut self, u: &mut Unstructured) -> Result<String> {
        let class = u.choose(OPERATORS)?;
        let mut args = Vec::new();
        if u.ratio(7, 8)? {
            args.push(format!("task_id={}", self.expr(u)?));
        }
        let n = u.int_in_range(0..=3)?;
        for _ in 0..n {
            let k = u.choose(OPERATOR_KWARGS)?;
            args.push(format!("{k}={}", self.expr(u)?));
        }
        if u.ratio(1, 10)? {
            args.push("**kwargs".into());
        }
        let call = format!("{class}({})", args.join(", "));
        Ok(match u.int_in_range(0..=9)? {
            0 => format!("{class}.partial({}).expand(x={})", args.join(", "), self.expr(u)?),
            1 => format!("{call}.output"),
            _ => call,
        })
    }

    fn params(&mut self, u: &mut Unstructured) -> Result<String> {
        Ok(u.choose(&[
            "",
            "x",
            "x, y=1",
            "*args, **kwargs",
            "x=[]",
            "n=10**9",
            "i, /, j, *, k=2",
            "self",
        ])?
        .to_string())
    }

    fn name(&mut self, u: &mut Unstructured) -> Result<String> {
        Ok(u.choose(NAMES)?.to_string())
    }

    fn target(&mut self, u: &mut Unstructured) -> Result<String> {
        Ok(match u.int_in_range(0..=7)? {
            0 => "a, b".into(),
            1 => "i, (j, k)".into(),
            2 => "*rest, last".into(),
            3 => "cfg[\"k\"]".into(),
            4 => "dag.doc_md".into(),
            _ => self.name(u)?,
        })
    }

    fn iterable(&mut self, u: &mut Unstructured) -> Result<String> {
        Ok(match u.int_in_range(0..=6)? {
            0 | 1 => {
                let n = u.int_in_range(1..=3)?;
                let args: Result<Vec<String>> = (0..n).map(|_| self.int(u)).collect();
                format!("range({})", args?.join(", "))
            }
            2 => format!("enumerate({})", self.expr(u)?),
            3 => format!("{}.items()", self.name(u)?),
            _ => self.expr(u)?,
        })
    }

    fn int(&mut self, u: &mut Unstructured) -> Result<String> {
        Ok(if u.ratio(3, 4)? {
            u.choose(INTS)?.to_string()
        } else {
            u.arbitrary::<i64>()?.to_string()
        })
    }

    /// Call arguments: positional ones (some `*x`), then keywords (some `**x`), as Python
    /// requires.
    fn args(&mut self, u: &mut Unstructured) -> Result<String> {
        let mut out = Vec::new();
        let positional = u.int_in_range(0..=3)?;
        for _ in 0..positional {
            out.push(if u.ratio(1, 5)? { format!("*{}", self.expr(u)?) } else { self.expr(u)? });
        }
        let keywords = u.int_in_range(0..=2)?;
        for _ in 0..keywords {
            out.push(if u.ratio(1, 5)? {
                format!("**{}", self.expr(u)?)
            } else {
                format!("{}={}", self.name(u)?, self.expr(u)?)
            });
        }
        Ok(out.join(", "))
    }

    /// Elements of a list or tuple display (some `*x`).
    fn elements(&mut self, u: &mut Unstructured) -> Result<String> {
        let n = u.int_in_range(0..=4)?;
        let mut out = Vec::new();
        for _ in 0..n {
            out.push(if u.ratio(1, 5)? { format!("*{}", self.expr(u)?) } else { self.expr(u)? });
        }
        Ok(out.join(", "))
    }

    /// An expression without sub-expressions.
    fn simple_expr(&mut self, u: &mut Unstructured) -> Result<String> {
        Ok(match u.int_in_range(0..=3)? {
            0 => self.int(u)?,
            1 => u.choose(STRINGS)?.to_string(),
            2 => u.choose(&["None", "...", "1.5", "1e308", "-0.0", "3j"])?.to_string(),
            _ => self.name(u)?,
        })
    }

    fn expr(&mut self, u: &mut Unstructured) -> Result<String> {
        if !self.spend() || self.expr_depth >= MAX_EXPR_DEPTH {
            return self.simple_expr(u);
        }
        self.expr_depth += 1;
        let e = self.compound_expr(u);
        self.expr_depth -= 1;
        e
    }

    fn compound_expr(&mut self, u: &mut Unstructured) -> Result<String> {
        Ok(match u.int_in_range(0..=24)? {
            0..=4 => self.simple_expr(u)?,
            5..=7 => {
                let (a, b) = (self.expr(u)?, self.expr(u)?);
                format!("({a} {} {b})", u.choose(BINOPS)?)
            }
            8 => format!("({}{})", u.choose(&["-", "+", "~", "not "])?, self.expr(u)?),
            9 => {
                let (a, b) = (self.expr(u)?, self.expr(u)?);
                format!("({a} {} {b})", u.choose(CMPOPS)?)
            }
            10 => {
                let (a, b) = (self.expr(u)?, self.expr(u)?);
                format!("({a} {} {b})", u.choose(&["and", "or"])?)
            }
            11 => format!("[{}]", self.elements(u)?),
            12 => format!("({},)", self.expr(u)?),
            13 => {
                let (k, v) = (self.simple_expr(u)?, self.expr(u)?);
                if u.arbitrary()? {
                    format!("{{{k}: {v}, **{}}}", self.name(u)?)
                } else {
                    format!("{{{k}: {v}}}")
                }
            }
            14 | 15 => self.fstring(u)?,
            16 => {
                let (elt, target, iter) = (self.expr(u)?, self.target(u)?, self.iterable(u)?);
                let (open, close) = u.choose(&[("[", "]"), ("{", "}"), ("(", ")")])?;
                let mut c = format!("{open}{elt} for {target} in {iter}");
                if u.arbitrary()? {
                    c.push_str(&format!(" for j in {}", self.iterable(u)?));
                }
                if u.arbitrary()? {
                    c.push_str(&format!(" if {}", self.expr(u)?));
                }
                c.push_str(close);
                c
            }
            17 => format!("({}).{}", self.expr(u)?, u.choose(STR_METHODS)?),
            18 => {
                let f = u.choose(&[
                    "range",
                    "len",
                    "str",
                    "list",
                    "enumerate",
                    "sorted",
                    "int",
                    "max",
                    "days_ago",
                    "timedelta",
                    "datetime",
                    "Dataset",
                    "Label",
                ])?;
                format!("{f}({})", self.args(u)?)
            }
            19 => self.operator_call(u)?,
            20 => format!("({})[{}]", self.expr(u)?, self.slice(u)?),
            21 => format!("({} if {} else {})", self.expr(u)?, self.expr(u)?, self.expr(u)?),
            22 => format!("(lambda x=1: {})", self.expr(u)?),
            23 => format!("({} := {})", self.name(u)?, self.expr(u)?),
            _ => format!(
                "({}).{}",
                self.expr(u)?,
                u.choose(&[
                    "output",
                    "dag_id",
                    "task_id",
                    "ALL_SUCCESS",
                    "partial",
                    "override(task_id=\"o\")",
                    "__name__"
                ])?
            ),
        })
    }

    fn slice(&mut self, u: &mut Unstructured) -> Result<String> {
        Ok(match u.int_in_range(0..=3)? {
            0 => format!("{}:{}", self.int(u)?, self.int(u)?),
            1 => format!("::{}", self.int(u)?),
            _ => self.expr(u)?,
        })
    }

    fn fstring(&mut self, u: &mut Unstructured) -> Result<String> {
        let mut out = u.choose(&["f\"", "rf\"", "f'"])?.to_string();
        let quote = if out.ends_with('\'') { '\'' } else { '"' };
        let parts = u.int_in_range(1..=4)?;
        for _ in 0..parts {
            if u.arbitrary()? {
                out.push_str(u.choose(&["task_", "_", "é", "{{", "}}", "-", " "])?);
            } else {
                // Nested quotes of the other kind keep the f-string valid before Python 3.12.
                let e = self.simple_expr(u)?.replace(quote, if quote == '"' { "'" } else { "\"" });
                out.push_str(&format!("{{{e}{}}}", u.choose(FORMAT_SPECS)?));
            }
        }
        out.push(quote);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_bytes_same_module_and_it_parses() {
        let mut parsed = 0;
        for seed in 0u8..=255 {
            let bytes: Vec<u8> =
                (0..512u32).map(|i| (i as u8).wrapping_mul(seed).wrapping_add(seed)).collect();
            let a = module(&mut Unstructured::new(&bytes)).unwrap();
            let b = module(&mut Unstructured::new(&bytes)).unwrap();
            assert_eq!(a, b);
            let p = ruff_python_parser::parse_unchecked(
                &a,
                ruff_python_parser::ParseOptions::from(ruff_python_parser::Mode::Module),
            );
            parsed += usize::from(p.errors().is_empty());
        }
        // Compile errors (`return` at module level) are fine, but modules that do not parse
        // never reach the interpreter.
        assert!(parsed > 240, "only {parsed} of 256 generated modules parse");
    }
}
