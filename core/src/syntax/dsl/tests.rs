//! Reader tests: small texts against a compact dump of what they read as, pinned spans, and
//! error cases pinned to message, line, column and width.

use super::read;
use crate::source::{Source, Span};
use crate::syntax::{Attribute, Description, Item, SyntaxError, Value};

/// One line per statement; texts in Rust quotes, sizes in `<…>`, tables as `grid(X./.X)`.
fn dump(description: &Description) -> String {
    let mut lines = Vec::new();
    for (keyword, word) in [
        ("network", &description.name),
        ("about", &description.about),
        ("rounding", &description.rounding),
    ] {
        if let Some(word) = word {
            lines.push(format!("{keyword} {:?}", word.value));
        }
    }
    if !description.parameters.is_empty() {
        lines.push(format!("let {}", dump_attributes(&description.parameters)));
    }
    if !description.train.is_empty() {
        lines.push(format!("train {}", dump_attributes(&description.train)));
    }
    dump_items(&description.layers, "", &mut lines);
    if !description.expect.is_empty() {
        lines.push(format!("expect {}", dump_attributes(&description.expect)));
    }
    if !description.sweep.is_empty() {
        lines.push(format!("sweep {}", dump_attributes(&description.sweep)));
    }
    lines.join("\n")
}

/// Layers and repeats, a body's lines prefixed with `| ` per level.
fn dump_items(items: &[Item], prefix: &str, lines: &mut Vec<String>) {
    for item in items {
        let layer = match item {
            Item::Layer(layer) => layer,
            Item::Repeat(repeat) => {
                let mut header = format!("{prefix}repeat {}", dump_value(&repeat.over.value));
                if let Some(variable) = &repeat.variable {
                    header.push_str(&format!(" as {}", variable.value));
                }
                lines.push(header);
                dump_items(&repeat.body, &format!("{prefix}| "), lines);
                continue;
            }
        };
        let mut parts = vec![format!("{prefix}layer")];
        if let Some(name) = &layer.name {
            parts.push(format!("{}:", name.value));
        }
        parts.push(layer.kind.value.clone());
        if !layer.positionals.is_empty() {
            let values: Vec<String> = layer
                .positionals
                .iter()
                .map(|value| dump_value(&value.value))
                .collect();
            parts.push(format!("({})", values.join(" ")));
        }
        if !layer.attributes.is_empty() {
            parts.push(dump_attributes(&layer.attributes));
        }
        if !layer.inputs.is_empty() {
            let inputs: Vec<&str> = layer.inputs.iter().map(|i| i.value.as_str()).collect();
            parts.push(format!("<- {}", inputs.join(",")));
        }
        if !layer.expect.is_empty() {
            parts.push(format!("expect {}", dump_attributes(&layer.expect)));
        }
        lines.push(parts.join(" "));
    }
}

fn dump_attributes(attributes: &[Attribute]) -> String {
    let parts: Vec<String> = attributes
        .iter()
        .map(|a| format!("{}={}", a.key.value, dump_value(&a.value.value)))
        .collect();
    parts.join(" ")
}

fn dump_value(value: &Value) -> String {
    match value {
        Value::Integer(integer) => integer.to_string(),
        Value::Number(number) => format!("{number:?}"),
        Value::Boolean(boolean) => boolean.to_string(),
        Value::Text(text) => format!("{text:?}"),
        Value::Dims(dims) => {
            let sizes: Vec<String> = dims.iter().map(u64::to_string).collect();
            format!("<{}>", sizes.join("x"))
        }
        Value::Grid(rows) => {
            let rows: Vec<String> = rows
                .iter()
                .map(|row| row.iter().map(|&on| if on { 'X' } else { '.' }).collect())
                .collect();
            format!("grid({})", rows.join("/"))
        }
        Value::List(items) => {
            let items: Vec<String> = items.iter().map(dump_value).collect();
            format!("[{}]", items.join(","))
        }
        Value::Reference(name) => format!("${name}"),
    }
}

fn parse(text: &str) -> Result<Description, SyntaxError> {
    read(&Source::new("test.nn", text))
}

#[track_caller]
fn check(text: &str, expected: &str) {
    match parse(text) {
        Ok(description) => assert_eq!(dump(&description), expected, "reading {text:?}"),
        Err(error) => panic!("reading {text:?} failed: {error:?}"),
    }
}

/// An error with its message, 1-based line and column, and span width in bytes.
#[track_caller]
fn error(text: &str, message: &str, (line, column): (usize, usize), width: usize) {
    let source = Source::new("test.nn", text);
    match read(&source) {
        Ok(description) => panic!("{text:?} read as {}", dump(&description)),
        Err(SyntaxError::Malformed {
            message: found,
            span,
            ..
        }) => {
            assert_eq!(found, message, "message for {text:?}");
            assert_eq!(
                (source.line_column(span.offset), span.length),
                ((line, column), width),
                "place of {message:?} in {text:?}"
            );
        }
        Err(other) => panic!("{text:?} gave {other:?}"),
    }
}

#[test]
fn statements_and_layers() {
    let cases = [
        ("input 1@32x32", "layer input (<32x32x1>)"),
        (
            "C1: conv2d 6 5x5 activation=tanh",
            "layer C1: conv2d (6 <5x5>) activation=\"tanh\"",
        ),
        (
            "S2: subsample 2x2 trainable=false",
            "layer S2: subsample (<2x2>) trainable=false",
        ),
        (
            "F6: dense 84 expect output=84 params=10164",
            "layer F6: dense (84) expect output=84 params=10164",
        ),
        (
            "merged: concat <- branch_a, branch_b",
            "layer merged: concat <- branch_a,branch_b",
        ),
        (
            "sum: add <- a, b expect output=10x10x16",
            "layer sum: add <- a,b expect output=<10x10x16>",
        ),
        (
            "network lenet-5\nabout \"where the numbers come from\"\nrounding floor\ninput 5",
            "network \"lenet-5\"\nabout \"where the numbers come from\"\nrounding \"floor\"\nlayer input (5)",
        ),
        (
            "network \"LeNet 5 (1998)\"\ninput 5",
            "network \"LeNet 5 (1998)\"\nlayer input (5)",
        ),
        (
            "expect params=61706 connections=422824\ntrain epochs=12 optimizer=adadelta learning_rate=1.0\nk",
            "train epochs=12 optimizer=\"adadelta\" learning_rate=1.0\nlayer k\nexpect params=61706 connections=422824",
        ),
        (
            "train epochs=1\ntrain seed=7\nk",
            "train epochs=1 seed=7\nlayer k",
        ),
        // A statement keyword followed by `:` names a layer.
        ("expect: dense 10", "layer expect: dense (10)"),
        ("network : dense 10", "layer network: dense (10)"),
        // Quoted names and kinds, keys with signs.
        (
            "\"C 1\": \"my kind\" \"odd key\"=1 conv1.2=2",
            "layer C 1: my kind odd key=1 conv1.2=2",
        ),
        ("\"train\" 3", "layer train (3)"),
    ];
    for (text, expected) in cases {
        check(text, expected);
    }
}

#[test]
fn values_are_classified_like_yaml_scalars() {
    let cases = [
        ("k 5 -3 0.5 1e-4 .5 2.", "layer k (5 -3 0.5 0.0001 0.5 2.0)"),
        ("k true false", "layer k (true false)"),
        (
            "k 5x5 28x28x6 6@28x28 5×5",
            "layer k (<5x5> <28x28x6> <28x28x6> <5x5>)",
        ),
        (
            "k relu same lenet-5 a/b ...",
            "layer k (\"relu\" \"same\" \"lenet-5\" \"a/b\" \"...\")",
        ),
        // Quotes only delimit: a quoted token means what the bare one means.
        (
            "k \"5x5\" \"12\" \"true\" \"1e-4\"",
            "layer k (<5x5> 12 true 0.0001)",
        ),
        (
            "k \"a \\\"b\\\" \\\\ c\"",
            "layer k (\"a \\\"b\\\" \\\\ c\")",
        ),
        ("k \"X.\\n.X\\n\"", "layer k (grid(X./.X))"),
        ("k \"\"", "layer k (\"\")"),
        (
            "k [] [1, [2, x], \"a b\"]",
            "layer k ([] [1,[2,\"x\"],\"a b\"])",
        ),
        ("k [ 1 ,2 ]", "layer k ([1,2])"),
        ("k x.X/.xX XX./", "layer k (grid(X.X/.XX) grid(XX.))"),
        (
            "k 9223372036854775807 -9223372036854775808",
            "layer k (9223372036854775807 -9223372036854775808)",
        ),
    ];
    for (text, expected) in cases {
        check(text, expected);
    }
}

#[test]
fn comments_blank_lines_and_line_breaks() {
    check(
        "# LeNet\n\n  input 5   # the size\r\n\t\n# end",
        "layer input (5)",
    );
    check("\u{feff}input 5\n", "layer input (5)");
    check("input 5#note", "layer input (5)");
}

#[test]
fn connection_tables_take_the_more_indented_lines_below() {
    let lenet_c3 = "C3: conv2d 16 5x5 table=   # rows: S2 maps\n\
                    \x20   X...XXX..XXXX.XX\n\
                    \x20   XX...XXX..XXXX.X\n\
                    \x20   # a comment among the rows\n\
                    \x20   XXX...XXX..X.XXX\n\
                    \x20   .XXX..XXXX..X.XX\n\
                    \x20   ..XXX..XXXX.XX.X  # row 5\n\
                    \x20   ...XXX..XXXX.XXX\n\
                    S4: subsample 2x2";
    check(
        lenet_c3,
        "layer C3: conv2d (16 <5x5>) table=grid(X...XXX..XXXX.XX/XX...XXX..XXXX.X/XXX...XXX..X.XXX/\
         .XXX..XXXX..X.XX/..XXX..XXXX.XX.X/...XXX..XXXX.XXX)\nlayer S4: subsample (<2x2>)",
    );
    // After the rows, deeper lines go on with the statement.
    check(
        "  c: conv2d table=\n     X.\n     .x\n   stride=1\n   <- a expect params=4\n  next",
        "layer c: conv2d table=grid(X./.X) stride=1 <- a expect params=4\nlayer next",
    );
    // One row is a table too.
    check("t: k table=\n  XX.\n", "layer t: k table=grid(XX.)");
}

#[test]
fn statements_continue_on_deeper_lines() {
    check(
        "C1: conv2d 6\n    5x5 # kernel\n      activation=tanh\ndense 10",
        "layer C1: conv2d (6 <5x5>) activation=\"tanh\"\nlayer dense (10)",
    );
    // A blank line ends the statement.
    check("dense 5\n\n    relu", "layer dense (5)\nlayer relu");
    check("  dense 5\n  relu", "layer dense (5)\nlayer relu");
}

#[test]
fn spans_point_at_what_was_written() {
    let text = "network lenet\nC1: conv2d 6 5x5 stride=2 <- a expect output=3\nC3: k t=\n  X.\n  .X  # end\n";
    let description = parse(text).unwrap_or_default();
    let at = |span: Span| &text[span.offset..span.offset + span.length];
    let name = description.name.as_ref().map(|n| at(n.span));
    assert_eq!(name, Some("lenet"));
    let [c1, c3] = description.all_layers()[..] else {
        panic!("two layers expected");
    };
    assert_eq!(
        at(c1.span),
        "C1: conv2d 6 5x5 stride=2 <- a expect output=3"
    );
    assert_eq!(c1.name.as_ref().map(|n| at(n.span)), Some("C1"));
    assert_eq!(at(c1.kind.span), "conv2d");
    assert_eq!(at(c1.positionals[1].span), "5x5");
    assert_eq!(at(c1.attributes[0].key.span), "stride");
    assert_eq!(at(c1.attributes[0].value.span), "2");
    assert_eq!(at(c1.inputs[0].span), "a");
    assert_eq!(at(c1.expect[0].value.span), "3");
    assert_eq!(at(c3.span), "C3: k t=\n  X.\n  .X");
    assert_eq!(at(c3.attributes[0].value.span), "X.\n  .X");
    let quoted = parse("\"a b\": k [1, \"x\"]").unwrap_or_default();
    let text = "\"a b\": k [1, \"x\"]";
    let at = |span: Span| &text[span.offset..span.offset + span.length];
    assert_eq!(
        at(quoted.all_layers()[0]
            .name
            .as_ref()
            .map_or(Span::default(), |n| n.span)),
        "\"a b\""
    );
    assert_eq!(at(quoted.all_layers()[0].positionals[0].span), "[1, \"x\"]");
}

#[test]
fn empty_texts() {
    // Statements without a layer are empty too, as YAML's `layers: []` is (found by the fuzz
    // target `dsl_pipeline`: `convert` printed such a text as YAML that did not read).
    for text in [
        "",
        "   \n\n",
        "# only a comment\n  # and another",
        "network lenet",
        "network lenet\nabout \"x\"\nrounding floor\ntrain epochs=12\nexpect params=3\n",
    ] {
        match parse(text) {
            Err(SyntaxError::Empty { span }) => assert_eq!(span.offset, text.len()),
            other => panic!("{text:?} gave {other:?}"),
        }
    }
    check(
        "network lenet\ninput 5",
        "network \"lenet\"\nlayer input (5)",
    );
}

#[test]
fn errors_point_at_the_offending_token() {
    let cases: &[(&str, &str, (usize, usize), usize)] = &[
        (
            "C1: conv2d 6 expect stride 2",
            "expected `=` after attribute key `stride`",
            (1, 21),
            6,
        ),
        (
            "train epochs 12",
            "expected `=` after attribute key `epochs`",
            (1, 7),
            6,
        ),
        (
            "d: dense expect output 5",
            "expected `=` after attribute key `output`",
            (1, 17),
            6,
        ),
        ("about \"where", "unterminated string", (1, 7), 6),
        ("k \"a\nb\"", "unterminated string", (1, 3), 2),
        ("k \"a\\qb\"", "unknown escape `\\q` in a string", (1, 5), 2),
        (
            "C1: conv2d stride=1 stride=2",
            "duplicate attribute `stride`",
            (1, 21),
            6,
        ),
        ("train a=1\ntrain a=2", "duplicate attribute `a`", (2, 7), 1),
        ("C1:", "expected a layer kind after `C1:`", (1, 4), 0),
        ("C1: 5x5", "expected a layer kind after `C1:`", (1, 5), 3),
        ("5x5", "expected a layer kind, found `5x5`", (1, 1), 3),
        (
            "k a=1 5",
            "positional value after a named attribute",
            (1, 7),
            1,
        ),
        (
            "network a\nnetwork b",
            "duplicate `network` statement",
            (2, 1),
            7,
        ),
        (
            "rounding floor\nrounding ceil",
            "duplicate `rounding` statement",
            (2, 1),
            8,
        ),
        (
            "network",
            "expected a network name after `network`",
            (1, 8),
            0,
        ),
        (
            "network LeNet 5",
            "unexpected `5` after the network name",
            (1, 15),
            1,
        ),
        (
            "about 5",
            "expected a text after `about`, found `5`",
            (1, 7),
            1,
        ),
        (
            "k 99999999999999999999",
            "integer `99999999999999999999` does not fit in 64 bits",
            (1, 3),
            20,
        ),
        ("k s=5x", "malformed sizes `5x`", (1, 5), 2),
        ("k 1e999", "number `1e999` is out of range", (1, 3), 5),
        ("k [1, 2", "unclosed list", (1, 3), 1),
        (
            "k [1 2]",
            "expected `,` or `]` in a list, found `2`",
            (1, 6),
            1,
        ),
        ("k [1,]", "expected a list item, found `]`", (1, 6), 1),
        (
            "k t=\n  X.\n  .X.",
            "row 2 of the connection table has 3 columns, but row 1 has 2",
            (3, 3),
            3,
        ),
        (
            "k t=X./.X./XX",
            "row 2 of the connection table has 3 columns, but row 1 has 2",
            (1, 8),
            3,
        ),
        (
            "k t=X.//XX",
            "empty row in connection table `X.//XX`",
            (1, 8),
            0,
        ),
        ("k t=\nd 5", "expected a value after `t=`", (1, 5), 0),
        ("k t=;", "expected a value after `t=`, found `;`", (1, 5), 1),
        ("k t=5;", "unexpected `;`", (1, 6), 1),
        (
            "k <-",
            "expected a layer name after `<-`, found the end of the text",
            (1, 5),
            0,
        ),
        (
            "k <- a,",
            "expected a layer name after `,`, found the end of the text",
            (1, 8),
            0,
        ),
        ("k <- a b", "unexpected `b` after the inputs", (1, 8), 1),
        (
            "k expect a=1 <- b",
            "the inputs (`<-`) must come before `expect`",
            (1, 14),
            2,
        ),
        ("k expect", "expected `key=value` after `expect`", (1, 9), 0),
        ("expect", "expected `key=value` after `expect`", (1, 7), 0),
        (
            "train 5",
            "expected `key=value` after `train`, found `5`",
            (1, 7),
            1,
        ),
        ("k 5x5=3", "attribute key `5x5` is not a name", (1, 3), 3),
        ("k ;", "unexpected `;`", (1, 3), 1),
        ("k a\rb", "unexpected `\\r`", (1, 4), 1),
        ("input 5\n  \u{7}", "unexpected `\\u{7}`", (2, 3), 1),
    ];
    for (text, message, place, width) in cases {
        error(text, message, *place, *width);
    }
}

/// YAML spells a layer's name, kind, inputs and assertions as keys of the layer, so a DSL
/// attribute with one of those keys could not be converted: `dense 10 name=foo` became a layer
/// named `foo` in YAML (found by tests/properties.rs).
#[test]
fn keys_yaml_uses_for_a_layer_are_not_attributes() {
    error(
        "dense 10 name=foo",
        "`name` cannot be an attribute of a layer",
        (1, 10),
        4,
    );
    error(
        "dense \"kind\"=x",
        "`kind` cannot be an attribute of a layer",
        (1, 7),
        6,
    );
    error(
        "add inputs=[a, b]",
        "`inputs` cannot be an attribute of a layer",
        (1, 5),
        6,
    );
    error(
        "dense expect = 3",
        "`expect` cannot be an attribute of a layer",
        (1, 7),
        6,
    );
    // Statements other than layers keep any key.
    assert!(parse("input 5\nexpect name=1\ntrain kind=2").is_ok());
}

#[test]
fn parameters_references_and_the_sweep() {
    check(
        "let filters=[[32, 64], [128, 256]] kernel_size=3\nlet rate=\"$r\"\ninput 5\n\
         conv2d $kernel_size \"$kernel_size\" activation=$act expect params=[$p, 1]\n\
         train epochs=$epochs\nsweep kernel_size=[3, 5]\nsweep filters=[[[32, 64]]]",
        "let filters=[[32,64],[128,256]] kernel_size=3 rate=$r\n\
         train epochs=$epochs\n\
         layer input (5)\n\
         layer conv2d ($kernel_size $kernel_size) activation=$act expect params=[$p,1]\n\
         sweep kernel_size=[3,5] filters=[[[32,64]]]",
    );
    // `let` and `sweep` followed by `:` are layer names, as the other keywords.
    check(
        "let: dense 3\nsweep: k",
        "layer let: dense (3)\nlayer sweep: k",
    );
}

#[test]
fn repeated_blocks_take_the_deeper_lines_below() {
    check(
        "input 5\nrepeat $filters as block   # a block per entry\n  repeat $block as f\n\n    \
         conv2d $f 3\n  # a comment line\n  maxpool 2\n  C: dense 4\n      stride=1\ndense 10",
        "layer input (5)\n\
         repeat $filters as block\n\
         | repeat $block as f\n\
         | | layer conv2d ($f 3)\n\
         | layer maxpool (2)\n\
         | layer C: dense (4) stride=1\n\
         layer dense (10)",
    );
    check(
        "repeat 3\n\tk\n\tk\nrepeat [1, 2] as v\n    k $v\n    k2 t=\n        X.\n        .X\n        expect p=1\nk",
        "repeat 3\n| layer k\n| layer k\nrepeat [1,2] as v\n| layer k ($v)\n\
         | layer k2 t=grid(X./.X) expect p=1\nlayer k",
    );
    // Indented blocks nest in indented blocks; the end of the text ends them all.
    check(
        "  repeat 0\n   repeat X./.X as g\n     k",
        "repeat 0\n| repeat grid(X./.X) as g\n| | layer k",
    );
}

#[test]
fn repeat_spans_point_at_the_header() {
    let text = "input 5\nrepeat $n as block  # c\n  k\n";
    let description = parse(text).unwrap_or_default();
    let Some(Item::Repeat(repeat)) = description.layers.get(1) else {
        panic!("a repeat expected: {description:?}");
    };
    let at = |span: Span| &text[span.offset..span.offset + span.length];
    assert_eq!(at(repeat.span), "repeat $n as block");
    assert_eq!(at(repeat.over.span), "$n");
    assert_eq!(repeat.variable.as_ref().map(|v| at(v.span)), Some("block"));
}

#[test]
fn parameter_and_repeat_errors() {
    let cases: &[(&str, &str, (usize, usize), usize)] = &[
        ("k $5", "malformed reference `$5`", (1, 3), 2),
        ("k $", "malformed reference `$`", (1, 3), 1),
        ("k a=$x/2", "malformed reference `$x/2`", (1, 5), 4),
        ("k [1, \"$ 1\"]", "malformed reference `\"$ 1\"`", (1, 7), 5),
        (
            "let a=1\nlet a=2",
            "the parameter `a` is declared twice",
            (2, 5),
            1,
        ),
        (
            "let \"a b\"=1",
            "the parameter name \"a b\" is not an identifier",
            (1, 5),
            5,
        ),
        ("let", "expected `key=value` after `let`", (1, 4), 0),
        (
            "sweep a=[1]\nsweep a=[2]",
            "the grid sweeps `a` twice",
            (2, 7),
            1,
        ),
        (
            "repeat",
            "expected a count or a list after `repeat`",
            (1, 7),
            0,
        ),
        (
            "repeat 3\nk",
            "a repeat without layers to repeat",
            (1, 1),
            8,
        ),
        (
            "repeat 3 as\n  k",
            "expected a loop variable after `as`, found the end of the line",
            (1, 12),
            0,
        ),
        (
            "repeat 3 as \"b\"\n  k",
            "expected a loop variable after `as`, found `\\\"`",
            (1, 13),
            1,
        ),
        (
            "repeat 3 as b c\n  k",
            "unexpected `c` after the repeat's count",
            (1, 15),
            1,
        ),
        (
            "repeat 3 times\n  k",
            "unexpected `times` after the repeat's count",
            (1, 10),
            5,
        ),
        (
            "repeat 3\n    k\n  k",
            "this line is indented 2, but the repeated block's lines are indented 4",
            (3, 3),
            0,
        ),
        (
            "repeat 3\n  k\n\n    a=1",
            "this line is indented 4, but the repeated block's lines are indented 2",
            (4, 5),
            0,
        ),
        (
            "repeat 3\n  train a=1",
            "`train` cannot stand in a repeated block",
            (2, 3),
            5,
        ),
        (
            "repeat 3\n  repeat 2\n  k",
            "a repeat without layers to repeat",
            (2, 3),
            8,
        ),
        (
            "k repeat=3",
            "`repeat` cannot be an attribute of a layer",
            (1, 3),
            6,
        ),
    ];
    for (text, message, place, width) in cases {
        error(text, message, *place, *width);
    }
}

#[test]
fn grid_files_hold_only_sweep_lines() {
    let read = |text: &str| super::read_grid(&Source::new("grid.nn", text));
    let sweep = read("# the sheet's grid\nsweep kernel_size=[3, 5]\nsweep pool_size=[2]\n")
        .expect("a grid file");
    let keys: Vec<&str> = sweep.iter().map(|entry| entry.key.value.as_str()).collect();
    assert_eq!(keys, ["kernel_size", "pool_size"]);
    for (text, message, column) in [
        (
            "sweep a=[1]\ninput 5",
            "a grid file holds only `sweep` lines",
            1,
        ),
        (
            "sweep a=[1]\nrepeat 2\n  k",
            "a grid file holds only `sweep` lines",
            1,
        ),
        (
            "let a=1\nsweep a=[1]",
            "a grid file holds only `sweep` lines",
            1,
        ),
        ("", "the grid file sweeps nothing", 1),
        ("# nothing\n", "the grid file sweeps nothing", 1),
        ("network n", "a grid file holds only `sweep` lines", 1),
    ] {
        let source = Source::new("grid.nn", text);
        match super::read_grid(&source) {
            Err(SyntaxError::Malformed {
                message: found,
                span,
                ..
            }) => {
                assert_eq!(found, message, "{text:?}");
                assert_eq!(source.line_column(span.offset).1, column, "{text:?}");
            }
            other => panic!("{text:?} gave {other:?}"),
        }
    }
}

#[test]
fn lists_nest_at_most_32_deep() {
    let deep = |depth: usize| format!("k {}{}", "[".repeat(depth), "]".repeat(depth));
    assert!(parse(&deep(32)).is_ok());
    error(&deep(33), "lists nest deeper than 32 levels", (1, 35), 1);
    error(
        &deep(100_000),
        "lists nest deeper than 32 levels",
        (1, 35),
        1,
    );
}

#[test]
fn the_examples_in_grammar_md_read_and_print_back() {
    let document = include_str!("../../../../GRAMMAR.md");
    let blocks: Vec<&str> = document
        .split("```nn\n")
        .skip(1)
        .filter_map(|rest| rest.split("```").next())
        .collect();
    assert_eq!(blocks.len(), 4);
    let no_keys = |_: &str| -> &'static [&'static str] { &[] };
    for block in &blocks {
        let description = parse(block).unwrap_or_else(|error| panic!("{error:?} in\n{block}"));
        crate::syntax::instantiate(&description, &crate::syntax::Configuration::defaults())
            .unwrap_or_else(|error| panic!("{error} in\n{block}"));
        let printed = super::print(&description, &no_keys);
        assert_eq!(
            parse(&printed).ok(),
            Some(description),
            "printed as\n{printed}"
        );
    }
    let lenet = parse(blocks[0]).unwrap_or_default();
    assert_eq!(lenet.layers.len(), 8);
    let table = lenet.all_layers()[3]
        .attribute("table")
        .map(|a| &a.value.value);
    let Some(Value::Grid(rows)) = table else {
        panic!("C3 has no table: {table:?}");
    };
    assert_eq!((rows.len(), rows[0].len()), (6, 16));
    assert_eq!(
        dump(&lenet).lines().nth(7),
        Some(
            "layer C3: conv2d (16 <5x5>) table=grid(X...XXX..XXXX.XX/XX...XXX..XXXX.X/XXX...XXX..X.XXX/.XXX..XXXX..X.XX/..XXX..XXXX.XX.X/...XXX..XXXX.XXX) expect params=1516"
        )
    );
}

/// Found by fuzzing (`dsl_pipeline`): the DSL read a key of 1,300 characters that the YAML
/// printed by `convert` could not read back. Both formats now stop at YAML's 1024.
#[test]
fn keys_are_as_long_as_yaml_allows() {
    let longest = format!("k{}", "e".repeat(crate::syntax::MAX_KEY_LENGTH - 1));
    let too_long = format!("{longest}y");
    let yaml = |key: &str| {
        crate::syntax::yaml::read(&Source::new(
            "test.yaml",
            format!("input: 28\nlayers:\n  - kind: dense\n    {key}: 3\n"),
        ))
    };
    assert!(yaml(&longest).is_ok());
    assert!(yaml(&too_long).is_err());
    let read = parse(&format!("input 28\ndense {longest}=3\n")).unwrap();
    assert!(
        dump(&read).contains(&format!("{longest}=3")),
        "{}",
        dump(&read)
    );
    error(
        &format!("input 28\ndense {too_long}=3\n"),
        "a key of 1025 characters; keys are at most 1024 long",
        (2, 7),
        1025,
    );
}
