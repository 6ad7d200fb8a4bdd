//! Tokens written without quotes: a DSL value such as `stride=2`, and a plain YAML scalar such as
//! `stride: 2`. Both readers read them with [`read`], so a bare token means the same in both
//! formats or is refused in both, with the same message (GRAMMAR.md, "Values"). Quoted tokens skip
//! the refusals and go straight to [`Value::from_text`]: quotes turn a token into text whenever it
//! is not an integer, number, boolean or sizes in netcalc's own notation.
//!
//! What is refused is what another reader (YAML 1.1 or 1.2, as PyYAML, serde_yaml or a person
//! reads it) takes for a number, a boolean or null while netcalc would read it otherwise:
//! `0x10`, `0o17`, `0b101`, `017`, `1_000`, `1:30`, `.inf`, `.nan`, `True`, `null`, `~`, and
//! the tokens that look like netcalc's own numbers or sizes but do not read as them (`5x`, an
//! integer beyond 64 bits, `1e999`).

use super::ast::Value;

/// Why a bare token is refused, and where in the token the trouble is.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    /// What is wrong, e.g. "`0x10` is a hexadecimal number, which netcalc does not read".
    pub message: String,
    /// What to write instead.
    pub help: Option<String>,
    /// Byte offset of the trouble in the token.
    pub start: usize,
    /// Its length in bytes.
    pub length: usize,
}

impl Refusal {
    fn whole(token: &str, message: String, help: Option<String>) -> Refusal {
        Refusal {
            message,
            help,
            start: 0,
            length: token.len(),
        }
    }
}

const INTEGER_HELP: &str = "integers run from -9223372036854775808 to 9223372036854775807; \
                            quote the digits to keep them as text";
const SIZES_HELP: &str = "write sizes as `5x5`, `28x28x6` or `6@28x28` (maps@height×width)";
const ROWS_HELP: &str = "every row needs one `X` or `.` per output map";

/// The value of a token written without quotes: an inline connection table (`X../.XX`), or what
/// [`Value::from_text`] reads, unless the token is one of the refused forms listed in the module
/// documentation.
pub fn read(token: &str) -> Result<Value, Refusal> {
    if is_inline_grid(token) {
        return inline_grid(token).map(Value::Grid);
    }
    let value = Value::from_text(token);
    if !matches!(value, Value::Text(_)) {
        return Ok(value);
    }
    match refusal(token) {
        Some(refusal) => Err(refusal),
        None => Ok(value),
    }
}

/// `X../.XX`: only `X`, `x`, `.` and `/`, with at least one `/`.
fn is_inline_grid(token: &str) -> bool {
    token.contains('/') && token.chars().all(|c| matches!(c, 'X' | 'x' | '.' | '/'))
}

/// Rows separated by `/`; one trailing `/` is allowed, so `XX./` is a table of one row.
fn inline_grid(token: &str) -> Result<Vec<Vec<bool>>, Refusal> {
    let mut rows: Vec<(usize, &str)> = Vec::new();
    let mut start = 0;
    for row in token.split('/') {
        rows.push((start, row));
        start += row.len() + 1;
    }
    if rows.len() >= 2 && rows.last().is_some_and(|(_, row)| row.is_empty()) {
        rows.pop();
    }
    if let Some((at, _)) = rows.iter().find(|(_, row)| row.is_empty()) {
        return Err(Refusal {
            message: format!("empty row in connection table `{token}`"),
            help: Some("write each row as `X` and `.`, rows separated by `/`".to_string()),
            start: *at,
            length: 0,
        });
    }
    let texts: Vec<&str> = rows.iter().map(|(_, row)| *row).collect();
    grid_rows(&texts).map_err(|(index, refusal)| Refusal {
        start: rows[index].0,
        ..refusal
    })
}

/// Rows of `X`/`x` (connected) and `.` (not connected) as a connection table. A row of another
/// length than the first is refused with its index; the refusal spans that row.
pub fn grid_rows(rows: &[&str]) -> Result<Vec<Vec<bool>>, (usize, Refusal)> {
    let width = rows.first().map_or(0, |row| row.len());
    let mut grid = Vec::with_capacity(rows.len());
    for (index, row) in rows.iter().enumerate() {
        let cells: Option<Vec<bool>> = row
            .chars()
            .map(|c| match c {
                'X' | 'x' => Some(true),
                '.' => Some(false),
                _ => None,
            })
            .collect();
        let refusal = |message: String| {
            let help = Some(ROWS_HELP.to_string());
            (index, Refusal::whole(row, message, help))
        };
        match cells {
            None => return Err(refusal("malformed connection table".to_string())),
            Some(_) if row.len() != width => {
                return Err(refusal(format!(
                    "row {} of the connection table has {} columns, but row 1 has {width}",
                    index + 1,
                    row.len()
                )));
            }
            Some(cells) => grid.push(cells),
        }
    }
    Ok(grid)
}

/// Why a token that [`Value::from_text`] reads as text is refused when written bare, if it is.
fn refusal(token: &str) -> Option<Refusal> {
    let (message, help) = yaml_word(token)
        .or_else(|| other_notation(token))
        .or_else(|| not_netcalc_number(token))?;
    Some(Refusal::whole(token, message, help))
}

type Explanation = (String, Option<String>);

fn quote_help(instead: &str, token: &str) -> Option<String> {
    Some(format!(
        "{instead}; to mean the text, quote it: \"{token}\""
    ))
}

/// YAML's null, its capitalised booleans and its infinities and not-a-number.
fn yaml_word(token: &str) -> Option<Explanation> {
    let unsigned = token.strip_prefix(['+', '-']).unwrap_or(token);
    match token {
        "~" | "null" | "Null" | "NULL" => {
            return Some((
                format!("`{token}` is YAML's null, not a value"),
                quote_help("write a value, or leave the key out", token),
            ));
        }
        "True" | "TRUE" | "False" | "FALSE" => {
            let lower = token.to_ascii_lowercase();
            return Some((
                format!("`{token}` is not one of netcalc's booleans, `true` and `false`"),
                quote_help(&format!("write `{lower}`"), token),
            ));
        }
        _ => {}
    }
    match unsigned {
        ".inf" | ".Inf" | ".INF" => Some((
            format!("`{token}` is YAML's infinity; netcalc reads only finite numbers"),
            quote_help("write a finite number", token),
        )),
        ".nan" | ".NaN" | ".NAN" if unsigned == token => Some((
            format!("`{token}` is YAML's not-a-number; netcalc reads only finite numbers"),
            quote_help("write a finite number", token),
        )),
        _ => None,
    }
}

/// Integers in another base or notation: `0x10`, `0o17`, `0b101`, `017`, `1_000`, `1:30`.
fn other_notation(token: &str) -> Option<Explanation> {
    let (sign, unsigned) = match token.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", token.strip_prefix('+').unwrap_or(token)),
    };
    let decimal = |value: Option<i128>| match value {
        Some(value) => format!("write it in decimal: {sign}{value}"),
        None => "write it in decimal".to_string(),
    };
    if let Some((base, digits)) = radix(unsigned) {
        let name = match base {
            16 => "a hexadecimal",
            8 => "an octal",
            _ => "a binary",
        };
        return Some((
            format!("`{token}` is {name} number, which netcalc does not read"),
            quote_help(&decimal(i128::from_str_radix(digits, base).ok()), token),
        ));
    }
    let digits = |text: &str| !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    if unsigned.len() > 1 && unsigned.starts_with('0') && digits(unsigned) {
        let written = unsigned.trim_start_matches('0');
        let written = if written.is_empty() { "0" } else { written };
        let octal = i128::from_str_radix(unsigned, 8)
            .ok()
            .map(|value| value.to_string())
            .filter(|octal| octal != written)
            .map(|octal| format!(" (or {sign}{octal}, if octal was meant)"))
            .unwrap_or_default();
        return Some((
            format!(
                "`{token}` has a leading zero, which YAML 1.1 reads as octal, so netcalc does \
                 not read it"
            ),
            quote_help(&format!("write {sign}{written}{octal}"), token),
        ));
    }
    if unsigned.contains('_')
        && unsigned.starts_with(|c: char| c.is_ascii_digit())
        && unsigned
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'_' | b'.'))
    {
        let without = token.replace('_', "");
        return Some((
            format!("`{token}` has `_` between digits, which netcalc does not read"),
            quote_help(&format!("write {without}"), token),
        ));
    }
    if let Some(value) = sexagesimal(unsigned) {
        return Some((
            format!(
                "`{token}` is a base-60 number to YAML 1.1 ({sign}{value}) and text to YAML \
                 1.2, so netcalc does not read it"
            ),
            quote_help(&format!("write {sign}{value}"), token),
        ));
    }
    None
}

/// `0x1F`, `0o17`, `0b101` (unsigned): the base and the digits.
pub(crate) fn radix(unsigned: &str) -> Option<(u32, &str)> {
    let (base, digits) = if let Some(digits) = unsigned.strip_prefix("0x") {
        (16, digits)
    } else if let Some(digits) = unsigned.strip_prefix("0o") {
        (8, digits)
    } else {
        (2, unsigned.strip_prefix("0b")?)
    };
    let valid = !digits.is_empty() && digits.chars().all(|c| c.is_digit(base));
    valid.then_some((base, digits))
}

/// YAML 1.1's base-60 numbers, `1:30` (90) or `1:30.5` (90.5), unsigned: their value as written
/// in decimal.
pub(crate) fn sexagesimal(unsigned: &str) -> Option<String> {
    let (whole, fraction) = match unsigned.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (unsigned, None),
    };
    let mut parts = whole.split(':');
    let first = parts.next()?;
    let digits = |text: &str| !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
    if !digits(first) || !whole.contains(':') || !fraction.is_none_or(|f| f.is_empty() || digits(f))
    {
        return None;
    }
    let mut value: u128 = first.parse().ok()?;
    for part in parts {
        if !digits(part) || part.len() > 2 {
            return None;
        }
        let sixtieth: u128 = part.parse().ok()?;
        if sixtieth >= 60 {
            return None;
        }
        value = value.checked_mul(60)?.checked_add(sixtieth)?;
    }
    Some(match fraction {
        Some(fraction) if !fraction.is_empty() => format!("{value}.{fraction}"),
        _ => value.to_string(),
    })
}

/// Tokens that look like netcalc's integers, sizes or numbers but do not read as them.
fn not_netcalc_number(token: &str) -> Option<Explanation> {
    let unsigned = token.strip_prefix(['-', '+']).unwrap_or(token);
    let is_size_sign = |c: char| matches!(c, 'x' | '×' | '@');
    if !unsigned.is_empty() && unsigned.bytes().all(|b| b.is_ascii_digit()) {
        Some((
            format!("integer `{token}` does not fit in 64 bits"),
            Some(INTEGER_HELP.to_string()),
        ))
    } else if token.starts_with(|c: char| c.is_ascii_digit())
        && token.contains(is_size_sign)
        && token.chars().all(|c| c.is_ascii_digit() || is_size_sign(c))
    {
        Some((
            format!("malformed sizes `{token}`"),
            Some(SIZES_HELP.to_string()),
        ))
    } else if unsigned
        .trim_start_matches('.')
        .starts_with(|c: char| c.is_ascii_digit())
        && token.parse::<f64>().is_ok_and(|number| !number.is_finite())
    {
        Some((format!("number `{token}` is out of range"), None))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Source;
    use crate::syntax::{Format, SyntaxError};
    use proptest::prelude::*;

    /// What a layer attribute written `note=TOKEN` (DSL) or `note: TOKEN` (YAML) reads as: its
    /// value, or the error's message, help and the text it points at.
    fn through(format: Format, token: &str) -> Result<Value, (String, Option<String>, String)> {
        let text = match format {
            Format::Dsl => format!("input 4\ndense 1 note={token}\n"),
            Format::Yaml => {
                format!("layers:\n  - kind: input\n  - kind: dense\n    note: {token}\n")
            }
        };
        match crate::syntax::read(&Source::new("test", text.as_str()), format) {
            Ok(description) => Ok(match &description.layers[1] {
                crate::syntax::Item::Layer(layer) => layer,
                crate::syntax::Item::Repeat(_) => panic!("the second item is a layer"),
            }
            .attribute("note")
            .expect("the attribute is read")
            .value
            .value
            .clone()),
            Err(SyntaxError::Malformed {
                message,
                span,
                help,
            }) => Err((
                message,
                help,
                text[span.offset..span.offset + span.length].to_string(),
            )),
            Err(other) => Err((other.to_string(), None, String::new())),
        }
    }

    /// Reads `token` in both formats, asserts they agree, and returns the reading.
    fn both(token: &str) -> Result<Value, (String, Option<String>, String)> {
        let dsl = through(Format::Dsl, token);
        let yaml = through(Format::Yaml, token);
        assert_eq!(dsl, yaml, "`{token}`: DSL, then YAML");
        dsl
    }

    /// GRAMMAR.md's table of tokens, one case each: the same value or the same refusal, pointing
    /// at the same text, in both formats.
    #[test]
    fn tokens_mean_the_same_in_both_formats() {
        let read_as = [
            ("12", Value::Integer(12)),
            ("+5", Value::Integer(5)),
            ("1e3", Value::Number(1000.0)),
            ("-2.5e-3", Value::Number(-2.5e-3)),
            ("true", Value::Boolean(true)),
            ("5x5", Value::Dims(vec![5, 5])),
            (
                "X./.X",
                Value::Grid(vec![vec![true, false], vec![false, true]]),
            ),
        ];
        for (token, value) in read_as {
            assert_eq!(both(token), Ok(value), "{token}");
        }
        for word in [
            "yes", "no", "on", "off", "y", "n", "Yes", "inf", "nan", "0X10",
        ] {
            assert_eq!(both(word), Ok(Value::Text(word.to_string())), "{word}");
        }
        let refused = [
            "0x3",
            "0x10",
            "-0x10",
            "0o2",
            "0b101",
            "017",
            "1_000",
            "1:30",
            "-1:30",
            ".inf",
            "-.inf",
            "+.inf",
            ".nan",
            "~",
            "null",
            "Null",
            "True",
            "FALSE",
            "99999999999999999999",
            "1e999",
            "5x",
            "XX/X",
        ];
        for token in refused {
            let (message, _, pointed) = both(token).unwrap_err();
            assert_eq!(message, read(token).unwrap_err().message, "{token}");
            if !token.contains('/') {
                assert_eq!(pointed, token, "{token}");
            }
        }
    }

    #[test]
    fn quoted_tokens_are_text_in_both_formats() {
        for token in [
            "0x10", "017", "1_000", "1:30", ".inf", "~", "null", "True", "X./.X",
        ] {
            assert_eq!(
                both(&format!("\"{token}\"")),
                Ok(Value::Text(token.to_string())),
                "{token}"
            );
        }
    }

    proptest! {
        /// Random number-like tokens read the same in both formats (or are refused alike).
        #[test]
        fn random_tokens_mean_the_same_in_both_formats(
            token in "[-+]?[0-9a-fxobTFNAELSUrueals._X/]{1,7}"
        ) {
            let dsl = through(Format::Dsl, &token);
            let yaml = through(Format::Yaml, &token);
            // Tokens that are not one plain scalar in YAML (`-`, `.` alone) or that the DSL
            // cannot read as one token are syntax, not classification: left out.
            let syntax = |reading: &Result<Value, (String, Option<String>, String)>| {
                matches!(reading, Err((message, ..)) if message.starts_with("expected")
                    || message.starts_with("unexpected") || message.contains("YAML"))
                    && !matches!(reading, Err((message, ..)) if message.contains("YAML's"))
            };
            prop_assume!(!syntax(&dsl) && !syntax(&yaml));
            prop_assert_eq!(dsl, yaml, "`{}`", token);
        }
    }

    fn refused(token: &str) -> String {
        match read(token) {
            Err(refusal) => refusal.message,
            Ok(value) => panic!("`{token}` read as {value:?}"),
        }
    }

    fn help(token: &str) -> String {
        read(token).unwrap_err().help.unwrap_or_default()
    }

    #[test]
    fn netcalc_notation_reads() {
        assert_eq!(read("12"), Ok(Value::Integer(12)));
        assert_eq!(read("+12"), Ok(Value::Integer(12)));
        assert_eq!(read("-0"), Ok(Value::Integer(0)));
        assert_eq!(read("1e3"), Ok(Value::Number(1000.0)));
        assert_eq!(read("+1.5"), Ok(Value::Number(1.5)));
        assert_eq!(read(".5"), Ok(Value::Number(0.5)));
        assert_eq!(read("true"), Ok(Value::Boolean(true)));
        assert_eq!(read("5x5"), Ok(Value::Dims(vec![5, 5])));
        assert_eq!(read("05x05"), Ok(Value::Dims(vec![5, 5])));
        assert_eq!(
            read("X./.X"),
            Ok(Value::Grid(vec![vec![true, false], vec![false, true]]))
        );
        for text in [
            "yes", "no", "on", "off", "y", "n", "Yes", "inf", "nan", "relu", "2024-run",
        ] {
            assert_eq!(read(text), Ok(Value::Text(text.to_string())), "{text}");
        }
    }

    #[test]
    fn other_bases_are_refused_with_their_decimal_value() {
        assert_eq!(
            refused("0x10"),
            "`0x10` is a hexadecimal number, which netcalc does not read"
        );
        assert_eq!(
            help("0x10"),
            "write it in decimal: 16; to mean the text, quote it: \"0x10\""
        );
        assert_eq!(
            help("-0x10"),
            "write it in decimal: -16; to mean the text, quote it: \"-0x10\""
        );
        assert_eq!(
            refused("0x3"),
            "`0x3` is a hexadecimal number, which netcalc does not read"
        );
        assert_eq!(
            refused("0o2"),
            "`0o2` is an octal number, which netcalc does not read"
        );
        assert_eq!(
            refused("0b101"),
            "`0b101` is a binary number, which netcalc does not read"
        );
        assert!(help("0b101").starts_with("write it in decimal: 5;"));
        assert!(help("0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF").starts_with("write it in decimal;"));
        // Not digits of the base: text, as in YAML 1.2.
        assert_eq!(read("0xg"), Ok(Value::Text("0xg".to_string())));
        assert_eq!(read("0o8"), Ok(Value::Text("0o8".to_string())));
    }

    #[test]
    fn yaml_1_1_integers_are_refused() {
        assert_eq!(
            refused("017"),
            "`017` has a leading zero, which YAML 1.1 reads as octal, so netcalc does not read it"
        );
        assert_eq!(
            help("017"),
            "write 17 (or 15, if octal was meant); to mean the text, quote it: \"017\""
        );
        assert_eq!(help("-09"), "write -9; to mean the text, quote it: \"-09\"");
        assert_eq!(help("00"), "write 0; to mean the text, quote it: \"00\"");
        assert_eq!(
            refused("1_000"),
            "`1_000` has `_` between digits, which netcalc does not read"
        );
        assert_eq!(
            help("1_000.5"),
            "write 1000.5; to mean the text, quote it: \"1_000.5\""
        );
        assert_eq!(
            refused("1:30"),
            "`1:30` is a base-60 number to YAML 1.1 (90) and text to YAML 1.2, so netcalc does \
             not read it"
        );
        assert_eq!(
            help("-1:00:01.5"),
            "write -3601.5; to mean the text, quote it: \"-1:00:01.5\""
        );
        // Not base 60 (a part of 60 or more): text.
        assert_eq!(read("1:75"), Ok(Value::Text("1:75".to_string())));
    }

    #[test]
    fn yaml_words_are_refused() {
        assert_eq!(refused("~"), "`~` is YAML's null, not a value");
        assert_eq!(refused("null"), "`null` is YAML's null, not a value");
        assert_eq!(refused("NULL"), "`NULL` is YAML's null, not a value");
        assert_eq!(
            refused("True"),
            "`True` is not one of netcalc's booleans, `true` and `false`"
        );
        assert_eq!(
            help("FALSE"),
            "write `false`; to mean the text, quote it: \"FALSE\""
        );
        assert_eq!(
            refused(".inf"),
            "`.inf` is YAML's infinity; netcalc reads only finite numbers"
        );
        assert_eq!(
            refused("-.Inf"),
            "`-.Inf` is YAML's infinity; netcalc reads only finite numbers"
        );
        assert_eq!(
            refused(".NaN"),
            "`.NaN` is YAML's not-a-number; netcalc reads only finite numbers"
        );
        assert_eq!(read("-.nan"), Ok(Value::Text("-.nan".to_string())));
    }

    #[test]
    fn near_misses_of_netcalc_notation_are_refused() {
        assert_eq!(
            refused("99999999999999999999"),
            "integer `99999999999999999999` does not fit in 64 bits"
        );
        assert_eq!(
            refused("+99999999999999999999"),
            "integer `+99999999999999999999` does not fit in 64 bits"
        );
        assert_eq!(refused("5x"), "malformed sizes `5x`");
        assert_eq!(refused("1e999"), "number `1e999` is out of range");
    }

    #[test]
    fn inline_tables_point_at_the_bad_row() {
        let refusal = read("XX/X./X").unwrap_err();
        assert_eq!(
            refusal.message,
            "row 3 of the connection table has 1 columns, but row 1 has 2"
        );
        assert_eq!((refusal.start, refusal.length), (6, 1));
        let refusal = read("XX//XX").unwrap_err();
        assert_eq!(refusal.message, "empty row in connection table `XX//XX`");
        assert_eq!((refusal.start, refusal.length), (3, 0));
        assert_eq!(read("XX./"), Ok(Value::Grid(vec![vec![true, true, false]])));
    }
}
