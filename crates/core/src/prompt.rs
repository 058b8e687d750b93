//! Generation prompts: the system prompt, the first chat turns for an instruction, and the repair
//! turn that hands validation findings back to the model.
//!
//! The user turn keeps airflow-net's shape (`<instruction>\n\nAirflow Version: X.Y.Z`, see
//! [`crate::dataset::user_turn`]) so that models fine-tuned on that dataset see what they were
//! trained on. Rendering into the model's chat template is the engine's job.

use crate::dataset::{Message, user_turn};
use crate::finding::{Finding, Severity};

/// The default system prompt. Short on purpose: small models follow a few firm rules better than
/// a long style guide, and every token of it is paid again for each prompt.
pub const SYSTEM_PROMPT: &str = "You are an expert Apache Airflow engineer. Write one complete, \
self-contained Airflow DAG file in Python for the user's request, for exactly the Airflow version \
they name: use only imports that exist in that version and its providers. Give every task a \
unique task_id, define the dependencies explicitly, and do not leave placeholders. Answer with \
the code in a single ```python block.";

/// How many findings a repair turn lists: the rest are summarised by count, so a broken file
/// cannot blow up the prompt.
pub const REPAIR_MAX_FINDINGS: usize = 12;

/// System and user turns for one instruction (`system` overrides [`SYSTEM_PROMPT`]).
pub fn messages(instruction: &str, airflow_version: &str, system: Option<&str>) -> Vec<Message> {
    vec![
        Message { role: "system".into(), content: system.unwrap_or(SYSTEM_PROMPT).into() },
        Message { role: "user".into(), content: user_turn(instruction.trim(), airflow_version) },
    ]
}

/// The user turn of a repair round: the findings that make the file fail (errors first, then
/// warnings), each with its code, line, message and fix hint.
pub fn repair_turn(findings: &[Finding], airflow_version: &str) -> String {
    let mut relevant: Vec<&Finding> =
        findings.iter().filter(|f| f.severity != Severity::Info).collect();
    // Stable: errors before warnings, each in file order.
    relevant.sort_by_key(|f| (f.severity != Severity::Error, f.line, f.column));
    let mut out = format!(
        "Airflow {airflow_version} would not load this DAG. A static check of your code found:\n"
    );
    for f in relevant.iter().take(REPAIR_MAX_FINDINGS) {
        out.push_str(&format!(
            "- line {}: {}: {} [{}]",
            f.line,
            f.severity.as_str(),
            f.message,
            f.code
        ));
        if let Some(fix) = &f.fix {
            out.push_str(&format!(" (hint: {fix})"));
        }
        out.push('\n');
    }
    if relevant.len() > REPAIR_MAX_FINDINGS {
        out.push_str(&format!("- and {} more\n", relevant.len() - REPAIR_MAX_FINDINGS));
    }
    out.push_str(
        "\nFix every problem and answer with the complete corrected file in a single ```python \
         block.",
    );
    out
}

/// The turns of a repair round appended to a conversation: the previous answer as the
/// assistant's turn, then [`repair_turn`].
pub fn append_repair(
    messages: &mut Vec<Message>,
    previous_answer: &str,
    findings: &[Finding],
    airflow_version: &str,
) {
    messages.push(Message { role: "assistant".into(), content: previous_answer.into() });
    messages.push(Message { role: "user".into(), content: repair_turn(findings, airflow_version) });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(code: &'static str, severity: Severity, line: u32, fix: Option<&str>) -> Finding {
        Finding {
            code,
            severity,
            line,
            column: 1,
            end_line: line,
            end_column: 2,
            message: format!("problem {code}"),
            fix: fix.map(String::from),
            autofix: None,
        }
    }

    #[test]
    fn messages_use_the_airflow_net_user_turn() {
        let m = messages("  Build an ETL DAG. ", "2.9.3", None);
        assert_eq!(m[0].role, "system");
        assert_eq!(m[0].content, SYSTEM_PROMPT);
        assert_eq!(m[1].content, "Build an ETL DAG.\n\nAirflow Version: 2.9.3");
        assert_eq!(messages("x", "3.1", Some("custom"))[0].content, "custom");
    }

    #[test]
    fn repair_turn_lists_errors_first_and_skips_info() {
        let findings = vec![
            finding("DS103", Severity::Warning, 2, None),
            finding("DS209", Severity::Info, 1, None),
            finding("DS202", Severity::Error, 9, Some("use airflow.sdk")),
        ];
        let turn = repair_turn(&findings, "3.1");
        let error_at = turn.find("[DS202]").unwrap();
        let warning_at = turn.find("[DS103]").unwrap();
        assert!(error_at < warning_at, "{turn}");
        assert!(!turn.contains("DS209"), "{turn}");
        assert!(turn.contains("line 9: error: problem DS202 [DS202] (hint: use airflow.sdk)"));
        assert!(turn.starts_with("Airflow 3.1 would not load"));
    }

    #[test]
    fn repair_turn_caps_the_list() {
        let findings: Vec<Finding> =
            (1..=20).map(|l| finding("DS102", Severity::Error, l, None)).collect();
        let turn = repair_turn(&findings, "2.11");
        assert_eq!(turn.matches("[DS102]").count(), REPAIR_MAX_FINDINGS);
        assert!(turn.contains("and 8 more"));
    }

    #[test]
    fn append_repair_adds_two_turns() {
        let mut m = messages("x", "3.1", None);
        append_repair(&mut m, "```python\nprint(1)\n```", &[], "3.1");
        let roles: Vec<&str> = m.iter().map(|m| m.role.as_str()).collect();
        assert_eq!(roles, ["system", "user", "assistant", "user"]);
    }
}
