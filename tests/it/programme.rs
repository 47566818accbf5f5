//! A programme's marts are its folder of queries (`[program] queries`): a new `*.sql`
//! file with its header is a new mart, built after the marts it reads, with no change
//! to the code; a broken header stops the transform naming file, line and column, and
//! the marts stay as they were.

use std::path::Path;

use crate::common::{Workspace, doc_blocks as blocks, text};

/// docs/programmes.md's worked example is the programme's files: every `toml` block is
/// a part of config/programmes/vip2/programme.toml (or, `programmes = [...]`, of the
/// main config), every `sql` block a part of a query in queries/vip2/.
#[test]
fn the_guide_s_blocks_are_the_programme_s_files() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(root.join("docs/programmes.md")).unwrap();
    let read = |p: &str| std::fs::read_to_string(root.join(p)).unwrap();
    let tomls = [
        read("config/programmes/vip2/programme.toml"),
        read("config/maaltal.toml"),
    ];
    let sqls: Vec<String> = std::fs::read_dir(root.join("queries/vip2"))
        .unwrap()
        .flatten()
        .map(|e| std::fs::read_to_string(e.path()).unwrap())
        .collect();
    let (toml_blocks, sql_blocks) = (blocks(&doc, "toml"), blocks(&doc, "sql"));
    assert!(
        toml_blocks.len() >= 6 && !sql_blocks.is_empty(),
        "{toml_blocks:?}"
    );
    for b in &toml_blocks {
        let b = b.trim_end();
        assert!(
            tomls.iter().any(|t| t.contains(b)),
            "not in the programme's files:\n{b}"
        );
    }
    for b in &sql_blocks {
        let b = b.trim_end();
        assert!(
            sqls.iter().any(|t| t.contains(b)),
            "not in queries/vip2/:\n{b}"
        );
    }
}

/// Copies the files of the repository's folder `from` whose extension is one of
/// `extensions` into `to` (a programme's own folder, as an operator would start it).
fn copy_folder(from: &str, extensions: &[&str], to: &Path) {
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join(from);
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        if e.path()
            .extension()
            .is_some_and(|x| extensions.iter().any(|want| x == *want))
        {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

const EXTRA: &str = "-- description: the target metrics' rows per metric and period
-- params:
-- tables: target_metrics
-- period_key: period
-- columns: metric utf8, period utf8, municipalities int64
-- order_by: metric, period
select metric, period, count(distinct municipality_code) as municipalities
from target_metrics
where sex = 'alle'
group by metric, period
";

#[test]
fn a_new_query_file_is_a_new_mart_and_a_broken_one_is_named() {
    let ws = Workspace::with_config(|t| {
        t.replacen(
            "[program]\n",
            "[program]\nqueries = \"programme-queries\"\n",
            1,
        )
    });
    let dir = ws.dir.path().join("programme-queries");
    copy_folder("queries/imi", &["sql"], &dir);
    std::fs::write(dir.join("metric_overview.sql"), EXTRA).unwrap();
    ws.ok(&["ingest", "jobindsats", "--period", "2018Q4"]);
    let out = ws.ok(&["transform"]);
    assert!(out.contains("metric_overview: "), "{out}");
    // Built after target_metrics, which it reads.
    let pos = |m: &str| out.find(&format!("{m}: ")).unwrap();
    assert!(pos("target_metrics") < pos("metric_overview"), "{out}");
    let rows = ws.sql(
        "select metric, period, municipalities from metric_overview where metric = 'M3' order by period",
    );
    let want = ws.sql(
        "select metric, period, cast(count(distinct municipality_code) as bigint) from target_metrics where metric = 'M3' and sex = 'alle' group by metric, period order by period",
    );
    assert!(!rows.is_empty());
    assert_eq!(rows, want);

    // A type the header does not know: named by file, line and column; nothing changes.
    let before = std::fs::read(ws.lake().join("marts/metric_overview/part-0.parquet")).unwrap();
    std::fs::write(
        dir.join("metric_overview.sql"),
        EXTRA.replace("municipalities int64", "municipalities number"),
    )
    .unwrap();
    let out = ws.run(&["transform"]);
    let err = text(&out.stderr);
    assert!(!out.status.success());
    let file = dir.join("metric_overview.sql").display().to_string();
    assert!(
        err.contains(&format!(
            "{file}:5:39: column `municipalities`: unknown type `number`"
        )),
        "{err}"
    );
    let after = std::fs::read(ws.lake().join("marts/metric_overview/part-0.parquet")).unwrap();
    assert_eq!(before, after, "the marts stay as they were");
    let out = ws.run(&["validate"]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("unknown type `number`"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_queries_folder_that_is_not_there_is_a_config_error() {
    let ws = Workspace::with_config(|t| {
        t.replacen(
            "[program]\n",
            "[program]\nqueries = \"nowhere\"\ntemplates = \"nor-here\"\n",
            1,
        )
    });
    let out = ws.run(&["validate"]);
    assert_eq!(out.status.code(), Some(3));
    let err = text(&out.stderr);
    assert!(
        err.contains("program.queries: `") && err.contains("nowhere` is not a folder"),
        "{err}"
    );
    assert!(
        err.contains("program.templates: `")
            && err.contains(
                "nor-here` is not a folder (of the programme's `*.typ` report templates)"
            ),
        "{err}"
    );
}

/// `toml` without the tables whose header starts with one of `prefixes`.
fn without_tables(toml: &str, prefixes: &[&str]) -> String {
    let mut skip = false;
    let mut out = String::new();
    for line in toml.lines() {
        if line.starts_with('[') {
            skip = prefixes.iter().any(|p| line.starts_with(p));
        }
        if !skip {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// A programme of CSV sources only, written into the main config: its source, job and
/// mart land a register file and build the mart, with neither DREAM nor Jobindsats.
const CSV_ONLY_TOML: &str = r#"[sources.jobpakker]
type = "csv"
period = "quarter"                       # one file per calendar quarter
location = "https://register.example/vip2/{period}"
encoding = "utf8"

[[sources.jobpakker.files]]
name = "forloeb"                         # forloeb.csv → table jobpakker_forloeb
columns = [
  { name = "jobpakke_id", rule = "id" },
  { name = "cpr", rule = "cpr" },        # lands as person_id (HMAC), never in clear
  { name = "koen", rule = "one_of", values = ["M", "K"] },
  { name = "kommune", rule = "text" },
  { name = "cvr", rule = "cvr" },
  { name = "sektor", rule = "one_of", values = ["privat", "offentlig"] },
  { name = "branche", rule = "text" },
  { name = "pakketype", rule = "one_of", values = ["oprindelig", "ny"] },
  { name = "startdato", rule = "date" },
  { name = "slutdato", rule = "date", optional = true, not_before = "startdato" },
  { name = "afslutning", rule = "one_of", values = ["gennemfoert", "afbrudt"] },
]

[jobs.jobpakker]
period = "quarter"
steps = ["ingest jobpakker", "transform"]
schedule = "0 5 15 1,4,7,10 *"
"#;

const CSV_ONLY_SQL: &str =
    "-- description: job packages started, running and ended per municipality and quarter
-- params:
-- tables: jobpakker_forloeb
-- period_key: period
-- columns: kommune utf8, period utf8, started int64, running int64, ended int64
-- order_by: kommune, period
select kommune, quarter as period,
       count(*) as started,
       count(*) filter (where slutdato is null) as running,
       count(*) filter (where slutdato is not null) as ended
from jobpakker_forloeb
group by kommune, quarter
";

#[test]
fn a_programme_of_csv_sources_only_runs_without_dream_or_jobindsats() {
    let toml = CSV_ONLY_TOML.to_string();
    let sql = CSV_ONLY_SQL;
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("2019Q3");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("forloeb.csv"),
        "jobpakke_id;cpr;koen;kommune;cvr;sektor;branche;pakketype;startdato;slutdato;afslutning\n\
         J1;0101901234;M;580;12345678;privat;Lager;oprindelig;2019-07-01;2019-09-30;gennemfoert\n\
         J2;1503854321;K;580;87654321;offentlig;Pleje;ny;2019-08-15;;afbrudt\n\
         J3;2212771118;K;751;12345678;privat;Lager;ny;2019-07-10;;gennemfoert\n",
    )
    .unwrap();
    let location = format!("location = \"{}/{{period}}\"", root.path().display());
    let toml = toml
        .lines()
        .map(|l| {
            if l.starts_with("location = ") {
                location.clone()
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    // A programme of its own: no DREAM, no Jobindsats, none of the default's jobs.
    let ws = Workspace::with_config(|t| {
        let t = without_tables(&t, &["[sources.dream", "[sources.jobindsats", "[jobs."]);
        format!(
            "{}\n{toml}\n",
            t.replacen("[program]\n", "[program]\nqueries = \"vip2\"\n", 1)
        )
    });
    let q = ws.dir.path().join("vip2");
    std::fs::create_dir_all(&q).unwrap();
    std::fs::write(q.join("jobpakke_activity.sql"), sql).unwrap();
    let sources = ws.run(&["ingest", "dream", "--period", "2018Q4"]);
    assert!(
        text(&sources.stderr)
            .contains("no source `dream` in `[sources]`; sources: fagsystem, jobpakker"),
        "{}",
        text(&sources.stderr)
    );
    ws.ok(&["run", "jobpakker", "--period", "2019Q3"]);
    let rows = ws.sql(
        "select kommune, period, started, running, ended from jobpakke_activity order by kommune",
    );
    assert_eq!(
        rows,
        vec![
            vec!["580", "2019Q3", "2", "1", "1"],
            vec!["751", "2019Q3", "1", "1", "0"],
        ]
    );
}

/// A programme's report templates are a folder (`[program] templates`), read when a
/// run starts: an edited template is what the next report says, `validate` compiles
/// the folder's templates, and a broken one is named by its path, line and column.
#[test]
fn a_programme_s_templates_folder_is_what_its_reports_are_made_from() {
    let ws = Workspace::with_config(|t| {
        t.replacen(
            "[program]\n",
            "[program]\ntemplates = \"programme-templates\"\n",
            1,
        )
    });
    let dir = ws.dir.path().join("programme-templates");
    copy_folder("report-templates/imi", &["typ", "json"], &dir);
    copy_folder("report-templates", &["typ"], &dir);
    let quarterly = dir.join("quarterly.typ");
    let original = std::fs::read_to_string(&quarterly).unwrap();
    assert!(original.contains("= Statusrapport for #kommune"));
    std::fs::write(
        &quarterly,
        original.replace(
            "= Statusrapport for #kommune",
            "= Kvartalsrapport for #kommune",
        ),
    )
    .unwrap();
    let lake = crate::reports::full().lake();
    let (_out, pdfs) = crate::reports::report(
        &ws,
        &lake,
        &["quarterly", "--period", "2018Q4", "--municipality", "350"],
    );
    assert_eq!(pdfs.len(), 1, "{pdfs:?}");
    let t = crate::reports::pdf_text(&pdfs[0]);
    assert!(t.contains("Kvartalsrapport for Lejre Kommune"), "{t}");
    assert!(!t.contains("Statusrapport for Lejre Kommune"), "{t}");
    let out = ws.ok(&["validate"]);
    let file = quarterly.display().to_string();
    assert!(
        out.contains(&format!("{file}: compiles with quarterly.sample.json")),
        "{out}"
    );

    // An unclosed argument list on line 5: the folder's file is named, where it is.
    let broken = original.replacen("#let data = json(", "#let data = json((", 1);
    assert_eq!(
        broken.lines().nth(4),
        Some("#let data = json((sys.inputs.at(\"data\", default: \"quarterly.sample.json\"))")
    );
    std::fs::write(&quarterly, broken).unwrap();
    let out_dir = tempfile::tempdir().unwrap();
    let out = ws.run(&[
        "--lake",
        lake.to_str().unwrap(),
        "report",
        "quarterly",
        "--period",
        "2018Q4",
        "--municipality",
        "350",
        "--out",
        out_dir.path().to_str().unwrap(),
    ]);
    let err = text(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains(&format!("{file}:5:")), "{err}");
    assert_eq!(
        std::fs::read_dir(out_dir.path()).unwrap().count(),
        0,
        "no report written"
    );
}

/// The Rust knows kinds, never instances: no programme's name, source, metric or report
/// is in `pipeline/` outside the sample data and the benchmarks (as `grep -rnwi`
/// finds them: whole words, any case).
#[test]
fn no_programme_s_names_are_in_the_code() {
    const NAMES: [&str; 8] = [
        "m1",
        "m2",
        "m3",
        "dream",
        "fagsystem",
        "maanedsbog",
        "vip2",
        "jobpakke",
    ];
    let word = |c: char| c.is_alphanumeric() || c == '_';
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("pipeline");
    let mut found = Vec::new();
    let mut files = 0;
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = e.path();
            let rel = path
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            if rel == "sample" || rel == "bench" {
                continue;
            }
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|x| x != "rs") {
                continue;
            }
            files += 1;
            let text = std::fs::read_to_string(&path).unwrap().to_lowercase();
            for (n, line) in text.lines().enumerate() {
                for name in NAMES {
                    let hit = line.match_indices(name).any(|(i, _)| {
                        !line[..i].chars().next_back().is_some_and(word)
                            && !line[i + name.len()..].chars().next().is_some_and(word)
                    });
                    if hit {
                        found.push(format!("pipeline/{rel}:{}: {}", n + 1, line.trim()));
                    }
                }
            }
        }
    }
    assert!(
        files > 50,
        "only {files} files read under {}",
        root.display()
    );
    assert!(found.is_empty(), "{}", found.join("\n"));
}

/// A programme the config does not follow, a programme file that sets a section every
/// programme shares, and a programme `[mail]` that says how mail goes out: each an
/// error naming the file, the line and what to do, before anything runs.
#[test]
fn a_programme_s_file_keeps_to_what_is_its_own() {
    let ws = Workspace::with_programme("vip2");
    let out = ws.run(&["--programme", "nope", "validate"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr)
            .contains("`--programme nope`: no such programme; this config follows imi, vip2"),
        "{}",
        text(&out.stderr)
    );
    let file = ws.dir.path().join("programmes/vip2/programme.toml");
    let original = std::fs::read_to_string(&file).unwrap();
    for (edit, line_of, want) in [
        (
            original.replacen(
                "[program]\n",
                "[lake]\npath = \"elsewhere\"\n\n[program]\n",
                1,
            ),
            "[lake]",
            "`[lake]` is shared by every programme: set it in the main config",
        ),
        (
            original.replacen("[mail]\n", "[mail]\noutbox = \"vip2-outbox\"\n", 1),
            "outbox = ",
            "`mail.outbox`: a programme's `[mail]` gives its sender (`from`, `reply_to`)",
        ),
    ] {
        assert_ne!(edit, original, "the edit applies");
        std::fs::write(&file, &edit).unwrap();
        let line = edit.lines().position(|l| l.starts_with(line_of)).unwrap() + 1;
        let out = ws.run(&["--programme", "vip2", "validate"]);
        assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
        let err = text(&out.stderr);
        assert!(
            err.contains(&format!("programme.toml:{line}:")) && err.contains(want),
            "line {line}, `{want}`: {err}"
        );
    }
}

/// One job per file: no Rust file under `pipeline/` is over 500 lines (STYLE).
#[test]
fn no_pipeline_file_is_over_500_lines() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("pipeline");
    let long: Vec<String> = crate::common::files(&root)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|x| x == "rs"))
        .filter_map(|p| {
            let n = std::fs::read_to_string(&p).unwrap().lines().count();
            (n > 500).then(|| format!("{}: {n} lines", p.display()))
        })
        .collect();
    assert!(long.is_empty(), "{long:#?}");
}
