//! DS215 (environment at import): Variables, Connections and other reads of the environment
//! while Airflow parses the file. The interpreter finds them (`call_other_airflow`, hooks).

use ruff_text_size::TextRange;

use crate::rules;
use crate::validate::interp::Interp;

impl Interp<'_> {
    /// DS215: reading the environment (Variables, Connections) while the file is parsed.
    pub(in crate::validate) fn report_environment(&mut self, range: TextRange, message: String) {
        self.report(
            &rules::ENVIRONMENT_AT_IMPORT,
            range,
            message,
            Some(
                "read it inside a task (or a template), where a missing value fails only that task"
                    .into(),
            ),
        );
    }
}
