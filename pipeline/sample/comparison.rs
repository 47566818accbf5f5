//! The sample's municipalities outside the programme, beside Aarhus, Køge and Esbjerg:
//! three or four per region, so that every placeholder comparison group of the
//! embedded config (`[comparison.groups]`) has enough members for a group value and the
//! expected level has reference persons in every cell. Their figures are drawn from
//! the ranges of the programme's, a little lower at the start: the programme's
//! municipalities were chosen among those with the weakest results (comparison.md §1).

use super::{Profile, pr};

/// Comparison municipalities (name in the comment), appended to [`super::PROFILES`].
pub const COMPARISON_PROFILES: &[Profile] = &[
    // Hillerød
    pr(
        219,
        98,
        (14.0, 22.0),
        (2.0, 12.0),
        (55.0, 75.0),
        (38.0, 40.0),
    ),
    // Frederikssund
    pr(
        250,
        59,
        (8.0, 21.0),
        (2.0, 14.0),
        (58.0, 74.0),
        (33.0, 46.0),
    ),
    // Gribskov
    pr(
        270,
        96,
        (9.0, 26.0),
        (1.0, 10.0),
        (56.0, 62.0),
        (36.0, 44.0),
    ),
    // Fredensborg
    pr(
        210,
        71,
        (10.0, 26.0),
        (1.0, 9.0),
        (59.0, 71.0),
        (29.0, 44.0),
    ),
    // Greve
    pr(
        253,
        105,
        (13.0, 27.0),
        (1.0, 14.0),
        (66.0, 68.0),
        (28.0, 42.0),
    ),
    // Roskilde
    pr(
        265,
        92,
        (12.0, 18.0),
        (3.0, 13.0),
        (51.0, 73.0),
        (33.0, 45.0),
    ),
    // Solrød
    pr(
        269,
        45,
        (14.0, 24.0),
        (1.0, 9.0),
        (67.0, 64.0),
        (31.0, 44.0),
    ),
    // Haderslev
    pr(
        510,
        91,
        (8.0, 22.0),
        (1.0, 12.0),
        (56.0, 75.0),
        (36.0, 44.0),
    ),
    // Kolding
    pr(
        621,
        61,
        (10.0, 28.0),
        (2.0, 13.0),
        (60.0, 63.0),
        (33.0, 37.0),
    ),
    // Fredericia
    pr(
        607,
        79,
        (10.0, 18.0),
        (1.0, 13.0),
        (50.0, 72.0),
        (32.0, 43.0),
    ),
    // Herning
    pr(
        657,
        51,
        (13.0, 21.0),
        (2.0, 12.0),
        (52.0, 73.0),
        (28.0, 45.0),
    ),
    // Silkeborg
    pr(
        740,
        62,
        (11.0, 25.0),
        (3.0, 14.0),
        (55.0, 64.0),
        (32.0, 38.0),
    ),
    // Hedensted
    pr(
        766,
        59,
        (9.0, 18.0),
        (3.0, 12.0),
        (60.0, 68.0),
        (28.0, 38.0),
    ),
    // Aalborg
    pr(
        851,
        98,
        (8.0, 29.0),
        (2.0, 12.0),
        (62.0, 73.0),
        (29.0, 44.0),
    ),
    // Frederikshavn
    pr(
        813,
        55,
        (12.0, 28.0),
        (1.0, 11.0),
        (67.0, 66.0),
        (37.0, 38.0),
    ),
    // Mariagerfjord
    pr(
        846,
        82,
        (8.0, 29.0),
        (2.0, 14.0),
        (65.0, 65.0),
        (36.0, 42.0),
    ),
    // Jammerbugt
    pr(
        849,
        101,
        (8.0, 25.0),
        (1.0, 11.0),
        (65.0, 68.0),
        (31.0, 41.0),
    ),
];
