//! CPR numbers never reach the lake: not in any value of any table, not in any other
//! file under the lake root, not in the output for a rejected extract.

use crate::common::{Workspace, count_cprs, files, sample_dir, text};

fn cprs_in(path: &std::path::Path, column: usize) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split(';').nth(column).unwrap().to_string())
        .collect()
}

#[test]
fn no_input_cpr_appears_in_the_lake_or_the_output() {
    let ws = Workspace::new();
    ws.ok(&["ingest", "dream", "--period", "2018Q4"]);
    ws.ok(&["ingest", "fagsystem", "--period", "2018-11"]);
    ws.ok(&["ingest", "jobindsats", "--period", "2018Q4"]);
    let mut cprs = cprs_in(&sample_dir().join("dream/dream_2018Q4.csv"), 0);
    for m in ["350", "316"] {
        let dir = sample_dir().join("fagsystem").join(m).join("2018-11");
        cprs.extend(cprs_in(&dir.join("sager.csv"), 1));
        cprs.extend(cprs_in(&dir.join("samtaler.csv"), 1));
        cprs.extend(cprs_in(&dir.join("placeringer.csv"), 1));
    }
    cprs.sort();
    cprs.dedup();
    assert!(cprs.len() > 2000, "{}", cprs.len());
    assert!(cprs.iter().all(|c| c.len() == 10));

    // A rejected extract: a duplicate CPR. Its output must not show the number.
    let original = std::fs::read_to_string(sample_dir().join("dream/dream_2018Q4.csv")).unwrap();
    let first_row = original.lines().nth(1).unwrap();
    let bad = format!("{original}{first_row}\n");
    let path = ws.dir.path().join("dup.csv");
    std::fs::write(&path, bad).unwrap();
    let out = ws.run(&[
        "ingest",
        "dream",
        path.to_str().unwrap(),
        "--period",
        "2018Q4",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let printed = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(
        printed.contains("the same CPR number (withheld)"),
        "{printed}"
    );

    // Every value of every table, as text.
    let mut dump = String::new();
    for t in
        ws.sql("select table_name from information_schema.tables where table_schema = 'public'")
    {
        dump.push_str(&ws.ok(&["sql", &format!("select * from {}", t[0]), "--format", "csv"]));
    }
    assert!(dump.len() > 1_000_000, "dump too small: {}", dump.len());
    // Every byte of every file under the lake root (footers, statistics, ledger).
    let mut raw = Vec::new();
    for f in files(&ws.lake()) {
        raw.extend(std::fs::read(f).unwrap());
    }
    let raw = String::from_utf8_lossy(&raw);
    let set: std::collections::HashSet<String> = cprs.iter().cloned().collect();
    assert_eq!(count_cprs(&dump, &set), 0, "a CPR value is in a lake table");
    assert_eq!(count_cprs(&raw, &set), 0, "a CPR value is in a lake file");
    assert_eq!(count_cprs(&printed, &set), 0, "a CPR value was printed");
    // The scan itself finds them where they are.
    assert!(count_cprs(&original, &set) >= cprs.len() / 2);
    // The pseudonyms are there instead, and they join across sources.
    assert!(ws.count("select count(*) from fagsystem_sager s join dream_persons p on s.person_id = p.person_id") > 100);
}

#[test]
fn the_output_check_of_every_command_finds_a_cpr_and_a_secret() {
    use std::os::unix::process::ExitStatusExt;
    let cpr = crate::common::known_cprs().iter().next().unwrap().clone();
    let output = |stderr: String| std::process::Output {
        status: std::process::ExitStatus::from_raw(0),
        stdout: Vec::new(),
        stderr: stderr.into_bytes(),
    };
    let caught = |stderr: String, secrets: &'static [&'static str]| {
        std::panic::catch_unwind(|| crate::common::no_personal_data(output(stderr), secrets))
            .is_err()
    };
    assert!(caught(format!("DEBUG row cpr={cpr} rejected"), &[]));
    assert!(caught(
        "Authorization: key-0123456789".into(),
        &["key-0123456789"]
    ));
    assert!(!caught(
        "DEBUG row person_id=ab12 rejected".into(),
        &["key-0123456789"]
    ));
}
