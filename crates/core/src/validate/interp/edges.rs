//! Binary operators, among them `>>` and `<<` between tasks: the edges of the DAG.

use super::*;

impl<'a> Interp<'a> {
    pub(in crate::validate) fn eval_binop(&mut self, b: &'a ast::ExprBinOp) -> Value<'a> {
        let left = self.eval(&b.left);
        let right = self.eval(&b.right);
        match b.op {
            // Integers shift bits; anything else links tasks.
            Operator::RShift | Operator::LShift
                if !matches!((&left, &right), (Value::Int(_), Value::Int(_))) =>
            {
                if let (Value::List(_), Value::List(_)) = (&left, &right)
                    && (is_list_like(&b.left) || matches!(left, Value::List(_)))
                {
                    self.report(
                        &rules::LIST_TO_LIST_DEPENDENCY,
                        b.range,
                        "unsupported operand types for >>/<<: 'list' and 'list' (TypeError while Airflow imports the file)".into(),
                        Some("use `cross_downstream(upstream_list, downstream_list)` or `chain(...)`".into()),
                    );
                    return Value::Unknown;
                }
                for side in [&left, &right] {
                    if let Value::Function(f) = side
                        && matches!(f.kind, FunctionKind::Task { .. })
                    {
                        let name = f.def.name.as_str();
                        let severity =
                            if self.certain() { Severity::Error } else { Severity::Warning };
                        self.report_with(
                            &rules::INVALID_DEPENDENCY,
                            severity,
                            b.range,
                            format!(
                                "`{name}` is a @task function, not a task: `>>`/`<<` on it fails (a `_TaskDecorator` has no dependencies: TypeError or AttributeError while Airflow imports the file)"
                            ),
                            Some(format!("call it to make the task: `{name}()`, and link what the call returns")),
                        );
                        return Value::Unknown;
                    }
                }
                let forward = b.op == Operator::RShift;
                self.shift(left, right, forward, b.range)
            }
            op => self.binop(op, left, right),
        }
    }

    /// `left OP right` on numbers, strings and lists (`arith` keeps it checked and bounded).
    pub(in crate::validate) fn binop(
        &mut self,
        op: Operator,
        left: Value<'a>,
        right: Value<'a>,
    ) -> Value<'a> {
        let value = match (op, left, right) {
            (op, Value::Int(a), Value::Int(b)) => arith::int_binop(op, a, b).map(Value::Int),
            (Operator::Add, Value::Str(a), Value::Str(b)) => {
                arith::concat_str(a.into_owned(), &b).map(|s| Value::Str(s.into()))
            }
            (Operator::Add, Value::List(mut a), Value::List(b)) => {
                a.extend(b);
                Some(Value::List(a))
            }
            (Operator::Mult, Value::Str(s), Value::Int(n))
            | (Operator::Mult, Value::Int(n), Value::Str(s)) => {
                arith::repeat_str(&s, n).map(|s| Value::Str(s.into()))
            }
            (Operator::Mult, Value::List(items), Value::Int(n))
            | (Operator::Mult, Value::Int(n), Value::List(items)) => {
                arith::repeat_list(&items, n).map(Value::List)
            }
            (Operator::Mod, Value::Str(fmt), arg) => {
                percent_format(&fmt, &arg).map(|s| Value::Str(s.into()))
            }
            _ => None,
        };
        match value {
            Some(v) => self.built(v),
            None => Value::Unknown,
        }
    }

    /// `left >> right` (forward) or `left << right`. Returns the right operand, like Airflow.
    pub(in crate::validate) fn shift(
        &mut self,
        left: Value<'a>,
        right: Value<'a>,
        forward: bool,
        range: TextRange,
    ) -> Value<'a> {
        // `a >> Label("x") >> b`: the label remembers `a`.
        if forward && let Value::EdgeLabel(_) = right {
            return Value::EdgeLabel(self.endpoints(&left));
        }
        if forward && let Value::EdgeLabel(ups) = &left {
            let downs = self.endpoints(&right);
            self.add_edges(ups.clone(), downs, range);
            return right;
        }
        let (ups, downs) = if forward {
            (self.endpoints(&left), self.endpoints(&right))
        } else {
            (self.endpoints(&right), self.endpoints(&left))
        };
        self.add_edges(ups, downs, range);
        right
    }

    pub(in crate::validate) fn endpoints(&self, value: &Value<'a>) -> Vec<Endpoint> {
        let mut out = Vec::new();
        endpoints_into(value, &mut out);
        out
    }

    /// TaskFlow data passing: every XComArg among a task's arguments becomes an upstream.
    pub(in crate::validate) fn add_xcom_edges<'v>(
        &mut self,
        arguments: impl Iterator<Item = &'v Value<'a>>,
        task: TaskIdx,
        range: TextRange,
    ) where
        'a: 'v,
    {
        let mut ups = Vec::new();
        for v in arguments {
            collect_xcoms(v, &mut ups);
        }
        if ups.is_empty() {
            return;
        }
        let ups = ups.into_iter().map(Endpoint::Task).collect();
        self.add_edges(ups, vec![Endpoint::Task(task)], range);
    }

    pub(in crate::validate) fn add_edges(
        &mut self,
        ups: Vec<Endpoint>,
        downs: Vec<Endpoint>,
        range: TextRange,
    ) {
        if !self.spend(ups.len().saturating_mul(downs.len()).saturating_mul(EDGE_COST)) {
            return;
        }
        let certain = self.certain();
        self.check_edge_dags(&ups, &downs, range);
        for &u in &ups {
            for &d in &downs {
                self.model.edges.push(EdgeNode { upstream: u, downstream: d, range, certain });
            }
        }
        // Airflow gives a DAG-less task the DAG of the task it is linked to.
        let dag_of = |m: &DagModel, e: Endpoint| match e {
            Endpoint::Task(t) => m.tasks[t].dag,
            Endpoint::Group(g) => m.groups[g].dag,
        };
        let all = || ups.iter().chain(downs.iter()).copied();
        if let Some(dag) = all().find_map(|e| dag_of(&self.model, e)) {
            for e in all() {
                if let Endpoint::Task(t) = e
                    && self.model.tasks[t].dag.is_none()
                {
                    self.model.tasks[t].dag = Some(dag);
                }
            }
        }
    }
}

/// The tasks and groups a value stands for in a dependency, appended to `out` (a list's, in
/// order: one vector for the whole list, not one per item).
fn endpoints_into(value: &Value<'_>, out: &mut Vec<Endpoint>) {
    match value {
        Value::Task(t) | Value::XCom(t) => out.push(Endpoint::Task(*t)),
        Value::Group(g) => out.push(Endpoint::Group(*g)),
        Value::List(items) => items.iter().for_each(|v| endpoints_into(v, out)),
        _ => {}
    }
}
