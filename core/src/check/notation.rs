//! Rewrites what people type into one notation before a cell is parsed: LaTeX (`$…$`, `\cdot`,
//! `\times`, `\frac{a}{b}`, `\text{…}`), Unicode operators (`×`, `⋅`, `−`, `÷`), the letter `x`
//! between numbers, and dashes used as minus signs. After this pass multiplication is `·`,
//! division `/`, subtraction `-`, "approximately" `≈` and "rounds to" `→`. Commands it does not
//! know stay in the text, so the parser reports the cell as unreadable instead of guessing.

/// The text in the parser's notation.
pub fn normalise(text: &str) -> String {
    let latex = expand_latex(text, 0);
    let mut plain = String::with_capacity(latex.len());
    let mut characters = latex.chars().peekable();
    while let Some(character) = characters.next() {
        match character {
            '$' | '{' | '}' => {}
            '×' | '*' | '⋅' | '∙' | '•' | '·' => plain.push('·'),
            '−' => plain.push('-'),
            '÷' => plain.push('/'),
            '~' | '≃' | '≅' => plain.push('≈'),
            '⇒' | '⟶' => plain.push('→'),
            '-' if characters.peek() == Some(&'>') => {
                characters.next();
                plain.push('→');
            }
            '=' if characters.peek() == Some(&'>') => {
                characters.next();
                plain.push('→');
            }
            '\u{a0}' | '\u{2007}' | '\u{2009}' | '\u{202f}' | '\u{2002}' | '\u{2003}' | '\t' => {
                plain.push(' ')
            }
            other => plain.push(other),
        }
    }
    operators_between_operands(&plain)
}

/// Whether a text is only a dash or nothing: "not applicable" (`–`, `—`, `-`, `n/a`, empty).
pub fn is_dash(text: &str) -> bool {
    let trimmed = text.trim().trim_matches('$').trim();
    matches!(
        trimmed.to_lowercase().as_str(),
        "" | "–" | "—" | "-" | "−" | "--" | "---" | "n/a" | "na" | "none" | "/" | "\\text{–}"
    )
}

/// How deep `\frac` and `\text` may nest before the rest is left as it is.
const MAX_DEPTH: usize = 16;

fn expand_latex(text: &str, depth: usize) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(position) = rest.find('\\') {
        out.push_str(&rest[..position]);
        let after = &rest[position + 1..];
        let name_length = after
            .char_indices()
            .find(|(_, c)| !c.is_ascii_alphabetic())
            .map_or(after.len(), |(i, _)| i);
        if name_length == 0 {
            // A one-character command: spacing, `\%`, or an escaped brace.
            let mut characters = after.chars();
            match characters.next() {
                Some(',' | ';' | ':' | '!' | ' ') => out.push(' '),
                Some('%') => out.push('%'),
                Some('{' | '}' | '|') => {}
                Some(other) => {
                    out.push('\\');
                    out.push(other);
                }
                None => out.push('\\'),
            }
            rest = characters.as_str();
            continue;
        }
        let name = &after[..name_length];
        let mut tail = &after[name_length..];
        match name {
            "cdot" | "times" | "ast" | "bullet" => out.push('·'),
            "div" => out.push('/'),
            "approx" | "sim" | "simeq" => out.push('≈'),
            "rightarrow" | "to" | "Rightarrow" | "mapsto" | "longrightarrow" => out.push('→'),
            "quad" | "qquad" => out.push(' '),
            "left" | "right" | "big" | "Big" | "bigg" | "Bigg" | "displaystyle" => {}
            "frac" | "dfrac" | "tfrac" if depth < MAX_DEPTH => {
                match (
                    brace_group(tail),
                    brace_group(tail).and_then(|(_, r)| brace_group(r)),
                ) {
                    (Some((numerator, _)), Some((denominator, after_both))) => {
                        out.push_str("((");
                        out.push_str(&expand_latex(numerator, depth + 1));
                        out.push_str(")/(");
                        out.push_str(&expand_latex(denominator, depth + 1));
                        out.push_str("))");
                        tail = after_both;
                    }
                    _ => {
                        out.push('\\');
                        out.push_str(name);
                    }
                }
            }
            "text" | "mathrm" | "textrm" | "mbox" | "textbf" | "mathbf" | "textit"
            | "operatorname"
                if depth < MAX_DEPTH =>
            {
                match brace_group(tail) {
                    Some((content, after_group)) => {
                        out.push_str(&expand_latex(content, depth + 1));
                        tail = after_group;
                    }
                    None => {
                        out.push('\\');
                        out.push_str(name);
                    }
                }
            }
            _ => {
                out.push('\\');
                out.push_str(name);
            }
        }
        rest = tail;
    }
    out.push_str(rest);
    out
}

/// `{content}rest` (after optional spaces) as (content, rest); braces nest.
fn brace_group(text: &str) -> Option<(&str, &str)> {
    let text = text.trim_start();
    let inner = text.strip_prefix('{')?;
    let mut depth = 1usize;
    for (index, character) in inner.char_indices() {
        match character {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some((&inner[..index], &inner[index + 1..]));
                }
            }
            _ => {}
        }
    }
    None
}

/// `x`/`X` between operands is multiplication (`28x28`, `5 x 5`); an en or em dash between
/// operands is a minus sign (`(227–11)/4`).
fn operators_between_operands(text: &str) -> String {
    let characters: Vec<char> = text.chars().collect();
    let before = |index: usize| characters[..index].iter().rev().find(|c| **c != ' ');
    let after = |index: usize| characters[index + 1..].iter().find(|c| **c != ' ');
    let operand_end = |c: Option<&char>| c.is_some_and(|c| c.is_ascii_digit() || *c == ')');
    let operand_start = |c: Option<&char>| c.is_some_and(|c| c.is_ascii_digit() || *c == '(');
    characters
        .iter()
        .enumerate()
        .map(|(index, &character)| match character {
            'x' | 'X' if operand_end(before(index)) && operand_start(after(index)) => '·',
            '–' | '—' if operand_end(before(index)) && operand_start(after(index)) => '-',
            other => other,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latex_and_unicode_become_one_notation() {
        assert_eq!(
            normalise("$11 \\cdot 11 \\cdot 3 \\cdot 96 + 96 = 34944$ (0.056\\%)"),
            "11 · 11 · 3 · 96 + 96 = 34944 (0.056%)"
        );
        assert_eq!(normalise("[55×55×96]"), "[55·55·96]");
        assert_eq!(normalise("28x28 X 6"), "28·28 · 6");
        assert_eq!(normalise("(227–11)/4+1"), "(227-11)/4+1");
        assert_eq!(normalise("\\frac{216}{4} + 1"), "((216)/(4)) + 1");
        assert_eq!(
            normalise("784 \\times 100 = 78400 \\text{ parameters.}"),
            "784 · 100 = 78400  parameters."
        );
        assert_eq!(normalise("a -> b => c"), "a → b → c");
        assert_eq!(normalise("\\lfloor 3 \\rfloor"), "\\lfloor 3 \\rfloor");
        assert_eq!(normalise("max x"), "max x");
    }

    #[test]
    fn dashes_mean_not_applicable() {
        for text in ["–", " — ", "-", "", "$–$", "n/a"] {
            assert!(is_dash(text), "{text:?}");
        }
        assert!(!is_dash("0"));
    }
}
