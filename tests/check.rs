//! `netcalc check` through the real binary: the exercise sheet's tables, copied exactly as
//! printed (tests/fixtures/hand/sheet-*), pass; tables with one planted error each
//! (tests/fixtures/hand/planted/) are caught, and each problem is reported as the right kind, in
//! the right row and column. The JSON report is read so that kinds are compared exactly.

use std::process::{Command, Output};

fn netcalc(arguments: &[&str], stdin: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_netcalc"));
    command.args(arguments);
    match stdin {
        None => command.output().expect("netcalc runs"),
        Some(text) => {
            use std::io::Write;
            command
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped());
            let mut child = command.spawn().expect("netcalc runs");
            child
                .stdin
                .take()
                .expect("stdin")
                .write_all(text.as_bytes())
                .expect("writes");
            child.wait_with_output().expect("netcalc ends")
        }
    }
}

/// The exit code and the findings as (kind, row, column).
fn check(network: &str, table: &str, extra: &[&str]) -> (i32, Vec<(String, String, String)>) {
    let path = format!("tests/fixtures/hand/{table}");
    let mut arguments = vec!["check", network, path.as_str(), "--format", "json"];
    arguments.extend_from_slice(extra);
    let output = netcalc(&arguments, None);
    let report: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("a JSON report on stdout");
    let text = |value: &serde_json::Value| value.as_str().unwrap_or_default().to_string();
    let findings = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| (text(&f["kind"]), text(&f["row"]), text(&f["column"])))
        .collect();
    (output.status.code().unwrap_or(-1), findings)
}

fn owned(expected: &[(&str, &str, &str)]) -> Vec<(String, String, String)> {
    expected
        .iter()
        .map(|(k, r, c)| (k.to_string(), r.to_string(), c.to_string()))
        .collect()
}

#[test]
fn the_sheets_tables_pass() {
    for (network, table, extra) in [
        ("keras-mnist-cnn", "sheet-3b-keras-mnist-cnn.tsv", &[][..]),
        ("mlp-784-100-100-10", "sheet-4a-mlp.txt", &[]),
        ("lenet-5", "sheet-4b-lenet-5.tsv", &[]),
        (
            "lenet-5-table",
            "sheet-4b-lenet-5.tsv",
            &["--variant", "starred"],
        ),
        ("alexnet", "sheet-4c-alexnet.tsv", &[]),
        ("mnist-lstm", "mnist-lstm.md", &[]),
    ] {
        let (code, findings) = check(network, table, extra);
        assert_eq!(findings, vec![], "{table} against {network}");
        assert_eq!(code, 0, "{table} against {network}");
    }
}

/// LaTeX inside parentheses: settings beside a name (`CONV1 ($F=3$, $K=32$)`), a result with its
/// formula (`320 ($3 \cdot 3 \cdot 1 \cdot 32 + 32$)`, also with a percentage beside it), and a
/// total line with its equation (`0.32 million ($314000 + 4010 = 318010$)`). Written right, they
/// pass; with one error planted in each, each is caught.
#[test]
fn latex_inside_parentheses_is_read_and_checked() {
    for (network, table) in [
        ("keras-mnist-cnn", "latex-in-parentheses.tsv"),
        ("mlp-784-400-10", "total-with-equation-in-parentheses.tsv"),
    ] {
        assert_eq!(check(network, table, &[]), (0, vec![]), "{table}");
        let planted = format!("planted/{table}");
        let (code, findings) = check(network, &planted, &[]);
        assert_eq!(code, 1, "{planted}");
        let expected: &[(&str, &str, &str)] = match network {
            "keras-mnist-cnn" => &[
                ("value", "CONV1", "Name"),
                ("arithmetic", "CONV1", PARAMS),
                ("value", "CONV1", PARAMS),
                ("arithmetic", "CONV2", PARAMS),
                ("arithmetic", "CONV2", PARAMS),
                ("value", "DENSE1", PARAMS),
                ("value", "Total", "parameters"),
            ],
            _ => &[
                ("value", "Total", "parameters"),
                ("arithmetic", "Total", "parameters"),
                ("value", "Total", "parameters"),
            ],
        };
        assert_eq!(findings, owned(expected), "{planted}");
    }
}

#[test]
fn the_starred_numbers_belong_to_the_c3_table() {
    let (code, findings) = check("lenet-5-table", "sheet-4b-lenet-5.tsv", &[]);
    assert_eq!(code, 1);
    let rows: Vec<&str> = findings.iter().map(|(_, row, _)| row.as_str()).collect();
    assert_eq!(
        rows,
        vec!["C3", "C3", "Sum", "Sum", "C3", "C3", "Sum", "Sum"]
    );
    assert!(findings.iter().all(|(kind, ..)| kind == "value"));
    let (code, findings) = check("lenet-5", "sheet-4b-lenet-5.tsv", &["--variant", "starred"]);
    assert_eq!(code, 1);
    assert_eq!(findings.len(), 8);
}

const PARAMS: &str = "Num. params (% of total parameters)";

/// A finding as (kind, row, column).
type Expected = (&'static str, &'static str, &'static str);

#[test]
fn planted_errors_are_caught_as_their_kind() {
    let cases: &[(&str, &str, &[Expected])] = &[
        (
            "wrong-value.tsv",
            "lenet-5",
            &[("value", "C5", "Parameters to learn")],
        ),
        (
            "wrong-arithmetic.tsv",
            "keras-mnist-cnn",
            &[("arithmetic", "CONV1", PARAMS), ("value", "CONV1", PARAMS)],
        ),
        (
            "wrong-intermediate.tsv",
            "alexnet",
            &[
                ("arithmetic", "CONV1", PARAMS),
                ("arithmetic", "CONV1", PARAMS),
            ],
        ),
        (
            "right-number-wrong-formula.tsv",
            "alexnet",
            &[("formula", "CONV2", PARAMS)],
        ),
        (
            "wrong-depth.tsv",
            "alexnet",
            &[
                ("value", "CONV2", PARAMS),
                ("value", "CONV2", PARAMS),
                ("formula", "CONV2", PARAMS),
            ],
        ),
        (
            "wrong-percentage.tsv",
            "alexnet",
            &[("value", "FC7", PARAMS)],
        ),
        (
            "wrong-total.tsv",
            "alexnet",
            &[
                ("arithmetic", "Total", "parameters"),
                ("value", "Total", "parameters"),
            ],
        ),
        (
            "total-leaves-out-a-layer.tsv",
            "keras-mnist-cnn",
            &[
                ("arithmetic", "Total", "parameters"),
                ("formula", "Total", "parameters"),
            ],
        ),
        (
            "wrong-rounded-total.tsv",
            "alexnet",
            &[("value", "Total", "parameters")],
        ),
        ("missing-row.tsv", "lenet-5", &[("missing_row", "S4", "")]),
        (
            "lstm-input-as-units.md",
            "mnist-lstm",
            &[
                ("value", "lstm", "Parameters"),
                ("formula", "lstm", "Parameters"),
            ],
        ),
        ("extra-row.tsv", "alexnet", &[("extra_row", "CONV6", "")]),
        (
            "unreadable-cell.tsv",
            "keras-mnist-cnn",
            &[("unreadable", "DENSE1", PARAMS)],
        ),
        (
            "wrong-stride.tsv",
            "alexnet",
            &[
                ("value", "CONV1", "Output dim. calc."),
                ("formula", "CONV1", "Output dim. calc."),
                ("value", "CONV1", "Output"),
            ],
        ),
        (
            "forgotten-padding.tsv",
            "alexnet",
            &[
                ("value", "CONV2", "Output dim. calc."),
                ("formula", "CONV2", "Output dim. calc."),
            ],
        ),
        (
            "wrong-input-shape.tsv",
            "alexnet",
            &[("value", "FC6", "Input")],
        ),
        (
            "wrong-receptive-field.tsv",
            "lenet-5",
            &[("value", "C3", "Receptive field")],
        ),
        (
            "wrong-sum-row.tsv",
            "lenet-5",
            &[("value", "Sum", "Connections (w/o bias)")],
        ),
        (
            "wrong-setting.tsv",
            "alexnet",
            &[("value", "CONV1", "Name")],
        ),
        (
            "unknown-column.tsv",
            "keras-mnist-cnn",
            &[("unreadable", "header", "Colour")],
        ),
        (
            "wrong-connections.md",
            "lenet-5",
            &[
                ("value", "C1", "Connections (with bias)"),
                ("formula", "C1", "Connections (with bias)"),
            ],
        ),
        (
            "unreadable-percentage.csv",
            "keras-mnist-cnn",
            &[("unreadable", "DENSE2", PARAMS)],
        ),
    ];
    assert!(cases.len() >= 15);
    for (table, network, expected) in cases {
        let (code, findings) = check(network, &format!("planted/{table}"), &[]);
        assert_eq!(findings, owned(expected), "{table}");
        assert_eq!(code, 1, "{table}");
    }
}

#[test]
fn the_formula_finding_names_the_wrong_depth() {
    let output = netcalc(
        &[
            "check",
            "alexnet",
            "tests/fixtures/hand/planted/wrong-depth.tsv",
        ],
        None,
    );
    let text = String::from_utf8(output.stdout).expect("UTF-8");
    assert!(
        text.contains("has 1 where 96 belongs (D: CONV2 reads 96 maps)"),
        "{text}"
    );
    assert!(
        text.ends_with("63 cells checked, 1 wrong (against alexnet)\n"),
        "{text}"
    );
}

#[test]
fn input_that_cannot_be_read_exits_with_2() {
    let output = netcalc(
        &[
            "check",
            "alexnet",
            "tests/fixtures/hand/planted/nothing-to-check.txt",
        ],
        None,
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
    let output = netcalc(&["check", "alexnet", "tests/fixtures/hand/none.tsv"], None);
    assert_eq!(output.status.code(), Some(2));
    let output = netcalc(
        &[
            "check",
            "alexnett",
            "tests/fixtures/hand/sheet-4c-alexnet.tsv",
        ],
        None,
    );
    assert_eq!(output.status.code(), Some(2));
    let directory = tempfile::tempdir().expect("a temporary directory");
    let binary = directory.path().join("table.tsv");
    std::fs::write(&binary, [0xff, 0xfe, b'\t', 0x00]).expect("writes");
    let output = netcalc(
        &["check", "alexnet", binary.to_str().expect("UTF-8 path")],
        None,
    );
    assert_eq!(output.status.code(), Some(2));
    let headers = directory.path().join("headers.tsv");
    std::fs::write(&headers, "Colour\tSmell\nred\tsweet\n").expect("writes");
    let output = netcalc(
        &["check", "alexnet", headers.to_str().expect("UTF-8 path")],
        None,
    );
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn a_dash_reads_the_table_from_stdin() {
    let table = "| Layer | Parameters |\n|---|---|\n| hidden1 | 784·100+100 = 78500 |\n\
                 | hidden2 | 10100 |\n| output | 100x10 + 10 = 1010 |\n| Sum | 89,610 |\n";
    let output = netcalc(&["check", "mlp-784-100-100-10", "-"], Some(table));
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "4 cells checked, 0 wrong (against mlp-784-100-100-10)\n"
    );
    assert_eq!(output.status.code(), Some(0));
}

#[test]
fn netcalcs_own_tables_pass_for_every_built_in() {
    let list = netcalc(&["list"], None);
    let names: Vec<String> = String::from_utf8(list.stdout)
        .expect("UTF-8")
        .lines()
        .skip(1)
        .filter_map(|line| line.split_whitespace().next().map(str::to_string))
        .collect();
    assert!(names.len() >= 10, "{names:?}");
    let directory = tempfile::tempdir().expect("a temporary directory");
    for name in &names {
        for report in ["table", "connections"] {
            for (format, extension) in [("markdown", "md"), ("csv", "csv")] {
                let printed = netcalc(&[report, name, "--format", format], None);
                let path = directory
                    .path()
                    .join(format!("{name}-{report}.{extension}"));
                std::fs::write(&path, &printed.stdout).expect("writes");
                let output = netcalc(&["check", name, path.to_str().expect("UTF-8")], None);
                assert_eq!(
                    output.status.code(),
                    Some(0),
                    "{report} of {name} as {format}: {}",
                    String::from_utf8_lossy(&output.stdout)
                );
            }
        }
    }
}
