//! The DSL printer: writes a [`Description`] in canonical form, one statement per line in the
//! order network, about, rounding, let, train, layers (repeated blocks with their bodies indented
//! two spaces deeper), expect, sweep. Its invariant is that the text reads
//! back to the same description, for every value a reader can produce (the values
//! [`Value::from_text`] gives; see GRAMMAR.md for the few that no text can hold).

use super::KEYWORDS;
use super::parser::is_identifier;
use super::values::bare_text_reads_back;
use crate::syntax::ast::dims_text;
use crate::syntax::{Attribute, Description, Item, LayerDecl, Repeat, Value};

/// How much deeper than their statement continuation lines (connection table rows and what
/// follows them) are indented.
const INDENT: &str = "    ";

/// How much deeper than its `repeat` line a body is indented.
const BODY_INDENT: usize = 2;

/// The canonical text of a description.
pub(super) fn print(
    description: &Description,
    positional_keys: &dyn Fn(&str) -> &'static [&'static str],
) -> String {
    let mut out = String::new();
    let words = [
        ("network", &description.name),
        ("about", &description.about),
        ("rounding", &description.rounding),
        ("conventions", &description.conventions),
    ];
    for (keyword, word) in words {
        if let Some(word) = word {
            let mut statement = Statement::new(&mut out, 0);
            statement.token(keyword);
            statement.token(&name_text(&word.value));
            statement.finish();
        }
    }
    print_attribute_statement(&mut out, "let", &description.parameters);
    print_attribute_statement(&mut out, "train", &description.train);
    print_items(&mut out, &description.layers, 0, positional_keys);
    print_attribute_statement(&mut out, "expect", &description.expect);
    print_attribute_statement(&mut out, "sweep", &description.sweep);
    out
}

/// `keyword key=value…`, unless there is no attribute.
fn print_attribute_statement(out: &mut String, keyword: &str, attributes: &[Attribute]) {
    if !attributes.is_empty() {
        let mut statement = Statement::new(out, 0);
        statement.token(keyword);
        statement.attributes(attributes);
        statement.finish();
    }
}

/// Layers and repeated blocks, each statement indented `indent` spaces.
fn print_items(
    out: &mut String,
    items: &[Item],
    indent: usize,
    positional_keys: &dyn Fn(&str) -> &'static [&'static str],
) {
    for item in items {
        match item {
            Item::Layer(layer) => {
                print_layer(out, layer, positional_keys(&layer.kind.value), indent);
            }
            Item::Repeat(repeat) => print_repeat(out, repeat, indent, positional_keys),
        }
    }
}

/// `repeat COUNT_OR_LIST [as VARIABLE]`, then the body two spaces deeper.
fn print_repeat(
    out: &mut String,
    repeat: &Repeat,
    indent: usize,
    positional_keys: &dyn Fn(&str) -> &'static [&'static str],
) {
    let mut statement = Statement::new(out, indent);
    statement.token("repeat");
    statement.token(&value_text(&repeat.over.value));
    if let Some(variable) = &repeat.variable {
        statement.token("as");
        statement.token(&variable.value);
    }
    statement.finish();
    print_items(out, &repeat.body, indent + BODY_INDENT, positional_keys);
}

/// `[name:] kind positional… key=value… [<- a, b] [expect key=value…]`. Values written without
/// a key fill the kind's positional keys in order, so attribute `i` is written bare while its key
/// is the next positional key and it is not a connection table.
fn print_layer(out: &mut String, layer: &LayerDecl, positional_keys: &[&str], indent: usize) {
    let mut statement = Statement::new(out, indent);
    if let Some(name) = &layer.name {
        statement.token(&format!("{}:", name_text(&name.value)));
    }
    statement.token(&name_text(&layer.kind.value));
    for positional in &layer.positionals {
        statement.token(&value_text(&positional.value));
    }
    let mut slot = layer.positionals.len();
    let mut still_positional = true;
    for attribute in &layer.attributes {
        still_positional = still_positional
            && positional_keys
                .get(slot)
                .is_some_and(|key| *key == attribute.key.value)
            && !matches!(attribute.value.value, Value::Grid(_));
        if still_positional {
            statement.token(&value_text(&attribute.value.value));
            slot += 1;
        } else {
            statement.attribute(attribute);
        }
    }
    if !layer.inputs.is_empty() {
        statement.token("<-");
        let names: Vec<String> = layer
            .inputs
            .iter()
            .map(|input| name_text(&input.value))
            .collect();
        statement.token(&names.join(", "));
    }
    if !layer.expect.is_empty() {
        statement.token("expect");
        statement.attributes(&layer.expect);
    }
    statement.finish();
}

/// One statement being written, `indent` spaces in: tokens separated by spaces; after a
/// connection table's rows the statement goes on in a continuation line.
struct Statement<'o> {
    out: &'o mut String,
    indent: usize,
    started: bool,
    after_table: bool,
}

impl<'o> Statement<'o> {
    fn new(out: &'o mut String, indent: usize) -> Statement<'o> {
        Statement {
            out,
            indent,
            started: false,
            after_table: false,
        }
    }

    /// The indentation of the statement's continuation lines.
    fn continuation(&mut self) {
        self.out.extend(std::iter::repeat_n(' ', self.indent));
        self.out.push_str(INDENT);
    }

    fn token(&mut self, token: &str) {
        if self.after_table {
            self.continuation();
            self.after_table = false;
        } else if self.started {
            self.out.push(' ');
        } else {
            self.out.extend(std::iter::repeat_n(' ', self.indent));
        }
        self.out.push_str(token);
        self.started = true;
    }

    fn attributes(&mut self, attributes: &[Attribute]) {
        for attribute in attributes {
            self.attribute(attribute);
        }
    }

    /// `key=value`, or `key=` and the table's rows on the following lines.
    fn attribute(&mut self, attribute: &Attribute) {
        let key = name_text(&attribute.key.value);
        match &attribute.value.value {
            Value::Grid(rows) => {
                self.token(&format!("{key}="));
                self.out.push('\n');
                for row in rows {
                    self.continuation();
                    self.out.push_str(&row_text(row));
                    self.out.push('\n');
                }
                self.after_table = true;
            }
            value => self.token(&format!("{key}={}", value_text(value))),
        }
    }

    fn finish(self) {
        if !self.after_table {
            self.out.push('\n');
        }
    }
}

/// A name, kind or key: bare when it is an identifier and no statement keyword, quoted otherwise.
pub(super) fn name_text(name: &str) -> String {
    if is_identifier(name) && !KEYWORDS.contains(&name) {
        name.to_string()
    } else {
        quoted(name)
    }
}

/// A value on one line. Connection tables here use the inline form (`X./.X`; one row as `XX./`).
pub(super) fn value_text(value: &Value) -> String {
    match value {
        Value::Integer(integer) => integer.to_string(),
        // `{:?}` always writes a fraction or an exponent (`1.0`, `1e-5`) and reads back exactly.
        Value::Number(number) => format!("{number:?}"),
        Value::Boolean(boolean) => boolean.to_string(),
        Value::Text(text) => text_token(text),
        Value::Dims(dims) => dims_text(dims),
        Value::Grid(rows) => {
            let rows: Vec<String> = rows.iter().map(|row| row_text(row)).collect();
            let mut text = rows.join("/");
            if rows.len() == 1 {
                text.push('/');
            }
            text
        }
        Value::List(items) => {
            let items: Vec<String> = items.iter().map(value_text).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Reference(name) => format!("${name}"),
    }
}

/// A text: bare when the bare token reads back as this very text (and is not the word `expect`,
/// which would open a layer's assertions), quoted otherwise.
fn text_token(text: &str) -> String {
    if text != "expect" && bare_text_reads_back(text) {
        text.to_string()
    } else {
        quoted(text)
    }
}

fn row_text(row: &[bool]) -> String {
    row.iter().map(|&on| if on { 'X' } else { '.' }).collect()
}

/// A double-quoted string with `\"`, `\\`, `\n`, `\r` and `\t` escaped.
fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            other => out.push(other),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Spanned;

    fn conv_keys(kind: &str) -> &'static [&'static str] {
        if kind == "conv2d" {
            &["filters", "kernel"]
        } else {
            &[]
        }
    }

    #[test]
    fn leading_attributes_with_positional_keys_are_written_bare() {
        let mut layer = LayerDecl::new("conv2d");
        layer.name = Some(Spanned::unspanned("C1".to_string()));
        layer.attributes = vec![
            Attribute::new("filters", Value::Integer(6)),
            Attribute::new("kernel", Value::Dims(vec![5, 5])),
            Attribute::new("activation", Value::Text("tanh".into())),
        ];
        let description = Description {
            layers: vec![Item::Layer(layer)],
            ..Description::default()
        };
        assert_eq!(
            print(&description, &conv_keys),
            "C1: conv2d 6 5x5 activation=tanh\n"
        );
    }

    #[test]
    fn positional_writing_stops_at_the_first_key_out_of_order() {
        let mut layer = LayerDecl::new("conv2d");
        layer.attributes = vec![
            Attribute::new("kernel", Value::Dims(vec![5, 5])),
            Attribute::new("filters", Value::Integer(6)),
        ];
        let description = Description {
            layers: vec![Item::Layer(layer)],
            ..Description::default()
        };
        assert_eq!(
            print(&description, &conv_keys),
            "conv2d kernel=5x5 filters=6\n"
        );
    }

    #[test]
    fn a_table_takes_the_lines_below_and_the_statement_continues_after_it() {
        let mut layer = LayerDecl::new("conv2d");
        layer.attributes = vec![
            Attribute::new("filters", Value::Integer(2)),
            Attribute::new(
                "table",
                Value::Grid(vec![vec![true, false], vec![false, true]]),
            ),
            Attribute::new("stride", Value::Integer(1)),
        ];
        layer.expect = vec![Attribute::new("params", Value::Integer(4))];
        let description = Description {
            layers: vec![Item::Layer(layer)],
            ..Description::default()
        };
        assert_eq!(
            print(&description, &conv_keys),
            "conv2d 2 table=\n    X.\n    .X\n    stride=1 expect params=4\n"
        );
    }

    #[test]
    fn statements_come_in_canonical_order() {
        let description = Description {
            name: Some(Spanned::unspanned("LeNet 5".to_string())),
            about: Some(Spanned::unspanned("a \"classic\"".to_string())),
            rounding: Some(Spanned::unspanned("floor".to_string())),
            parameters: vec![Attribute::new("units", Value::Integer(84))],
            conventions: None,
            layers: vec![Item::Layer(LayerDecl::new("input"))],
            expect: vec![Attribute::new("params", Value::Integer(61706))],
            train: vec![Attribute::new("learning_rate", Value::Number(1.0))],
            sweep: vec![Attribute::new(
                "units",
                Value::List(vec![Value::Integer(84), Value::Integer(100)]),
            )],
        };
        assert_eq!(
            print(&description, &conv_keys),
            "network \"LeNet 5\"\nabout \"a \\\"classic\\\"\"\nrounding floor\n\
             let units=84\ntrain learning_rate=1.0\ninput\nexpect params=61706\n\
             sweep units=[84, 100]\n"
        );
    }

    #[test]
    fn repeated_blocks_indent_their_bodies() {
        let mut conv = LayerDecl::new("conv2d");
        conv.name = Some(Spanned::unspanned("conv".to_string()));
        conv.attributes = vec![
            Attribute::new("filters", Value::Reference("f".into())),
            Attribute::new("table", Value::Grid(vec![vec![true]])),
            Attribute::new("stride", Value::Integer(1)),
        ];
        let inner = Repeat::new(
            Value::Reference("block".into()),
            Some("f".into()),
            vec![Item::Layer(conv)],
        );
        let outer = Repeat::new(
            Value::Integer(2),
            None,
            vec![Item::Repeat(inner), Item::Layer(LayerDecl::new("dropout"))],
        );
        let description = Description {
            layers: vec![Item::Repeat(outer), Item::Layer(LayerDecl::new("flatten"))],
            ..Description::default()
        };
        assert_eq!(
            print(&description, &conv_keys),
            "repeat 2\n  repeat $block as f\n    conv: conv2d $f table=\n        X\n        \
             stride=1\n  dropout\nflatten\n"
        );
    }

    #[test]
    fn values_print_in_a_form_that_reads_back() {
        let cases = [
            (Value::Number(1e-5), "1e-5"),
            (Value::Number(-0.5), "-0.5"),
            (Value::Integer(-3), "-3"),
            (Value::Text("relu".into()), "relu"),
            (Value::Text("expect".into()), "\"expect\""),
            (Value::Text("X/X".into()), "\"X/X\""),
            (Value::Text("a b".into()), "\"a b\""),
            (Value::Text(String::new()), "\"\""),
            (Value::Dims(vec![28, 28, 6]), "28x28x6"),
            (Value::Grid(vec![vec![true, false, true]]), "X.X/"),
            (
                Value::List(vec![Value::Boolean(true), Value::List(vec![])]),
                "[true, []]",
            ),
            (Value::Reference("kernel_size".into()), "$kernel_size"),
            (
                Value::List(vec![Value::Reference("a".into()), Value::Integer(1)]),
                "[$a, 1]",
            ),
        ];
        for (value, text) in cases {
            assert_eq!(value_text(&value), text, "{value:?}");
        }
    }
}
