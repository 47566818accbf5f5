//! The embedded default programme's config ("I mål med integration"): valid as
//! shipped, and each of its sections' problems named by file, line and field.

use std::path::Path;

use maaltal::config::*;

#[test]
fn embedded_default_is_valid() {
    let cfg = load(None).unwrap();
    assert_eq!(cfg.program.municipalities.len(), 16);
    assert_eq!(
        cfg.sources
            .wide_weeks
            .as_ref()
            .unwrap()
            .codes
            .get("881")
            .map(String::as_str),
        Some("igu_praktik")
    );
    assert!(
        cfg.lake
            .quarantine_path
            .to_string_lossy()
            .ends_with("lake.quarantine")
    );
}

#[test]
fn reports_every_problem_with_location_and_path() {
    let text = EMBEDDED_DEFAULT
        .replace("timeout_secs = 300", "timeout_secs = \"30s\"")
        .replace(
            "encoding = \"utf8\"\n# code_mapping",
            "encoding = \"ebcdic\"\n# code_mapping",
        )
        .replace(
            "key_env = \"MAALTAL_PSEUDONYM_KEY\"",
            "key_env = \"my secret\"",
        );
    let errs = parse(&text, "t.toml", Path::new(".")).unwrap_err().0;
    let rendered: Vec<String> = errs.iter().map(ToString::to_string).collect();
    assert_eq!(errs.len(), 3, "{rendered:#?}");
    assert!(
        rendered
            .iter()
            .any(|e| e.contains("http.timeout_secs") && e.contains("invalid type")),
        "{rendered:#?}"
    );
    assert!(
        rendered
            .iter()
            .any(|e| e.contains("sources.dream.encoding: unknown encoding `ebcdic`")),
        "{rendered:#?}"
    );
    assert!(
        rendered.iter().any(|e| e.contains("pseudonym.key_env")),
        "{rendered:#?}"
    );
    let line = text.lines().position(|l| l.contains("\"30s\"")).unwrap() + 1;
    let e = errs
        .iter()
        .find(|e| e.field == "http.timeout_secs")
        .unwrap();
    assert_eq!((e.line, e.column), (line, 16));
}

#[test]
fn rejects_unknown_field() {
    let text = EMBEDDED_DEFAULT.replace("[lake]\n", "[lake]\nsize = 3\n");
    let errs = parse(&text, "t.toml", Path::new(".")).unwrap_err().0;
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].field, "lake.size");
    assert!(
        errs[0].message.contains("unknown field `size`"),
        "{}",
        errs[0]
    );
}

#[test]
fn rejects_unknown_municipality() {
    let text = EMBEDDED_DEFAULT.replace("217, 316", "217, 999");
    let errs = parse(&text, "t.toml", Path::new(".")).unwrap_err().0;
    assert_eq!(errs[0].field, "program.municipalities.1");
    assert!(
        errs[0]
            .message
            .contains("`999` is not a DST municipality code")
    );
}

#[test]
fn the_metric_catalogue_is_the_config_s_and_is_checked() {
    let cfg = load(None).unwrap();
    assert_eq!(
        cfg.metrics.names(),
        ["M1", "M1_selvforsoergelse", "M1_uddannelse", "M2", "M3"]
    );
    let m2 = cfg.metrics.info("M2").unwrap();
    assert!(m2.monthly && !m2.per_person);
    // The placeholders become the settings.
    let m1 = cfg
        .metrics
        .info("M1")
        .unwrap()
        .definition_text(&cfg.metrics);
    assert!(m1.contains("mindst 5 uger i kvartalet"), "{m1}");
    let m3 = cfg
        .metrics
        .info("M3")
        .unwrap()
        .definition_text(&cfg.metrics);
    assert!(
        m3.contains("i \"ansættelse med løntilskud i alt\", \"virksomhedspraktik i alt\""),
        "{m3}"
    );

    let text = EMBEDDED_DEFAULT
        .replacen("cadence = \"monthly\"", "cadence = \"weekly\"", 1)
        .replacen("blandt alle modtagere. Opgjort", "blandt {all}. Opgjort", 1)
        .replace(
            "baseline = { M1 = \"2016Q4\",",
            "baseline = { M1 = \"2016-12\",",
        )
        .replacen("part_of = \"M1\"", "part_of = \"M9\"", 1);
    let errs = parse(&text, "t.toml", Path::new(".")).unwrap_err().0;
    let rendered: Vec<String> = errs.iter().map(ToString::to_string).collect();
    // M2's baseline (a month) no longer fits the cadence it was given: said too.
    assert_eq!(errs.len(), 5, "{rendered:#?}");
    for want in [
        "metrics.catalogue.3.cadence",
        "`weekly`: give `quarterly` or `monthly`",
        "metrics.catalogue.4.definition",
        "unknown placeholder `{all}`",
        "metrics.baseline.M1",
        "M1 is quarterly, give a quarter",
        "metrics.catalogue.1.part_of",
        "`M9`: not a whole metric of the catalogue",
    ] {
        assert!(
            rendered.iter().any(|e| e.contains(want)),
            "{want}: {rendered:#?}"
        );
    }
}

#[test]
fn a_catalogue_entry_without_a_title_is_one_problem_that_names_it() {
    let text = EMBEDDED_DEFAULT.replacen("title = \"Andel jobparate borgere\"\n", "", 1);
    let errs = parse(&text, "t.toml", Path::new(".")).unwrap_err().0;
    let rendered: Vec<String> = errs.iter().map(ToString::to_string).collect();
    assert_eq!(errs.len(), 1, "{rendered:#?}");
    assert!(
        rendered[0].contains("metrics.catalogue.3")
            && rendered[0].contains("missing field `title`"),
        "{rendered:#?}"
    );
}

/// `errs` are exactly these problems: (field, a part of the message).
fn exactly(errs: &[ConfigError], expect: &[(&str, &str)]) {
    let rendered: Vec<String> = errs.iter().map(ToString::to_string).collect();
    for (field, message) in expect {
        assert!(
            errs.iter()
                .any(|e| e.field == *field && e.message.contains(message)),
            "{field}: {message}\n{rendered:#?}"
        );
    }
    assert_eq!(errs.len(), expect.len(), "{rendered:#?}");
}

#[test]
fn a_job_is_its_period_and_steps_and_they_are_checked() {
    let cfg = load(None).unwrap();
    let q = &cfg.jobs["quarterly"];
    assert_eq!(q.span, maaltal::schedule::Span::Quarter);
    assert_eq!(
        q.describe(),
        "transform backfill, send quarterly, send overview"
    );
    assert_eq!(q.reports(), vec!["quarterly", "overview"]);
    let j = &cfg.jobs["jobindsats"];
    assert_eq!(j.describe(), "ingest jobindsats quarter, transform");
    assert_eq!(j.sources().collect::<Vec<_>>(), vec!["jobindsats"]);

    let text = EMBEDDED_DEFAULT
        .replace(
            "steps = [\"ingest dream\", \"transform\"]",
            "steps = [\"transform\", \"ingest dream\", \"ingest dreams\"]",
        )
        .replace(
            "steps = [\"ingest fagsystem\", \"transform\", \"send maanedsbog\"]",
            "steps = [\"ingest fagsystem\", \"send quarterly\", \"publish\"]",
        )
        .replacen(
            "[jobs.jobindsats]\nperiod = \"month\"",
            "[jobs.jobindsats]\nperiod = \"week\"",
            1,
        );
    let errs = parse(&text, "t.toml", Path::new(".")).unwrap_err().0;
    let expect = [
        (
            "jobs.dream.steps.1",
            "`ingest dream` after `transform`: steps run in stage order",
        ),
        (
            "jobs.dream.steps.2",
            "unknown source `dreams`; valid: `dream`, `fagsystem`, `jobindsats`",
        ),
        (
            "jobs.maanedsbog.steps.1",
            "the quarterly report is made for a quarter; this job's `period` is `month`",
        ),
        (
            "jobs.maanedsbog.steps.2",
            "`publish`: give `ingest <source> [quarter]`",
        ),
        (
            "jobs.jobindsats.period",
            "`week`: give `quarter` or `month`",
        ),
    ];
    exactly(&errs, &expect);
    // The position is the step's own, in the file.
    let e = errs
        .iter()
        .find(|e| e.field == "jobs.dream.steps.2")
        .unwrap();
    let line = text
        .lines()
        .position(|l| l.contains("\"ingest dreams\""))
        .unwrap()
        + 1;
    assert_eq!(e.line, line);
}

#[test]
fn a_source_s_contract_is_the_config_s_and_is_checked() {
    let cfg = load(None).unwrap();
    let fag = cfg.sources.csv("fagsystem").unwrap();
    assert_eq!(fag.municipalities, [350, 316]);
    assert_eq!(cfg.sources.units("fagsystem"), [Some(350), Some(316)]);
    assert_eq!(cfg.sources.units("dream"), [None]);
    let files: Vec<&str> = fag.files.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        files,
        [
            "medarbejdere",
            "sager",
            "samtaler",
            "virksomhedsbesoeg",
            "placeringer"
        ]
    );
    let text = EMBEDDED_DEFAULT
        .replacen(
            "{ name = \"navn\", rule = \"text\" }",
            "{ name = \"navn\", rule = \"words\" }",
            1,
        )
        .replacen(
            "ref = \"medarbejdere.medarbejder_id\"",
            "ref = \"placeringer.placering_id\"",
            1,
        )
        .replacen(
            "{ name = \"sag_id\", rule = \"id\" }",
            "{ name = \"sag_id\", rule = \"id\", optional = true }",
            1,
        )
        .replacen("not_before = \"henvist\"", "not_before = \"tilbud\"", 1)
        .replacen(
            ", values = [\"sagsbehandler\", \"virksomhedskonsulent\", \"mentor\", \"leder\"]",
            "",
            1,
        );
    let errs = parse(&text, "t.toml", Path::new(".")).unwrap_err().0;
    let expect = [
        (
            "sources.fagsystem.files.0.columns.1.rule",
            "`words`: valid: `id`",
        ),
        (
            "sources.fagsystem.files.0.columns.4.values",
            "`one_of` needs `values",
        ),
        (
            "sources.fagsystem.files.1.columns.0.optional",
            "a `id` column is never empty; `optional` is for",
        ),
        (
            "sources.fagsystem.files.1.columns.2.ref",
            "`placeringer.placering_id`: give `<file>.<column>`, an `id` column of a file listed before this one",
        ),
        (
            "sources.fagsystem.files.4.columns.6.not_before",
            "`tilbud`: give a `date` column listed before this one",
        ),
    ];
    exactly(&errs, &expect);
}

#[test]
fn a_config_without_metrics_gets_the_embedded_default_s() {
    let full = load(None).unwrap();
    let start = EMBEDDED_DEFAULT.find("\n[metrics]\n").unwrap();
    let end = EMBEDDED_DEFAULT[start + 1..]
        .find("\n[")
        .map(|i| start + 1 + i)
        .unwrap();
    let text = format!("{}{}", &EMBEDDED_DEFAULT[..start], &EMBEDDED_DEFAULT[end..]);
    // Left: `[[metrics.catalogue]]` (the metrics), none of `[metrics]`'s keys.
    assert!(!text.contains("\n[metrics]\n") && !text.contains("\nmin_weeks"));
    let cfg = parse(&text, "t.toml", Path::new(".")).unwrap();
    let (a, b) = (&cfg.metrics, &full.metrics);
    assert_eq!(a.min_weeks, b.min_weeks);
    assert_eq!(a.measure, b.measure);
    assert_eq!(a.jobparat_label, b.jobparat_label);
    assert_eq!(a.offer_labels, b.offer_labels);
    assert_eq!(a.recipients_label, b.recipients_label);
    assert_eq!(a.sex_gap_baseline, b.sex_gap_baseline);
    assert_eq!(a.baseline, b.baseline);
    assert_eq!(a.baseline.len(), 5);
    assert_eq!(a.names(), b.names());
}

#[test]
fn a_source_s_kind_is_its_type_and_a_wrong_one_is_named() {
    let cfg = load(None).unwrap();
    let weeks = cfg.sources.wide_weeks.as_ref().unwrap();
    assert_eq!(
        (weeks.name.as_str(), weeks.title.as_str()),
        ("dream", "DREAM")
    );
    assert_eq!(cfg.sources.kind("jobindsats"), Some(SourceKind::Jobindsats));
    assert_eq!(cfg.sources.title("fagsystem"), "fagsystemet");

    // Renamed, the register is the same kind under its new name: its tables follow.
    let renamed = EMBEDDED_DEFAULT
        .replace("[sources.dream]", "[sources.register]")
        .replace("\"ingest dream\"", "\"ingest register\"");
    let cfg = parse(&renamed, "t.toml", Path::new(".")).unwrap();
    assert_eq!(cfg.sources.kind("register"), Some(SourceKind::WideWeeks));
    assert_eq!(cfg.sources.kind("dream"), None);

    let two = format!(
        "{}\n[sources.zz_register]\ntype = \"wide_weeks\"\nlocation = \"r/{{period}}.csv\"\n",
        *EMBEDDED_DEFAULT
    );
    let errs = parse(&two, "t.toml", Path::new(".")).unwrap_err().0;
    assert_eq!(errs.len(), 1, "{errs:#?}");
    assert_eq!(errs[0].field, "sources.zz_register.type");
    assert!(
        errs[0]
            .message
            .contains("a programme has one source of this kind, and `dream` is one"),
        "{}",
        errs[0]
    );

    let text = EMBEDDED_DEFAULT.replacen("type = \"wide_weeks\"", "type = \"wide_week\"", 1);
    let errs = parse(&text, "t.toml", Path::new(".")).unwrap_err().0;
    let rendered: Vec<String> = errs.iter().map(ToString::to_string).collect();
    assert!(
        rendered
            .iter()
            .any(|e| e.contains("sources.dream.type") && e.contains("`wide_week`; valid: `csv`")),
        "{rendered:#?}"
    );
    assert_eq!(errs.len(), 1, "{rendered:#?}");
}

#[test]
fn a_report_s_shape_says_whom_it_is_for_and_a_wrong_one_is_the_one_problem() {
    let text = EMBEDDED_DEFAULT
        .replacen("shape = \"staff_book\"", "shape = \"book\"", 1)
        .replacen(
            "file = \"oversigt_{period}.pdf\"",
            "file = \"oversigt_{period}.pdf\"\nscope = \"municipality\"",
            1,
        );
    let errs = parse(&text, "t.toml", Path::new(".")).unwrap_err().0;
    let rendered: Vec<String> = errs.iter().map(ToString::to_string).collect();
    let line = |needle: &str| text.lines().position(|l| l == needle).unwrap() + 1;
    let shape = errs
        .iter()
        .find(|e| e.field == "reports.report.2.shape")
        .unwrap_or_else(|| panic!("{rendered:#?}"));
    assert_eq!(shape.line, line("shape = \"book\""));
    assert!(
        shape
            .message
            .contains("`book`: give `quarterly`, `overview`, `staff_book` or `marts`")
    );
    let scope = errs
        .iter()
        .find(|e| e.field == "reports.report.1.scope")
        .unwrap_or_else(|| panic!("{rendered:#?}"));
    assert!(scope.message.contains("the shape says whom it is for"));
    // Nothing else about the unknown shape's report but that its job cannot send it.
    assert_eq!(errs.len(), 3, "{rendered:#?}");
    assert!(
        rendered
            .iter()
            .any(|e| e.contains("`send maanedsbog`: unknown report `maanedsbog`")),
        "{rendered:#?}"
    );
}

#[test]
fn a_remote_lake_is_an_s3_url_and_its_problems_are_named_where_they_are() {
    let with = |remote: &str| {
        EMBEDDED_DEFAULT.replacen(
            "[lake]\npath = \"lake\"\n",
            &format!("[lake]\npath = \"lake\"\n[lake.remote]\n{remote}"),
            1,
        )
    };
    let text = with("url = \"s3://maaltal-lake/imi\"\nendpoint = \"https://s3.example.dk\"\n");
    let cfg = parse(&text, "t.toml", Path::new(".")).unwrap();
    let r = cfg.lake.remote.unwrap();
    assert_eq!(
        (r.bucket.as_str(), r.prefix.as_str()),
        ("maaltal-lake", "imi")
    );
    assert!(!r.allow_http);

    let text = with("url = \"gs://maaltal-lake/imi\"\nendpoint = \"http://127.0.0.1:9000\"\n");
    let errs = parse(&text, "t.toml", Path::new(".")).unwrap_err().0;
    exactly(
        &errs,
        &[("lake.remote.url", "`gs://maaltal-lake/imi`: give an S3 URL")],
    );
    let line =
        |text: &str, needle: &str| text.lines().position(|l| l.starts_with(needle)).unwrap() + 1;
    assert_eq!(errs[0].line, line(&text, "url = \"gs://"));

    let text = with("url = \"s3://Maaltal_Lake\"\n");
    let errs = parse(&text, "t.toml", Path::new(".")).unwrap_err().0;
    exactly(
        &errs,
        &[(
            "lake.remote.url",
            "the bucket `Maaltal_Lake` is not a valid S3 bucket name",
        )],
    );

    let text = with("url = \"s3://maaltal-lake\"\nendpoint = \"http://127.0.0.1:9000\"\n");
    let errs = parse(&text, "t.toml", Path::new(".")).unwrap_err().0;
    exactly(
        &errs,
        &[(
            "lake.remote.endpoint",
            "is plain http: set `allow_http = true`",
        )],
    );
    assert_eq!(errs[0].line, line(&text, "endpoint = "));

    // Credentials are the environment's, never a file's.
    let text = with("url = \"s3://maaltal-lake\"\nsecret_access_key = \"abc\"\n");
    let errs = parse(&text, "t.toml", Path::new(".")).unwrap_err().0;
    assert!(
        errs.iter().any(|e| e.message.contains("secret_access_key")),
        "{errs:?}"
    );
}

#[test]
fn a_cluster_engine_needs_a_df_scheduler_and_a_wrong_one_is_named() {
    let with = |engine: &str| format!("{}\n[engine]\n{engine}", EMBEDDED_DEFAULT.as_str());
    let cfg = parse(
        &with(
            "kind = \"ballista\"\nscheduler = \"df://127.0.0.1:50050\"\nquery_timeout_secs = 90\n",
        ),
        "t.toml",
        Path::new("."),
    )
    .unwrap();
    let c = cfg.engine.cluster.unwrap();
    assert_eq!(c.scheduler, "df://127.0.0.1:50050");
    assert_eq!(c.query_timeout.as_secs(), 90);
    for (engine, field, message) in [
        (
            "kind = \"spark\"\n",
            "engine.kind",
            "`spark`: give `in_process` (the default) or `ballista`",
        ),
        (
            "kind = \"ballista\"\n",
            "engine.kind",
            "`ballista` needs `scheduler = \"df://host:port\"`",
        ),
        (
            "kind = \"ballista\"\nscheduler = \"http://sched:50050\"\n",
            "engine.scheduler",
            "`http://sched:50050`: give the scheduler as `df://host:port`",
        ),
        (
            "scheduler = \"df://sched:50050\"\n",
            "engine.scheduler",
            "a scheduler without `kind = \"ballista\"`",
        ),
    ] {
        let errs = parse(&with(engine), "t.toml", Path::new("."))
            .unwrap_err()
            .0;
        exactly(&errs, &[(field, message)]);
    }
}
