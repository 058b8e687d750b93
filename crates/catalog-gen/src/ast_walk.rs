//! Small syntax-tree walks shared by the module extractor and the class-facts pass.

use ruff_python_ast::visitor::{Visitor, walk_expr, walk_stmt};
use ruff_python_ast::{self as ast, Expr, Stmt};

/// Calls `on_call` for every call in `body` that runs when `body` runs: nested functions and
/// classes are skipped.
pub fn for_each_call<'a>(body: &'a [Stmt], on_call: impl FnMut(&'a ast::ExprCall)) {
    struct Calls<F>(F);
    impl<'a, F: FnMut(&'a ast::ExprCall)> Visitor<'a> for Calls<F> {
        fn visit_stmt(&mut self, s: &'a Stmt) {
            if matches!(s, Stmt::FunctionDef(_) | Stmt::ClassDef(_)) {
                return;
            }
            walk_stmt(self, s);
        }
        fn visit_expr(&mut self, e: &'a Expr) {
            if let Expr::Call(c) = e {
                (self.0)(c);
            }
            walk_expr(self, e);
        }
    }
    let mut calls = Calls(on_call);
    for s in body {
        calls.visit_stmt(s);
    }
}

/// The name of a function's first parameter (`self` of a method, `name` of `__getattr__`).
pub fn first_param_name(f: &ast::StmtFunctionDef) -> Option<String> {
    f.parameters
        .posonlyargs
        .iter()
        .chain(f.parameters.args.iter())
        .next()
        .map(|p| p.parameter.name.to_string())
}
