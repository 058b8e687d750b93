//! `def` and `class`: functions with what their decorators make of them (`@task`, `@dag`,
//! `@task_group`, `@asset`), and classes.

use super::*;

impl<'a> Interp<'a> {
    pub(in crate::validate) fn define_function(&mut self, def: &'a ast::StmtFunctionDef) {
        let mut kind = FunctionKind::Plain;
        let mut own_signature = true;
        let mut role = None;
        // `@asset(...)` (Airflow 3): the decorator's call, if any (`None` inside: bare `@asset`).
        let mut asset_decorator: Option<Option<&'a ast::ExprCall>> = None;
        for decorator in &def.decorator_list {
            let (callee, call) = match &decorator.expression {
                Expr::Call(call) => (self.eval(&call.func), Some(call)),
                other => (self.eval(other), None),
            };
            if let Some(call) = call {
                self.eval_arguments(&call.arguments);
            }
            if let Value::Imported(q) = &callee
                && (&**q == "airflow.task" || q.starts_with("airflow.task."))
            {
                self.report_task_package_decorator(q, decorator.range());
            }
            let api = match &callee {
                Value::Imported(q) => airflow::classify(q),
                _ => ApiKind::Other,
            };
            let from_airflow = match &callee {
                Value::Imported(q) => q.starts_with("airflow."),
                Value::Method(object, _) => {
                    matches!(&**object, Value::Imported(q) if q.starts_with("airflow."))
                }
                _ => false,
            };
            if !from_airflow {
                own_signature = false;
            }
            if let Value::Imported(q) = &callee
                && let Some(r) = airflow::setup_teardown_role(q)
            {
                role = Some(r);
            }
            if let Value::Imported(q) = &callee
                && airflow::is_asset_decorator(q)
                && self.version.is_v3()
            {
                asset_decorator = Some(call);
            }
            kind = match api {
                ApiKind::DagDecorator => FunctionKind::Dag { decorator: call },
                ApiKind::TaskDecorator => {
                    let task_id =
                        call.and_then(|c| keyword(c, "task_id")).map(|e| self.eval_quiet(e));
                    FunctionKind::Task { task_id, partial: false, role: None }
                }
                ApiKind::TaskGroupDecorator => {
                    if let Some(c) = call {
                        self.check_task_group_kwargs(c);
                    }
                    let group_id = call
                        .and_then(|c| keyword(c, "group_id").or_else(|| c.arguments.args.first()))
                        .map(|e| self.eval_quiet(e));
                    FunctionKind::TaskGroup { group_id, decorator: call }
                }
                _ => kind,
            };
        }
        if let FunctionKind::Task { role: r, .. } = &mut kind {
            *r = role;
        }
        if let Some(asset_call) = asset_decorator {
            self.define_asset(def, asset_call);
            self.bind(def.name.as_str(), Value::Unknown);
            return;
        }
        let mut defaults = Vec::new();
        for p in def.parameters.iter() {
            if let Some(default) = p.default() {
                let v = self.eval(default);
                defaults.push((p.name().to_string(), v));
            }
        }
        // Parameter and return annotations are not evaluated: they may be strings or
        // postponed, and skipping them can only hide a NameError, never invent one.
        if matches!(kind, FunctionKind::Dag { .. }) {
            self.defined_dag_functions.push((def.name.to_string(), def.range));
        }
        let closure = (self.frame().kind == FrameKind::Function).then(|| self.frame().id);
        let f = FunctionRef { def, kind, defaults, closure, own_signature };
        self.bind(def.name.as_str(), Value::Function(Box::new(f)));
    }

    /// `@asset` / `@asset.multi` (Airflow 3): the function becomes a DAG of one task, named
    /// after the asset (`name=`, else the function) with the function's name as task id.
    pub(in crate::validate) fn define_asset(
        &mut self,
        def: &'a ast::StmtFunctionDef,
        call: Option<&'a ast::ExprCall>,
    ) {
        let name = call
            .and_then(|c| keyword(c, "name"))
            .map(|e| self.eval_quiet(e))
            .unwrap_or_else(|| Value::Str(def.name.as_str().into()));
        let id_range = call.and_then(|c| keyword(c, "name")).map_or(def.name.range, |e| e.range());
        let dag = self.add_dag(name, def.range, id_range);
        // DagBag finds the asset's DAG when the definition is a module global.
        self.model.dags[dag].collected = self.frame().kind == FrameKind::Module;
        self.dag_stack.push(dag);
        self.add_task(NewTask {
            id: Value::Str(def.name.as_str().into()),
            range: def.name.range,
            operator: def.name.as_str(),
            taskflow: true,
            explicit: None,
            has_start_date: true,
        });
        self.dag_stack.pop();
    }

    pub(in crate::validate) fn define_class(&mut self, class: &'a ast::StmtClassDef) {
        for d in &class.decorator_list {
            self.eval(&d.expression);
        }
        let mut kind = ClassKind::Other;
        if let Some(arguments) = &class.arguments {
            for base in arguments.args.iter() {
                match self.eval(base) {
                    Value::Imported(q) => match airflow::classify(&q) {
                        ApiKind::Operator => kind = ClassKind::Operator,
                        ApiKind::DagClass => kind = ClassKind::Dag,
                        _ => {}
                    },
                    Value::Class(_, k) if k != ClassKind::Other => kind = k,
                    _ => {}
                }
            }
            for kw in &arguments.keywords {
                self.eval(&kw.value);
            }
        }
        // The class body runs now, in its own namespace.
        let parent = self
            .frame()
            .parent
            .or(Some(self.frame().id))
            .filter(|_| self.frame().kind != FrameKind::Module);
        self.push_frame(FrameKind::Class, parent);
        self.exec_block(&class.body);
        self.pop_frame();
        self.bind(class.name.as_str(), Value::Class(class, kind));
    }
}
