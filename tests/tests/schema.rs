//! The committed JSON Schema of the format is the generated one, and every shipped workflow
//! (read by an independent YAML parser) validates against it.

use lienthong_engine::definition::schema::{procedure_schema, procedure_schema_text};
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
fn committed_schema_equals_generated() {
    let path = repo().join("workflows/schema/procedure.schema.json");
    let committed = std::fs::read_to_string(&path).expect("committed schema");
    assert!(
        committed == procedure_schema_text(),
        "{} is out of date: run `cargo run -- schema > workflows/schema/procedure.schema.json`",
        path.display()
    );
}

fn procedure_files() -> Vec<PathBuf> {
    lienthong_tests::fixtures::definition_files()
}

#[test]
fn every_workflow_validates_against_the_schema() {
    let schema = procedure_schema();
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("schema compiles");
    let files = procedure_files();
    assert_eq!(
        files.len(),
        6,
        "the five procedure groups, the death group in two versions: {files:?}"
    );
    for f in files {
        let text = std::fs::read_to_string(&f).expect("read");
        assert!(
            text.starts_with("# yaml-language-server: $schema=schema/procedure.schema.json"),
            "{}: no schema modeline",
            f.display()
        );
        let value: serde_json::Value = serde_yaml::from_str(&text).expect("YAML");
        let errors: Vec<String> = validator
            .iter_errors(&value)
            .map(|e| format!("{}: {e}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{}: {errors:?}", f.display());
    }
}

#[test]
fn the_schema_rejects_what_the_validator_rejects_structurally() {
    let schema = procedure_schema();
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let base = std::fs::read_to_string(repo().join("tests/corpus/valid/base.yaml")).expect("base");
    let mut value: serde_json::Value = serde_yaml::from_str(&base).expect("YAML");
    assert!(validator.is_valid(&value));
    value["steps"][0]["agnecy"] = serde_json::json!("civil_status");
    assert!(
        !validator.is_valid(&value),
        "unknown fields must be refused by the schema too"
    );
}
