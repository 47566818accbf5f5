//! Every example in docs/analysts.md runs against a lake built from the sample data.

use std::process::Command;

use crate::common::{Workspace, doc_blocks as blocks, text};

/// Splits a shell line into arguments (double-quoted strings kept whole).
fn shell_words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '"' => quoted = !quoted,
            ' ' if !quoted => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            _ => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

#[test]
fn every_example_of_the_analysts_guide_runs() {
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/analysts.md")).unwrap();
    let ws = Workspace::new();
    ws.ok(&["ingest", "dream", "--period", "2018Q3..2018Q4"]);
    ws.ok(&["ingest", "dream", "--period", "2016Q4"]);
    ws.ok(&["ingest", "jobindsats", "--period", "2018Q4"]);
    ws.ok(&["ingest", "fagsystem", "--period", "2018-11..2018-12"]);
    ws.ok(&["transform"]);

    let sh = blocks(&doc, "sh");
    assert!(sh.len() >= 5, "{}", sh.len());
    for block in &sh {
        for line in block.lines().filter(|l| l.starts_with("maaltal ")) {
            let words = shell_words(line);
            let args: Vec<&str> = words.iter().skip(1).map(String::as_str).collect();
            let out = ws.ok(&args);
            assert!(out.lines().count() >= 2, "`{line}` printed nothing:\n{out}");
        }
    }
    let py = blocks(&doc, "python");
    assert!(py.len() >= 3, "{}", py.len());
    for script in &py {
        let out = Command::new("python3")
            .arg("-c")
            .arg(script)
            .current_dir(ws.dir.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "example failed:\n{script}\n{}",
            text(&out.stderr)
        );
        let printed = text(&out.stdout);
        assert!(
            printed.contains("2018Q4") || printed.contains("Sønderborg") || printed.contains("350"),
            "{script}\nprinted:\n{printed}"
        );
    }
}
