//! Instantiation tests: DSL texts in, the expanded layers as one line each out, and every error
//! pinned to its message and the text its span covers.

use super::*;
use crate::error::Locate;
use crate::source::Source;
use crate::syntax::dsl;

fn read(text: &str) -> Description {
    dsl::read(&Source::new("test.nn", text)).expect("the test text reads")
}

/// `name kind value… key=value… <- inputs` per layer, names `-` when unnamed.
fn layers(description: &Description) -> Vec<String> {
    description
        .plain_layers()
        .expect("no repeat left")
        .into_iter()
        .map(|layer| {
            let mut parts = vec![
                layer
                    .name
                    .as_ref()
                    .map_or("-".to_string(), |name| name.value.clone()),
                layer.kind.value.clone(),
            ];
            parts.extend(
                layer
                    .positionals
                    .iter()
                    .map(|value| dsl::value_text(&value.value)),
            );
            parts.extend(layer.attributes.iter().map(|attribute| {
                format!(
                    "{}={}",
                    attribute.key.value,
                    dsl::value_text(&attribute.value.value)
                )
            }));
            if !layer.inputs.is_empty() {
                let inputs: Vec<&str> = layer.inputs.iter().map(|i| i.value.as_str()).collect();
                parts.push(format!("<- {}", inputs.join(",")));
            }
            parts.join(" ")
        })
        .collect()
}

#[track_caller]
fn expands(text: &str, expected: &[&str]) {
    let plain = instantiate(&read(text), &Configuration::defaults())
        .unwrap_or_else(|error| panic!("{text:?}: {error}"));
    assert_eq!(layers(&plain), expected, "{text:?}");
}

/// Instantiating must fail with this code and message, its span covering `spanned`.
#[track_caller]
fn fails(text: &str, configuration: &Configuration, code: &str, message: &str, spanned: &str) {
    let error = instantiate(&read(text), configuration).expect_err(text);
    let span = error.span();
    assert_eq!(
        (
            error.code(),
            error.to_string().as_str(),
            &text[span.offset..span.offset + span.length]
        ),
        (code, message, spanned),
        "{text:?}"
    );
}

const SHEET_GRID: &str = "\
let filters=[[32, 64], [128, 256]] kernel_size=3 pool_size=2 dense_layer_sizes=[64]
input 28x28x1
repeat $filters as block
  repeat $block as f
    conv2d $f $kernel_size activation=relu
  maxpool $pool_size
  dropout 0.25
flatten
repeat $dense_layer_sizes as units
  dense $units activation=relu
  dropout 0.5
dense 10 activation=softmax
";

#[test]
fn the_sheets_grid_model_expands_to_its_best_configuration() {
    expands(
        SHEET_GRID,
        &[
            "- input 28x28x1",
            "- conv2d 32 3 activation=relu",
            "- conv2d 64 3 activation=relu",
            "- maxpool 2",
            "- dropout 0.25",
            "- conv2d 128 3 activation=relu",
            "- conv2d 256 3 activation=relu",
            "- maxpool 2",
            "- dropout 0.25",
            "- flatten",
            "- dense 64 activation=relu",
            "- dropout 0.5",
            "- dense 10 activation=softmax",
        ],
    );
}

/// Each expanded layer records the copies of the blocks it came from, outermost first: what
/// `netcalc draw --collapse` groups by.
#[test]
fn expanded_layers_record_their_copies() {
    let plain = instantiate(&read(SHEET_GRID), &Configuration::defaults()).expect("instantiates");
    let copies: Vec<String> = plain
        .plain_layers()
        .expect("plain")
        .iter()
        .map(|layer| {
            layer
                .copies
                .0
                .iter()
                .map(|of| {
                    let variable = of.variable.as_deref().unwrap_or("-");
                    format!("{}:{variable} {}/{}", of.block, of.copy, of.count)
                })
                .collect::<Vec<_>>()
                .join(", ")
        })
        .collect();
    assert_eq!(
        copies,
        [
            "",
            // `block` is block 0; its inner `f` loop is expanded anew in each copy (1, then 2).
            "0:block 0/2, 1:f 0/2",
            "0:block 0/2, 1:f 1/2",
            "0:block 0/2",
            "0:block 0/2",
            "0:block 1/2, 2:f 0/2",
            "0:block 1/2, 2:f 1/2",
            "0:block 1/2",
            "0:block 1/2",
            "",
            "3:units 0/1",
            "3:units 0/1",
            "",
        ]
    );
    // Instantiating the plain description again keeps them.
    let again = instantiate(&plain, &Configuration::defaults()).expect("plain instantiates");
    let first = |d: &Description| d.plain_layers().expect("plain")[1].copies.0.clone();
    assert_eq!(first(&again), first(&plain));
}

#[test]
fn a_configuration_replaces_defaults() {
    let configuration = Configuration::new(vec![
        (
            "filters".into(),
            Value::List(vec![Value::List(vec![
                Value::Integer(32),
                Value::Integer(64),
            ])]),
        ),
        ("kernel_size".into(), Value::Integer(5)),
    ]);
    let plain = instantiate(&read(SHEET_GRID), &configuration).expect("instantiates");
    assert_eq!(
        layers(&plain)[1..6],
        [
            "- conv2d 32 5 activation=relu",
            "- conv2d 64 5 activation=relu",
            "- maxpool 2",
            "- dropout 0.25",
            "- flatten",
        ]
    );
    assert!(plain.parameters.is_empty() && plain.sweep.is_empty());
}

#[test]
fn substituted_values_keep_the_span_of_their_reference() {
    let text = "let units=10\ninput 5\ndense $units expect params=$units\ntrain epochs=$units\n";
    let plain = instantiate(&read(text), &Configuration::defaults()).expect("instantiates");
    let dense = plain.plain_layers().expect("plain")[1];
    let span = dense.positionals[0].span;
    assert_eq!(&text[span.offset..span.offset + span.length], "$units");
    assert_eq!(dense.positionals[0].value, Value::Integer(10));
    assert_eq!(dense.expect[0].value.value, Value::Integer(10));
    assert_eq!(plain.train[0].value.value, Value::Integer(10));
}

#[test]
fn named_layers_are_named_per_copy_and_inputs_stay_in_their_copy() {
    expands(
        "input 5\nrepeat 2 as block\n  a: dense 4\n  b: dense 4 <- a\n  c: add <- a, b, input_1\n",
        &[
            "- input 5",
            "block.0.a dense 4",
            "block.0.b dense 4 <- block.0.a",
            "block.0.c add <- block.0.a,block.0.b,input_1",
            "block.1.a dense 4",
            "block.1.b dense 4 <- block.1.a",
            "block.1.c add <- block.1.a,block.1.b,input_1",
        ],
    );
    expands(
        "input 5\nrepeat [3, 4] as outer\n  a: dense $outer\n  repeat 2 as inner\n    b: dense $inner <- a\n",
        &[
            "- input 5",
            "outer.0.a dense 3",
            "outer.0.inner.0.b dense 0 <- outer.0.a",
            "outer.0.inner.1.b dense 1 <- outer.0.a",
            "outer.1.a dense 4",
            "outer.1.inner.0.b dense 0 <- outer.1.a",
            "outer.1.inner.1.b dense 1 <- outer.1.a",
        ],
    );
}

#[test]
fn zero_copies_leave_nothing_and_unnamed_layers_stay_unnamed() {
    expands(
        "let n=0\ninput 5\nrepeat $n\n  dense 3\nrepeat 2\n  dense 4\n",
        &["- input 5", "- dense 4", "- dense 4"],
    );
}

#[test]
fn a_plain_description_is_its_own_instance() {
    let text = "network n\ninput 5\nC1: dense 3 <- input_1 expect params=18\ntrain epochs=2\n";
    let description = read(text);
    assert_eq!(
        instantiate(&description, &Configuration::defaults()),
        Ok(description.clone())
    );
    let plain = instantiate(&read(SHEET_GRID), &Configuration::defaults()).expect("plain");
    assert_eq!(
        instantiate(&plain, &Configuration::defaults()),
        Ok(plain.clone())
    );
}

#[test]
fn numbers_take_integers_from_a_configuration() {
    let text = "let rate=0.5\ninput 5\ndropout $rate\n";
    let configuration = Configuration::new(vec![("rate".into(), Value::Integer(1))]);
    let plain = instantiate(&read(text), &configuration).expect("instantiates");
    assert_eq!(layers(&plain)[1], "- dropout 1.0");
}

#[test]
fn reference_errors() {
    let defaults = Configuration::defaults();
    fails(
        "let kernel_size=3\ninput 5\nconv2d 2 $kernal_size\n",
        &defaults,
        "netcalc::parameters::unknown_reference",
        "`$kernal_size` refers to no parameter or loop variable",
        "$kernal_size",
    );
    let error = instantiate(
        &read("let kernel_size=3\ninput 5\nconv2d 2 $kernal_size\n"),
        &defaults,
    )
    .expect_err("unknown");
    assert_eq!(
        error.help().as_deref(),
        Some("did you mean `$kernel_size`?")
    );
    fails(
        "input 5\nrepeat 2 as block\n  dense $block\ndense $block\n",
        &defaults,
        "netcalc::parameters::unknown_reference",
        "`$block` refers to no parameter or loop variable",
        "$block",
    );
    fails(
        "input 5\nrepeat $x as x\n  dense 2\n",
        &defaults,
        "netcalc::parameters::unknown_reference",
        "`$x` refers to no parameter or loop variable",
        "$x",
    );
    fails(
        "let units=3 rate=0.5\ninput 5\ndense $units\n",
        &defaults,
        "netcalc::parameters::unused_parameter",
        "the parameter `rate` is never used",
        "rate",
    );
    fails(
        "let a=3 b=[$a]\ninput 5\ndense $a $b\n",
        &defaults,
        "netcalc::parameters::reference_not_allowed",
        "the default of `b` cannot refer to a parameter (`$a`)",
        "[$a]",
    );
    fails(
        "let units=3\ninput 5\nrepeat 2 as units\n  dense $units\n",
        &defaults,
        "netcalc::parameters::hidden_name",
        "the loop variable `units` hides the parameter `units`",
        "units",
    );
    fails(
        "input 5\nrepeat 2 as b\n  repeat 2 as b\n    dense $b\n",
        &defaults,
        "netcalc::parameters::hidden_name",
        "the loop variable `b` hides the variable of an enclosing repeat",
        "b",
    );
}

#[test]
fn grid_and_configuration_errors() {
    let defaults = Configuration::defaults();
    fails(
        "let units=3\ninput 5\ndense $units\nsweep unit=[1, 2]\n",
        &defaults,
        "netcalc::parameters::not_a_parameter",
        "the grid sweeps `unit`, but the description has no parameter `unit`",
        "unit",
    );
    fails(
        "let units=3\ninput 5\ndense $units\nsweep units=[]\n",
        &defaults,
        "netcalc::parameters::empty_grid",
        "the grid of `units` is empty",
        "[]",
    );
    fails(
        "let units=3\ninput 5\ndense $units\n",
        &Configuration::new(vec![("unit".into(), Value::Integer(3))]),
        "netcalc::parameters::configuration_parameter",
        "the configuration sets `unit`, but the description has no parameter `unit`",
        "",
    );
    fails(
        "let units=3\ninput 5\ndense $units\n",
        &Configuration::new(vec![("units".into(), Value::Text("x".into()))]),
        "netcalc::parameters::configuration_type",
        "the configuration sets `units` to a string, but the parameter is an integer",
        "3",
    );
}

#[test]
fn repeat_errors() {
    let defaults = Configuration::defaults();
    fails(
        "let n=-1\ninput 5\nrepeat $n\n  dense 2\n",
        &defaults,
        "netcalc::parameters::repeat_count",
        "a repeat count must be a non-negative integer, not -1 (the value of `$n`)",
        "$n",
    );
    fails(
        "input 5\nrepeat 2.5\n  dense 2\n",
        &defaults,
        "netcalc::parameters::repeat_count",
        "a repeat count must be a non-negative integer, not 2.5",
        "2.5",
    );
    fails(
        "let n=5x5\ninput 5\nrepeat $n as k\n  dense 2\n",
        &defaults,
        "netcalc::parameters::repeat_over",
        "a repeat runs over a count or a list, not sizes (the value of `$n`)",
        "$n",
    );
    fails(
        "input 5\nrepeat 2\n  a: dense 2\n",
        &defaults,
        "netcalc::parameters::named_layer_in_unnamed_repeat",
        "layer `a` is named inside a repeat without `as`",
        "a",
    );
    fails(
        "input 5\nrepeat 2\n  repeat 1 as b\n    a: dense 2\n",
        &defaults,
        "netcalc::parameters::named_layer_in_unnamed_repeat",
        "layer `a` is named inside a repeat without `as`",
        "a",
    );
    fails(
        "input 5\nrepeat 2 as block\n  conv: dense 2\n  conv: dense 3\n",
        &defaults,
        "netcalc::parameters::duplicate_name",
        "two layers are named `block.0.conv` once the repeats are expanded (copy 0 of `block`)",
        "conv",
    );
    fails(
        "input 5\nblock.1.a: dense 3\nrepeat 2 as block\n  repeat 1 as inner\n    dense 2\n  a: dense 2\n",
        &defaults,
        "netcalc::parameters::duplicate_name",
        "two layers are named `block.1.a` once the repeats are expanded (copy 1 of `block`)",
        "a",
    );
    fails(
        "input 5\nrepeat 100000\n  dense 2\n",
        &defaults,
        "netcalc::parameters::too_many_layers",
        "the repeats expand to more than 100000 layers",
        "dense 2",
    );
    fails(
        "input 5\nrepeat 9223372036854775807\n  repeat 0\n    dense 2\n",
        &defaults,
        "netcalc::parameters::too_many_copies",
        "the repeats make more than 1000000 copies",
        "repeat 9223372036854775807",
    );
}

#[test]
fn two_plain_layers_of_one_name_are_left_to_the_graph() {
    let description = read("input 5\na: dense 2\na: dense 3\n");
    assert!(instantiate(&description, &Configuration::defaults()).is_ok());
}
