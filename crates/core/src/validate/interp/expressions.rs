//! Expressions: names, literals, attributes, f-strings, comprehensions and call arguments.

use super::*;

impl<'a> Interp<'a> {
    /// An expression statement: handles in-place list mutation (`tasks.append(t)`).
    pub(in crate::validate) fn eval_statement_expr(&mut self, expr: &'a Expr) {
        if let Expr::Call(call) = expr
            && let Expr::Attribute(attr) = &*call.func
            && let Expr::Name(list_name) = &*attr.value
            && matches!(attr.attr.as_str(), "append" | "extend")
            && let Some(list) = self.lookup(list_name.id.as_str())
            && matches!(list, Value::List(_))
        {
            // The copy just made is paid for like any other.
            if !self.spend(arith::weight(&list)) {
                return;
            }
            let Value::List(mut items) = list else { return };
            let args: Vec<Value<'a>> = call.arguments.args.iter().map(|a| self.eval(a)).collect();
            if call.arguments.keywords.is_empty() && args.len() == 1 {
                let arg = args.into_iter().next().unwrap_or(Value::Unknown);
                match (attr.attr.as_str(), arg) {
                    ("append", v) => items.push(v),
                    ("extend", Value::List(vs)) => items.extend(vs),
                    _ => items.push(Value::Unknown),
                }
                let list = self.built(Value::List(items));
                self.bind(list_name.id.as_str(), list);
            }
            return;
        }
        self.eval(expr);
    }

    /// Evaluates without reporting undefined names (for values re-read from decorators).
    pub(in crate::validate) fn eval_quiet(&mut self, expr: &'a Expr) -> Value<'a> {
        let before = self.findings.len();
        let v = self.eval(expr);
        self.findings.truncate(before);
        v
    }

    pub fn eval(&mut self, expr: &'a Expr) -> Value<'a> {
        // Where the stack cannot grow (wasm), very deep expressions are left unknown.
        if self.depth > MAX_EVAL_DEPTH || !self.spend(1) {
            return Value::Unknown;
        }
        self.depth = self.depth.saturating_add(1);
        // A leaf evaluates without going deeper: no stack to check.
        let value = if crate::validate::is_leaf(expr) {
            self.eval_inner(expr)
        } else {
            crate::validate::guard_stack(|| self.eval_inner(expr))
        };
        self.depth = self.depth.saturating_sub(1);
        value
    }

    pub(in crate::validate) fn eval_inner(&mut self, expr: &'a Expr) -> Value<'a> {
        match expr {
            Expr::Name(n) => self.load_name(n),
            Expr::StringLiteral(s) => Value::Str(s.value.to_str().into()),
            Expr::NumberLiteral(n) => match &n.value {
                ast::Number::Int(i) => i.as_i64().map_or(Value::Unknown, Value::Int),
                _ => Value::Unknown,
            },
            Expr::BooleanLiteral(b) => Value::Bool(b.value),
            Expr::NoneLiteral(_) => Value::None,
            Expr::FString(f) => self.eval_fstring(f),
            Expr::List(l) => {
                let items = self.eval_elements(&l.elts);
                self.built(Value::List(items))
            }
            Expr::Tuple(t) => {
                let items = self.eval_elements(&t.elts);
                self.built(Value::List(items))
            }
            Expr::Set(s) => {
                self.eval_elements(&s.elts);
                Value::Unknown
            }
            Expr::Dict(d) => self.eval_dict(d),
            Expr::BinOp(b) => self.eval_binop(b),
            Expr::BoolOp(b) => {
                let mut last = Value::Unknown;
                for v in &b.values {
                    last = self.eval(v);
                }
                if b.values.len() == 1 { last } else { Value::Unknown }
            }
            Expr::UnaryOp(u) => {
                let v = self.eval(&u.operand);
                match (u.op, v) {
                    (ast::UnaryOp::Not, Value::Bool(b)) => Value::Bool(!b),
                    (op, Value::Int(i)) => {
                        arith::int_unary(op, i).map_or(Value::Unknown, Value::Int)
                    }
                    _ => Value::Unknown,
                }
            }
            Expr::Compare(c) => self.eval_compare(c),
            Expr::If(i) => {
                let test = self.eval(&i.test);
                match truthiness(&i.test, &test) {
                    Some(true) => self.eval(&i.body),
                    Some(false) => self.eval(&i.orelse),
                    None => {
                        self.eval(&i.body);
                        self.eval(&i.orelse);
                        Value::Unknown
                    }
                }
            }
            Expr::Named(n) => {
                let v = self.eval(&n.value);
                self.assign(&n.target, v.clone());
                v
            }
            Expr::Lambda(l) => {
                if let Some(parameters) = &l.parameters {
                    for p in parameters.iter() {
                        if let Some(d) = p.default() {
                            self.eval(d);
                        }
                    }
                }
                // The body runs later; `names` checks it.
                Value::Unknown
            }
            Expr::ListComp(c) => self.eval_comprehension(&c.generators, &[&c.elt], true),
            Expr::SetComp(c) => self.eval_comprehension(&c.generators, &[&c.elt], false),
            // A generator passed to list()/chain() behaves like a list here.
            Expr::Generator(c) => self.eval_comprehension(&c.generators, &[&c.elt], true),
            Expr::DictComp(c) => match c.key.as_deref() {
                Some(key) => self.eval_comprehension(&c.generators, &[key, &c.value], false),
                None => self.eval_comprehension(&c.generators, &[&c.value], false),
            },
            Expr::Await(a) => {
                self.eval(&a.value);
                Value::Unknown
            }
            Expr::Yield(y) => {
                if let Some(v) = &y.value {
                    self.eval(v);
                }
                Value::Unknown
            }
            Expr::YieldFrom(y) => {
                self.eval(&y.value);
                Value::Unknown
            }
            Expr::Call(call) => self.eval_call(call),
            Expr::Attribute(a) => self.eval_attribute(a),
            Expr::Subscript(s) => self.eval_subscript(s),
            Expr::Starred(s) => self.eval(&s.value),
            Expr::Slice(s) => {
                for part in [&s.lower, &s.upper, &s.step].into_iter().flatten() {
                    self.eval(part);
                }
                Value::Unknown
            }
            Expr::TString(t) => {
                for e in t.value.elements() {
                    if let ast::InterpolatedStringElement::Interpolation(i) = e {
                        self.eval(&i.expression);
                    }
                }
                Value::Unknown
            }
            Expr::BytesLiteral(_) | Expr::EllipsisLiteral(_) | Expr::IpyEscapeCommand(_) => {
                Value::Unknown
            }
        }
    }

    pub(in crate::validate) fn eval_dict(&mut self, d: &'a ast::ExprDict) -> Value<'a> {
        // Only a dict whose every key is known is a `Dict`: code checks the
        // absence of keys (start_date, task_id) on it.
        let mut items = Some(Vec::new());
        for item in &d.items {
            let key = item.key.as_ref().map(|k| self.eval(k));
            let value = self.eval(&item.value);
            match (key, value, items.as_mut()) {
                (Some(Value::Str(k)), v, Some(items)) => items.push((k.into_owned(), v)),
                (None, Value::Dict(inner), Some(items)) => items.extend(inner),
                _ => items = None,
            }
        }
        match items {
            Some(items) => self.built(Value::Dict(items)),
            None => Value::Unknown,
        }
    }

    pub(in crate::validate) fn eval_compare(&mut self, c: &'a ast::ExprCompare) -> Value<'a> {
        let left = self.eval(&c.left);
        let rights: Vec<Value<'a>> = c.comparators.iter().map(|e| self.eval(e)).collect();
        if c.ops.len() == 1
            && let Some(right) = rights.first()
        {
            let eq = match (&left, right) {
                (Value::Str(a), Value::Str(b)) => Some(a == b),
                (Value::Int(a), Value::Int(b)) => Some(a == b),
                _ => None,
            };
            if let Some(eq) = eq {
                match c.ops[0] {
                    ast::CmpOp::Eq => return Value::Bool(eq),
                    ast::CmpOp::NotEq => return Value::Bool(!eq),
                    _ => {}
                }
            }
        }
        Value::Unknown
    }

    pub(in crate::validate) fn eval_attribute(&mut self, a: &'a ast::ExprAttribute) -> Value<'a> {
        let object = self.eval(&a.value);
        let attr = a.attr.as_str();
        match object {
            // `TriggerRule.ALL_SUCCESS` is a str enum whose value is "all_success".
            Value::Imported(q)
                if q.starts_with("airflow.")
                    && q.ends_with(".TriggerRule")
                    && attr.chars().all(|c| c.is_ascii_uppercase() || c == '_') =>
            {
                Value::Str(attr.to_ascii_lowercase().into())
            }
            // Models write `pendulum.timedelta(hours=1)`: pendulum has `duration`.
            Value::Imported(q) if &*q == "pendulum" && attr == "timedelta" => {
                self.report_pendulum_timedelta(a.range);
                Value::Unknown
            }
            // `pendulum.datetime.now()`: `pendulum.datetime` is a function; `pendulum.now` is meant.
            Value::Imported(q) if &*q == "pendulum.datetime" && matches!(attr, "now" | "today") => {
                self.report_pendulum_function_attribute(a.range, attr);
                Value::Unknown
            }
            // `q.attr`, within the bound on strings (`arith::concat_str`'s).
            Value::Imported(q) if q.len().saturating_add(attr.len()) < arith::MAX_STR_LEN => {
                Value::Imported(self.dotted_path(Some(&q), attr))
            }
            Value::Imported(_) => Value::Unknown,
            Value::Task(t) if attr == "output" => Value::XCom(t),
            Value::XCom(t) if attr == "output" => {
                self.report_xcom_output(a.range);
                Value::XCom(t)
            }
            Value::Unknown => Value::Unknown,
            Value::FilePath(name) => path_attribute(&name, attr),
            other => {
                self.check_attribute(&other, attr, a.range);
                Value::Method(Box::new(other), attr)
            }
        }
    }

    pub(in crate::validate) fn eval_subscript(&mut self, s: &'a ast::ExprSubscript) -> Value<'a> {
        let object = self.eval(&s.value);
        let index = self.eval(&s.slice);
        match (object, index) {
            (Value::Dict(items), Value::Str(k)) => items
                .into_iter()
                .rev()
                .find(|(key, _)| *key == k)
                .map_or(Value::Unknown, |(_, v)| v),
            (Value::List(items), Value::Int(i)) => {
                // A negative index counts from the end.
                let idx = if i < 0 {
                    i64::try_from(items.len()).ok().and_then(|n| n.checked_add(i))
                } else {
                    Some(i)
                };
                idx.and_then(|i| usize::try_from(i).ok())
                    .and_then(|i| items.into_iter().nth(i))
                    .unwrap_or(Value::Unknown)
            }
            (Value::XCom(t), _) => Value::XCom(t),
            _ => Value::Unknown,
        }
    }

    pub(in crate::validate) fn eval_elements(&mut self, elts: &'a [Expr]) -> Vec<Value<'a>> {
        let mut out = Vec::with_capacity(elts.len());
        for e in elts {
            match (e, self.eval(e)) {
                (Expr::Starred(_), Value::List(items)) => out.extend(items),
                (_, v) => out.push(v),
            }
        }
        out
    }

    pub(in crate::validate) fn eval_fstring(&mut self, f: &'a ast::ExprFString) -> Value<'a> {
        let mut out = String::new();
        let mut known = true;
        for part in f.value.as_slice() {
            match part {
                ast::FStringPart::Literal(lit) => out.push_str(&lit.value),
                ast::FStringPart::FString(fs) => {
                    for element in fs.elements.iter() {
                        match element {
                            ast::InterpolatedStringElement::Literal(lit) => {
                                out.push_str(&lit.value)
                            }
                            ast::InterpolatedStringElement::Interpolation(i) => {
                                let v = self.eval(&i.expression);
                                if let Some(spec) = &i.format_spec {
                                    for e in spec.elements.iter() {
                                        if let ast::InterpolatedStringElement::Interpolation(i) = e
                                        {
                                            self.eval(&i.expression);
                                        }
                                    }
                                    known = false;
                                }
                                if i.debug_text.is_some()
                                    || i.conversion != ast::ConversionFlag::None
                                {
                                    known = false;
                                }
                                match display(&v) {
                                    Some(s) if out.len().saturating_add(s.len()) <= MAX_STR_LEN => {
                                        out.push_str(&s)
                                    }
                                    _ => known = false,
                                }
                            }
                        }
                    }
                }
            }
        }
        if known { self.built(Value::Str(out.into())) } else { Value::Unknown }
    }

    /// Comprehensions over known sequences are unrolled, so
    /// `[EmptyOperator(task_id=f"t_{i}") for i in range(3)]` yields three known tasks.
    pub(in crate::validate) fn eval_comprehension(
        &mut self,
        generators: &'a [ast::Comprehension],
        elts: &[&'a Expr],
        collect: bool,
    ) -> Value<'a> {
        let Some(first) = generators.first() else {
            return Value::Unknown;
        };
        // The first iterable is evaluated in the enclosing scope.
        let first_iter = self.eval(&first.iter);
        let parent = Some(self.frame().id);
        self.push_frame(FrameKind::Function, parent);
        let mut out = Some(Vec::new());
        self.comprehension_level(generators, 0, Some(first_iter), elts, &mut out);
        // Walrus targets bind in the enclosing scope; dropping them can only make later
        // lookups unknown, never wrong.
        self.pop_frame();
        match out {
            Some(items) if collect => self.built(Value::List(items)),
            _ => Value::Unknown,
        }
    }

    pub(in crate::validate) fn comprehension_level(
        &mut self,
        generators: &'a [ast::Comprehension],
        level: usize,
        iter: Option<Value<'a>>,
        elts: &[&'a Expr],
        out: &mut Option<Vec<Value<'a>>>,
    ) {
        if !self.spend(1) {
            *out = None;
            return;
        }
        let Some(generator) = generators.get(level) else {
            let value = match elts {
                [single] => self.eval(single),
                many => {
                    for e in many {
                        self.eval(e);
                    }
                    Value::Unknown
                }
            };
            if let Some(items) = out {
                items.push(value);
                // Too big to be a value: `built` would refuse it anyway.
                if items.len() > MAX_WEIGHT {
                    *out = None;
                }
            }
            return;
        };
        let iter = match iter {
            Some(v) => v,
            None => self.eval(&generator.iter),
        };
        let items = match iter {
            Value::List(items) if items.len() <= MAX_UNROLL => Some(items),
            _ => None,
        };
        match items {
            Some(items) => {
                for item in items {
                    self.assign(&generator.target, item);
                    let mut included = Some(true);
                    for cond in &generator.ifs {
                        let v = self.eval(cond);
                        match (included, truthiness(cond, &v)) {
                            (_, Some(false)) => included = Some(false),
                            (Some(true), None) => included = None,
                            _ => {}
                        }
                    }
                    match included {
                        Some(false) => {}
                        Some(true) => self.comprehension_level(
                            generators,
                            level.saturating_add(1),
                            None,
                            elts,
                            out,
                        ),
                        None => {
                            *out = None;
                            self.enter_uncertain();
                            self.comprehension_level(
                                generators,
                                level.saturating_add(1),
                                None,
                                elts,
                                out,
                            );
                            self.leave_uncertain();
                        }
                    }
                }
            }
            None => {
                *out = None;
                self.assign(&generator.target, Value::Unknown);
                for cond in &generator.ifs {
                    self.eval(cond);
                }
                self.unknown_loops = self.unknown_loops.saturating_add(1);
                self.comprehension_level(generators, level.saturating_add(1), None, elts, out);
                self.unknown_loops = self.unknown_loops.saturating_sub(1);
            }
        }
    }

    pub(in crate::validate) fn eval_arguments(
        &mut self,
        arguments: &'a ast::Arguments,
    ) -> (Vec<Value<'a>>, Vec<Kwarg<'a>>) {
        // One element an argument but for `*` and `**` ones: sized once, not grown.
        let mut args = Vec::with_capacity(arguments.args.len());
        for a in arguments.args.iter() {
            match (a, self.eval(a)) {
                (Expr::Starred(_), Value::List(items)) => args.extend(items),
                (Expr::Starred(_), _) => args.push(Value::Unknown),
                (_, v) => args.push(v),
            }
        }
        let mut kwargs = Vec::with_capacity(arguments.keywords.len());
        for kw in arguments.keywords.iter() {
            let v = self.eval(&kw.value);
            match (&kw.arg, v) {
                (Some(name), v) => kwargs.push((Some(Cow::Borrowed(name.as_str())), v)),
                (None, Value::Dict(items)) => {
                    // `**{"task_id": "x"}` and `**CONFIG[0]`: keep the names we know.
                    for (k, v) in items {
                        kwargs.push((Some(Cow::Owned(k)), v));
                    }
                }
                (None, v) => kwargs.push((None, v)),
            }
        }
        (args, kwargs)
    }
}
