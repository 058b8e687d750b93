//! Machine-readable report formats: JSON, JSONL, CSV and SARIF 2.1.0.
