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
