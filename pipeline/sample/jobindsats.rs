//! Sample Jobindsats v2 answers: the visitation-category table (monthly, 2016M12 to
//! 2018M12) and the company-oriented offers table (quarterly, 2016Q3 to 2018Q4), by
//! sex, with small counts suppressed as `".."` the way Jobindsats does.

use std::path::Path;

use serde_json::{Value, json};

use super::rng::Rng;
use super::{Profile, Summary, at, progress, write_file};
use crate::municipality;
use crate::period::Period;

/// Table id of the visitation table in the sample (placeholder, as in the default config).
pub const VISITATION: &str = "Y60V02";
/// Table id of the offers table in the sample.
pub const OFFERS: &str = "Y60A05";

const SEXES: &[&str] = &["Mænd", "Kvinder"];

/// The area name a sample uses for a code (the short Jobindsats spellings for two).
fn area_name(code: i32) -> String {
    match code {
        480 => "Nordfyn".into(),
        820 => "Vesthimmerland".into(),
        c => municipality::name(c).unwrap_or("?").to_string(),
    }
}

fn count(v: i64) -> Value {
    if (1..=2).contains(&v) {
        json!("..")
    } else {
        json!(v)
    }
}

fn metadata(
    profiles: &[Profile],
    table: &str,
    name: &str,
    periods: &[String],
    dim: (&str, &str, &[&str]),
    measures: &[(&str, &str)],
) -> Value {
    let mut areas: Vec<String> = profiles.iter().map(|p| area_name(p.code)).collect();
    areas.push("Hele landet".into());
    json!([{
        "TableID": table,
        "TableName": name,
        "Period": periods,
        "Area": areas,
        "Measurements": measures.iter().map(|(id, label)| json!({"MeasurementID": id, "MeasurementName": label})).collect::<Vec<_>>(),
        "Dimensions": [
            {"DimensionID": "_kon", "DimensionName": "Køn", "Values": ["I alt", "Mænd", "Kvinder"]},
            {"DimensionID": dim.0, "DimensionName": dim.1, "Values": dim.2},
        ],
    }])
}

fn pct(v: i64, n: i64) -> String {
    if n > 0 {
        format!("{:.1}", 100.0 * v as f64 / n as f64).replace('.', ",")
    } else {
        "-".into()
    }
}

/// Recipients of integrationsydelse in the programme for a municipality and period.
fn recipients(rng: &mut Rng, population: u32, p: Period) -> (i64, i64) {
    let t = progress(p);
    // The group grows into 2017 and shrinks as people move on.
    let size =
        f64::from(population) * (0.95 + 0.25 * (1.0 - (t - 0.3).abs())) * (0.97 + 0.06 * rng.f64());
    let total = size.round() as i64;
    let men = (total as f64 * 0.6).round() as i64;
    (men, total - men)
}

/// Writes both tables for the municipalities of `profiles`, monthly from 2016M12 and
/// for `quarters`.
pub fn write(
    out: &Path,
    rng: &Rng,
    summary: &mut Summary,
    profiles: &[Profile],
    quarters: &[Period],
) -> std::io::Result<()> {
    let mut rng = rng.clone();
    let dir = out.join("jobindsats");
    let months = Period::Month {
        year: 2016,
        month: 12,
    }
    .through(Period::Month {
        year: 2018,
        month: 12,
    });

    // Visitation categories (M2).
    let codes: Vec<String> = months.iter().map(|p| p.jobindsats_code()).collect();
    let cats = ["Jobparat", "Aktivitetsparat", "Uoplyst visitationskategori"];
    let meta = metadata(
        profiles,
        VISITATION,
        "Integrationsydelse, omfattet af integrationsprogrammet: personer efter visitationskategori",
        &codes,
        ("_visitation", "Visitationskategori", &cats),
        &[
            ("antal_personer", "Antal personer"),
            ("andel_pct", "Andel (pct.)"),
        ],
    );
    write_file(
        &dir.join(VISITATION).join("metadata.json"),
        &serde_json::to_string_pretty(&meta).unwrap_or_default(),
        summary,
    )?;
    for p in &months {
        let mut rows = Vec::new();
        let mut national = [[0i64; 3]; 2];
        for profile in profiles {
            let (men, women) = recipients(&mut rng, profile.population, *p);
            let share = at(profile.jobparat, progress(*p)) / 100.0;
            let mut all = [0i64; 3];
            for (si, (sex, n)) in SEXES.iter().zip([men, women]).enumerate() {
                let s = (share * if si == 0 { 1.06 } else { 0.91 }).min(0.98);
                let u = (n as f64 * 0.04 * rng.f64()).round() as i64;
                // Small "Uoplyst" groups are rare in practice; keep suppression for the offers table.
                let uoplyst = if u < 3 { 0 } else { u };
                let jobparat = ((n - uoplyst) as f64 * s).round() as i64;
                let aktivitetsparat = n - uoplyst - jobparat;
                for (ci, v) in [jobparat, aktivitetsparat, uoplyst].into_iter().enumerate() {
                    national[si][ci] += v;
                    all[ci] += v;
                    rows.push(json!([
                        area_name(profile.code),
                        p.jobindsats_code(),
                        sex,
                        cats[ci],
                        count(v),
                        pct(v, n)
                    ]));
                }
            }
            let n: i64 = all.iter().sum();
            for (ci, v) in all.into_iter().enumerate() {
                rows.push(json!([
                    area_name(profile.code),
                    p.jobindsats_code(),
                    "I alt",
                    cats[ci],
                    count(v),
                    pct(v, n)
                ]));
            }
        }
        for (si, sex) in SEXES.iter().enumerate() {
            for (ci, cat) in cats.iter().enumerate() {
                rows.push(json!([
                    "Hele landet",
                    p.jobindsats_code(),
                    sex,
                    cat,
                    national[si][ci],
                    "-"
                ]));
            }
        }
        summary.jobindsats_rows += rows.len();
        let data = json!([{
            "TableID": VISITATION,
            "Variables": [
                {"Name": "area", "Label": "Område"}, {"Name": "period", "Label": "Periode"},
                {"Name": "_kon", "Label": "Køn"}, {"Name": "_visitation", "Label": "Visitationskategori"},
                {"Name": "antal_personer", "Label": "Antal personer"}, {"Name": "andel_pct", "Label": "Andel (pct.)"},
            ],
            "Data": rows,
        }]);
        write_file(
            &dir.join(VISITATION)
                .join(format!("{}.json", p.jobindsats_code())),
            &data.to_string(),
            summary,
        )?;
    }

    // Company-oriented offers (M3).
    let codes: Vec<String> = quarters.iter().map(|p| p.jobindsats_code()).collect();
    let offers = [
        "Ansættelse med løntilskud i alt",
        "Virksomhedspraktik i alt",
        "Nytteindsats i alt",
        "Modtagere i alt",
    ];
    let meta = metadata(
        profiles,
        OFFERS,
        "Integrationsydelse, omfattet af integrationsprogrammet: personer i virksomhedsrettede tilbud",
        &codes,
        ("_tilbud", "Tilbud", &offers),
        &[("antal_personer", "Antal personer")],
    );
    write_file(
        &dir.join(OFFERS).join("metadata.json"),
        &serde_json::to_string_pretty(&meta).unwrap_or_default(),
        summary,
    )?;
    for q in quarters {
        let mut rows = Vec::new();
        for profile in profiles {
            let (men, women) = recipients(&mut rng, profile.population, *q);
            let share = at(profile.virk, progress(*q)) / 100.0;
            let mut all = [0i64; 4];
            for (si, (sex, n)) in SEXES.iter().zip([men, women]).enumerate() {
                let s = share * if si == 0 { 1.1 } else { 0.85 };
                let in_offer = (n as f64 * s).round() as i64;
                let loen = (in_offer as f64 * (0.15 + 0.1 * rng.f64())).round() as i64;
                let nytte = (in_offer as f64 * (0.1 + 0.1 * rng.f64())).round() as i64;
                let praktik = in_offer - loen - nytte;
                for (oi, v) in [loen, praktik, nytte, n].into_iter().enumerate() {
                    all[oi] += v;
                    rows.push(json!([
                        area_name(profile.code),
                        q.jobindsats_code(),
                        sex,
                        offers[oi],
                        count(v)
                    ]));
                }
            }
            for (oi, v) in all.into_iter().enumerate() {
                rows.push(json!([
                    area_name(profile.code),
                    q.jobindsats_code(),
                    "I alt",
                    offers[oi],
                    count(v)
                ]));
            }
        }
        summary.jobindsats_rows += rows.len();
        let data = json!([{
            "TableID": OFFERS,
            "Variables": [
                {"Name": "area", "Label": "Område"}, {"Name": "period", "Label": "Periode"},
                {"Name": "_kon", "Label": "Køn"}, {"Name": "_tilbud", "Label": "Tilbud"},
                {"Name": "antal_personer", "Label": "Antal personer"},
            ],
            "Data": rows,
        }]);
        write_file(
            &dir.join(OFFERS)
                .join(format!("{}.json", q.jobindsats_code())),
            &data.to_string(),
            summary,
        )?;
    }
    Ok(())
}
