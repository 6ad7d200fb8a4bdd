//! Properties of the check: no cell text and no hand-table text makes it panic, and a formula
//! always agrees with itself (also when its products are pre-multiplied).

use proptest::prelude::*;

use super::cell;
use super::formula::{Comparison, compare};
use super::notation::normalise;
use crate::expression::Expression;

/// Text made of what cells hold: digits, operators, separators, LaTeX and words.
fn cell_text() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "0",
        "1",
        "5",
        "11",
        "96",
        "227",
        "34944",
        "1,199,882",
        "1 199",
        ".",
        ",",
        " ",
        "+",
        "-",
        "·",
        "×",
        "*",
        "x",
        "/",
        "(",
        ")",
        "=",
        "≈",
        "~",
        "→",
        "->",
        "%",
        "(0.056%)",
        "$",
        "$$",
        "\\cdot",
        "\\times",
        "\\frac{",
        "}{",
        "}",
        "{",
        "\\text{",
        " parameters",
        " million",
        "k",
        "–",
        "—",
        "(*)",
        " / ",
        "[",
        "]",
        "None",
        "all",
        "\\",
        "\u{a0}",
        "\t",
        "é",
        "İ(",
    ]);
    prop::collection::vec(pieces, 0..24).prop_map(|pieces| pieces.concat())
}

fn any_cell() -> impl Strategy<Value = String> {
    prop_oneof![3 => cell_text(), 1 => any::<String>()]
}

/// A written formula from the cell grammar, e.g. `(5·5+1)·6`.
fn formula_text() -> impl Strategy<Value = String> {
    let leaf = (1u64..300).prop_map(|n| n.to_string());
    leaf.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 2..4).prop_map(|items| items.join("·")),
            prop::collection::vec(inner.clone(), 2..4).prop_map(|items| items.join("+")),
            inner.clone().prop_map(|item| format!("({item})")),
            (inner.clone(), 1u64..9).prop_map(|(item, d)| format!("({item})/{d}")),
        ]
    })
}

/// The same formula with each product of plain numbers multiplied out (`5·5·96` → `2400`).
fn premultiplied(expression: &Expression) -> Expression {
    match expression {
        Expression::Product(factors)
            if factors.iter().all(|f| matches!(f, Expression::Number(_))) =>
        {
            match expression.count() {
                Ok(value) => Expression::Number(value),
                Err(_) => expression.clone(),
            }
        }
        Expression::Product(factors) => {
            Expression::Product(factors.iter().map(premultiplied).collect())
        }
        Expression::Sum(terms) => Expression::Sum(terms.iter().map(premultiplied).collect()),
        Expression::Difference(a, b) => Expression::difference(premultiplied(a), premultiplied(b)),
        Expression::Quotient(a, b) => Expression::quotient(premultiplied(a), premultiplied(b)),
        Expression::Number(n) => Expression::Number(*n),
    }
}

fn lenet() -> crate::Analysis {
    let builtin = crate::builtin::find("lenet-5-table").expect("built-in");
    let source = crate::Source::new(builtin.file, builtin.text);
    let network = crate::load(&source, crate::Format::Yaml).expect("loads");
    crate::analyse(&network).expect("analyses")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn no_cell_text_makes_a_reader_panic(text in any_cell()) {
        let _ = normalise(&text);
        let _ = cell::variants(&text);
        let _ = cell::shapes(&text);
        let _ = cell::field(&text);
        let _ = cell::percent_cell(&text);
        let _ = cell::name_cell(&text);
        if let Ok(statement) = cell::statement(&text) {
            for element in &statement.elements {
                let _ = element.expression.ratio();
                let _ = compare(&element.expression, &element.expression, &[]);
            }
        }
    }

    #[test]
    fn no_cell_text_makes_the_judge_panic(text in any_cell()) {
        let analysis = lenet();
        let mut table = String::from(
            "Name\tInput\tOutput dim. calc.\tOutput\tNum. params (% of total)\tReceptive field\t\
             Receptive field (input)\tConnections (w/o bias)\tConnections (with bias)\tMACs\t%\n",
        );
        for layer in ["C1", "S2", "C3", "Sum"] {
            table.push_str(layer);
            for _ in 0..10 {
                table.push('\t');
                table.push_str(&text.replace(['\t', '\n', '\r'], " "));
            }
            table.push('\n');
        }
        table.push_str(&format!("Total number of parameters: {}\n", text.replace('\n', " ")));
        let report = super::check_text(&analysis, &table, false, super::Options::default());
        prop_assert!(report.is_ok());
    }

    #[test]
    fn no_hand_table_makes_the_check_panic(text in any::<String>(), csv in any::<bool>()) {
        let analysis = lenet();
        let _ = super::check_text(&analysis, &text, csv, super::Options::default());
    }

    #[test]
    fn a_formula_agrees_with_itself_and_its_premultiplied_form(text in formula_text()) {
        let statement = cell::statement(&text).expect("the grammar's own text reads");
        let expression = &statement.elements[0].expression;
        prop_assume!(expression.ratio().is_some());
        prop_assert_eq!(compare(expression, expression, &[]), Comparison::Same);
        let shorter = premultiplied(expression);
        prop_assert_eq!(compare(&shorter, expression, &[]), Comparison::Same, "{}", shorter);
    }
}
