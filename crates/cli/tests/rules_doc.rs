//! docs/RULES.md is `dagsmith rules --markdown`: editors link diagnostics to its anchors, so it
//! must list every rule as the binary knows them. After a rule changes,
//! `DAGSMITH_BLESS=1 cargo test -p dagsmith --test rules_doc` rewrites it.

use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_dagsmith");

#[test]
fn rules_page_is_up_to_date() {
    let out = Command::new(BIN).args(["rules", "--markdown"]).output().expect("run dagsmith");
    assert!(out.status.success());
    let generated = String::from_utf8(out.stdout).unwrap();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/RULES.md");
    if std::env::var_os("DAGSMITH_BLESS").is_some() {
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "docs/RULES.md is not what `dagsmith rules --markdown` prints: run \
         DAGSMITH_BLESS=1 cargo test -p dagsmith --test rules_doc"
    );
}
