//! DS212 (unknown attribute) on Airflow objects and `pendulum.timedelta`; DS120 (`.output` on an
//! XComArg).

use ruff_text_size::TextRange;

use crate::rules;
use crate::validate::interp::Interp;
use crate::validate::interp::helpers::*;
use crate::validate::model::*;

impl<'a> Interp<'a> {
    /// DS212: `dag.create_task_group(...)` and the like, on an Airflow object whose class (and
    /// every base) has no such attribute in the target version.
    pub(in crate::validate) fn check_attribute(
        &mut self,
        object: &Value<'a>,
        attr: &str,
        range: TextRange,
    ) {
        // `.output` on a TaskFlow result has its own rule (DS120).
        if attr.starts_with('_') || (matches!(object, Value::XCom(_)) && attr == "output") {
            return;
        }
        let Some(path) = self.class_of(object) else { return };
        let Some((module, class)) = path.rsplit_once('.') else { return };
        let cat = crate::catalog::catalog();
        let target = cat.target_for(self.version);
        let Some(attrs) = cat.class_attributes(target, module, class) else { return };
        if !attrs.certainly_lacks(attr) {
            return;
        }
        let class_name = cat
            .operator_params(target, module, class)
            .and_then(|p| p.defined_at.rsplit('.').next().map(str::to_string))
            .unwrap_or_else(|| class.to_string());
        let severity = self.attribute_error_severity();
        let fix =
            closest(attr, attrs.names.iter().copied()).map(|c| format!("did you mean `{c}`?"));
        self.report_with(
            &rules::UNKNOWN_ATTRIBUTE,
            severity,
            range,
            format!(
                "'{class_name}' object has no attribute '{attr}' in Airflow {} (AttributeError while Airflow imports the file)",
                self.version
            ),
            fix,
        );
    }

    /// DS212 for `pendulum.timedelta`, which models write for `pendulum.duration`.
    pub(in crate::validate) fn report_pendulum_timedelta(&mut self, range: TextRange) {
        let severity = self.attribute_error_severity();
        self.report_with(
            &rules::UNKNOWN_ATTRIBUTE,
            severity,
            range,
            "module 'pendulum' has no attribute 'timedelta' (AttributeError while Airflow imports the file)".into(),
            Some("`pendulum.duration(...)` takes the same arguments".into()),
        );
    }

    /// DS212 for `pendulum.datetime.now` / `.today`: `pendulum.datetime` is a function (the
    /// standard library's `datetime.now()` habit); `pendulum.now()` is meant.
    pub(in crate::validate) fn report_pendulum_function_attribute(
        &mut self,
        range: TextRange,
        attr: &str,
    ) {
        let severity = self.attribute_error_severity();
        self.report_with(
            &rules::UNKNOWN_ATTRIBUTE,
            severity,
            range,
            format!("'function' object has no attribute '{attr}': `pendulum.datetime` is a function (AttributeError while Airflow imports the file)"),
            Some(format!("use `pendulum.{attr}()`")),
        );
    }

    /// DS120: `.output` on the result of a TaskFlow call, already an XComArg.
    pub(in crate::validate) fn report_xcom_output(&mut self, range: TextRange) {
        self.report(
            &rules::XCOM_ARG_OUTPUT,
            range,
            "`.output` on the result of a TaskFlow call: it is already an XComArg (AttributeError while Airflow imports the file)".into(),
            Some("drop `.output`: pass the call's result directly".into()),
        );
    }
}
