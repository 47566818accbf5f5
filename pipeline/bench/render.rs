//! The benchmark's hidden `render` step: one kind of report rendered in this process,
//! each PDF written as it is made, its time kept; the timings printed as JSON.

use std::fs;
use std::path::Path;

use anyhow::{Context, bail};
use maaltal::period::Period;

/// The hidden `render` step: renders in this process and prints timings as JSON.
pub(crate) fn step(kind: &str, config: &Path, period: Period, out: &Path) -> anyhow::Result<()> {
    let mut cfg = maaltal::config::load(Some(config)).map_err(|e| anyhow::anyhow!("{e}"))?;
    if let Some(lake) = std::env::var_os("MAALTAL_BENCH_LAKE") {
        cfg.override_lake(Path::new(&lake));
    }
    let date = maaltal::render::data_date(&cfg.lake.path).context("empty lake")?;
    let settings = maaltal::render::Settings::new(&cfg, date)?;
    fs::create_dir_all(out)?;
    // As `maaltal report` does: each PDF written as it is made, only its time kept.
    let mut ms: Vec<f64> = Vec::new();
    let mut keep = |r: maaltal::render::Rendered| -> anyhow::Result<()> {
        maaltal::render::write_one(out, &r, false)?;
        ms.push(r.elapsed.as_secs_f64() * 1000.0);
        Ok(())
    };
    match maaltal::render::Template::named(&cfg, kind) {
        Some(maaltal::render::Template::StaffBook(spec)) => {
            let books = maaltal::render::Books::load(&cfg, &spec, period, None, &settings)?;
            for r in books.each(&settings) {
                keep(r?)?;
            }
        }
        Some(t) => {
            for r in maaltal::render::make(&cfg, &t, period, &settings)? {
                keep(r)?;
            }
        }
        None => bail!("unknown report `{kind}`"),
    }
    ms.sort_by(f64::total_cmp);
    let at = |q: f64| ms[((ms.len() - 1) as f64 * q).round() as usize];
    println!(
        "{}",
        serde_json::json!({
            "reports": ms.len(),
            "median_ms": (at(0.5) * 10.0).round() / 10.0,
            "p90_ms": (at(0.9) * 10.0).round() / 10.0,
            "max_ms": (at(1.0) * 10.0).round() / 10.0,
        })
    );
    Ok(())
}
