//! The marts' SQL files (embedded) and the schemas each mart is checked against.

use crate::land::{ColumnSpec, Kind};

/// `queries/target_metrics.sql`.
pub const TARGET_METRICS_SQL: &str = include_str!("../../queries/target_metrics.sql");
/// `queries/metric_comparison.sql`.
pub const METRIC_COMPARISON_SQL: &str = include_str!("../../queries/metric_comparison.sql");
/// `queries/population_cells.sql`.
pub const POPULATION_CELLS_SQL: &str = include_str!("../../queries/population_cells.sql");
/// `queries/peer_comparison_members.sql`.
pub const PEER_COMPARISON_MEMBERS_SQL: &str =
    include_str!("../../queries/peer_comparison_members.sql");
/// `queries/peer_comparison.sql`.
pub const PEER_COMPARISON_SQL: &str = include_str!("../../queries/peer_comparison.sql");
/// `queries/maanedsbog.sql`.
pub const MAANEDSBOG_SQL: &str = include_str!("../../queries/maanedsbog.sql");
/// `queries/maanedsbog_afdeling.sql`.
pub const MAANEDSBOG_AFDELING_SQL: &str = include_str!("../../queries/maanedsbog_afdeling.sql");
/// `queries/maanedsbog_visibility.sql`.
pub const MAANEDSBOG_VISIBILITY_SQL: &str = include_str!("../../queries/maanedsbog_visibility.sql");
/// `queries/project_average.sql`.
pub const PROJECT_AVERAGE_SQL: &str = include_str!("../../queries/project_average.sql");

/// Schema of the `target_metrics` mart (spec: lake.md).
pub const TARGET_METRICS: &[ColumnSpec] = &[
    ("program", Kind::Text, false),
    ("municipality_code", Kind::Int32, false),
    ("municipality", Kind::Text, false),
    ("metric", Kind::Text, false),
    ("period", Kind::Text, false),
    ("sex", Kind::Text, false),
    ("numerator", Kind::Int64, true),
    ("denominator", Kind::Int64, true),
    ("share", Kind::Float64, true),
];

/// Schema of the `project_average` mart.
pub const PROJECT_AVERAGE: &[ColumnSpec] = &[
    ("program", Kind::Text, false),
    ("metric", Kind::Text, false),
    ("period", Kind::Text, false),
    ("sex", Kind::Text, false),
    ("share", Kind::Float64, true),
    ("method", Kind::Text, false),
    ("municipalities", Kind::Int32, false),
];

/// Schema of the `metric_comparison` mart: what the reports print.
pub const METRIC_COMPARISON: &[ColumnSpec] = &[
    ("program", Kind::Text, false),
    ("municipality_code", Kind::Int32, false),
    ("municipality", Kind::Text, false),
    ("metric", Kind::Text, false),
    ("period", Kind::Text, false),
    ("sex", Kind::Text, false),
    ("share", Kind::Float64, true),
    ("baseline_period", Kind::Text, false),
    ("baseline_share", Kind::Float64, true),
    ("change_pp", Kind::Float64, true),
    ("project_average", Kind::Float64, true),
    ("project_average_baseline", Kind::Float64, true),
    ("rank", Kind::Int32, true),
    ("ranked_municipalities", Kind::Int32, false),
    ("lowest_share", Kind::Float64, true),
    ("lowest_municipality", Kind::Text, true),
    ("highest_share", Kind::Float64, true),
    ("highest_municipality", Kind::Text, true),
];

/// Schema of the `population_cells` mart: M1's population per cell of the expected level.
pub const POPULATION_CELLS: &[ColumnSpec] = &[
    ("program", Kind::Text, false),
    ("municipality_code", Kind::Int32, false),
    ("metric", Kind::Text, false),
    ("period", Kind::Text, false),
    ("sex", Kind::Text, false),
    ("age_band", Kind::Text, false),
    ("months_band", Kind::Text, false),
    ("persons", Kind::Int64, false),
    ("meeting", Kind::Int64, false),
];

/// Schema of the `peer_comparison_members` mart: what each comparison value rests on.
pub const PEER_COMPARISON_MEMBERS: &[ColumnSpec] = &[
    ("program", Kind::Text, false),
    ("comparison_group", Kind::Text, false),
    ("municipality_code", Kind::Int32, false),
    ("member_code", Kind::Int32, false),
    ("member", Kind::Text, false),
    ("metric", Kind::Text, false),
    ("period", Kind::Text, false),
    ("sex", Kind::Text, false),
    ("role", Kind::Text, false),
    ("contributes", Kind::Bool, false),
    ("reason", Kind::Text, true),
];

/// Schema of the `peer_comparison` mart (../shared/spec/comparison.md §3.4).
pub const PEER_COMPARISON: &[ColumnSpec] = &[
    ("program", Kind::Text, false),
    ("municipality_code", Kind::Int32, false),
    ("municipality", Kind::Text, false),
    ("metric", Kind::Text, false),
    ("period", Kind::Text, false),
    ("sex", Kind::Text, false),
    ("share", Kind::Float64, true),
    ("comparison_group", Kind::Text, true),
    ("group_label", Kind::Text, true),
    ("group_members", Kind::Int32, true),
    ("group_municipalities", Kind::Int32, false),
    ("group_share", Kind::Float64, true),
    ("group_method", Kind::Text, true),
    ("difference_pp", Kind::Float64, true),
    ("group_rank", Kind::Int32, true),
    ("baseline_period", Kind::Text, false),
    ("change_pp", Kind::Float64, true),
    ("panel_municipalities", Kind::Int32, false),
    ("panel_share_baseline", Kind::Float64, true),
    ("panel_share", Kind::Float64, true),
    ("group_change_pp", Kind::Float64, true),
    ("difference_change_pp", Kind::Float64, true),
    ("expected_share", Kind::Float64, true),
    ("expected_difference_pp", Kind::Float64, true),
    ("reference_persons", Kind::Int64, true),
];

/// The six figures of the månedsbog, per employee or department.
const FIGURES: [ColumnSpec; 6] = [
    ("aktive_sager", Kind::Int64, false),
    ("aktiverede", Kind::Int64, false),
    ("samtaler", Kind::Int64, false),
    ("virksomhedsbesoeg_6_mdr", Kind::Int64, false),
    ("afsluttede_placeringer", Kind::Int64, false),
    ("gns_ventetid_dage", Kind::Float64, true),
];

/// Schema of the `maanedsbog` mart.
pub const MAANEDSBOG: &[ColumnSpec] = &[
    ("kommune", Kind::Int32, false),
    ("month", Kind::Text, false),
    ("medarbejder_id", Kind::Text, false),
    ("navn", Kind::Text, false),
    ("afdeling", Kind::Text, false),
    ("rolle", Kind::Text, false),
    FIGURES[0],
    FIGURES[1],
    FIGURES[2],
    FIGURES[3],
    FIGURES[4],
    FIGURES[5],
];

/// Schema of the `maanedsbog_afdeling` mart.
pub const MAANEDSBOG_AFDELING: &[ColumnSpec] = &[
    ("kommune", Kind::Int32, false),
    ("month", Kind::Text, false),
    ("afdeling", Kind::Text, false),
    FIGURES[0],
    FIGURES[1],
    FIGURES[2],
    FIGURES[3],
    FIGURES[4],
    FIGURES[5],
];

/// Schema of the `maanedsbog_visibility` mart.
pub const MAANEDSBOG_VISIBILITY: &[ColumnSpec] = &[
    ("kommune", Kind::Int32, false),
    ("month", Kind::Text, false),
    ("recipient_email", Kind::Text, false),
    ("recipient_id", Kind::Text, false),
    ("recipient_navn", Kind::Text, false),
    ("recipient_rolle", Kind::Text, false),
    ("afdeling", Kind::Text, false),
];
