//! The shipped config validates; a broken one is reported with file:line:column and
//! the dotted field path, every problem at once, exit code 3.

use crate::common::{Workspace, text};

#[test]
fn the_embedded_default_validates() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_maaltal"))
        .arg("validate")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("valid (16 programme municipalities"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn config_problems_are_all_reported_with_their_location() {
    let ws = Workspace::with_config(|t| {
        t.replace("retries = 4", "retries = \"four\"")
            .replace("frequency = \"month\"", "frequency = \"weekly\"")
            .replace("[lake]\n", "[lake]\nsize_gb = 3\n")
    });
    let out = ws.run(&["validate"]);
    assert_eq!(out.status.code(), Some(3));
    let err = text(&out.stderr);
    let file = ws.dir.path().join("maaltal.toml").display().to_string();
    assert!(err.contains("invalid configuration (3 problems)"), "{err}");
    let cfg = std::fs::read_to_string(ws.dir.path().join("maaltal.toml")).unwrap();
    let line_of = |needle: &str| cfg.lines().position(|l| l.contains(needle)).unwrap() + 1;
    assert!(
        err.contains(&format!(
            "{file}:{}:1: lake.size_gb: unknown field `size_gb`",
            line_of("size_gb")
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "{file}:{}:11: http.retries: invalid type: string \"four\"",
            line_of("\"four\"")
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!("{file}:{}:13: sources.jobindsats.tables.visitation.frequency: `weekly`; valid: `month`, `quarter`", line_of("\"weekly\""))),
        "{err}"
    );
}

/// `config/example.toml` is valid and holds every key that docs/configuration.md documents.
#[test]
fn the_example_config_is_complete_and_valid() {
    let root = env!("CARGO_MANIFEST_DIR");
    let example = format!("{root}/config/example.toml");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_maaltal"))
        .args(["--config", &example, "validate"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));

    let doc = std::fs::read_to_string(format!("{root}/docs/configuration.md")).unwrap();
    let value: toml::Table = std::fs::read_to_string(&example).unwrap().parse().unwrap();
    let mut section: Option<String> = None;
    let mut checked = 0;
    for line in doc.lines() {
        if let Some(h) = line
            .strip_prefix("## `[")
            .or_else(|| line.strip_prefix("### `["))
        {
            // `[[metrics.catalogue]]`, an array of tables, as `[metrics.catalogue]`.
            section = h
                .trim_start_matches('[')
                .split(']')
                .next()
                .map(str::to_string);
            continue;
        }
        let (Some(sec), Some(key)) = (
            &section,
            line.strip_prefix("| `").and_then(|l| l.split('`').next()),
        ) else {
            continue;
        };
        // `sources.jobindsats.tables.<name>`: check the first table; an array of
        // tables: the key in one of them.
        let mut tables = vec![&value];
        for part in sec.split('.') {
            let t = tables[0];
            let next = if part == "<name>" {
                t.values().next()
            } else {
                t.get(part)
            };
            tables = match next {
                Some(toml::Value::Array(a)) => a.iter().filter_map(toml::Value::as_table).collect(),
                other => other.and_then(toml::Value::as_table).into_iter().collect(),
            };
            assert!(!tables.is_empty(), "example.toml lacks [{sec}]");
        }
        assert!(
            tables.iter().any(|t| t.contains_key(key)),
            "example.toml lacks `{sec}.{key}`"
        );
        checked += 1;
    }
    assert!(
        checked >= 35,
        "only {checked} keys found in docs/configuration.md"
    );
}
