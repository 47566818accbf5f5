//! One test per rule of the input contract: the broken extract is rejected naming its
//! file, line and column; it lands in quarantine (owner-only) with the error; every
//! lake file is byte-for-byte what it was; no CPR value is printed.

use std::path::{Path, PathBuf};

use crate::common::{Workspace, hash_tree, text};

const CPRS: [&str; 3] = ["0101901234", "1503854321", "2212771118"];

/// A valid 2018Q4 DREAM extract (weeks 2018W40..2018W52) with three persons.
fn dream_ok() -> String {
    let weeks: Vec<String> = (40..=52).map(|w| format!("y_18{w}")).collect();
    let mut s = format!(
        "cpr;koen;foedselsdato;herkomst;kommune;integrationsprogram;foerste_integrationsydelse;{}\n",
        weeks.join(";")
    );
    let codes = |c: &str| vec![c; 13].join(";");
    s += &format!(
        "{};M;1990-01-01;3;350;1;2017-03-06;{}\n",
        CPRS[0],
        codes("")
    );
    s += &format!(
        "{};K;1985-03-15;3;0316;1;2016-05-02;{}\n",
        CPRS[1],
        codes("130")
    );
    s += &format!("{};M;1977-12-22;1;461;0;;{}\n", CPRS[2], codes("651"));
    s
}

struct Case {
    ws: Workspace,
}

impl Case {
    /// A workspace whose lake already holds a landed 2018Q4 DREAM partition and a fagsystem month.
    fn new() -> Self {
        let ws = Workspace::with_config(|t| t.replace("backoff_ms = 500", "backoff_ms = 10"));
        let ok = ws.dir.path().join("dream_ok.csv");
        std::fs::write(&ok, dream_ok()).unwrap();
        ws.ok(&[
            "ingest",
            "dream",
            ok.to_str().unwrap(),
            "--period",
            "2018Q4",
        ]);
        ws.ok(&[
            "ingest",
            "fagsystem",
            "--period",
            "2018-11",
            "--municipality",
            "350",
        ]);
        Self { ws }
    }

    /// Runs an ingest that must be rejected; checks lake, quarantine and output.
    fn reject(&self, args: &[&str], location: &str, expected: &[&str]) -> String {
        let before = hash_tree(&self.ws.lake());
        let mut full = vec!["ingest"];
        full.extend_from_slice(args);
        let out = self.ws.run(&full);
        let stderr = text(&out.stderr);
        let all = format!("{}{stderr}", text(&out.stdout));
        assert_eq!(
            out.status.code(),
            Some(2),
            "expected a rejection (exit 2):\n{all}"
        );
        assert!(stderr.contains("rejected"), "{stderr}");
        for e in expected {
            // A fragment starting with ':' must follow the file's name (file:line:col).
            let want = if e.starts_with(':') {
                format!("{location}{e}")
            } else {
                (*e).to_string()
            };
            assert!(stderr.contains(&want), "missing `{want}` in:\n{stderr}");
        }
        for cpr in CPRS {
            assert!(!all.contains(cpr), "a CPR number was printed:\n{all}");
        }
        assert_eq!(before, hash_tree(&self.ws.lake()), "the lake changed");
        let q = quarantined(&self.ws.quarantine());
        let error = std::fs::read_to_string(q.join("ERROR.txt")).unwrap();
        for e in expected {
            assert!(error.contains(e), "ERROR.txt lacks `{e}`: {error}");
        }
        for cpr in CPRS {
            assert!(!error.contains(cpr), "ERROR.txt holds a CPR number");
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&q).unwrap().permissions().mode() & 0o777,
                0o700
            );
            assert_eq!(
                std::fs::metadata(self.ws.quarantine())
                    .unwrap()
                    .permissions()
                    .mode()
                    & 0o777,
                0o700
            );
        }
        // The rejected bytes are kept.
        assert!(std::fs::read_dir(&q).unwrap().flatten().any(|e| {
            e.path()
                .extension()
                .is_some_and(|x| x == "csv" || x == "json")
        }));
        stderr
    }

    fn dream(&self, content: impl AsRef<[u8]>, expected: &[&str]) -> String {
        let path = self.ws.dir.path().join("dream_bad.csv");
        std::fs::write(&path, content).unwrap();
        let p = path.to_str().unwrap().to_string();
        self.reject(&["dream", &p, "--period", "2018Q4"], &p, expected)
    }

    fn fagsystem(
        &self,
        file: &str,
        edit: impl FnOnce(String) -> String,
        expected: &[&str],
    ) -> String {
        let src = crate::common::sample_dir().join("fagsystem/350/2018-10");
        let dir = self.ws.dir.path().join("fag_bad");
        std::fs::create_dir_all(&dir).unwrap();
        let mut edit = Some(edit);
        for f in [
            "medarbejdere",
            "sager",
            "samtaler",
            "virksomhedsbesoeg",
            "placeringer",
        ] {
            let mut t = std::fs::read_to_string(src.join(format!("{f}.csv"))).unwrap();
            if f == file
                && let Some(edit) = edit.take()
            {
                t = edit(t);
            }
            std::fs::write(dir.join(format!("{f}.csv")), t).unwrap();
        }
        let loc = dir.join(format!("{file}.csv")).display().to_string();
        self.reject(
            &[
                "fagsystem",
                dir.to_str().unwrap(),
                "--period",
                "2018-10",
                "--municipality",
                "350",
            ],
            &loc,
            expected,
        )
    }

    fn jobindsats(&self, edit: impl FnOnce(String) -> String, expected: &[&str]) -> String {
        let src = crate::common::sample_dir().join("jobindsats");
        let dir = self.ws.dir.path().join("ji_bad");
        for t in ["Y60A05", "Y60V02"] {
            std::fs::create_dir_all(dir.join(t)).unwrap();
            std::fs::copy(
                src.join(t).join("metadata.json"),
                dir.join(t).join("metadata.json"),
            )
            .unwrap();
        }
        let data = std::fs::read_to_string(src.join("Y60A05/2018Q4.json")).unwrap();
        // Pretty-print so that lines and columns are meaningful.
        let pretty = serde_json::to_string_pretty(
            &serde_json::from_str::<serde_json::Value>(&data).unwrap(),
        )
        .unwrap();
        std::fs::write(dir.join("Y60A05/2018Q4.json"), edit(pretty)).unwrap();
        let loc = dir.join("Y60A05/2018Q4.json").display().to_string();
        self.reject(
            &["jobindsats", dir.to_str().unwrap(), "--period", "2018Q4"],
            &loc,
            expected,
        )
    }
}

fn quarantined(root: &Path) -> PathBuf {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir() && !p.file_name().unwrap().to_string_lossy().starts_with('.'))
        .collect();
    dirs.sort();
    dirs.pop().expect("a quarantine folder")
}

// ---- general ----

#[test]
fn rejects_invalid_utf8_naming_line_and_byte() {
    let mut bytes = dream_ok().into_bytes();
    let pos = bytes.iter().position(|b| *b == b'\n').unwrap() + 1 + 11; // line 2, the `koen` field
    bytes[pos] = 0xC6; // Latin-1 'Æ' is not UTF-8
    Case::new().dream(bytes, &[":2: not valid UTF-8 at byte offset"]);
}

#[test]
fn rejects_a_missing_column() {
    let t = dream_ok().replacen("herkomst;", "oprindelse;", 1);
    Case::new().dream(t, &[":1: missing column `herkomst`"]);
}

#[test]
fn rejects_a_row_with_the_wrong_number_of_fields() {
    let t = dream_ok().replacen(";3;350;", ";3;350;;", 1);
    Case::new().dream(t, &[":2: expected 20 fields (as in the header), found 21"]);
}

// ---- DREAM ----

#[test]
fn dream_rejects_a_missing_week_of_the_quarter() {
    let t = dream_ok().replacen("y_1852", "y_1901", 1);
    Case::new().dream(
        t,
        &[":1: quarter 2018Q4 needs every week column; missing `y_1852`"],
    );
}

#[test]
fn dream_rejects_a_cpr_that_is_not_ten_digits_without_printing_it() {
    let t = dream_ok().replacen(CPRS[1], "15038543", 1);
    Case::new().dream(
        t,
        &[":3:1: field `cpr`: invalid value (withheld: personal data)"],
    );
}

#[test]
fn dream_rejects_a_person_on_two_lines_naming_both() {
    let t = dream_ok().replacen(CPRS[2], CPRS[0], 1);
    Case::new().dream(
        t,
        &[":4:1: field `cpr`: the same CPR number (withheld) is on line 2 and line 4"],
    );
}

#[test]
fn dream_rejects_a_bad_sex() {
    let t = dream_ok().replacen(";K;1985", ";X;1985", 1);
    Case::new().dream(
        t,
        &[":3:12: field `koen`: invalid value \"X\": expected `M` or `K`"],
    );
}

#[test]
fn dream_rejects_a_bad_birth_date() {
    let t = dream_ok().replacen("1985-03-15", "15-03-1985", 1);
    Case::new().dream(
        t,
        &[":3:14: field `foedselsdato`: invalid value \"15-03-1985\""],
    );
}

#[test]
fn dream_rejects_an_origin_outside_1_to_5() {
    let t = dream_ok().replacen("1985-03-15;3;", "1985-03-15;7;", 1);
    Case::new().dream(
        t,
        &[":3:25: field `herkomst`: invalid value \"7\": expected an origin group 1..5"],
    );
}

#[test]
fn dream_rejects_an_unknown_municipality_code() {
    let t = dream_ok().replacen(";0316;", ";0999;", 1);
    Case::new().dream(t, &[":3:27: field `kommune`: invalid value \"0999\""]);
}

#[test]
fn dream_rejects_a_bad_programme_flag() {
    let t = dream_ok().replacen(";0316;1;", ";0316;ja;", 1);
    Case::new().dream(
        t,
        &[":3:32: field `integrationsprogram`: invalid value \"ja\": expected `1` or `0`"],
    );
}

#[test]
fn dream_rejects_a_bad_first_benefit_date() {
    let t = dream_ok().replacen("2016-05-02", "2016-13-02", 1);
    Case::new().dream(
        t,
        &[":3:34: field `foerste_integrationsydelse`: invalid value \"2016-13-02\""],
    );
}

#[test]
fn dream_rejects_a_code_that_is_not_three_digits() {
    let t = dream_ok().replacen(";130;", ";13;", 1);
    Case::new().dream(
        t,
        &[":3:45: field `y_1840`: invalid value \"13\": expected a 3-digit benefit code or empty"],
    );
}

#[test]
fn dream_rejects_codes_missing_from_the_mapping_listing_each() {
    let t = dream_ok()
        .replacen(";651;", ";555;", 1)
        .replacen(";651;", ";555;", 1)
        .replacen(";130;", ";444;", 1);
    Case::new().dream(
        t,
        &[
            "`444` (1 row, first at 3:45)",
            "`555` (1 row, first at 4:34)",
            "missing from the code mapping",
        ],
    );
}

#[test]
fn dream_accepts_unknown_codes_when_configured_as_other_benefit() {
    let ws = Workspace::with_config(|t| {
        t.replace(
            "unknown_codes = \"error\"",
            "unknown_codes = \"other_benefit\"",
        )
    });
    let path = ws.dir.path().join("d.csv");
    std::fs::write(&path, dream_ok().replacen(";651;", ";555;", 1)).unwrap();
    ws.ok(&[
        "ingest",
        "dream",
        path.to_str().unwrap(),
        "--period",
        "2018Q4",
    ]);
    assert_eq!(
        ws.count("select count(*) from dream_weeks where code = '555' and class = 'other_benefit'"),
        1
    );
}

#[test]
fn dream_rejects_a_file_with_no_rows() {
    let header = dream_ok().lines().next().unwrap().to_string() + "\n";
    Case::new().dream(header, &["no data rows"]);
}

// ---- Jobindsats ----

#[test]
fn jobindsats_rejects_an_unknown_area() {
    Case::new().jobindsats(
        |t| t.replacen("\"Lejre\"", "\"Lejrå\"", 1),
        &["field `area`: unknown area \"Lejrå\""],
    );
}

#[test]
fn jobindsats_rejects_a_value_that_is_no_number() {
    Case::new().jobindsats(
        |t| {
            // The count after the first "Modtagere i alt" becomes text.
            let at = t.find("\"Modtagere i alt\",\n").unwrap() + "\"Modtagere i alt\",\n".len();
            let end = at + t[at..].find('\n').unwrap();
            format!("{}        \"ca. 3\"{}", &t[..at], &t[end..])
        },
        &["field `antal_personer`: invalid value \"ca. 3\""],
    );
}

#[test]
fn jobindsats_rejects_a_period_not_asked_for() {
    Case::new().jobindsats(
        |t| t.replacen("\"2018Q4\"", "\"2018Q3\"", 1),
        &["field `period`: period \"2018Q3\" was not asked for"],
    );
}

#[test]
fn jobindsats_rejects_an_unknown_sex_label() {
    Case::new().jobindsats(
        |t| t.replacen("\"Kvinder\"", "\"Piger\"", 1),
        &["field `_kon`: unknown sex label \"Piger\""],
    );
}

#[test]
fn jobindsats_rejects_broken_json_with_line_and_column() {
    let stderr = Case::new().jobindsats(
        |t| t.replacen("\"Data\": [", "\"Data\": [,", 1),
        &["invalid JSON"],
    );
    assert!(stderr.contains("2018Q4.json:"), "{stderr}");
}

// ---- fagsystem ----

#[test]
fn fagsystem_rejects_an_unknown_employee() {
    let stderr = Case::new().fagsystem(
        "sager",
        |t| t.replacen(";L0", ";X9", 1),
        &[":2:", "field `medarbejder_id`"],
    );
    assert!(stderr.contains("exists in medarbejdere.csv"), "{stderr}");
}

#[test]
fn fagsystem_rejects_a_duplicate_id() {
    Case::new().fagsystem(
        "samtaler",
        |t| {
            let lines: Vec<&str> = t.lines().collect();
            let first_id = lines[1].split(';').next().unwrap().to_string();
            let third = lines[3].split_once(';').unwrap().1;
            let mut out: Vec<String> = lines.iter().map(|l| (*l).to_string()).collect();
            out[3] = format!("{first_id};{third}");
            out.join("\n") + "\n"
        },
        &[":4:1: field `samtale_id`", "unique"],
    );
}

fn edit_placement(t: &str, f: impl Fn(&mut Vec<String>)) -> String {
    let mut lines: Vec<String> = t.lines().map(str::to_string).collect();
    let mut fields: Vec<String> = lines[1].split(';').map(str::to_string).collect();
    f(&mut fields);
    lines[1] = fields.join(";");
    lines.join("\n") + "\n"
}

#[test]
fn fagsystem_rejects_a_start_before_the_referral() {
    Case::new().fagsystem(
        "placeringer",
        |t| edit_placement(&t, |f| f[6] = "2000-01-01".into()),
        &[":2:", "field `start`", "on or after `henvist`"],
    );
}

#[test]
fn fagsystem_rejects_an_end_before_the_start() {
    Case::new().fagsystem(
        "placeringer",
        |t| edit_placement(&t, |f| f[7] = "2000-01-02".into()),
        &[":2:", "field `slut`", "on or after `start`"],
    );
}

#[test]
fn fagsystem_rejects_a_date_in_another_format() {
    Case::new().fagsystem(
        "virksomhedsbesoeg",
        |t| {
            let mut lines: Vec<String> = t.lines().map(str::to_string).collect();
            let mut f: Vec<String> = lines[1].split(';').map(str::to_string).collect();
            let parts: Vec<&str> = f[3].split('-').collect();
            f[3] = format!("{}-{}-{}", parts[2], parts[1], parts[0]);
            lines[1] = f.join(";");
            lines.join("\n") + "\n"
        },
        &[":2:", "field `dato`", "expected a date YYYY-MM-DD"],
    );
}

#[test]
fn fagsystem_rejects_a_cvr_that_is_not_eight_digits() {
    Case::new().fagsystem(
        "virksomhedsbesoeg",
        |t| {
            let mut lines: Vec<String> = t.lines().map(str::to_string).collect();
            let mut f: Vec<String> = lines[1].split(';').map(str::to_string).collect();
            f[2] = "1234567".into();
            lines[1] = f.join(";");
            lines.join("\n") + "\n"
        },
        &[
            ":2:",
            "field `cvr`: invalid value \"1234567\": expected a CVR number of 8 digits",
        ],
    );
}

#[test]
fn fagsystem_rejects_an_unknown_role() {
    Case::new().fagsystem(
        "medarbejdere",
        |t| t.replacen(";leder", ";chef", 1),
        &["field `rolle`: invalid value \"chef\""],
    );
}

#[test]
fn fagsystem_rejects_an_unknown_offer() {
    Case::new().fagsystem(
        "placeringer",
        |t| edit_placement(&t, |f| f[4] = "Jobrotation".into()),
        &[":2:", "field `tilbud`: invalid value \"Jobrotation\""],
    );
}

#[test]
fn fagsystem_rejects_a_cpr_that_is_not_ten_digits() {
    Case::new().fagsystem(
        "sager",
        |t| {
            let mut lines: Vec<String> = t.lines().map(str::to_string).collect();
            let mut f: Vec<String> = lines[1].split(';').map(str::to_string).collect();
            f[1] = "12345".into();
            lines[1] = f.join(";");
            lines.join("\n") + "\n"
        },
        &[
            ":2:",
            "field `cpr`: invalid value (withheld: personal data)",
        ],
    );
}

// ---- input that is broken in the bytes, not in a rule ----

#[test]
fn rejects_a_zero_byte_file() {
    Case::new().dream(b"", &["empty file: no header line"]);
}

#[test]
fn rejects_a_truncated_last_line_naming_it() {
    let t = dream_ok();
    let cut = &t[..t.len() - 30]; // the download broke off inside line 4's week codes
    Case::new().dream(cut, &[":4: expected 20 fields (as in the header), found"]);
}

#[test]
fn rejects_a_100_mb_line_naming_it_without_reading_it_whole() {
    let huge = "M".repeat(100_000_000);
    let t = dream_ok().replacen(
        &format!("{};M;", CPRS[0]),
        &format!("{};{huge};", CPRS[0]),
        1,
    );
    let stderr = Case::new().dream(t, &[":2: unreadable CSV", "a line longer than 1 MiB"]);
    assert!(stderr.len() < 4_000, "{} bytes of error", stderr.len());
}

#[test]
fn a_long_field_under_the_line_limit_is_judged_by_its_rule() {
    let long = "M".repeat(500_000);
    let t = dream_ok().replacen(
        &format!("{};M;", CPRS[0]),
        &format!("{};{long};", CPRS[0]),
        1,
    );
    let stderr = Case::new().dream(t, &[":2:12: field `koen`: invalid value \"MMMM"]);
    assert!(stderr.len() < 4_000, "{} bytes of error", stderr.len());
}

#[test]
fn crlf_line_ends_land_the_same_bytes_as_lf() {
    let case = Case::new(); // has landed dream_ok() with LF line ends
    let raw = case.ws.lake().join("raw/dream");
    let lf = hash_tree(&raw);
    let path = case.ws.dir.path().join("dream_crlf.csv");
    std::fs::write(&path, dream_ok().replace('\n', "\r\n")).unwrap();
    let out = case.ws.ok(&[
        "ingest",
        "dream",
        path.to_str().unwrap(),
        "--period",
        "2018Q4",
    ]);
    assert!(out.contains("3 rows"), "{out}");
    assert_eq!(hash_tree(&raw), lf, "CRLF landed other bytes than LF");
}

#[test]
fn a_crlf_file_is_rejected_naming_the_right_line() {
    let t = dream_ok()
        .replacen(";K;1985-03-15;", ";X;1985-03-15;", 1)
        .replace('\n', "\r\n");
    Case::new().dream(t, &[":3:12: field `koen`"]);
}
