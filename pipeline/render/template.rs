//! A programme's report, by the shape that fills it: what `send`, `report`, a job's
//! step and the delivery ledger name.

use std::sync::Arc;

use crate::config::reports::{ReportSpec, Shape};

/// A report of the programme's (`[[reports.report]]`), by the shape that fills it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Template {
    /// A quarterly status report per programme municipality.
    Quarterly(Arc<ReportSpec>),
    /// The programme's municipalities side by side, for the secretariat.
    Overview(Arc<ReportSpec>),
    /// A monthly staff book per recipient.
    StaffBook(Arc<ReportSpec>),
    /// A template that gets the rows of the marts it names (made by [`super::custom`]).
    Custom(Arc<ReportSpec>),
}

impl serde::Serialize for Template {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl Template {
    /// The report `spec` describes.
    #[must_use]
    pub fn new(spec: Arc<ReportSpec>) -> Self {
        match spec.shape {
            Shape::Quarterly => Self::Quarterly(spec),
            Shape::Overview => Self::Overview(spec),
            Shape::StaffBook => Self::StaffBook(spec),
            Shape::Marts => Self::Custom(spec),
        }
    }

    /// The reports a config makes, in its order.
    #[must_use]
    pub fn all(config: &crate::config::Config) -> Vec<Self> {
        config
            .reports
            .reports
            .iter()
            .cloned()
            .map(Self::new)
            .collect()
    }

    /// The report of a config named `name`.
    #[must_use]
    pub fn named(config: &crate::config::Config, name: &str) -> Option<Self> {
        Self::all(config).into_iter().find(|t| t.name() == name)
    }

    /// The config's first report of `shape`.
    #[must_use]
    pub fn of(config: &crate::config::Config, shape: Shape) -> Option<Self> {
        Self::all(config)
            .into_iter()
            .find(|t| t.spec().shape == shape)
    }

    /// What the config says of it.
    #[must_use]
    pub fn spec(&self) -> &Arc<ReportSpec> {
        match self {
            Self::Quarterly(s) | Self::Overview(s) | Self::StaffBook(s) | Self::Custom(s) => s,
        }
    }

    /// The template's file in the programme's templates.
    #[must_use]
    pub fn template_file(&self) -> &str {
        &self.spec().template
    }

    /// Its sample data.
    #[must_use]
    pub fn sample(&self) -> String {
        self.spec().sample()
    }

    /// The report's name in the delivery ledger and in logs.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.spec().name
    }

    /// Made for a quarter (else for a month).
    #[must_use]
    pub fn quarterly(&self) -> bool {
        !matches!(self, Self::StaffBook(_))
    }
}
