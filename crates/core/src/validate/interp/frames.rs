//! Frames and names: the scopes Python looks names up in, binding and assignment.

use super::*;

impl<'a> Interp<'a> {
    pub(in crate::validate) fn frame(&self) -> &Frame<'a> {
        self.frames.last().expect("the module frame is never popped")
    }

    pub(in crate::validate) fn frame_mut(&mut self) -> &mut Frame<'a> {
        self.frames.last_mut().expect("the module frame is never popped")
    }

    pub(in crate::validate) fn frame_by_id(&self, id: u32) -> Option<&Frame<'a>> {
        // Ids grow with every frame pushed and frames are popped in order: the stack is sorted.
        let i = self.frames.binary_search_by_key(&id, |f| f.id).ok()?;
        self.frames.get(i)
    }

    pub(in crate::validate) fn lookup(&self, name: &str) -> Option<Value<'a>> {
        let top = self.frame();
        if top.globals.contains(name) {
            return self.frames[0].vars.get(name).cloned();
        }
        if let Some(v) = top.vars.get(name) {
            return Some(v.clone());
        }
        let mut parent = top.parent;
        while let Some(id) = parent {
            let Some(frame) = self.frame_by_id(id) else {
                break;
            };
            if let Some(v) = frame.vars.get(name) {
                return Some(v.clone());
            }
            parent = frame.parent;
        }
        self.frames[0].vars.get(name).cloned()
    }

    pub(in crate::validate) fn bind(&mut self, name: &'a str, value: Value<'a>) {
        let is_global_decl = self.frame().globals.contains(name);
        let uncertain = self.uncertain > 0;
        let region = self.regions.last().copied();
        let frame = if is_global_decl { &mut self.frames[0] } else { self.frame_mut() };
        // A branch that may not run cannot replace a value for sure: `k8s = None` in an
        // `except ImportError:` must not make `if k8s:` statically false. DAG objects are
        // kept, since only their structure matters. A variable that was first bound in the
        // same region is replaced: both bindings run, or neither.
        // Rebinding (most binds in loops and branches) replaces the value in place: no new key.
        if let Some(slot) = frame.vars.get_mut(name) {
            let same_region = || region.is_some() && frame.bound_in.get(name).copied() == region;
            *slot = match (uncertain, &value) {
                (true, Value::Dag(_) | Value::Task(_) | Value::XCom(_) | Value::Group(_)) => value,
                (true, _) if !same_region() => Value::Unknown,
                _ => value,
            };
            return;
        }
        if let Some(r) = region {
            frame.bound_in.insert(name, r);
        }
        frame.vars.insert(name, value);
    }

    pub(in crate::validate) fn load_name(&mut self, name: &ast::ExprName) -> Value<'a> {
        let id = name.id.as_str();
        if let Some(v) = self.lookup(id) {
            let w = arith::weight(&v);
            return if self.spend(w) { v } else { Value::Unknown };
        }
        if id == "__file__"
            && let Some(f) = &self.file_name
        {
            return Value::FilePath(f.clone());
        }
        if is_builtin(id) {
            return Value::Unknown;
        }
        if self.frame().kind != FrameKind::Module && self.frame().globals.contains(id) {
            return Value::Unknown;
        }
        let severity = if self.dynamic_names || self.guarded(|g| g.name_error) {
            Severity::Warning
        } else {
            Severity::Error
        };
        let fix = airflow::import_hint(id, self.version);
        self.report_with(
            &rules::UNDEFINED_NAME,
            severity,
            name.range,
            format!("name '{id}' is not defined (NameError while Airflow imports the file)"),
            fix,
        );
        Value::Unknown
    }

    /// `prefix.name` (or `name` alone), as an imported value's path: put together in a buffer
    /// kept for it, so that the value's `Rc<str>` is the only allocation.
    pub(in crate::validate) fn dotted_path(
        &mut self,
        prefix: Option<&str>,
        name: &str,
    ) -> std::rc::Rc<str> {
        let buf = &mut self.path_buf;
        buf.clear();
        if let Some(prefix) = prefix {
            buf.push_str(prefix);
            buf.push('.');
        }
        buf.push_str(name);
        std::rc::Rc::from(buf.as_str())
    }

    pub(in crate::validate) fn push_frame(&mut self, kind: FrameKind, parent: Option<u32>) {
        let id = self.next_frame_id;
        self.next_frame_id = self.next_frame_id.saturating_add(1);
        self.frames.push(Frame {
            id,
            kind,
            parent,
            // A function's parameters and locals: a few, bound one at a time (growing from
            // nothing rehashed several times on the way).
            vars: HashMap::with_capacity_and_hasher(16, Default::default()),
            bound_in: HashMap::default(),
            globals: HashSet::default(),
            returned: None,
        });
    }

    pub(in crate::validate) fn pop_frame(&mut self) -> Option<Value<'a>> {
        if self.frames.len() > 1 { self.frames.pop().and_then(|f| f.returned) } else { None }
    }

    pub(in crate::validate) fn assign(&mut self, target: &'a Expr, value: Value<'a>) {
        match target {
            Expr::Name(n) => self.bind(n.id.as_str(), value),
            Expr::Tuple(t) => self.assign_sequence(&t.elts, value),
            Expr::List(l) => self.assign_sequence(&l.elts, value),
            Expr::Starred(s) => self.assign(&s.value, Value::Unknown),
            Expr::Attribute(a) => {
                let object = self.eval(&a.value);
                // `task.dag = dag` attaches a task.
                if a.attr.as_str() == "dag"
                    && let (Value::Task(t), Value::Dag(d)) = (&object, &value)
                {
                    self.model.tasks[*t].dag = Some(*d);
                }
            }
            Expr::Subscript(s) => {
                self.eval(&s.value);
                self.eval(&s.slice);
                if is_globals_call(&s.value) {
                    match value {
                        Value::Dag(d) => self.model.dags[d].collected = true,
                        // `globals()[name] = build()` may well store a DAG.
                        Value::Unknown => self.model.dynamic_dags = true,
                        _ => {}
                    }
                }
            }
            other => {
                self.eval(other);
            }
        }
    }

    pub(in crate::validate) fn assign_sequence(&mut self, targets: &'a [Expr], value: Value<'a>) {
        match value {
            Value::List(items) if items.len() == targets.len() => {
                for (t, v) in targets.iter().zip(items) {
                    self.assign(t, v);
                }
            }
            _ => {
                for t in targets {
                    self.assign(t, Value::Unknown);
                }
            }
        }
    }
}
