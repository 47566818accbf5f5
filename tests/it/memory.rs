//! The SQL engine's memory limit (`[engine] memory_limit_mib`): under a small limit the
//! transform spills its aggregations to disk and still writes the same marts, byte for
//! byte; a query that cannot fit says which setting to raise and changes nothing.

use std::collections::BTreeMap;

use crate::common::{Workspace, hash_tree, text};
use crate::mail::copy_dir;
use crate::reports::full;

fn marts(ws: &Workspace) -> BTreeMap<String, String> {
    hash_tree(&ws.lake())
        .into_iter()
        .filter(|(p, _)| p.starts_with("marts/"))
        .collect()
}

fn workspace(limit: u64, spill: &std::path::Path) -> Workspace {
    // One partition: how much memory each operator gets does not depend on how the
    // threads happen to run, so the same limit spills (or fails) the same way each time.
    let ws = Workspace::with_config(|t| {
        format!(
            "{t}\n[engine]\nmemory_limit_mib = {limit}\npartitions = 1\nspill_path = \"{}\"\n",
            spill.display()
        )
    });
    copy_dir(&full().lake(), &ws.lake());
    ws
}

#[test]
fn a_transform_under_a_small_memory_limit_spills_and_writes_the_same_marts() {
    // The shared lake's marts were built with the default limit (1024 MiB), in which
    // the sample never spills; under 88 MiB the aggregations of `population_cells`
    // spill to disk.
    let before = marts(&{
        let ws = Workspace::new();
        copy_dir(&full().lake(), &ws.lake());
        ws
    });
    assert_eq!(before.len(), 9, "one file per mart: {before:?}");
    let spill = tempfile::tempdir().unwrap();
    let ws = workspace(88, spill.path());
    let out = ws.run(&["-v", "transform"]);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("population_cells: spilled")
                && l.contains("(memory limit 88 MiB")),
        "{stdout}"
    );
    assert!(
        stderr.contains("to stay within the memory limit of 88 MiB"),
        "{stderr}"
    );
    assert_eq!(marts(&ws), before, "the marts differ after spilling");
    let left = crate::common::files(spill.path());
    assert!(left.is_empty(), "spill files left behind: {left:?}");

    // With the default limit nothing spills.
    let calm = Workspace::new();
    copy_dir(&full().lake(), &calm.lake());
    let stdout = calm.ok(&["transform"]);
    assert!(!stdout.contains("spilled"), "{stdout}");
    assert_eq!(marts(&calm), before);
}

#[test]
fn a_transform_under_too_small_a_memory_limit_names_the_setting_and_changes_nothing() {
    // 16 MiB cannot hold a hash join's build side, which cannot spill; under 64 MiB a
    // nested-loop join spills, which DataFusion 55.2 gets wrong, so its rows are refused.
    for (limit, what) in [
        (16, "HashJoinInput"),
        (64, "NestedLoopJoinExec ran out of memory"),
    ] {
        let spill = tempfile::tempdir().unwrap();
        let ws = workspace(limit, spill.path());
        let before = marts(&ws);
        let out = ws.run(&["transform"]);
        let err = text(&out.stderr);
        assert!(!out.status.success(), "{limit} MiB: {err}");
        assert!(
            err.contains("Resources exhausted")
                && err.contains(what)
                && err.contains(&format!("`[engine] memory_limit_mib` ({limit} MiB)"))
                && err.contains("raise the limit"),
            "{limit} MiB: {err}"
        );
        assert_eq!(
            marts(&ws),
            before,
            "{limit} MiB: a failed transform changed the marts"
        );
    }
}

#[test]
fn a_memory_limit_below_what_a_query_needs_to_run_is_a_config_error_or_names_the_setting() {
    let ws = Workspace::with_config(|t| format!("{t}\n[engine]\nmemory_limit_mib = 2\n"));
    let out = ws.run(&["validate"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains("engine.memory_limit_mib")
            && err.contains("`2`: give at least 8 (MiB), or 0 for no limit"),
        "{err}"
    );
}
