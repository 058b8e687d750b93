use serde_json::{Value, json};

use super::*;
use crate::finding::{Finding, Severity};
use crate::report::{DagSummary, Edge};
use crate::rules;

fn finding(code: &'static str, severity: Severity, message: &str) -> Finding {
    Finding {
        code,
        severity,
        line: 2,
        column: 5,
        end_line: 2,
        end_column: 9,
        message: message.into(),
        fix: Default::default(),
        autofix: None,
    }
}

fn sample() -> Vec<Entry> {
    let ok = Report {
        airflow_version: "3.1".into(),
        loads: true,
        dags: vec![DagSummary {
            dag_id: Some("ok".into()),
            line: 4,
            tasks: vec!["a".into(), "b".into()],
            edges: vec![Edge { upstream: "a".into(), downstream: "b".into() }],
            dynamic_tasks: 0,
        }],
        findings: vec![],
    };
    let mut bad_finding = finding("DS001", Severity::Error, "Expected ')', found \"newline\"");
    bad_finding.fix = "close the parenthesis".into();
    let bad = Report {
        airflow_version: "2.7.2".into(),
        loads: false,
        dags: vec![],
        findings: vec![bad_finding, finding("DS103", Severity::Warning, "x, y")],
    };
    vec![
        Entry::file("dags/ok.py", ok),
        Entry::row("data/set 1.jsonl", 3, bad),
        Entry::failed("data/set 1.jsonl", Some(4), "3.1", "1:15: missing field `messages`"),
        Entry::failed("missing.py", None, "3.1", "cannot read: No such file"),
    ]
}

#[test]
fn json_is_an_array_of_entry_objects() {
    let v: Value = serde_json::from_str(&to_json(&sample())).unwrap();
    let a = v.as_array().unwrap();
    assert_eq!(a.len(), 4);
    assert_eq!(a[0]["path"], "dags/ok.py");
    assert_eq!(a[0]["loads"], true);
    assert_eq!(a[0]["dags"][0]["dag_id"], "ok");
    assert_eq!(a[0]["dags"][0]["edges"][0], json!({"upstream": "a", "downstream": "b"}));
    assert!(a[0].get("error").is_none());
    assert_eq!(a[1]["path"], "data/set 1.jsonl#3");
    assert_eq!(a[1]["findings"][0]["severity"], "error");
    assert_eq!(a[1]["findings"][0]["fix"], "close the parenthesis");
    assert!(a[1]["findings"][1].get("fix").is_none());
    assert_eq!(a[2]["loads"], false);
    assert_eq!(a[2]["dags"], json!([]));
    assert_eq!(a[2]["error"], "1:15: missing field `messages`");
}

#[test]
fn jsonl_has_one_object_per_line() {
    let text = to_jsonl(&sample());
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4);
    for line in &lines {
        let v: Value = serde_json::from_str(line).unwrap();
        for key in ["path", "airflow_version", "loads", "dags", "findings"] {
            assert!(v.get(key).is_some(), "{key} missing in {line}");
        }
    }
    let v: Value = serde_json::from_str(lines[1]).unwrap();
    assert_eq!(v["airflow_version"], "2.7.2");
    assert_eq!(v["findings"][0]["end_column"], 9);
    assert_eq!(to_jsonl(&[]), "");
}

#[test]
fn csv_quotes_per_rfc_4180() {
    assert_eq!(csv_field("plain"), "plain");
    assert_eq!(csv_field("a,b"), "\"a,b\"");
    assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
    assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
    assert_eq!(csv_field("cr\r"), "\"cr\r\"");
    assert_eq!(csv_field(""), "");
}

#[test]
fn csv_rows_mirror_airflow_net_columns() {
    let text = to_csv(&sample());
    let mut lines = text.split("\r\n");
    assert_eq!(
        lines.next().unwrap(),
        "filename,airflow_version,id,validation_passed,failure_cause,loads,errors,warnings,codes,messages,error"
    );
    assert_eq!(lines.next().unwrap(), "dags/ok.py,3.1,,True,,true,0,0,,,");
    assert_eq!(
        lines.next().unwrap(),
        "data/set 1.jsonl#3,2.7.2,3,False,SYNTAX_ERROR; UNDEFINED_NAME_AT_RUNTIME,false,1,1,\
         DS001; DS103,\"2:5 DS001 Expected ')', found \"\"newline\"\"\n2:5 DS103 x, y\","
    );
    assert_eq!(
        lines.next().unwrap(),
        "data/set 1.jsonl#4,3.1,4,False,READ_ERROR,false,0,0,,,1:15: missing field `messages`"
    );
    assert_eq!(
        lines.next().unwrap(),
        "missing.py,3.1,,False,READ_ERROR,false,0,0,,,cannot read: No such file"
    );
    assert_eq!(lines.next().unwrap(), "");
    assert_eq!(lines.next(), None);
}

#[test]
fn sarif_has_the_required_fields() {
    let v: Value = serde_json::from_str(&to_sarif(&sample())).unwrap();
    assert_eq!(v["version"], "2.1.0");
    assert!(v["$schema"].as_str().unwrap().contains("sarif"));
    let run = &v["runs"][0];
    assert_eq!(run["columnKind"], "unicodeCodePoints");
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "dagsmith");
    assert_eq!(driver["version"], crate::VERSION);
    assert_eq!(driver["informationUri"], INFORMATION_URI);
    let rules_json = driver["rules"].as_array().unwrap();
    assert_eq!(rules_json.len(), rules::ALL.len());
    for (r, j) in rules::ALL.iter().zip(rules_json) {
        assert_eq!(j["id"], r.code);
        assert_eq!(j["name"], r.name);
        assert_eq!(j["shortDescription"]["text"], r.summary);
        assert_eq!(j["fullDescription"]["text"], r.explanation);
        assert_eq!(j["defaultConfiguration"]["level"], sarif_level(r.severity));
    }
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    let first = &results[0];
    assert_eq!(first["ruleId"], "DS001");
    assert_eq!(first["level"], "error");
    assert_eq!(first["ruleIndex"], 0);
    assert_eq!(results[1]["level"], "warning");
    let loc = &first["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], "data/set%201.jsonl");
    // A dataset row's findings point at the row.
    assert_eq!(loc["region"], json!({"startLine": 3}));
    let text = first["message"]["text"].as_str().unwrap();
    assert!(text.contains("row 3, line 2, column 5"), "{text}");
    assert!(text.contains("Help: close the parenthesis"), "{text}");
    let invocation = &run["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], false);
    assert_eq!(invocation["toolExecutionNotifications"].as_array().unwrap().len(), 2);
}

#[test]
fn sarif_region_for_a_file() {
    let report = Report {
        airflow_version: "3.1".into(),
        loads: false,
        dags: vec![],
        findings: vec![finding("DS102", Severity::Info, "n")],
    };
    let v: Value = serde_json::from_str(&to_sarif(&[Entry::file("./d/x.py", report)])).unwrap();
    let result = &v["runs"][0]["results"][0];
    assert_eq!(result["level"], "note");
    let loc = &result["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"], json!({"uri": "d/x.py", "uriBaseId": "%SRCROOT%"}));
    assert_eq!(
        loc["region"],
        json!({"startLine": 2, "startColumn": 5, "endLine": 2, "endColumn": 9})
    );
    assert_eq!(v["runs"][0]["invocations"][0]["executionSuccessful"], true);
}

#[test]
fn uris() {
    assert_eq!(path_to_uri("dags/a b.py"), ("dags/a%20b.py".into(), true));
    assert_eq!(path_to_uri("./dags/x#1.py"), ("dags/x%231.py".into(), true));
    assert_eq!(path_to_uri("/abs/é.py"), ("file:///abs/%C3%A9.py".into(), false));
    assert_eq!(path_to_uri("C:\\dags\\x.py"), ("file:///C:/dags/x.py".into(), false));
    assert_eq!(path_to_uri("<stdin>"), ("%3Cstdin%3E".into(), true));
}

#[test]
fn github_workflow_commands() {
    let mut entries = sample();
    entries[1].file = "data/set,1.jsonl".into();
    let mut report = entries[1].report.clone();
    report.findings[0].message = "50% of it\nis wrong".into();
    entries.push(Entry::file("dags/x.py", report));
    let text = to_github(&entries);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines,
        [
            "::error title=dagsmith (DS001),file=data/set%2C1.jsonl,line=3::data/set,1.jsonl#3: \
             DS001 Expected ')', found \"newline\" (line 2, column 5 of the row's assistant \
             code)%0Ahelp: close the parenthesis",
            "::warning title=dagsmith (DS103),file=data/set%2C1.jsonl,line=3::data/set,1.jsonl#3: \
             DS103 x, y (line 2, column 5 of the row's assistant code)",
            "::error title=dagsmith,file=data/set 1.jsonl,line=4::data/set 1.jsonl#4: 1:15: \
             missing field `messages`",
            "::error title=dagsmith,file=missing.py::missing.py: cannot read: No such file",
            "::error title=dagsmith (DS001),file=dags/x.py,line=2,col=5,endLine=2,endColumn=9::\
             dags/x.py:2:5: DS001 50%25 of it%0Ais wrong%0Ahelp: close the parenthesis",
            "::warning title=dagsmith (DS103),file=dags/x.py,line=2,col=5,endLine=2,endColumn=9::\
             dags/x.py:2:5: DS103 x, y",
        ]
    );
    assert_eq!(to_github(&[]), "");
}

#[test]
fn gitlab_code_quality() {
    let mut entries = sample();
    let report = entries[1].report.clone();
    entries.push(Entry::file("dags/x.py", report.clone()));
    // The same finding twice in one file: two issues with different fingerprints.
    let mut twice = report;
    twice.findings.push(twice.findings[1].clone());
    entries.push(Entry::file("dags/y.py", twice));
    let v: Value = serde_json::from_str(&to_gitlab(&entries)).unwrap();
    let issues = v.as_array().unwrap();
    assert_eq!(issues.len(), 2 + 2 + 2 + 3);
    assert_eq!(
        issues[0],
        json!({
            "description": "DS001 Expected ')', found \"newline\" (line 2, column 5 of the \
                            row's assistant code) (help: close the parenthesis)",
            "check_name": "DS001",
            "fingerprint": issues[0]["fingerprint"],
            "severity": "critical",
            "location": {"path": "data/set 1.jsonl", "lines": {"begin": 3, "end": 3}},
        })
    );
    assert_eq!(issues[1]["severity"], "minor");
    assert_eq!(issues[2]["check_name"], "read-error");
    assert_eq!(issues[2]["location"]["lines"]["begin"], 4);
    assert_eq!(
        issues[3]["location"],
        json!({"path": "missing.py", "lines": {"begin": 1, "end": 1}})
    );
    assert_eq!(
        issues[4]["location"],
        json!({"path": "dags/x.py", "positions": {
            "begin": {"line": 2, "column": 5}, "end": {"line": 2, "column": 9}}})
    );
    let fingerprints: std::collections::BTreeSet<&str> =
        issues.iter().map(|i| i["fingerprint"].as_str().unwrap()).collect();
    assert_eq!(fingerprints.len(), issues.len(), "fingerprints are unique");
    for fp in &fingerprints {
        assert_eq!(fp.len(), 16);
    }
    // Stable across runs, and independent of the line.
    let mut moved = entries.clone();
    moved[4].report.findings[0].line = 40;
    let again: Value = serde_json::from_str(&to_gitlab(&moved)).unwrap();
    assert_eq!(again[4]["fingerprint"], issues[4]["fingerprint"]);
    assert_eq!(to_gitlab(&[]), "[]\n");
}

#[test]
fn format_names() {
    assert_eq!("SARIF".parse::<Format>().unwrap(), Format::Sarif);
    assert!("xml".parse::<Format>().is_err());
    for f in Format::ALL {
        assert_eq!(f.name().parse::<Format>().unwrap(), f);
    }
}
