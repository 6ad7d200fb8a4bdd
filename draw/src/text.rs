//! Text measurement for drawings: the advance widths of the bundled Liberation Sans
//! (`assets/fonts/`), so that a box is as wide as its text without loading the font. The table is
//! the font's own `hmtx` advances for the characters layer names and labels use (a test in
//! `png.rs` compares it with the font); any other character counts as the widest of the table
//! (`@`, just over one em), so text with it still fits. Browsers showing the SVG use Liberation Sans or Arial,
//! which has the same advance widths (Liberation Sans was made metric-compatible with it).

/// Font units per em of Liberation Sans.
pub const UNITS_PER_EM: f64 = 2048.0;
/// The font's ascent, in font units (above the baseline).
pub const ASCENT: f64 = 1854.0;
/// The font's descent, in font units (below the baseline, positive).
pub const DESCENT: f64 = 434.0;
/// What a character outside the table counts: the widest advance of the table.
pub const FALLBACK_ADVANCE: u16 = widest(ADVANCES);

const fn widest(table: &[(char, u16)]) -> u16 {
    let mut widest = 0;
    let mut index = 0;
    while index < table.len() {
        if table[index].1 > widest {
            widest = table[index].1;
        }
        index += 1;
    }
    widest
}

/// `(character, advance in font units)`, sorted by character.
pub const ADVANCES: &[(char, u16)] = &[
    (' ', 569),
    ('!', 569),
    ('"', 727),
    ('#', 1139),
    ('$', 1139),
    ('%', 1821),
    ('&', 1366),
    ('\'', 391),
    ('(', 682),
    (')', 682),
    ('*', 797),
    ('+', 1196),
    (',', 569),
    ('-', 682),
    ('.', 569),
    ('/', 569),
    ('0', 1139),
    ('1', 1139),
    ('2', 1139),
    ('3', 1139),
    ('4', 1139),
    ('5', 1139),
    ('6', 1139),
    ('7', 1139),
    ('8', 1139),
    ('9', 1139),
    (':', 569),
    (';', 569),
    ('<', 1196),
    ('=', 1196),
    ('>', 1196),
    ('?', 1139),
    ('@', 2079),
    ('A', 1366),
    ('B', 1366),
    ('C', 1479),
    ('D', 1479),
    ('E', 1366),
    ('F', 1251),
    ('G', 1593),
    ('H', 1479),
    ('I', 569),
    ('J', 1024),
    ('K', 1366),
    ('L', 1139),
    ('M', 1706),
    ('N', 1479),
    ('O', 1593),
    ('P', 1366),
    ('Q', 1593),
    ('R', 1479),
    ('S', 1366),
    ('T', 1251),
    ('U', 1479),
    ('V', 1366),
    ('W', 1933),
    ('X', 1366),
    ('Y', 1366),
    ('Z', 1251),
    ('[', 569),
    ('\\', 569),
    (']', 569),
    ('^', 961),
    ('_', 1139),
    ('`', 682),
    ('a', 1139),
    ('b', 1139),
    ('c', 1024),
    ('d', 1139),
    ('e', 1139),
    ('f', 569),
    ('g', 1139),
    ('h', 1139),
    ('i', 455),
    ('j', 455),
    ('k', 1024),
    ('l', 455),
    ('m', 1706),
    ('n', 1139),
    ('o', 1139),
    ('p', 1139),
    ('q', 1139),
    ('r', 682),
    ('s', 1024),
    ('t', 569),
    ('u', 1139),
    ('v', 1024),
    ('w', 1479),
    ('x', 1024),
    ('y', 1024),
    ('z', 1024),
    ('{', 684),
    ('|', 532),
    ('}', 684),
    ('~', 1196),
    ('°', 819),
    ('±', 1124),
    ('²', 682),
    ('³', 682),
    ('µ', 1180),
    ('·', 682),
    ('½', 1708),
    ('Ä', 1366),
    ('Ö', 1593),
    ('×', 1196),
    ('Ü', 1479),
    ('ß', 1251),
    ('à', 1139),
    ('á', 1139),
    ('ä', 1139),
    ('ç', 1024),
    ('è', 1139),
    ('é', 1139),
    ('ê', 1139),
    ('ñ', 1139),
    ('ö', 1139),
    ('ü', 1139),
    ('–', 1139),
    ('—', 2048),
    ('‘', 455),
    ('’', 455),
    ('“', 682),
    ('”', 682),
    ('•', 717),
    ('…', 2048),
    ('€', 1139),
    ('←', 2048),
    ('↑', 1024),
    ('→', 2048),
    ('↓', 1024),
    ('∑', 1460),
    ('√', 1124),
    ('≤', 1124),
    ('≥', 1124),
];

/// The advance width of a character, in font units.
pub fn advance(character: char) -> u16 {
    ADVANCES
        .binary_search_by_key(&character, |&(c, _)| c)
        .map_or(FALLBACK_ADVANCE, |index| ADVANCES[index].1)
}

/// The width of a line of text at a font size (in the picture's units).
pub fn width(text: &str, size: f64) -> f64 {
    let units: u64 = text.chars().map(|c| u64::from(advance(c))).sum();
    units as f64 * size / UNITS_PER_EM
}

/// How far the font reaches above the baseline at a size.
pub fn ascent(size: f64) -> f64 {
    ASCENT * size / UNITS_PER_EM
}

/// How far the font reaches below the baseline at a size.
pub fn descent(size: f64) -> f64 {
    DESCENT * size / UNITS_PER_EM
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_sorted_so_lookups_find_every_entry() {
        assert!(ADVANCES.windows(2).all(|pair| pair[0].0 < pair[1].0));
        for &(character, units) in ADVANCES {
            assert_eq!(advance(character), units);
        }
    }

    #[test]
    fn widths_add_up_the_advances() {
        // `C1`: 1479 + 1139 font units at 2048 per em.
        assert!((width("C1", 2048.0) - 2618.0).abs() < 1e-9);
        assert!((width("×", 12.0) - 1196.0 * 12.0 / 2048.0).abs() < 1e-9);
        // A character the table lacks counts as `@`, the widest one.
        assert_eq!(FALLBACK_ADVANCE, advance('@'));
        assert!((width("木", 2048.0) - 2079.0).abs() < 1e-9);
        assert!(ADVANCES.iter().all(|&(_, units)| units <= FALLBACK_ADVANCE));
    }
}
