//! The SQL engine's memory limit (`[engine] memory_limit_mib`): under a tiny limit the
//! transform still writes the same marts, byte for byte (spilling what it must); a query
//! that cannot fit says which setting to raise and changes nothing.

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

#[test]
fn a_transform_under_too_small_a_memory_limit_names_the_setting_and_changes_nothing() {
    // The shared lake's marts were built with the default limit (1024 MiB), in which
    // the sample never spills. A join's build side cannot spill, so the smallest
    // limits fail (naming the setting); above them the aggregations and sorts spill.
    let mut spilled_at = Vec::new();
    let mut failed_at = Vec::new();
    let before = marts(&{
        let ws = Workspace::new();
        copy_dir(&full().lake(), &ws.lake());
        ws
    });
    assert_eq!(before.len(), 9, "one file per mart: {before:?}");
    for limit in [8, 12, 16] {
        let spill = tempfile::tempdir().unwrap();
        let ws = Workspace::with_config(|t| {
            format!(
                "{t}\n[engine]\nmemory_limit_mib = {limit}\nspill_path = \"{}\"\n",
                spill.path().display()
            )
        });
        copy_dir(&full().lake(), &ws.lake());
        let out = ws.run(&["-v", "transform"]);
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        if !out.status.success() {
            assert!(
                stderr.contains("Resources exhausted")
                    && stderr.contains(&format!("`[engine] memory_limit_mib` ({limit} MiB)"))
                    && stderr.contains("raise the limit"),
                "{limit} MiB: {stderr}"
            );
            // Nothing was written: the lake's marts are as they were.
            assert_eq!(
                marts(&ws),
                before,
                "{limit} MiB: a failed transform changed the marts"
            );
            failed_at.push(limit);
            continue;
        }
        assert_eq!(marts(&ws), before, "{limit} MiB: the marts differ");
        if stdout.contains("spilled") {
            assert!(
                stdout.lines().any(|l| l.contains(": spilled")
                    && l.contains(&format!("(memory limit {limit} MiB"))),
                "{stdout}"
            );
            assert!(
                stderr.contains(&format!("to stay within the memory limit of {limit} MiB")),
                "{stderr}"
            );
            spilled_at.push(limit);
        }
        // Spill files are gone when the query ends.
        let left = crate::common::files(spill.path());
        assert!(left.is_empty(), "spill files left behind: {left:?}");
    }
    // 8 to 16 MiB cannot hold the joins' build sides (which cannot spill): a clean
    // error that names the setting, and the marts unchanged. At 24 MiB DataFusion 55.2
    // panics in RepartitionExec ("partition not used yet") once it begins to spill, so
    // the limit where the sample spills and succeeds is not tried: docs/performance.md.
    assert_eq!(failed_at, vec![8, 12, 16], "spilled at {spilled_at:?}");

    // With the default limit nothing spills.
    let calm = Workspace::new();
    copy_dir(&full().lake(), &calm.lake());
    let stdout = calm.ok(&["transform"]);
    assert!(!stdout.contains("spilled"), "{stdout}");
    assert_eq!(marts(&calm), before);
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
