fn main() {
    let mut args = std::env::args().skip(1);
    let version: dagsmith_core::AirflowVersion = args.next().unwrap().parse().unwrap();
    for path in args {
        let src = std::fs::read_to_string(&path).unwrap();
        let r = dagsmith_core::validate(
            &src,
            &dagsmith_core::ValidateOptions { airflow_version: version },
        );
        println!("{path}\t{}", serde_json::to_string(&r).unwrap());
    }
}
