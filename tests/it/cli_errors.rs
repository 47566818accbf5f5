//! Every user-facing error names the value it rejects and what it expected: a bad
//! period, a bad municipality code, a bad config key or value. Invalid input exits 3.

use crate::common::{Workspace, text};

/// Runs the command; asserts exit code 3 and returns stderr.
fn invalid(ws: &Workspace, args: &[&str]) -> String {
    let out = ws.run(args);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{args:?}: {err}");
    assert!(
        out.stdout.is_empty(),
        "{args:?} printed a result: {}",
        text(&out.stdout)
    );
    err
}

#[test]
fn a_bad_period_names_the_text_given_and_the_forms_accepted() {
    let ws = Workspace::new();
    // The text of issue 15: a value that splits at `..` into two empty-ish halves.
    let err = invalid(&ws, &["transform", "--period", "../../x"]);
    assert!(err.contains("`../../x`"), "{err}");
    assert!(
        err.contains("`2018Q4`") && err.contains("`2018M12`"),
        "{err}"
    );
    for (args, value) in [
        (&["ingest", "dream", "--period", "2018Q5"][..], "`2018Q5`"),
        (
            &["ingest", "dream", "--period", "2018Q4..2016Q3"][..],
            "`2018Q4..2016Q3`",
        ),
        (&["run", "maanedsbog", "--period", "nov"][..], "`nov`"),
        (&["report", "quarterly", "--period", "18Q4"][..], "18Q4"),
        (&["send", "maanedsbog", "--month", "2018-13"][..], "2018-13"),
    ] {
        let err = invalid(&ws, args);
        assert!(err.contains(value), "{args:?}: {err}");
        assert!(
            err.contains("2018Q4"),
            "{args:?} names no accepted form: {err}"
        );
    }
    // Nothing was created by a rejected command.
    assert!(!ws.lake().join("marts").exists());
}

#[test]
fn an_unknown_table_is_named_with_what_the_lake_holds() {
    let ws = Workspace::new();
    let err = invalid(&ws, &["sql", "select * from dream_person"]);
    assert!(err.contains("dream_person"), "{err}");
    assert!(err.contains("holds no tables yet"), "{err}");
}

#[test]
fn a_bad_municipality_code_names_the_code_and_gives_examples() {
    let ws = Workspace::new();
    for args in [
        &[
            "ingest",
            "fagsystem",
            "--period",
            "2018-11",
            "--municipality",
            "999",
        ][..],
        &[
            "report",
            "quarterly",
            "--period",
            "2018Q4",
            "--municipality",
            "999",
        ][..],
    ] {
        let err = invalid(&ws, args);
        assert!(
            err.contains("`999` is not a Danish municipality code"),
            "{args:?}: {err}"
        );
        assert!(err.contains("350 (Lejre)"), "{args:?}: {err}");
    }
    // A status report asked for by municipality.
    let quarterly = |code: &str| {
        let args = [
            "report",
            "quarterly",
            "--period",
            "2018Q4",
            "--date",
            "2019-01-01",
        ];
        invalid(&ws, &[&args[..], &["--municipality", code]].concat())
    };
    let err = quarterly("Lejre");
    assert!(err.contains("`Lejre` is not a number"), "{err}");
    // A real code outside the programme: named, with the programme's codes.
    let err = quarterly("101");
    assert!(
        err.contains("municipality 101 is not in the programme"),
        "{err}"
    );
    // In the config: the code and where it is.
    let ws = Workspace::with_config(|t| t.replace("217, 316", "217, 998"));
    let err = invalid(&ws, &["validate"]);
    assert!(
        err.contains("program.municipalities.1: `998` is not a DST municipality code"),
        "{err}"
    );
}

#[test]
fn a_bad_config_key_or_value_is_named_with_its_place() {
    let ws = Workspace::with_config(|t| {
        t.replace("[lake]\n", "[lake]\npaht = \"lake2\"\n")
            .replace("retries = 4", "retries = 99")
    });
    let file = ws.dir.path().join("maaltal.toml").display().to_string();
    let err = invalid(&ws, &["validate"]);
    assert!(
        err.contains(&format!("{file}:")) && err.contains("lake.paht: unknown field `paht`"),
        "{err}"
    );
    assert!(
        err.contains("expected one of `path`, `quarantine_path`, `remote`"),
        "{err}"
    );
    assert!(err.contains("http.retries: `99`: give at most 20"), "{err}");
}
