//! The PDF reports end to end: sample data landed and transformed, `maaltal report`,
//! then the PDFs' text extracted by pdftotext (poppler-utils, installed by tests/run)
//! and checked against the marts, the disclosure rules and the visibility model.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use serde_json::Value;

use crate::common::{Workspace, text};

/// One lake with every sample extract landed and transformed, shared read-only.
pub(crate) fn full() -> &'static Workspace {
    static WS: OnceLock<Workspace> = OnceLock::new();
    WS.get_or_init(|| {
        let ws = Workspace::new();
        ws.ok(&["ingest", "dream", "--period", "2016Q3..2018Q4"]);
        ws.ok(&["ingest", "jobindsats", "--period", "2016Q3..2018Q4"]);
        ws.ok(&["ingest", "jobindsats", "--period", "2016-12..2018-12"]);
        ws.ok(&["ingest", "fagsystem", "--period", "2018-06..2018-11"]);
        ws.ok(&["transform"]);
        ws
    })
}

pub(crate) fn json(ws: &Workspace, sql: &str) -> Vec<Value> {
    serde_json::from_str(&ws.ok(&["sql", sql, "--format", "json"])).unwrap()
}

/// Runs `maaltal --lake <shared lake> report …` in `ws` (its own config) into a fresh folder.
pub(crate) fn report(
    ws: &Workspace,
    lake: &Path,
    args: &[&str],
) -> (tempfile::TempDir, Vec<PathBuf>) {
    let out = tempfile::tempdir().unwrap();
    let mut all = vec!["--lake", lake.to_str().unwrap(), "report"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--out", out.path().to_str().unwrap()]);
    ws.ok(&all);
    let mut pdfs: Vec<PathBuf> = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "pdf"))
        .collect();
    pdfs.sort();
    (out, pdfs)
}

/// The text of a PDF, by pdftotext (a tool nobody here wrote).
pub(crate) fn pdf_text(path: &Path) -> String {
    let out = Command::new("pdftotext")
        .args(["-enc", "UTF-8", "-layout"])
        .arg(path)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils) is installed by tests/run");
    assert!(out.status.success(), "{}", text(&out.stderr));
    // Lines as laid out (a table row stays a line), runs of spaces made one.
    text(&out.stdout)
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The text on single spaces, line breaks included (a heading may wrap).
pub(crate) fn flat(t: &str) -> String {
    t.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn pdfinfo(path: &Path) -> String {
    text(&Command::new("pdfinfo").arg(path).output().unwrap().stdout)
}

/// The test's own Danish per-cent format: one decimal, decimal comma, "40,5 pct.".
pub(crate) fn pct_text(share: f64) -> String {
    let n = format!("{:.1}", share * 100.0).replace('.', ",");
    format!("{n} pct.")
}

#[test]
fn quarterly_reports_print_the_marts_figures() {
    let ws = full();
    let (_out, pdfs) = report(ws, &ws.lake(), &["quarterly", "--period", "2018Q4"]);
    assert_eq!(
        pdfs.len(),
        16,
        "one report per programme municipality: {pdfs:?}"
    );
    let rows = json(
        ws,
        "select m.municipality_code, m.municipality, m.metric, m.share, m.baseline_share, m.change_pp, m.project_average, m.rank, m.ranked_municipalities, t.denominator \
         from metric_comparison m join target_metrics t on t.municipality_code = m.municipality_code and t.metric = m.metric and t.period = m.period and t.sex = m.sex \
         where m.sex = 'alle' and m.period in ('2018Q4', '2018M12')",
    );
    assert_eq!(rows.len(), 16 * 5);
    let mut checked = 0;
    for r in &rows {
        let name = r["municipality"].as_str().unwrap();
        let file = pdfs
            .iter()
            .find(|p| {
                p.file_name()
                    .unwrap()
                    .to_str()
                    .unwrap()
                    .starts_with("statusrapport_2018Q4_")
                    && pdf_title(p).contains(name)
            })
            .unwrap_or_else(|| panic!("no report for {name}"));
        let t = flat(&pdf_text(file));
        assert!(
            t.contains(&format!(
                "Statusrapport for {name} Kommune, 4. kvartal 2018"
            )),
            "{t}"
        );
        let share = r["share"].as_f64().unwrap();
        assert!(r["denominator"].as_i64().unwrap() >= 5);
        assert!(
            t.contains(&pct_text(share)),
            "{name} {}: {} missing",
            r["metric"],
            pct_text(share)
        );
        let avg = r["project_average"].as_f64().unwrap();
        assert!(
            t.contains(&pct_text(avg)),
            "{name}: average {}",
            pct_text(avg)
        );
        let rank = format!(
            "{} af {}",
            r["rank"].as_i64().unwrap(),
            r["ranked_municipalities"].as_i64().unwrap()
        );
        assert!(t.contains(&rank), "{name} {}: rank {rank}", r["metric"]);
        if let Some(change) = r["change_pp"].as_f64() {
            // change_pp is in percentage points already.
            let n = format!("{:.1}", change).replace('.', ",");
            let signed = if change >= 0.0 {
                format!("+{n} procentpoint")
            } else {
                format!("{n} procentpoint")
            };
            assert!(
                t.contains(&signed),
                "{name} {}: change {signed}",
                r["metric"]
            );
        }
        checked += 1;
    }
    assert_eq!(checked, 80);
}

pub(crate) fn pdf_title(p: &Path) -> String {
    pdfinfo(p)
        .lines()
        .find(|l| l.starts_with("Title:"))
        .unwrap_or_default()
        .to_string()
}

/// Lejre's status report for 2018Q4 from the shared lake: one PDF.
fn lejre_status_report() -> (tempfile::TempDir, Vec<PathBuf>) {
    let ws = full();
    let (out, pdfs) = report(
        ws,
        &ws.lake(),
        &["quarterly", "--period", "2018Q4", "--municipality", "350"],
    );
    assert_eq!(pdfs.len(), 1, "{pdfs:?}");
    (out, pdfs)
}

#[test]
fn reports_are_tagged_archival_pdfs_with_danish_metadata() {
    let (_out, pdfs) = lejre_status_report();
    let info = pdfinfo(&pdfs[0]);
    assert!(
        info.lines()
            .any(|l| l.starts_with("Tagged:") && l.trim_end().ends_with("yes")),
        "{info}"
    );
    assert!(
        info.contains("Statusrapport 4. kvartal 2018: Lejre Kommune"),
        "{info}"
    );
    let bytes = std::fs::read(&pdfs[0]).unwrap();
    let raw = String::from_utf8_lossy(&bytes);
    assert!(
        raw.contains("pdfaid:part>2<") || raw.contains("pdfaid:part=\"2\""),
        "PDF/A-2 identification in the XMP metadata"
    );
    assert!(
        raw.contains("pdfuaid:part>1<") || raw.contains("pdfuaid:part=\"1\""),
        "PDF/UA-1 identification in the XMP metadata"
    );
    assert!(raw.contains("/Lang"), "document language");
    // The alternative text of a chart is generated from the same data.
    assert!(raw.contains("/Alt"), "charts carry alternative text");
}

/// The status report numbers its figures itself (no counter to settle in a second
/// layout pass): the numbers run 1, 2, … in reading order, one per tagged figure, and
/// the key figures beside each trend are still a tagged table.
#[test]
fn a_status_report_s_figures_are_numbered_in_order_and_tagged() {
    let (_out, pdfs) = lejre_status_report();
    let t = pdf_text(&pdfs[0]);
    // pdftotext gives the caption's no-break space as a space.
    let numbers: Vec<usize> = t
        .split("Figur ")
        .skip(1)
        .filter_map(|rest| rest.split_once(':').and_then(|(n, _)| n.parse().ok()))
        .collect();
    let structure = text(
        &Command::new("pdfinfo")
            .arg("-struct")
            .arg(&pdfs[0])
            .output()
            .unwrap()
            .stdout,
    );
    let elements = |name: &str| {
        structure
            .lines()
            .filter(|l| l.trim_start().starts_with(name))
            .count()
    };
    let figures = elements("Figure");
    let sections = t
        .lines()
        .filter(|l| *l == "Sammenlignelige kommuner")
        .count();
    assert!(sections >= 5, "{sections} sections: {t}");
    assert_eq!(figures, 2 * sections, "a trend and a bar chart per section");
    assert_eq!(elements("Caption"), figures, "{structure}");
    assert_eq!(numbers, (1..=figures).collect::<Vec<_>>(), "{t}");
    // The overview table, and per section the key figures, the comparison and the sex split.
    assert_eq!(elements("Table"), 1 + 3 * sections, "{structure}");
}

/// Typst's memo cache is kept from one report to the next in a process (the templates'
/// set rules are the same for every report, so layouts are reused). Nothing of one
/// report may show in the next: each status report's running header (page 2 on) names
/// its own municipality, and Lejre's report made in the run of all sixteen is the bytes
/// of Lejre's made alone.
#[test]
fn status_reports_made_in_one_process_each_carry_their_own_header() {
    let ws = full();
    let (_all, pdfs) = report(ws, &ws.lake(), &["quarterly", "--period", "2018Q4"]);
    assert_eq!(pdfs.len(), 16, "{pdfs:?}");
    let mut lejre = None;
    for p in &pdfs {
        let title = pdf_title(p);
        // "Title:   Statusrapport 4. kvartal 2018: Lejre Kommune"
        let kommune = title
            .rsplit(": ")
            .next()
            .filter(|k| k.ends_with(" Kommune"))
            .unwrap_or_else(|| panic!("{}: title {title:?}", p.display()))
            .trim()
            .to_string();
        let pages: usize = pdfinfo(p)
            .lines()
            .find_map(|l| l.strip_prefix("Pages:"))
            .and_then(|n| n.trim().parse().ok())
            .unwrap();
        assert!(pages >= 2, "{}: {pages} pages", p.display());
        for page in 1..=pages {
            let out = Command::new("pdftotext")
                .args([
                    "-enc",
                    "UTF-8",
                    "-f",
                    &page.to_string(),
                    "-l",
                    &page.to_string(),
                ])
                .arg(p)
                .arg("-")
                .output()
                .unwrap();
            let first = text(&out.stdout)
                .lines()
                .next()
                .unwrap_or_default()
                .to_string();
            let header = format!("· Statusrapport · {kommune} · 4. kvartal 2018");
            if page == 1 {
                assert!(!first.contains(&header), "{kommune} page 1: {first:?}");
            } else {
                assert!(first.contains(&header), "{kommune} page {page}: {first:?}");
            }
        }
        if kommune == "Lejre Kommune" {
            lejre = Some(std::fs::read(p).unwrap());
        }
    }
    let (_alone, one) = lejre_status_report();
    assert_eq!(
        lejre.expect("Lejre among the 16"),
        std::fs::read(&one[0]).unwrap(),
        "Lejre's report made after others differs from Lejre's made alone"
    );
}

#[test]
fn the_same_lake_gives_byte_identical_pdfs() {
    let ws = full();
    let (_a, first) = report(ws, &ws.lake(), &["overview", "--period", "2018Q4"]);
    let (_b, second) = report(ws, &ws.lake(), &["overview", "--period", "2018Q4"]);
    assert_eq!(first.len(), 1);
    assert_eq!(
        std::fs::read(&first[0]).unwrap(),
        std::fs::read(&second[0]).unwrap()
    );
    let t = pdf_text(&first[0]);
    assert!(t.contains("Programoversigt, 4. kvartal 2018"), "{t}");
    // Every programme municipality on the M3 page, with its share.
    let m3 = json(
        ws,
        "select municipality, share from metric_comparison where metric = 'M3' and period = '2018Q4' and sex = 'alle'",
    );
    assert_eq!(m3.len(), 16);
    for r in &m3 {
        assert!(t.contains(r["municipality"].as_str().unwrap()));
        assert!(t.contains(&pct_text(r["share"].as_f64().unwrap())), "{r}");
    }
    // The sex split pages (the annual report's figures 4, 13 and 14).
    for title in [
        "Andel borgere i selvforsørgelse eller ordinær uddannelse, mænd og kvinder, 4. kvartal 2018",
        "Andel jobparate borgere, mænd og kvinder, december 2018",
        "Andel borgere i virksomhedsrettet indsats, mænd og kvinder, 4. kvartal 2018",
    ] {
        assert!(t.contains(title), "{title}");
    }
}

#[test]
fn small_groups_are_hidden_with_their_complement() {
    // A threshold high enough that some municipalities' women (or men) fall under it.
    let ws = Workspace::with_config(|t| {
        assert!(t.contains("min_group_size = 5"));
        t.replace("min_group_size = 5", "min_group_size = 40")
    });
    let lake = full().lake();
    let (_out, pdfs) = report(&ws, &lake, &["overview", "--period", "2018Q4"]);
    let t = pdf_text(&pdfs[0]);
    let m1 = json(
        full(),
        "select municipality, sex, share, denominator from target_metrics where metric = 'M1' and period = '2018Q4' and municipality_code in (217, 316, 350, 420, 430, 461, 479, 480, 540, 706, 707, 710, 730, 810, 820, 840)",
    );
    let mut by: BTreeMap<String, BTreeMap<String, (f64, i64)>> = BTreeMap::new();
    for r in &m1 {
        by.entry(r["municipality"].as_str().unwrap().into())
            .or_default()
            .insert(
                r["sex"].as_str().unwrap().into(),
                (
                    r["share"].as_f64().unwrap_or(f64::NAN),
                    r["denominator"].as_i64().unwrap(),
                ),
            );
    }
    // The M1 sex page: a row per municipality "Name men women gap".
    let (_, page) = t
        .split_once("Andel borgere i selvforsørgelse eller ordinær uddannelse, mænd og kvinder")
        .expect("the M1 sex page");
    let page = page
        .split("Kommune Mænd Kvinder Forskel")
        .nth(1)
        .expect("the table of the M1 sex page");
    let page = page.split("Projektkommunegennemsnit").next().unwrap();
    let mut hidden_pairs = 0;
    let mut shown_pairs = 0;
    for (name, sexes) in &by {
        let (m, k) = (sexes["M"], sexes["K"]);
        let small = m.1 < 40 || k.1 < 40;
        let row = page
            .lines()
            .find(|l| l.starts_with(&format!("{name} ")))
            .unwrap_or_else(|| panic!("{name} in the table of the sex page: {page}"));
        if small {
            hidden_pairs += 1;
            assert!(
                !row.contains(&pct_text(m.0)) && !row.contains(&pct_text(k.0)),
                "{name}: both sexes hidden: {row}"
            );
            assert!(
                row.starts_with(&format!("{name} – –")),
                "{name}: hidden cells are marked, never 0: {row}"
            );
        } else {
            shown_pairs += 1;
            assert!(
                row.starts_with(&format!("{name} {} {}", pct_text(m.0), pct_text(k.0))),
                "{name}: {row}"
            );
        }
    }
    assert!(
        hidden_pairs > 0 && shown_pairs > 0,
        "the threshold splits the sample: {hidden_pairs} hidden, {shown_pairs} shown"
    );
    assert!(
        t.contains("færre end 40 personer"),
        "the legend explains the mark"
    );
}

#[test]
fn a_maanedsbog_never_shows_an_employee_the_recipient_may_not_see() {
    let ws = full();
    let (_out, pdfs) = report(ws, &ws.lake(), &["maanedsbog", "--month", "2018-11"]);
    let vis = json(
        ws,
        "select kommune, recipient_email, recipient_id, recipient_rolle, afdeling from maanedsbog_visibility where month = '2018-11'",
    );
    let emps = json(
        ws,
        "select kommune, medarbejder_id, navn, afdeling, aktive_sager, samtaler from maanedsbog where month = '2018-11'",
    );
    let recipients: BTreeSet<(i64, String)> = vis
        .iter()
        .map(|r| {
            (
                r["kommune"].as_i64().unwrap(),
                r["recipient_id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(pdfs.len(), recipients.len(), "one PDF per recipient");
    let mut leaders = 0;
    let mut staff = 0;
    for (kommune, id) in &recipients {
        let file = pdfs
            .iter()
            .find(|p| {
                let n = p.file_name().unwrap().to_str().unwrap();
                n.ends_with(&format!("_{}.pdf", maaltal::render::file_part(id)))
                    && n.contains(if *kommune == 350 { "lejre" } else { "holbaek" })
            })
            .unwrap_or_else(|| panic!("no PDF for {kommune}/{id}"));
        let t = pdf_text(file);
        let allowed: BTreeSet<&str> = vis
            .iter()
            .filter(|r| {
                r["kommune"].as_i64() == Some(*kommune) && r["recipient_id"].as_str() == Some(id)
            })
            .map(|r| r["afdeling"].as_str().unwrap())
            .collect();
        let me = emps
            .iter()
            .find(|e| {
                e["kommune"].as_i64() == Some(*kommune) && e["medarbejder_id"].as_str() == Some(id)
            })
            .unwrap();
        let my_name = me["navn"].as_str().unwrap();
        for e in emps
            .iter()
            .filter(|e| e["kommune"].as_i64() == Some(*kommune))
        {
            let name = e["navn"].as_str().unwrap();
            let visible = allowed.contains(e["afdeling"].as_str().unwrap());
            if name == my_name {
                continue;
            }
            assert_eq!(
                t.contains(name),
                visible,
                "{id} ({:?}) and {name} of {}: visible = {visible}",
                allowed,
                e["afdeling"]
            );
        }
        // Every department's figures are there for everyone.
        let depts: BTreeSet<&str> = emps
            .iter()
            .filter(|e| e["kommune"].as_i64() == Some(*kommune))
            .map(|e| e["afdeling"].as_str().unwrap())
            .collect();
        for d in &depts {
            assert!(t.contains(d), "{id}: department {d}");
        }
        if allowed.len() == depts.len() && depts.len() > 1 {
            leaders += 1;
        } else {
            staff += 1;
        }
    }
    assert!(leaders > 0 && staff > 0, "{leaders} leaders, {staff} staff");
}

#[test]
fn a_quarter_without_dream_still_renders_and_says_so() {
    let ws = Workspace::new();
    ws.ok(&["ingest", "jobindsats", "--period", "2016Q3..2018Q4"]);
    ws.ok(&["ingest", "jobindsats", "--period", "2016-12..2018-12"]);
    ws.ok(&["transform"]);
    let (_out, pdfs) = report(
        &ws,
        &ws.lake(),
        &["quarterly", "--period", "2018Q4", "--municipality", "316"],
    );
    let t = pdf_text(&pdfs[0]);
    assert!(t.contains("Data mangler for perioden"), "{t}");
    assert!(
        t.contains("Data fra DREAM for 4. kvartal 2018 er ikke modtaget endnu"),
        "{t}"
    );
    // M3 is there all the same.
    let m3 = json(
        &ws,
        "select share from metric_comparison where metric = 'M3' and period = '2018Q4' and sex = 'alle' and municipality_code = 316",
    );
    assert!(t.contains(&pct_text(m3[0]["share"].as_f64().unwrap())));
    // And no invented M1 figure: the M1 rows print "i.d.".
    let m1_row = t
        .lines()
        .find(|l| l.starts_with("Målsætning 1: Andel borgere i"))
        .unwrap();
    assert!(m1_row.contains("4. kvartal 2018 i.d."), "{m1_row}");
}

#[test]
fn report_errors_say_what_exists() {
    let ws = full();
    let out = ws.run(&[
        "--lake",
        ws.lake().to_str().unwrap(),
        "report",
        "quarterly",
        "--period",
        "2018Q4",
        "--municipality",
        "101",
    ]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("municipality 101 is not in the programme"),
        "{}",
        text(&out.stderr)
    );
    let out = ws.run(&[
        "--lake",
        ws.lake().to_str().unwrap(),
        "report",
        "maanedsbog",
        "--month",
        "2016-01",
    ]);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        text(&out.stderr).contains("no fagsystem export of that month"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn maanedsboger_made_on_every_core_are_the_bytes_made_on_one() {
    let ws = full();
    let (many, pdfs) = report(ws, &ws.lake(), &["maanedsbog", "--month", "2018-11"]);
    assert!(pdfs.len() > 1, "several månedsbøger: {}", pdfs.len());
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    if cores < 2 {
        eprintln!("one core: nothing to compare");
        return;
    }
    // Pinned to one core by `taskset`, the process renders one at a time.
    let one = tempfile::tempdir().unwrap();
    let out = Command::new("taskset")
        .args(["-c", "0", env!("CARGO_BIN_EXE_maaltal"), "--config"])
        .arg(ws.dir.path().join("maaltal.toml"))
        .arg("--lake")
        .arg(ws.lake())
        .args(["report", "maanedsbog", "--month", "2018-11", "--out"])
        .arg(one.path())
        .env_remove("MAALTAL_LAKE")
        .env_remove("MAALTAL_PSEUDONYM_KEY")
        .output()
        .expect("taskset (util-linux)");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let (a, b) = (
        crate::common::hash_tree(many.path()),
        crate::common::hash_tree(one.path()),
    );
    assert_eq!(a.len(), pdfs.len());
    assert_eq!(a, b, "the same files, the same bytes");
}

#[test]
fn a_metric_s_title_and_definition_come_from_the_config() {
    // The catalogue is the programme's text: edit it, and the report says the new words.
    let ws = Workspace::with_config(|t| {
        t.replace(
            "title = \"Andel jobparate borgere\"",
            "title = \"Andel borgere klar til job\"",
        )
        .replace(
            "Kvartalsrapporten bruger kvartalets sidste måned.",
            "Opgjort i kvartalets sidste måned.",
        )
    });
    let lake = full().lake();
    let (_dir, pdfs) = report(
        &ws,
        &lake,
        &["quarterly", "--period", "2018Q4", "--municipality", "350"],
    );
    assert_eq!(pdfs.len(), 1, "{pdfs:?}");
    let text = pdf_text(&pdfs[0])
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        text.contains("Målsætning 2: Andel borgere klar til job"),
        "{text}"
    );
    assert!(!text.contains("Andel jobparate borgere"), "{text}");
    assert!(
        text.contains("Opgjort i kvartalets sidste måned."),
        "{text}"
    );
}
