//! The status page: one server-rendered HTML page, no JavaScript. Every value from data
//! or config goes through [`esc`].

use std::collections::BTreeSet;
use std::fmt::Write as _;

use super::{Run, Status};

/// HTML-escapes text for element content and quoted attribute values.
#[must_use]
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:sans-serif;margin:1.5em;color:#222}\
table{border-collapse:collapse;margin:.5em 0 1.5em}\
td,th{border:1px solid #ccc;padding:.25em .5em;text-align:left;font-size:14px}\
th{background:#f2f2f2}.landed,.done{background:#dff0d8}.revised{background:#d9edf7}\
.unchanged{background:#f5f5f5}.waiting{background:#fcf8e3}\
.late,.quarantined,.failed{background:#f2dede}small{color:#555}";

fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<title>{}</title><style>{STYLE}</style></head><body>{body}</body></html>\n",
        esc(title)
    )
}

fn run_cell(r: Option<&Run>) -> String {
    r.map_or("never run".to_string(), |r| {
        format!(
            "<span class=\"{}\">{} {}</span> {} ({:.1} s)",
            esc(&r.state),
            esc(&r.period),
            esc(&r.state),
            esc(&r.started_at),
            r.seconds
        )
    })
}

/// The forms of the actions, when a token is configured.
fn action(path: &str, job: &str, period: &str, label: &str) -> String {
    format!(
        "<form method=\"post\" action=\"{path}\" style=\"display:inline\">\
<input type=\"hidden\" name=\"job\" value=\"{}\"><input type=\"hidden\" name=\"period\" value=\"{}\">\
<input type=\"password\" name=\"token\" placeholder=\"token\" size=\"8\">\
<button>{}</button></form>",
        esc(job),
        esc(period),
        esc(label)
    )
}

/// `GET /`.
#[must_use]
pub fn index(s: &Status, actions: bool) -> String {
    let mut b = String::new();
    let _ = write!(
        b,
        "<h1>maaltal: {}</h1><p><small>as of {} · {} in the lake · \
<a href=\"/metrics\">metrics</a>{}</small></p>",
        esc(&s.programme),
        esc(&s.at),
        esc(&format!("{:.1} MB", s.lake_bytes as f64 / 1e6)),
        if actions {
            ""
        } else {
            " · read-only (no action token configured)"
        }
    );

    b.push_str("<h2 id=\"jobs\">Jobs</h2><table><tr><th>job</th><th>steps</th><th>schedule</th><th>last run</th><th>next run</th><th>due</th><th></th></tr>");
    for j in &s.jobs {
        let rerun = match (&j.last, actions) {
            (Some(r), true) => action("/actions/rerun", &j.name, &r.period, "re-run"),
            _ => String::new(),
        };
        let _ = write!(
            b,
            "<tr><td><a href=\"/jobs/{0}\">{0}</a></td><td>{1}</td><td><code>{2}</code></td><td>{3}</td><td>{4}</td><td>{5}</td><td>{rerun}</td></tr>",
            esc(&j.name),
            esc(&j.steps),
            esc(&j.schedule),
            run_cell(j.last.as_ref()),
            esc(j.next.as_deref().unwrap_or("never")),
            esc(&j.due.join(", "))
        );
    }
    b.push_str("</table>");

    b.push_str("<h2 id=\"extracts\">Extracts</h2>");
    let sources: BTreeSet<&str> = s.sources.iter().map(|c| c.source.as_str()).collect();
    for source in sources {
        let _ = write!(b, "<h3>{}</h3><table><tr>", esc(source));
        let cells: Vec<_> = s.sources.iter().filter(|c| c.source == source).collect();
        for c in &cells {
            let _ = write!(b, "<th>{}</th>", esc(&c.period));
        }
        b.push_str("</tr><tr>");
        for c in &cells {
            let _ = write!(
                b,
                "<td class=\"{0}\" title=\"{1} rows\">{0}</td>",
                esc(&c.state),
                c.rows
            );
        }
        b.push_str("</tr></table>");
        for c in cells.iter().filter(|c| c.reason.is_some()) {
            let _ = write!(
                b,
                "<p class=\"quarantined\">{} {}: {}</p>",
                esc(&c.source),
                esc(&c.period),
                esc(c.reason.as_deref().unwrap_or_default())
            );
        }
    }

    b.push_str(
        "<h2 id=\"marts\">Marts</h2><table><tr><th>mart</th><th>rows</th><th>periods</th></tr>",
    );
    for m in &s.marts {
        let periods = match (m.periods.first(), m.periods.last()) {
            (Some(a), Some(z)) if a != z => format!("{a} … {z} ({})", m.periods.len()),
            (Some(a), _) => a.clone(),
            _ => String::new(),
        };
        let _ = write!(
            b,
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&m.name),
            m.rows,
            esc(&periods)
        );
    }
    b.push_str("</table>");

    b.push_str("<h2 id=\"deliveries\">Reports and mails</h2><table><tr><th>report</th><th>period</th><th>version</th><th>sent</th><th>pending</th><th>failed</th></tr>");
    for d in &s.deliveries {
        let version = if d.versions > 1 {
            format!("{} (Opdateret version)", d.versions)
        } else {
            d.versions.to_string()
        };
        let mut failed = String::new();
        for (who, why) in &d.failed {
            let _ = write!(failed, "<div>{}: {}</div>", esc(who), esc(why));
        }
        // The job that mails this report can send the failed ones again.
        if let (true, false, Some(j)) = (
            actions,
            d.failed.is_empty(),
            s.jobs.iter().find(|j| j.sends.contains(&d.report)),
        ) {
            failed.push_str(&action(
                "/actions/resend",
                &j.name,
                &d.period,
                "resend failed",
            ));
        }
        let _ = write!(
            b,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"{}\">{}{failed}</td></tr>",
            esc(&d.report),
            esc(&d.period),
            esc(&version),
            d.sent,
            d.pending,
            if d.failed.is_empty() { "" } else { "failed" },
            d.failed.len()
        );
    }
    b.push_str("</table>");
    page(&format!("maaltal: {}", s.programme), &b)
}

/// `GET /jobs/<name>`: the job's run history, newest first.
#[must_use]
pub fn job(s: &Status, name: &str) -> Option<String> {
    let job = s.jobs.iter().find(|j| j.name == name)?;
    let mut b = String::new();
    let _ = write!(
        b,
        "<p><a href=\"/\">← status</a></p><h1>{} <small>{}</small></h1>\
<table><tr><th>period</th><th>state</th><th>started</th><th>finished</th><th>seconds</th><th>message</th></tr>",
        esc(&job.name),
        esc(&job.schedule)
    );
    for r in s.runs.iter().rev().filter(|r| r.job == name) {
        let _ = write!(
            b,
            "<tr><td>{0}</td><td class=\"{1}\">{1}</td><td>{2}</td><td>{3}</td><td>{4:.1}</td><td>{5}</td></tr>",
            esc(&r.period),
            esc(&r.state),
            esc(&r.started_at),
            esc(&r.finished_at),
            r.seconds,
            esc(r.message.as_deref().unwrap_or_default())
        );
    }
    b.push_str("</table>");
    Some(page(&format!("maaltal: {name}"), &b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_values_is_escaped() {
        assert_eq!(
            esc("<script>alert('x')</script> & \"y\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;y&quot;"
        );
    }
}
