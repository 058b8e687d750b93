//! Generation prompts: the system prompt, the first chat turns for an instruction, and the repair
//! turn that hands validation findings back to the model.
//!
//! The user turn keeps airflow-net's shape (`<instruction>\n\nAirflow Version: X.Y.Z`, see
//! [`crate::dataset::user_turn`]) so that models fine-tuned on that dataset see what they were
//! trained on. Rendering into the model's chat template is the engine's job.

use crate::dataset::{Message, user_turn};
use crate::finding::{Finding, Severity};
use crate::pipeline::AnswerEnd;
use crate::{AirflowVersion, Report, api_sheet};

/// The default system prompt. Short on purpose: small models follow a few firm rules better than
/// a long style guide, and every token of it is paid again for each prompt.
pub const SYSTEM_PROMPT: &str = "You are an expert Apache Airflow engineer. Write one complete, \
self-contained Airflow DAG file in Python for the user's request, for exactly the Airflow version \
they name: use only imports that exist in that version and its providers. Give every task a \
unique task_id, define the dependencies explicitly, define every Python function that a task \
calls, and do not leave placeholders. Keep the file short and do not repeat yourself. Answer with \
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

/// The user turn of a repair round for a file whose only problem is that it uses `names`
/// (functions, values) without defining them first: the model is asked for those definitions
/// alone, which dagsmith then adds to the file (`splice::insert_definitions`).
pub fn definitions_turn(code: &str, names: &[String], version: AirflowVersion) -> String {
    let listed = names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ");
    let them = if names.len() == 1 { "it" } else { "them" };
    let mut out = format!(
        "Airflow {version} would not load this DAG: it uses {listed} but the file never defines \
         {them} before the DAG uses {them}.\n",
    );
    let lines: Vec<&str> = code.lines().collect();
    for name in names {
        let used = lines.iter().find(|l| {
            l.contains(name.as_str()) && !l.trim_start().starts_with(&format!("{name} ="))
        });
        if let Some(line) = used.map(|l| l.trim()).filter(|l| l.len() <= 160) {
            out.push_str(&format!("- `{line}`\n"));
        }
    }
    out.push_str(
        "\nWrite only these definitions now: each function complete, with a short real body that \
         does what its task is for (a task's callable takes `**context`), plus the imports they \
         need. Do not repeat the DAG. Answer with the definitions in a single ```python block.",
    );
    out
}

/// The user turn of a repair round, for the (fixed) code of the previous answer: each finding
/// that makes the file fail (errors first, then warnings) as a concrete edit of the quoted line,
/// with the hint, and for names that do not exist the real classes' import lines from the
/// catalog. An answer that was cut off is asked for again in full, shorter.
pub fn repair_turn_for(
    code: &str,
    report: &Report,
    version: AirflowVersion,
    end: AnswerEnd,
) -> String {
    let mut relevant: Vec<&Finding> =
        report.findings.iter().filter(|f| f.severity != Severity::Info).collect();
    // Stable: errors before warnings, each in file order.
    relevant.sort_by_key(|f| (f.severity != Severity::Error, f.line, f.column));
    // The parser reports one broken line several times ("Expected `,`" at each token): once.
    relevant.dedup_by(|b, a| a.code == "DS001" && b.code == "DS001" && a.line == b.line);
    let lines: Vec<&str> = code.lines().collect();
    let mut out = match end {
        AnswerEnd::Complete => {
            format!("Airflow {version} would not load this DAG. Make these changes:\n")
        }
        AnswerEnd::Length | AnswerEnd::Repetition => format!(
            "Your answer was cut off{} and Airflow {version} would not load it. Write the whole \
             file again, shorter: no repeated blocks, no long lists. Also make these changes:\n",
            if end == AnswerEnd::Repetition { " because it kept repeating itself" } else { "" }
        ),
    };
    let mut offered: Vec<String> = Vec::new();
    for f in relevant.iter().take(REPAIR_MAX_FINDINGS) {
        let quoted = lines
            .get((f.line as usize).wrapping_sub(1))
            .map(|l| l.trim())
            .filter(|l| !l.is_empty() && l.len() <= 160);
        match quoted {
            Some(line) => out.push_str(&format!("- line {}: `{line}`: {}", f.line, f.message)),
            None => out.push_str(&format!("- line {}: {}", f.line, f.message)),
        }
        if let Some(fix) = &f.autofix {
            out.push_str(&format!("; {}", fix.message));
        } else if let Some(hint) = f.fix.text() {
            out.push_str(&format!(" ({hint})"));
        }
        out.push('\n');
        // The real classes a missing name was probably meant to be, with their imports.
        if matches!(f.code, "DS202" | "DS203" | "DS204") {
            let text = format!("{} {}", f.message, f.fix.text().unwrap_or(""));
            for line in api_sheet::class_lines_named(&text, version) {
                if !offered.contains(&line) {
                    out.push_str(&format!("    {line}\n"));
                    offered.push(line);
                }
            }
        }
    }
    if relevant.len() > REPAIR_MAX_FINDINGS {
        out.push_str(&format!("- and {} more\n", relevant.len() - REPAIR_MAX_FINDINGS));
    }
    out.push_str(
        "\nKeep everything else. Answer with the complete corrected file in a single ```python \
         block.",
    );
    out
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
            fix: fix.map(String::from).into(),
            autofix: None,
        }
    }

    fn report(findings: Vec<Finding>) -> Report {
        Report { airflow_version: "3.1".into(), loads: false, dags: Vec::new(), findings }
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
    fn repair_turn_quotes_lines_errors_first_and_skips_info() {
        let code = "import os\nfrom x import y\n\n\n\n\n\n\nprint(z)\n";
        let r = report(vec![
            finding("DS103", Severity::Warning, 2, None),
            finding("DS209", Severity::Info, 1, None),
            finding("DS102", Severity::Error, 9, Some("import z")),
        ]);
        let turn = repair_turn_for(code, &r, AirflowVersion::new(3, 1, None), AnswerEnd::Complete);
        let error_at = turn.find("problem DS102").unwrap();
        let warning_at = turn.find("problem DS103").unwrap();
        assert!(error_at < warning_at, "{turn}");
        assert!(!turn.contains("DS209"), "{turn}");
        assert!(turn.contains("- line 9: `print(z)`: problem DS102 (import z)"), "{turn}");
        assert!(turn.starts_with("Airflow 3.1 would not load"));
    }

    #[test]
    fn repair_turn_lists_a_broken_line_once() {
        let code = "x = f(a=\"{\"k\": 1}\")\n";
        let r = report(vec![
            finding("DS001", Severity::Error, 1, Some("write `'{\"k\": 1}'`")),
            finding("DS001", Severity::Error, 1, Some("write `'{\"k\": 1}'`")),
        ]);
        let turn = repair_turn_for(code, &r, AirflowVersion::new(3, 1, None), AnswerEnd::Complete);
        assert_eq!(turn.matches("- line 1:").count(), 1, "{turn}");
        assert!(turn.contains("write `'{\"k\": 1}'`"), "{turn}");
    }

    #[test]
    fn repair_turn_offers_the_real_class_for_a_missing_one() {
        let code = "from airflow.providers.google.cloud.operators.dataproc import DataprocClusterCreateOperator\n";
        let mut f = finding(
            "DS203",
            Severity::Error,
            1,
            Some("did you mean `DataprocCreateClusterOperator`?"),
        );
        f.message = "`DataprocClusterCreateOperator` is not in `airflow.providers.google.cloud.operators.dataproc`".into();
        let turn = repair_turn_for(
            code,
            &report(vec![f]),
            AirflowVersion::new(3, 1, None),
            AnswerEnd::Complete,
        );
        assert!(
            turn.contains("    from airflow.providers.google.cloud.operators.dataproc import DataprocCreateClusterOperator  # "),
            "{turn}"
        );
    }

    #[test]
    fn repair_turn_caps_the_list_and_asks_again_after_a_runaway() {
        let findings: Vec<Finding> =
            (1..=20).map(|l| finding("DS102", Severity::Error, l, None)).collect();
        let turn = repair_turn_for(
            "",
            &report(findings),
            AirflowVersion::new(2, 11, None),
            AnswerEnd::Repetition,
        );
        assert_eq!(turn.matches("problem DS102").count(), REPAIR_MAX_FINDINGS);
        assert!(turn.contains("and 8 more"));
        assert!(turn.contains("kept repeating itself"), "{turn}");
    }
}
