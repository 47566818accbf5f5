//! Denmark's 98 municipalities (DST codes and names since 2007) and the spelling
//! variants Jobindsats and other sources use for them.

/// `(DST code, name)` for every municipality.
pub const MUNICIPALITIES: &[(i32, &str)] = &[
    (101, "København"),
    (147, "Frederiksberg"),
    (151, "Ballerup"),
    (153, "Brøndby"),
    (155, "Dragør"),
    (157, "Gentofte"),
    (159, "Gladsaxe"),
    (161, "Glostrup"),
    (163, "Herlev"),
    (165, "Albertslund"),
    (167, "Hvidovre"),
    (169, "Høje-Taastrup"),
    (173, "Lyngby-Taarbæk"),
    (175, "Rødovre"),
    (183, "Ishøj"),
    (185, "Tårnby"),
    (187, "Vallensbæk"),
    (190, "Furesø"),
    (201, "Allerød"),
    (210, "Fredensborg"),
    (217, "Helsingør"),
    (219, "Hillerød"),
    (223, "Hørsholm"),
    (230, "Rudersdal"),
    (240, "Egedal"),
    (250, "Frederikssund"),
    (253, "Greve"),
    (259, "Køge"),
    (260, "Halsnæs"),
    (265, "Roskilde"),
    (269, "Solrød"),
    (270, "Gribskov"),
    (306, "Odsherred"),
    (316, "Holbæk"),
    (320, "Faxe"),
    (326, "Kalundborg"),
    (329, "Ringsted"),
    (330, "Slagelse"),
    (336, "Stevns"),
    (340, "Sorø"),
    (350, "Lejre"),
    (360, "Lolland"),
    (370, "Næstved"),
    (376, "Guldborgsund"),
    (390, "Vordingborg"),
    (400, "Bornholm"),
    (410, "Middelfart"),
    (420, "Assens"),
    (430, "Faaborg-Midtfyn"),
    (440, "Kerteminde"),
    (450, "Nyborg"),
    (461, "Odense"),
    (479, "Svendborg"),
    (480, "Nordfyns"),
    (482, "Langeland"),
    (492, "Ærø"),
    (510, "Haderslev"),
    (530, "Billund"),
    (540, "Sønderborg"),
    (550, "Tønder"),
    (561, "Esbjerg"),
    (563, "Fanø"),
    (573, "Varde"),
    (575, "Vejen"),
    (580, "Aabenraa"),
    (607, "Fredericia"),
    (615, "Horsens"),
    (621, "Kolding"),
    (630, "Vejle"),
    (657, "Herning"),
    (661, "Holstebro"),
    (665, "Lemvig"),
    (671, "Struer"),
    (706, "Syddjurs"),
    (707, "Norddjurs"),
    (710, "Favrskov"),
    (727, "Odder"),
    (730, "Randers"),
    (740, "Silkeborg"),
    (741, "Samsø"),
    (746, "Skanderborg"),
    (751, "Aarhus"),
    (756, "Ikast-Brande"),
    (760, "Ringkøbing-Skjern"),
    (766, "Hedensted"),
    (773, "Morsø"),
    (779, "Skive"),
    (787, "Thisted"),
    (791, "Viborg"),
    (810, "Brønderslev"),
    (813, "Frederikshavn"),
    (820, "Vesthimmerlands"),
    (825, "Læsø"),
    (840, "Rebild"),
    (846, "Mariagerfjord"),
    (849, "Jammerbugt"),
    (851, "Aalborg"),
    (860, "Hjørring"),
];

/// Spelling variants seen in sources, mapped to the DST code.
const ALIASES: &[(&str, i32)] = &[
    ("nordfyn", 480),
    ("vesthimmerland", 820),
    ("århus", 751),
    ("københavns", 101),
    ("bornholms regionskommune", 400),
    ("høje taastrup", 169),
    ("lyngby taarbæk", 173),
    ("brønderslev dronninglund", 810),
    ("ålborg", 851),
    ("åbenrå", 580),
];

/// The name of a DST municipality code.
#[must_use]
pub fn name(code: i32) -> Option<&'static str> {
    MUNICIPALITIES
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, n)| *n)
}

/// Parses a municipality code as extracts write it: `350` or zero-padded `0350`.
#[must_use]
pub fn parse_code(raw: &str) -> Option<i32> {
    let t = raw.trim();
    let ok_len = t.len() == 3 || (t.len() == 4 && t.starts_with('0'));
    if !ok_len || !t.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let code: i32 = t.parse().ok()?;
    name(code).map(|_| code)
}

/// How an area name in a Jobindsats table resolves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Area {
    /// A municipality, by DST code.
    Municipality(i32),
    /// An aggregate ("Hele landet", "RAR ...", "Region ..."): kept, without a code.
    Aggregate,
}

fn normalise(name: &str) -> String {
    let lower = name.trim().to_lowercase().replace('-', " ");
    let lower = lower
        .strip_suffix(" kommune")
        .unwrap_or(&lower)
        .trim()
        .to_string();
    lower.replace("aa", "å")
}

/// Resolves a Jobindsats area name; `None` when the name is unknown.
#[must_use]
pub fn resolve_area(raw: &str) -> Option<Area> {
    let n = normalise(raw);
    if n == "hele landet" || n.starts_with("rar ") || n.starts_with("region ") || n == "i alt" {
        return Some(Area::Aggregate);
    }
    if let Some((code, _)) = MUNICIPALITIES.iter().find(|(_, name)| normalise(name) == n) {
        return Some(Area::Municipality(*code));
    }
    ALIASES
        .iter()
        .find(|(a, _)| normalise(a) == n)
        .map(|(_, c)| Area::Municipality(*c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn there_are_98_unique_municipalities() {
        let mut codes: Vec<i32> = MUNICIPALITIES.iter().map(|(c, _)| *c).collect();
        codes.dedup();
        assert_eq!(codes.len(), 98);
    }

    #[test]
    fn resolves_spelling_variants() {
        assert_eq!(resolve_area("Nordfyn"), Some(Area::Municipality(480)));
        assert_eq!(
            resolve_area("Nordfyns Kommune"),
            Some(Area::Municipality(480))
        );
        assert_eq!(
            resolve_area("Vesthimmerland"),
            Some(Area::Municipality(820))
        );
        assert_eq!(resolve_area("Århus"), Some(Area::Municipality(751)));
        assert_eq!(resolve_area("Aarhus"), Some(Area::Municipality(751)));
        assert_eq!(resolve_area("Høje Taastrup"), Some(Area::Municipality(169)));
        assert_eq!(resolve_area("Hele landet"), Some(Area::Aggregate));
        assert_eq!(resolve_area("RAR Fyn"), Some(Area::Aggregate));
        assert_eq!(resolve_area("Atlantis"), None);
    }

    #[test]
    fn parses_three_and_four_digit_codes() {
        assert_eq!(parse_code("350"), Some(350));
        assert_eq!(parse_code("0350"), Some(350));
        assert_eq!(parse_code("1350"), None);
        assert_eq!(parse_code("999"), None);
        assert_eq!(parse_code("35"), None);
    }
}
