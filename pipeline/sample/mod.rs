//! `maaltal sample-data`: deterministic synthetic extracts in exactly the formats of
//! the input contract, for the programme's 16 named municipalities and 20 outside
//! it. The figures follow the programme's annual report 2018: M1 about 10 % at the
//! baseline (2016Q4) rising to about 40 % in 2018Q4 with a wide spread (Lejre and
//! Brønderslev high, Faaborg-Midtfyn and Norddjurs low), M2 from about 55 % to 73 %,
//! M3 from about 33 % to 49 %.
//!
//! ```text
//! <out>/dream/dream_2016Q3.csv … dream_2018Q4.csv, dream_codes.csv
//! <out>/jobindsats/<TABLE>/metadata.json, <TABLE>/<PERIOD>.json
//! <out>/fagsystem/<kommune>/<YYYY-MM>/{medarbejdere,sager,samtaler,virksomhedsbesoeg,placeringer}.csv
//! <out>/jobpakker/jobpakker_2007Q1.csv … jobpakker_2010Q2.csv   (VIP2, sample scale)
//! ```
//!
//! `--scale national` writes the same formats for all 98 municipalities, about a
//! million persons a DREAM quarter and 5,000 employees, plus a `maaltal.toml` that
//! reads them (see [`national`]): the data the benchmarks run on.

pub mod comparison;
pub mod dream;
pub mod fagsystem;
pub mod jobindsats;
pub mod jobpakker;
pub mod national;
pub mod rng;
pub mod serve;

use std::path::Path;

use crate::period::Period;

/// Targets for one municipality, in per cent: (baseline, 2018Q4/2018M12).
#[derive(Debug, Clone, Copy)]
pub struct Profile {
    /// DST code.
    pub code: i32,
    /// Size of the M1 population at its height.
    pub population: u32,
    /// Self-supporting share.
    pub selv: (f64, f64),
    /// Ordinary education share.
    pub udd: (f64, f64),
    /// Job-ready share (M2).
    pub jobparat: (f64, f64),
    /// Company-oriented offers share (M3).
    pub virk: (f64, f64),
}

pub(crate) const fn pr(
    code: i32,
    population: u32,
    selv: (f64, f64),
    udd: (f64, f64),
    jobparat: (f64, f64),
    virk: (f64, f64),
) -> Profile {
    Profile {
        code,
        population,
        selv,
        udd,
        jobparat,
        virk,
    }
}

/// The periods the sample data covers, per source (the demo lands them all).
pub const PERIODS: [(&str, &str); 4] = [
    ("dream", "2016Q3..2018Q4"),
    ("jobindsats", "2016Q3..2018Q4"),
    ("jobindsats", "2016-12..2018-12"),
    ("fagsystem", "2017-01..2018-12"),
];

/// The periods of the other programmes' sample data: (programme, source, range).
pub const PROGRAMME_PERIODS: [(&str, &str, &str); 1] = [("vip2", "jobpakker", "2007Q1..2010Q2")];

/// The programme's municipalities and three outside it (more outside it in comparison.rs), with targets shaped after the
/// annual report's figures 1-6.
pub const PROFILES: &[Profile] = &[
    pr(
        217,
        160,
        (12.0, 30.0),
        (1.0, 14.0),
        (60.0, 75.0),
        (35.0, 55.0),
    ),
    pr(
        316,
        170,
        (8.0, 26.0),
        (1.0, 13.0),
        (50.0, 70.0),
        (30.0, 66.0),
    ),
    pr(
        350,
        45,
        (14.0, 43.0),
        (2.0, 14.0),
        (70.0, 79.0),
        (20.0, 59.0),
    ),
    pr(
        420,
        110,
        (10.0, 28.0),
        (1.0, 12.0),
        (55.0, 77.0),
        (40.0, 52.0),
    ),
    pr(
        430,
        120,
        (6.0, 18.0),
        (1.0, 11.0),
        (17.0, 92.0),
        (28.0, 40.0),
    ),
    pr(
        461,
        480,
        (7.0, 22.0),
        (2.0, 23.0),
        (52.0, 66.0),
        (30.0, 42.0),
    ),
    pr(
        479,
        140,
        (5.0, 15.0),
        (1.0, 21.0),
        (48.0, 72.0),
        (33.0, 45.0),
    ),
    pr(
        480,
        80,
        (9.0, 24.0),
        (0.0, 10.0),
        (80.0, 74.0),
        (31.0, 25.0),
    ),
    pr(
        540,
        190,
        (11.0, 31.0),
        (1.0, 15.0),
        (62.0, 78.0),
        (36.0, 50.0),
    ),
    pr(
        706,
        85,
        (8.0, 25.0),
        (1.0, 12.0),
        (45.0, 70.0),
        (32.0, 66.0),
    ),
    pr(
        707,
        100,
        (6.0, 19.0),
        (1.0, 11.0),
        (75.0, 68.0),
        (30.0, 44.0),
    ),
    pr(
        710,
        95,
        (9.0, 27.0),
        (1.0, 14.0),
        (65.0, 58.0),
        (45.0, 38.0),
    ),
    pr(
        730,
        260,
        (8.0, 24.0),
        (1.0, 13.0),
        (50.0, 64.0),
        (33.0, 46.0),
    ),
    pr(
        810,
        80,
        (12.0, 32.0),
        (3.0, 25.0),
        (78.0, 76.0),
        (38.0, 52.0),
    ),
    pr(
        820,
        95,
        (7.0, 22.0),
        (1.0, 12.0),
        (40.0, 71.0),
        (35.0, 48.0),
    ),
    pr(
        840,
        70,
        (10.0, 28.0),
        (1.0, 15.0),
        (72.0, 69.0),
        (34.0, 47.0),
    ),
    // Outside the programme, for comparison.
    pr(
        751,
        500,
        (9.0, 25.0),
        (2.0, 16.0),
        (55.0, 68.0),
        (30.0, 40.0),
    ),
    pr(
        259,
        140,
        (8.0, 22.0),
        (1.0, 12.0),
        (50.0, 63.0),
        (28.0, 38.0),
    ),
    pr(
        561,
        200,
        (8.0, 21.0),
        (1.0, 12.0),
        (52.0, 66.0),
        (29.0, 41.0),
    ),
];

/// Progress from the baseline (2016Q4 = 0) to 2018Q4 (= 1) for a period.
#[must_use]
pub fn progress(p: Period) -> f64 {
    let q = p.quarter();
    let Period::Quarter { year, quarter } = q else {
        return 0.0;
    };
    let idx = f64::from(year - 2016) * 4.0 + f64::from(quarter) - 4.0;
    let month_shift = match p {
        Period::Month { month, .. } => (f64::from((month - 1) % 3) - 2.0) / 3.0,
        Period::Quarter { .. } => 0.0,
    };
    (idx + month_shift) / 8.0
}

/// Linear interpolation of a (baseline, end) pair at progress `t`, kept in [0, 100].
#[must_use]
pub fn at(pair: (f64, f64), t: f64) -> f64 {
    (pair.0 + (pair.1 - pair.0) * t).clamp(0.0, 100.0)
}

/// What was written.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct Summary {
    /// Files written.
    pub files: usize,
    /// DREAM rows (persons × quarters).
    pub dream_rows: usize,
    /// Jobindsats data rows.
    pub jobindsats_rows: usize,
    /// Fagsystem rows over all files.
    pub fagsystem_rows: usize,
    /// Rows of the VIP2 job-package register over all quarters (sample scale only).
    pub jobpakker_rows: usize,
}

impl Summary {
    /// The rows written per source, for the person who asked.
    #[must_use]
    pub fn rows_text(&self) -> String {
        let vip2 = if self.jobpakker_rows > 0 {
            format!(", {} jobpakker rows (VIP2)", self.jobpakker_rows)
        } else {
            String::new()
        };
        format!(
            "{} DREAM rows, {} Jobindsats rows, {} fagsystem rows{vip2}",
            self.dream_rows, self.jobindsats_rows, self.fagsystem_rows
        )
    }
}

/// How much data to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// The programme's 16 municipalities and 20 others: about 5,000-7,000 persons a quarter,
    /// 2016Q3 to 2018Q4, case-system exports for Lejre and Holbæk.
    Sample,
    /// All 98 municipalities, 2016Q1 to 2018Q4: about `persons` persons in every DREAM
    /// quarter, case-system exports of 2018 for `employees` employees.
    National {
        /// Persons in a DREAM quarter.
        persons: usize,
        /// Employees over all case systems.
        employees: usize,
    },
}

/// Writes the whole data set of a scale under `out`.
pub fn generate(out: &Path, seed: u64, scale: Scale) -> std::io::Result<Summary> {
    let rng = rng::Rng::new(seed);
    let mut summary = Summary::default();
    let (profiles, quarters, persons, offices, months) = match scale {
        Scale::Sample => (
            PROFILES
                .iter()
                .chain(comparison::COMPARISON_PROFILES)
                .copied()
                .collect(),
            dream::quarters(),
            0,
            fagsystem::sample_offices(),
            Period::Month {
                year: 2017,
                month: 1,
            }
            .through(Period::Month {
                year: 2018,
                month: 12,
            }),
        ),
        Scale::National { persons, employees } => (
            national::profiles(&rng.fork(5)),
            national::quarters(),
            persons,
            national::offices(employees),
            national::months(),
        ),
    };
    let people = dream::population(&rng.fork(1), &profiles, persons);
    dream::write(
        out,
        &people,
        &rng.fork(2),
        &mut summary,
        &quarters,
        &profiles,
    )?;
    jobindsats::write(out, &rng.fork(3), &mut summary, &profiles, &quarters)?;
    fagsystem::write(out, &people, &rng.fork(4), &mut summary, &offices, &months)?;
    if scale == Scale::Sample {
        summary.jobpakker_rows = jobpakker::write(out, &rng.fork(6), &mut summary)?;
    }
    if let Scale::National { .. } = scale {
        write_file(
            &out.join("maaltal.toml"),
            &national::config(&profiles, &offices),
            &mut summary,
        )?;
    }
    Ok(summary)
}

/// A text file written in pieces: build a piece with `write!`/`push_str`, then
/// [`FileWriter::flush_if_full`] hands full buffers to the file.
pub(crate) struct FileWriter {
    buf: String,
    file: std::io::BufWriter<std::fs::File>,
}

impl FileWriter {
    /// Creates the file and its folder.
    pub(crate) fn create(path: &Path) -> std::io::Result<Self> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        Ok(Self {
            buf: String::with_capacity(1 << 20),
            file: std::io::BufWriter::new(std::fs::File::create(path)?),
        })
    }

    /// Writes the buffer out once it holds a megabyte.
    pub(crate) fn flush_if_full(&mut self) -> std::io::Result<()> {
        if self.buf.len() >= 1 << 20 {
            std::io::Write::write_all(&mut self.file, self.buf.as_bytes())?;
            self.buf.clear();
        }
        Ok(())
    }

    /// Writes the rest and closes the file.
    pub(crate) fn finish(mut self, summary: &mut Summary) -> std::io::Result<()> {
        std::io::Write::write_all(&mut self.file, self.buf.as_bytes())?;
        std::io::Write::flush(&mut self.file)?;
        summary.files += 1;
        Ok(())
    }
}

impl std::ops::Deref for FileWriter {
    type Target = String;
    fn deref(&self) -> &String {
        &self.buf
    }
}

impl std::ops::DerefMut for FileWriter {
    fn deref_mut(&mut self) -> &mut String {
        &mut self.buf
    }
}

/// Writes a file, creating its folder.
pub(crate) fn write_file(path: &Path, text: &str, summary: &mut Summary) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, text)?;
    summary.files += 1;
    Ok(())
}
