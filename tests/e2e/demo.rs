//! `smo demo` runs on a fresh directory with nothing but the repository.

use std::path::PathBuf;

use crate::harness::smo_command;

#[test]
fn demo_runs_the_whole_pipeline_embedded_and_exits_zero() {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dir = tempfile::tempdir().unwrap();
    let output = smo_command()
        .current_dir(&repo)
        .args(["demo", "--json", "--data-dir"])
        .arg(dir.path().join("demo"))
        .output()
        .unwrap();
    assert!(output.status.success(), "demo failed: {}", String::from_utf8_lossy(&output.stderr));
    let summary: Vec<serde_json::Value> = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(summary.len(), 2);
    let acme = &summary[0];
    assert_eq!(acme["account"], "acme-air");
    assert_eq!(acme["ingested"], 600);
    assert_eq!(acme["rejected_at_ingest"], 1);
    assert_eq!(acme["classified"], 600);
    assert_eq!(acme["indexed_documents"], 600);
    let streamly = &summary[1];
    assert_eq!(streamly["ingested"], 400);
    assert_eq!(streamly["indexed_documents"], 400);
    for account in &summary {
        let needs_response = account["complaints"].as_u64().unwrap() + account["questions"].as_u64().unwrap();
        assert_eq!(account["cases"].as_u64().unwrap(), needs_response);
        let report = std::fs::read_to_string(account["report_markdown"].as_str().unwrap()).unwrap();
        assert!(report.contains(account["account"].as_str().unwrap()));
    }
}
