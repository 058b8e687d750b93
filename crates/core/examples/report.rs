//! Prints the JSON report for one file: `cargo run -p dagsmith-core --example report -- FILE [VERSION]`.
fn main() {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: report FILE [AIRFLOW_VERSION]");
        std::process::exit(2);
    };
    let source = match std::fs::read_to_string(&path) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{path}: {e}");
            std::process::exit(2);
        }
    };
    let airflow_version = match args.next().map(|v| v.parse()) {
        Some(Ok(v)) => v,
        Some(Err(e)) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
        None => dagsmith_core::AirflowVersion::DEFAULT,
    };
    let report =
        dagsmith_core::validate(&source, &dagsmith_core::ValidateOptions { airflow_version });
    println!("{}", serde_json::to_string_pretty(&report).unwrap_or_default());
}
