//! Progress of a long step (pull and land, transform, render, send) for the person who
//! runs a command.
//!
//! ```text
//!  stage code ──advance(1)──► the current step ──► a bar on stderr (a terminal)
//!                                               └► nothing until the step ends
//!  Step::finish ─────────────────────────────────► one plain line on stdout
//! ```
//! The stages only say "one more item done" ([`advance`]); whether that shows as a bar
//! is the command line's choice. Without a step (the daemon, the library in tests) an
//! advance does nothing. Log lines go through [`suspend`] so they never tear a bar.

use std::io::Write as _;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// The bar of the step under way, if any.
static CURRENT: Mutex<Option<ProgressBar>> = Mutex::new(None);

fn current() -> Option<ProgressBar> {
    CURRENT.lock().ok().and_then(|c| c.clone())
}

/// One more item of the current step is done (a no-op without a step).
pub fn advance(items: u64) {
    if let Some(bar) = current() {
        bar.inc(items);
    }
}

/// Runs `f` with the current bar hidden (for writing a log line beside it).
pub fn suspend<R>(f: impl FnOnce() -> R) -> R {
    match current() {
        Some(bar) => bar.suspend(f),
        None => f(),
    }
}

/// A step under way: drawn as a bar while it runs if stderr is a terminal, and ended
/// with one line on stdout.
pub struct Step {
    label: &'static str,
    bar: ProgressBar,
    started: Instant,
}

impl Step {
    /// Starts a step of `total` items (`None`: not known, a spinner).
    #[must_use]
    pub fn start(label: &'static str, total: Option<u64>) -> Self {
        let target = ProgressDrawTarget::stderr();
        let bar = match total {
            Some(n) => ProgressBar::with_draw_target(Some(n), target),
            None => ProgressBar::with_draw_target(None, target),
        };
        let template = if total.is_some() {
            "{prefix:<12} [{bar:30}] {pos}/{len}  {elapsed}"
        } else {
            "{prefix:<12} {spinner} {pos} done  {elapsed}"
        };
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_prefix(label);
        bar.enable_steady_tick(Duration::from_millis(200));
        if let Ok(mut c) = CURRENT.lock() {
            *c = Some(bar.clone());
        }
        Self {
            label,
            bar,
            started: Instant::now(),
        }
    }

    /// Ends the step: the bar goes, `summary` stays as one line on stdout.
    pub fn finish(self, summary: &str) {
        let secs = self.started.elapsed().as_secs_f64();
        self.bar.finish_and_clear();
        if let Ok(mut c) = CURRENT.lock() {
            *c = None;
        }
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "  {:<12} {summary} ({secs:.1} s)", self.label);
    }
}

impl Drop for Step {
    fn drop(&mut self) {
        // A step that failed leaves no bar behind.
        if !self.bar.is_finished() {
            self.bar.finish_and_clear();
            if let Ok(mut c) = CURRENT.lock() {
                *c = None;
            }
        }
    }
}

/// A `tracing` writer to stderr that hides the bar while a line is written.
#[derive(Clone, Copy, Default)]
pub struct LogWriter;

impl std::io::Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        suspend(|| std::io::stderr().lock().write_all(buf))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogWriter {
    type Writer = Self;

    fn make_writer(&'a self) -> Self::Writer {
        *self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advance_without_a_step_does_nothing_and_a_step_counts() {
        advance(3);
        let step = Step::start("test", Some(10));
        advance(2);
        advance(1);
        assert_eq!(step.bar.position(), 3);
        step.finish("done");
        assert!(current().is_none());
        advance(1);
    }
}
