//! Calls: to imported callables, methods, `chain`, and functions defined in the file (followed
//! into, up to `MAX_CALL_DEPTH`).

use super::*;

impl<'a> Interp<'a> {
    pub(in crate::validate) fn eval_call(&mut self, call: &'a ast::ExprCall) -> Value<'a> {
        let callee = self.eval(&call.func);
        match callee {
            Value::Imported(q) => {
                if &*q == "datetime.datetime" {
                    self.check_stdlib_datetime_call(call);
                }
                self.call_imported(&q, call)
            }
            Value::Function(f) => self.call_function(*f, call),
            Value::Class(class, kind) => {
                let (args, kwargs) = self.eval_arguments(&call.arguments);
                match kind {
                    ClassKind::Operator => {
                        self.create_operator(class.name.as_str(), call, &kwargs, None)
                    }
                    ClassKind::Dag => self.create_dag_from_call(call, &args, &kwargs, false),
                    ClassKind::Other if has_keyword(call, "task_id") => {
                        self.create_operator(class.name.as_str(), call, &kwargs, None)
                    }
                    ClassKind::Other => Value::Unknown,
                }
            }
            Value::Method(object, name) => self.call_method(*object, name, call),
            Value::Unknown => {
                let builtin = match &*call.func {
                    Expr::Name(n)
                        if self.lookup(n.id.as_str()).is_none() && is_builtin(n.id.as_str()) =>
                    {
                        Some(n.id.as_str())
                    }
                    _ => None,
                };
                let (args, kwargs) = self.eval_arguments(&call.arguments);
                if let Some(b) = builtin {
                    let value = call_builtin(b, args, &kwargs);
                    return self.built(value);
                }
                if has_keyword(call, "task_id") {
                    let name = callee_name(&call.func).unwrap_or_else(|| "operator".into());
                    return self.create_operator(&name, call, &kwargs, None);
                }
                Value::Unknown
            }
            _ => {
                self.eval_arguments(&call.arguments);
                Value::Unknown
            }
        }
    }

    /// `Operator.partial(...)`: remembers the arguments and context until `.expand(...)`.
    pub(in crate::validate) fn operator_partial(
        &mut self,
        class_name: String,
        call: &'a ast::ExprCall,
    ) -> Value<'a> {
        let (_, kwargs) = self.eval_arguments(&call.arguments);
        let group = self.group_stack.last().copied();
        let dag =
            group.and_then(|g| self.model.groups[g].dag).or_else(|| self.dag_stack.last().copied());
        Value::OperatorPartial(Box::new(PendingOperator { class_name, call, kwargs, dag, group }))
    }

    pub(in crate::validate) fn call_imported(
        &mut self,
        qualified: &str,
        call: &'a ast::ExprCall,
    ) -> Value<'a> {
        if let Some(base) = qualified.strip_suffix(".partial")
            && airflow::classify(base) == ApiKind::Operator
        {
            return self.operator_partial(base.to_string(), call);
        }
        let (args, kwargs) = self.eval_arguments(&call.arguments);
        match airflow::classify(qualified) {
            ApiKind::DagClass => {
                let dag = self.create_dag_from_call(call, &args, &kwargs, true);
                if let Value::Dag(d) = dag {
                    self.model.dags[d].class_path = Some(qualified.to_string());
                }
                dag
            }
            ApiKind::TaskGroupClass => {
                let group = self.create_group_from_call(call, &args, &kwargs);
                if let Value::Group(g) = group {
                    self.model.groups[g].class_path = Some(qualified.to_string());
                }
                group
            }
            ApiKind::Operator => self.create_operator(qualified, call, &kwargs, None),
            ApiKind::Chain => {
                self.chain(call, args);
                Value::None
            }
            ApiKind::ChainLinear => {
                let groups: Vec<Vec<Endpoint>> = args.iter().map(|a| self.endpoints(a)).collect();
                for pair in groups.windows(2) {
                    self.add_edges(pair[0].clone(), pair[1].clone(), call.range());
                }
                Value::None
            }
            ApiKind::CrossDownstream => {
                let ups = args.first().map(|a| self.endpoints(a)).unwrap_or_default();
                let downs = args.get(1).map(|a| self.endpoints(a)).unwrap_or_default();
                self.add_edges(ups, downs, call.range());
                Value::None
            }
            ApiKind::Label => Value::EdgeLabel(Vec::new()),
            ApiKind::TaskDecorator | ApiKind::DagDecorator | ApiKind::TaskGroupDecorator => {
                Value::Unknown
            }
            ApiKind::Other if has_keyword(call, "task_id") => {
                self.create_operator(qualified, call, &kwargs, None)
            }
            ApiKind::Other => self.call_other_airflow(qualified, call, &args, &kwargs),
        }
    }

    /// `chain(a, [b, c], d)`: adjacent lists pair up element-wise, so their lengths must match.
    pub(in crate::validate) fn chain(&mut self, call: &'a ast::ExprCall, args: Vec<Value<'a>>) {
        for (i, pair) in args.windows(2).enumerate() {
            match (&pair[0], &pair[1]) {
                (Value::List(a), Value::List(b)) => {
                    if a.len() != b.len() {
                        let range = call
                            .arguments
                            .args
                            .get(i.saturating_add(1))
                            .map_or(call.range(), |e| e.range());
                        self.report(
                            &rules::CHAIN_LENGTH_MISMATCH,
                            range,
                            format!(
                                "chain() got adjacent lists of different lengths ({} and {}): AirflowException while Airflow imports the file",
                                a.len(),
                                b.len()
                            ),
                            Some("make the lists the same length, or use cross_downstream() for every pair".into()),
                        );
                        continue;
                    }
                    for (x, y) in a.iter().zip(b.iter()) {
                        let (ups, downs) = (self.endpoints(x), self.endpoints(y));
                        self.add_edges(ups, downs, call.range());
                    }
                }
                (a, b) => {
                    let (ups, downs) = (self.endpoints(a), self.endpoints(b));
                    self.add_edges(ups, downs, call.range());
                }
            }
        }
    }

    pub(in crate::validate) fn call_method(
        &mut self,
        object: Value<'a>,
        name: &str,
        call: &'a ast::ExprCall,
    ) -> Value<'a> {
        match (&object, name) {
            (
                Value::Task(_) | Value::XCom(_) | Value::Group(_) | Value::List(_),
                "set_downstream" | "set_upstream",
            ) => {
                let (args, _) = self.eval_arguments(&call.arguments);
                let other = args.into_iter().next().unwrap_or(Value::Unknown);
                let forward = name == "set_downstream";
                let (ups, downs) = if forward {
                    (self.endpoints(&object), self.endpoints(&other))
                } else {
                    (self.endpoints(&other), self.endpoints(&object))
                };
                self.add_edges(ups, downs, call.range());
                Value::None
            }
            // `task.as_teardown(setups=create)` returns the task and links the setups to it.
            (Value::Task(t) | Value::XCom(t), "as_setup" | "as_teardown") => {
                let (_, kwargs) = self.eval_arguments(&call.arguments);
                self.model.tasks[*t].role =
                    Some(if name == "as_setup" { TaskRole::Setup } else { TaskRole::Teardown });
                if name == "as_teardown"
                    && let Some(setups) = kwarg(&kwargs, "setups")
                {
                    let ups = self.endpoints(setups);
                    let downs = self.endpoints(&object);
                    self.add_edges(ups, downs, call.range());
                }
                object
            }
            (Value::Function(f), "override") => {
                let (_, kwargs) = self.eval_arguments(&call.arguments);
                let mut f = f.clone();
                if let FunctionKind::Task { task_id, .. } = &mut f.kind
                    && let Some((_, v)) =
                        kwargs.iter().find(|(k, _)| k.as_deref() == Some("task_id"))
                {
                    *task_id = Some(v.clone());
                }
                Value::Function(f)
            }
            (Value::Function(f), "partial") => {
                self.eval_arguments(&call.arguments);
                let mut f = f.clone();
                if let FunctionKind::Task { partial, .. } = &mut f.kind {
                    *partial = true;
                }
                Value::Function(f)
            }
            (Value::Function(f), "expand" | "expand_kwargs")
                if matches!(f.kind, FunctionKind::Task { .. }) =>
            {
                let f = (**f).clone();
                self.call_function(f, call)
            }
            (Value::Class(class, ClassKind::Operator), "partial") => {
                let name = class.name.to_string();
                self.operator_partial(name, call)
            }
            (Value::OperatorPartial(p), "expand" | "expand_kwargs") => {
                let (_, kwargs) = self.eval_arguments(&call.arguments);
                if name == "expand" {
                    let class = p.class_name.rsplit('.').next().unwrap_or(&p.class_name);
                    self.check_expand_values(class, call, &kwargs);
                }
                let p = (**p).clone();
                let mut all = p.kwargs;
                all.extend(kwargs);
                self.create_operator(&p.class_name, p.call, &all, Some((p.dag, p.group)))
            }
            (Value::Str(s), "split" | "rsplit") => {
                let (args, _) = self.eval_arguments(&call.arguments);
                split_string(s, name == "rsplit", &args)
            }
            (Value::Str(s), _) => {
                let (args, _) = self.eval_arguments(&call.arguments);
                match string_method(s, name, &args) {
                    Some(s) => self.built(Value::Str(s.into())),
                    None => Value::Unknown,
                }
            }
            (Value::FilePath(f), "resolve" | "absolute" | "expanduser") => {
                self.eval_arguments(&call.arguments);
                Value::FilePath(f.clone())
            }
            (Value::Hook(class), _) => {
                self.eval_arguments(&call.arguments);
                let class = class.rsplit('.').next().unwrap_or(class).to_string();
                self.report_environment(
                    call.range(),
                    format!("`{class}.{name}()` runs while the file is parsed: it uses the hook's connection, and the import fails where that connection is not defined"),
                );
                Value::Unknown
            }
            (Value::Dag(_) | Value::Task(_) | Value::Group(_), _) => {
                self.eval_arguments(&call.arguments);
                Value::Unknown
            }
            _ => {
                self.eval_arguments(&call.arguments);
                Value::Unknown
            }
        }
    }

    pub(in crate::validate) fn call_function(
        &mut self,
        f: FunctionRef<'a>,
        call: &'a ast::ExprCall,
    ) -> Value<'a> {
        let (args, kwargs) = self.eval_arguments(&call.arguments);
        self.check_call_binding(&f, call, args.len(), &kwargs);
        match f.kind.clone() {
            FunctionKind::Task { task_id, role, .. } => {
                let id = match task_id {
                    Some(v) => v,
                    None => Value::Str(f.def.name.as_str().into()),
                };
                let t = self.add_task(NewTask {
                    id,
                    range: call.range(),
                    operator: f.def.name.as_str(),
                    taskflow: true,
                    explicit: None,
                    has_start_date: false,
                });
                self.model.tasks[t].role = role;
                let values = args.iter().chain(kwargs.iter().map(|(_, v)| v));
                self.add_xcom_edges(values, t, call.range());
                Value::XCom(t)
            }
            FunctionKind::Dag { decorator } => {
                self.called_dag_functions.insert(f.def.range);
                let (dargs, dkwargs) = match decorator {
                    Some(d) => {
                        let before = self.findings.len();
                        let r = self.eval_arguments(&d.arguments);
                        self.findings.truncate(before);
                        r
                    }
                    None => (Vec::new(), Vec::new()),
                };
                let id_value = kwarg(&dkwargs, "dag_id")
                    .cloned()
                    .or_else(|| dargs.first().cloned())
                    .unwrap_or_else(|| Value::Str(f.def.name.as_str().into()));
                let id_range = decorator
                    .and_then(|d| keyword(d, "dag_id").or_else(|| d.arguments.args.first()))
                    .map_or(f.def.name.range, |e| e.range());
                let needs_task_start_date = match decorator {
                    Some(d) => {
                        self.check_dag_kwargs(d);
                        self.check_start_date(d)
                    }
                    None => !self.version.at_least(2, 8),
                };
                let dag = self.add_dag(id_value, f.def.range, id_range);
                self.model.dags[dag].collected = true;
                self.model.dags[dag].class_path = Some(airflow::dag_class(self.version).into());
                if let Some(d) = decorator {
                    self.model.dags[dag].default_arg_keys = default_arg_keys(d, &dkwargs);
                }
                self.model.dags[dag].needs_task_start_date = needs_task_start_date;
                self.dag_stack.push(dag);
                // The body sees DAG params (`DagParam`), not the defaults: values are unknown.
                let unknown_args = args.iter().map(|_| Value::Unknown).collect();
                let unknown_kwargs =
                    kwargs.iter().map(|(k, _)| (k.clone(), Value::Unknown)).collect();
                let no_defaults = FunctionRef { defaults: Vec::new(), ..f.clone() };
                self.inline(&no_defaults, unknown_args, unknown_kwargs);
                self.dag_stack.pop();
                Value::Dag(dag)
            }
            FunctionKind::TaskGroup { group_id, decorator } => {
                let id = group_id.unwrap_or_else(|| Value::Str(f.def.name.as_str().into()));
                let mut gkwargs = Vec::new();
                if let Some(d) = decorator {
                    let before = self.findings.len();
                    gkwargs = self.eval_arguments(&d.arguments).1;
                    self.findings.truncate(before);
                }
                let prefix =
                    !matches!(kwarg(&gkwargs, "prefix_group_id"), Some(Value::Bool(false)));
                let g = self.add_group(NewGroup {
                    id,
                    range: call.range(),
                    prefix,
                    renames: true,
                    explicit_dag: None,
                    explicit_parent: None,
                });
                self.model.groups[g].class_path =
                    Some(airflow::task_group_class(self.version).into());
                if kwarg(&gkwargs, "default_args").is_some() {
                    self.model.groups[g].has_default_args = true;
                }
                self.group_stack.push(g);
                let ret = self.inline(&f, args, kwargs);
                self.group_stack.pop();
                match ret {
                    Some(
                        v @ (Value::Task(_) | Value::XCom(_) | Value::List(_) | Value::Group(_)),
                    ) => v,
                    _ => Value::Group(g),
                }
            }
            FunctionKind::Plain => self.inline(&f, args, kwargs).unwrap_or(Value::Unknown),
        }
    }

    /// Runs a function's body as if called, with its parameters bound.
    pub(in crate::validate) fn inline(
        &mut self,
        f: &FunctionRef<'a>,
        args: Vec<Value<'a>>,
        kwargs: Vec<Kwarg<'a>>,
    ) -> Option<Value<'a>> {
        if self.call_stack.len() >= MAX_CALL_DEPTH || self.call_stack.contains(&f.def.range) {
            return None;
        }
        let params = &f.def.parameters;
        // Each parameter is looked up among the keywords and the defaults.
        let lookups = kwargs.len().saturating_add(f.defaults.len()).saturating_add(1);
        if !self.spend(params.len().saturating_mul(lookups).saturating_add(CALL_COST)) {
            return None;
        }
        let parent = f.closure.filter(|id| self.frame_by_id(*id).is_some());
        self.push_frame(FrameKind::Function, parent);
        let default = |name: &str| f.defaults.iter().find(|(n, _)| n == name).map(|(_, v)| v);
        let mut positional = args.into_iter();
        for p in params.posonlyargs.iter().chain(params.args.iter()) {
            let name = p.parameter.name.as_str();
            let v = match positional.next() {
                Some(v) => v,
                None => match kwarg(&kwargs, name).or_else(|| default(name)) {
                    Some(v) => self.copied(v),
                    None => Value::Unknown,
                },
            };
            self.frame_mut().vars.insert(name, v);
        }
        for p in params.kwonlyargs.iter() {
            let name = p.parameter.name.as_str();
            let v = match kwarg(&kwargs, name).or_else(|| default(name)) {
                Some(v) => self.copied(v),
                None => Value::Unknown,
            };
            self.frame_mut().vars.insert(name, v);
        }
        if let Some(v) = &params.vararg {
            self.frame_mut().vars.insert(v.name.as_str(), Value::Unknown);
        }
        if let Some(v) = &params.kwarg {
            self.frame_mut().vars.insert(v.name.as_str(), Value::Unknown);
        }
        self.call_stack.push(f.def.range);
        self.exec_block(&f.def.body);
        self.call_stack.pop();
        self.pop_frame()
    }
}
