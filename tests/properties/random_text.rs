//! Random text never panics: arbitrary strings and bytes, and text built from pieces of real
//! descriptions (the catalogue's kinds and keys, edge-case numbers, shapes, inputs, assertions,
//! and the lines of the files in architectures/, shuffled and broken), through both readers and
//! the whole pipeline. The structured texts must mostly get past the reader, so that the
//! properties keep exercising graph building and analysis.

use crate::catalogue::{KindFacts, all_keys, all_names, kinds};
use crate::pipeline::{self, Reached};
use crate::values::{EXPECT_KEYS, integer, number, size, word};
use netcalc::syntax::{Format, Value};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::{Index, select};
use std::sync::OnceLock;

/// Layer names that are identifiers in both formats.
fn plain_name() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => select(vec!["a", "b", "c", "C1", "S2", "input_1", "conv2d_1", "dense_1"])
            .prop_map(str::to_string),
        1 => "[A-Za-z_][A-Za-z0-9_]{0,5}",
    ]
}

/// A value as written: numbers at the edges, shapes, words, lists, inline tables.
fn value_token() -> impl Strategy<Value = String> {
    prop_oneof![
        5 => integer().prop_map(|n| n.to_string()),
        1 => select(vec![
            "18446744073709551615",
            "18446744073709551616",
            "4294967296",
            "99999999999999999999",
            "-0",
            "1e999",
        ])
        .prop_map(str::to_string),
        4 => vec(size(), 2..4).prop_map(|sizes| join(&sizes, "x")),
        1 => (size(), size(), size()).prop_map(|(maps, height, width)| format!("{maps}@{height}x{width}")),
        1 => number().prop_map(|x| x.to_string()),
        3 => word(),
        1 => any::<bool>().prop_map(|b| b.to_string()),
        1 => vec(integer(), 0..4).prop_map(|items| format!("[{}]", join(&items, ", "))),
        1 => select(vec!["X./.X", "XX./", "X", ".X/X./"]).prop_map(str::to_string),
    ]
}

fn join<T: ToString>(items: &[T], separator: &str) -> String {
    items
        .iter()
        .map(T::to_string)
        .collect::<Vec<_>>()
        .join(separator)
}

fn attribute_key() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => select(all_keys()).prop_map(str::to_string),
        1 => "[a-z_]{1,8}",
    ]
}

fn kind_name() -> impl Strategy<Value = String> {
    prop_oneof![
        10 => select(all_names()).prop_map(str::to_string),
        1 => select(vec!["conv3d", "Dense", "maxpol", "expect", "network"]).prop_map(str::to_string),
    ]
}

fn grid_rows() -> impl Strategy<Value = Vec<String>> {
    (1..7_usize, 1..17_usize).prop_flat_map(|(rows, columns)| {
        vec(
            vec(any::<bool>(), columns).prop_map(|row| {
                row.iter()
                    .map(|&on| if on { 'X' } else { '.' })
                    .collect::<String>()
            }),
            rows,
        )
    })
}

fn input_shape() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => (1_u64..=40, 1_u64..=40, 1_u64..=4).prop_map(|(h, w, c)| format!("{h}x{w}x{c}")),
        1 => (1_u64..=4, 1_u64..=40, 1_u64..=40).prop_map(|(c, h, w)| format!("{c}@{h}x{w}")),
        1 => (1_u64..=1000).prop_map(|n| n.to_string()),
        1 => value_token(),
    ]
}

/// A kind of the catalogue under one of its names with attributes it mostly accepts, or, now
/// and then, a kind that does not exist with keys and values from anywhere.
fn kind_and_attributes(format: Format) -> impl Strategy<Value = (String, Vec<(String, String)>)> {
    let real =
        select(kinds().iter().collect::<Vec<&'static KindFacts>>()).prop_flat_map(move |kind| {
            (
                select(kind.names.clone()),
                kind.attributes(3, crate::values::any_value().boxed()),
            )
                .prop_map(move |(name, attributes)| {
                    let attributes = attributes
                        .iter()
                        .map(|(key, value)| (key.to_string(), token(value, format)))
                        .collect();
                    (name.to_string(), attributes)
                })
        });
    let made_up = (kind_name(), vec((attribute_key(), value_token()), 0..4));
    prop_oneof![10 => real, 1 => made_up]
}

/// A value as a DSL token or a YAML value.
fn token(value: &Value, format: Format) -> String {
    match value {
        Value::Integer(n) => n.to_string(),
        Value::Number(x) => format!("{x:?}"),
        Value::Boolean(b) => b.to_string(),
        Value::Text(text)
            if !text.is_empty() && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') =>
        {
            text.clone()
        }
        Value::Text(text) => format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\"")),
        Value::Dims(dims) => join(dims, "x"),
        Value::Grid(grid) => {
            let rows: Vec<String> = grid
                .iter()
                .map(|row| row.iter().map(|&on| if on { 'X' } else { '.' }).collect())
                .collect();
            match format {
                Format::Dsl => format!("{}/", rows.join("/")),
                Format::Yaml => {
                    let rows: Vec<String> = rows.iter().map(|row| format!("      {row}")).collect();
                    format!("|\n{}", rows.join("\n"))
                }
            }
        }
        Value::Reference(name) => format!("${name}"),
        Value::List(items) => {
            let items: Vec<String> = items.iter().map(|item| token(item, format)).collect();
            format!("[{}]", items.join(", "))
        }
    }
}

/// One DSL layer statement over the real catalogue: the leading values sometimes without keys.
fn dsl_layer() -> impl Strategy<Value = String> {
    (
        proptest::option::weighted(0.5, plain_name()),
        kind_and_attributes(Format::Dsl),
        any::<bool>(),
        proptest::option::weighted(0.1, grid_rows()),
        proptest::option::weighted(0.3, vec(plain_name(), 1..3)),
        proptest::option::weighted(
            0.3,
            vec((select(EXPECT_KEYS.to_vec()), value_token()), 1..3),
        ),
    )
        .prop_map(
            |(name, (kind, attributes), positional, table, inputs, expect)| {
                let mut line = String::new();
                if let Some(name) = name {
                    line.push_str(&format!("{name}: "));
                }
                line.push_str(&kind);
                let positionals = netcalc::layers::positional_keys(&kind);
                let mut keyed = false;
                for (index, (key, value)) in attributes.iter().enumerate() {
                    keyed |= !positional || positionals.get(index) != Some(&key.as_str());
                    if keyed {
                        line.push_str(&format!(" {key}={value}"));
                    } else {
                        line.push_str(&format!(" {value}"));
                    }
                }
                if let Some(rows) = table {
                    line.push_str(" table=\n");
                    for row in rows {
                        line.push_str(&format!("    {row}\n"));
                    }
                    line.push_str("   ");
                }
                if let Some(inputs) = inputs {
                    line.push_str(&format!(" <- {}", inputs.join(", ")));
                }
                if let Some(expect) = expect {
                    line.push_str(" expect");
                    for (key, value) in expect {
                        line.push_str(&format!(" {key}={value}"));
                    }
                }
                line
            },
        )
}

fn dsl_statement() -> impl Strategy<Value = String> {
    prop_oneof![
        (plain_name()).prop_map(|name| format!("network {name}")),
        Just("about \"generated\"".to_string()),
        rounding().prop_map(|rounding| format!("rounding {rounding}")),
        vec((select(EXPECT_KEYS.to_vec()), value_token()), 1..3).prop_map(|pairs| {
            let pairs: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
            format!("expect {}", pairs.join(" "))
        }),
        Just("train epochs=2".to_string()),
        Just("# a comment".to_string()),
    ]
}

fn rounding() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => select(vec!["exact", "floor", "ceil"]).prop_map(str::to_string),
        1 => word(),
    ]
}

/// Every statement of the DSL files in architectures/ (a line with its continuation lines).
fn real_dsl_statements() -> &'static [String] {
    static STATEMENTS: OnceLock<Vec<String>> = OnceLock::new();
    STATEMENTS.get_or_init(|| {
        let mut statements: Vec<String> = Vec::new();
        for text in architecture_files("nn") {
            for line in text.lines() {
                let continues = line.starts_with([' ', '\t']);
                match statements.last_mut() {
                    Some(last) if continues => {
                        last.push('\n');
                        last.push_str(line);
                    }
                    _ => statements.push(line.to_string()),
                }
            }
        }
        statements
    })
}

/// The texts of the files in architectures/ with this extension.
fn architecture_files(extension: &str) -> Vec<String> {
    let directory = concat!(env!("CARGO_MANIFEST_DIR"), "/architectures");
    let mut paths: Vec<_> = std::fs::read_dir(directory)
        .expect("architectures/ is readable")
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == extension))
        .collect();
    paths.sort();
    let texts: Vec<String> = paths
        .iter()
        .map(|path| std::fs::read_to_string(path).expect("an architecture file is text"))
        .collect();
    assert!(!texts.is_empty(), "no .{extension} files in architectures/");
    texts
}

/// Text that breaks a line now and then.
fn junk() -> impl Strategy<Value = &'static str> {
    select(vec![
        "=", ":", ";", "[", "]", "\"", "<-", ",", "#", "\t", "\\", "expect", "x=", "\u{0}", "é",
        "-",
    ])
}

/// DSL text: often an input line, then generated and real statements, now and then broken by a
/// stray token.
fn dsl_text() -> impl Strategy<Value = String> {
    let line = prop_oneof![
        6 => dsl_layer(),
        2 => dsl_statement(),
        3 => select(real_dsl_statements().to_vec()),
    ];
    (
        proptest::option::weighted(0.85, input_shape()),
        vec(line, 0..8),
        proptest::option::weighted(0.15, (any::<Index>(), junk())),
    )
        .prop_map(|(input, lines, junk)| {
            let mut text = String::new();
            if let Some(shape) = input {
                text.push_str(&format!("input {shape}\n"));
            }
            for line in lines {
                text.push_str(&line);
                text.push('\n');
            }
            if let Some((at, junk)) = junk {
                let boundaries: Vec<usize> = text.match_indices(' ').map(|(i, _)| i).collect();
                if !boundaries.is_empty() {
                    let at = boundaries[at.index(boundaries.len())];
                    text.insert_str(at, &format!(" {junk}"));
                }
            }
            text
        })
}

/// A YAML scalar or flow value as written.
fn yaml_value() -> impl Strategy<Value = String> {
    prop_oneof![
        12 => value_token(),
        1 => grid_rows().prop_map(|rows| {
            let mut block = "|\n".to_string();
            for row in rows {
                block.push_str(&format!("      {row}\n"));
            }
            block.trim_end().to_string()
        }),
        1 => Just(String::new()),
    ]
}

fn yaml_layer() -> impl Strategy<Value = String> {
    (
        kind_and_attributes(Format::Yaml),
        proptest::option::weighted(0.5, plain_name()),
        proptest::option::weighted(0.05, yaml_value()),
        proptest::option::weighted(0.3, vec(plain_name(), 1..3)),
        proptest::option::weighted(
            0.3,
            vec((select(EXPECT_KEYS.to_vec()), value_token()), 1..3),
        ),
    )
        .prop_map(|((kind, attributes), name, stray, inputs, expect)| {
            let mut item = format!("  - kind: {kind}\n");
            if let Some(name) = name {
                item.push_str(&format!("    name: {name}\n"));
            }
            for (key, value) in attributes {
                item.push_str(&format!("    {key}: {value}\n"));
            }
            if let Some(value) = stray {
                item.push_str(&format!("    stride: {value}\n"));
            }
            if let Some(inputs) = inputs {
                item.push_str(&format!("    inputs: [{}]\n", inputs.join(", ")));
            }
            if let Some(expect) = expect {
                let pairs: Vec<String> = expect.iter().map(|(k, v)| format!("{k}: {v}")).collect();
                item.push_str(&format!("    expect: {{{}}}\n", pairs.join(", ")));
            }
            item
        })
}

/// A YAML document over the real catalogue, sometimes with a line broken by a stray token.
fn yaml_text() -> impl Strategy<Value = String> {
    (
        proptest::option::weighted(0.5, plain_name()),
        proptest::option::weighted(0.3, rounding()),
        proptest::option::weighted(0.85, input_shape()),
        vec(yaml_layer(), 0..7),
        proptest::option::weighted(0.2, (select(EXPECT_KEYS.to_vec()), value_token())),
        proptest::option::weighted(0.15, (any::<Index>(), junk())),
    )
        .prop_map(|(name, rounding, input, layers, expect, junk)| {
            let mut text = String::new();
            if let Some(name) = name {
                text.push_str(&format!("name: {name}\n"));
            }
            if let Some(rounding) = rounding {
                text.push_str(&format!("rounding: {rounding}\n"));
            }
            if let Some(shape) = input {
                text.push_str(&format!("input: {shape}\n"));
            }
            text.push_str("layers:\n");
            for layer in layers {
                text.push_str(&layer);
            }
            if let Some((key, value)) = expect {
                text.push_str(&format!("expect: {{{key}: {value}}}\n"));
            }
            if let Some((at, junk)) = junk {
                let boundaries: Vec<usize> = text.match_indices('\n').map(|(i, _)| i).collect();
                let at = boundaries[at.index(boundaries.len())];
                text.insert_str(at, junk);
            }
            text
        })
}

/// A change to a real file.
#[derive(Debug, Clone)]
enum Mutation {
    Delete(Index),
    Duplicate(Index),
    Swap(Index, Index),
    ReplaceToken(Index, String),
    Truncate(Index),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        2 => any::<Index>().prop_map(Mutation::Delete),
        2 => any::<Index>().prop_map(Mutation::Duplicate),
        1 => (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Mutation::Swap(a, b)),
        4 => (any::<Index>(), value_token()).prop_map(|(at, token)| Mutation::ReplaceToken(at, token)),
        1 => any::<Index>().prop_map(Mutation::Truncate),
    ]
}

/// A file of architectures/ with a few lines deleted, repeated, swapped, a token replaced (often
/// a number by an edge case), or the text cut short.
fn mutated_file(extension: &'static str) -> impl Strategy<Value = String> {
    (select(architecture_files(extension)), vec(mutation(), 0..4)).prop_map(|(text, mutations)| {
        let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
        let mut truncate_at = None;
        for mutation in mutations {
            if lines.is_empty() {
                break;
            }
            match mutation {
                Mutation::Delete(at) => {
                    lines.remove(at.index(lines.len()));
                }
                Mutation::Duplicate(at) => {
                    let at = at.index(lines.len());
                    let line = lines[at].clone();
                    lines.insert(at, line);
                }
                Mutation::Swap(a, b) => {
                    let (a, b) = (a.index(lines.len()), b.index(lines.len()));
                    lines.swap(a, b);
                }
                Mutation::ReplaceToken(at, token) => {
                    let at = at.index(lines.len());
                    let line = &mut lines[at];
                    // The last word of the line (a value, more often than not).
                    let last = line
                        .split_inclusive([' ', ':', '='])
                        .scan(0, |offset, word| {
                            let start = *offset;
                            *offset += word.len();
                            Some((start, word.trim_end_matches([' ', ':', '=']).len()))
                        })
                        .filter(|&(_, length)| length > 0)
                        .last();
                    if let Some((start, length)) = last {
                        line.replace_range(start..start + length, &token);
                    }
                }
                Mutation::Truncate(at) => truncate_at = Some(at),
            }
        }
        let mut text = lines.join("\n");
        if let Some(at) = truncate_at {
            let mut cut = at.index(text.len() + 1);
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.truncate(cut);
        }
        text
    })
}

#[test]
fn random_strings_never_panic() {
    let tally = pipeline::tally(256, any::<String>(), |text| {
        pipeline::text(&text, Format::Dsl);
        pipeline::text(&text, Format::Yaml)
    });
    assert!(tally.total() > 0);
}

#[test]
fn random_bytes_never_panic() {
    let tally = pipeline::tally(256, vec(any::<u8>(), 0..200), |bytes| {
        let text = String::from_utf8_lossy(&bytes);
        pipeline::text(&text, Format::Dsl);
        pipeline::text(&text, Format::Yaml)
    });
    assert!(tally.total() > 0);
}

#[test]
fn dsl_like_text_never_panics() {
    let tally = pipeline::tally(256, dsl_text(), |text| pipeline::text(&text, Format::Dsl));
    tally.require("DSL-like text", Reached::Unbuilt, 40);
    tally.require("DSL-like text", Reached::Unanalysed, 10);
    tally.require("DSL-like text", Reached::Analysed, 3);
}

#[test]
fn yaml_like_text_never_panics() {
    let tally = pipeline::tally(256, yaml_text(), |text| pipeline::text(&text, Format::Yaml));
    tally.require("YAML-like text", Reached::Unbuilt, 40);
    tally.require("YAML-like text", Reached::Unanalysed, 5);
    tally.require("YAML-like text", Reached::Analysed, 3);
}

#[test]
fn broken_architecture_files_never_panic() {
    let tally = pipeline::tally(128, mutated_file("nn"), |text| {
        pipeline::text(&text, Format::Dsl)
    });
    tally.require("mutated DSL files", Reached::Unbuilt, 50);
    tally.require("mutated DSL files", Reached::Analysed, 10);
    let tally = pipeline::tally(128, mutated_file("yaml"), |text| {
        pipeline::text(&text, Format::Yaml)
    });
    tally.require("mutated YAML files", Reached::Unbuilt, 30);
    tally.require("mutated YAML files", Reached::Analysed, 10);
}
