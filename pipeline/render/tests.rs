//! Tests of the render stage: templates, file names, disclosure across pages.

use super::*;
use crate::config::reports::Shape;

fn date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2019, 2, 1).unwrap()
}

/// The embedded default's reports.
fn reports() -> Vec<Template> {
    Template::all(&crate::config::load(None).unwrap())
}

/// The embedded default's staff book.
fn book() -> Template {
    Template::of(&crate::config::load(None).unwrap(), Shape::StaffBook).unwrap()
}

#[test]
fn every_template_renders_its_sample_data_deterministically() {
    let all = reports();
    assert!(all.len() >= 3, "{all:?}");
    for t in all {
        let a =
            pdf(&Templates::embedded(), &t, None, date(), "test").unwrap_or_else(|e| panic!("{e}"));
        let b = pdf(&Templates::embedded(), &t, None, date(), "test").unwrap();
        assert!(a.starts_with(b"%PDF-"));
        assert_eq!(a, b, "{}: same data, same bytes", t.template_file());
    }
}

#[test]
fn forty_employees_in_a_department_flow_over_pages() {
    let book = book();
    let templates = Templates::embedded();
    let sample = templates.text(&book.sample()).unwrap();
    let mut data: serde_json::Value = serde_json::from_str(sample).unwrap();
    let section = &mut data["employee_sections"][0]["employees"];
    let one = section[0].clone();
    *section = serde_json::Value::Array(
        (0..40)
            .map(|i| {
                let mut e = one.clone();
                e["name"] = format!("Medarbejder nr. {i:02} Østergård-Aakjær").into();
                e
            })
            .collect(),
    );
    let bytes = serde_json::to_vec(&data).unwrap();
    let forty = pdf(&Templates::embedded(), &book, Some(&bytes), date(), "forty").unwrap();
    let sample = pdf(&Templates::embedded(), &book, None, date(), "forty").unwrap();
    assert!(
        forty.len() > sample.len(),
        "forty employees make a longer document"
    );
    // Kept for looking at (pdftoppm): the table flows over pages, its header repeated.
    let _ = std::fs::write(
        std::env::temp_dir().join("maaltal-forty-employees.pdf"),
        &forty,
    );
}

#[test]
fn different_ids_never_share_a_file_name() {
    assert_eq!(file_part("H001"), "H001");
    assert_eq!(file_part("l-004"), "l-004");
    let (a, b) = (file_part("h/1"), file_part("h_1"));
    assert_ne!(a, b);
    assert!(a.starts_with("h_1_") && b.starts_with("h_1_"), "{a} {b}");
    assert_ne!(file_part("H1"), file_part("h1"));
    let mail = file_part("Aase.Holm@holb.dk");
    assert!(mail.starts_with("aase_holm_holb_dk_"), "{mail}");
    assert!(
        mail.is_ascii() && !mail.contains(['/', '\\', '.', '@']),
        "{mail}"
    );
    // Every municipality's name gives a file name of its own (the quarterly reports').
    let slugs: std::collections::BTreeSet<String> = (100..=900)
        .filter_map(crate::municipality::name)
        .map(slug)
        .collect();
    assert_eq!(slugs.len(), 98);
}

#[test]
fn two_reports_under_one_name_are_refused_before_anything_is_written() {
    let report = |recipient: &str| Rendered {
        template: book(),
        period: "2018-11".into(),
        municipality: Some(350),
        recipient: Some(recipient.into()),
        file_name: "book_2018-11_lejre_x.pdf".into(),
        pdf: b"%PDF".to_vec(),
        data: b"{}".to_vec(),
        data_sha256: String::new(),
        elapsed: std::time::Duration::ZERO,
    };
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("reports");
    let err = write_all(&out, &[report("a@lejre.dk"), report("b@lejre.dk")], false)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("`a@lejre.dk`") && err.contains("`b@lejre.dk`"),
        "{err}"
    );
    assert!(!out.exists());
}

#[test]
fn slugs_are_ascii() {
    assert_eq!(slug("Brønderslev"), "broenderslev");
    assert_eq!(slug("Faaborg-Midtfyn"), "faaborg-midtfyn");
    assert_eq!(slug("Anne Sørensen"), "anne_soerensen");
}
