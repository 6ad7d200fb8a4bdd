//! Every number in exercise sheet 5's parameter and connection tables, read back from netcalc's
//! output. The expected values are transcribed from ../shared/reference/exercise-sheet-5.txt (and,
//! where named, from the 1998 LeNet paper and the VGG paper); netcalc computes them from the
//! descriptions in architectures/.

use std::process::Command;

fn netcalc(arguments: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_netcalc"))
        .args(arguments)
        .output()
        .expect("netcalc runs");
    assert!(
        output.status.success(),
        "netcalc {arguments:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("UTF-8 output")
}

fn analysis(network: &str) -> serde_json::Value {
    serde_json::from_str(&netcalc(&["summary", network, "--format", "json"])).expect("JSON")
}

fn total(network: &str, key: &str) -> u64 {
    analysis(network)["totals"][key].as_u64().expect("a count")
}

/// The cells of a Markdown table printed by netcalc, by row name (first cell).
fn markdown_rows(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .filter(|line| line.starts_with("| ") && !line.starts_with("| ---"))
        .map(|line| {
            line.trim_matches('|')
                .split(" | ")
                .map(|cell| cell.trim().to_string())
                .collect()
        })
        .collect()
}

/// A cell as the sheet prints it, normalised to netcalc's notation: LaTeX `$`, `\cdot` and
/// spaces removed.
fn sheet_cell(cell: &str) -> String {
    cell.replace('$', "")
        .replace("\\cdot", "·")
        .replace(' ', "")
}

fn netcalc_cell(cell: &str) -> String {
    cell.replace(' ', "")
}

/// Compares netcalc's `table` rows with the sheet's rows (name, input, size formula, output,
/// parameters). The sheet's first column also lists settings, so only names are compared there.
fn assert_table(network: &str, sheet: &[[&str; 5]]) {
    let rows = markdown_rows(&netcalc(&["table", network, "--format", "markdown"]));
    let body: Vec<&Vec<String>> = rows
        .iter()
        .skip(1)
        .filter(|row| row[0] != "Total")
        .collect();
    assert_eq!(body.len(), sheet.len(), "rows of {network}");
    for (ours, theirs) in body.iter().zip(sheet) {
        let name = theirs[0].split_whitespace().next().unwrap_or_default();
        assert!(ours[0].starts_with(name), "{} is not {name}", ours[0]);
        assert_eq!(
            netcalc_cell(&ours[1]),
            sheet_cell(theirs[1]),
            "input of {name}"
        );
        if theirs[2] != "–" {
            assert_eq!(
                netcalc_cell(&ours[2]),
                sheet_cell(theirs[2]),
                "size formula of {name}"
            );
        } else {
            assert_eq!(ours[2], "–", "size formula of {name}");
        }
        assert_eq!(
            netcalc_cell(&ours[3]),
            sheet_cell(theirs[3]),
            "output of {name}"
        );
        assert_eq!(
            netcalc_cell(&ours[4]),
            sheet_cell(theirs[4]),
            "parameters of {name}"
        );
    }
}

#[test]
fn exercise_4c_alexnet_table() {
    assert_table(
        "alexnet",
        &[
            [
                "CONV1",
                "[227×227×3]",
                "$(227-11)/4+1=55$",
                "[55×55×96]",
                "$11 \\cdot 11 \\cdot 3 \\cdot 96 + 96 = 34944$ (0.056%)",
            ],
            [
                "MAXPOOL1",
                "[55×55×96]",
                "$(55-3)/2+1 = 27$",
                "[27×27×96]",
                "0",
            ],
            ["NORM", "[27×27×96]", "–", "[27×27×96]", "0"],
            [
                "CONV2",
                "[27×27×96]",
                "$(27-5+4)/1+1 = 27$",
                "[27×27×256]",
                "$5 \\cdot 5 \\cdot 96 \\cdot 256 + 256 = 614656$ (0.99%)",
            ],
            [
                "MAXPOOL2",
                "[27×27×256]",
                "$(27-3)/2+1 = 13$",
                "[13×13×256]",
                "0",
            ],
            ["NORM2", "[13×13×256]", "–", "[13×13×256]", "0"],
            [
                "CONV3",
                "[13×13×256]",
                "$(13-3+2)/1+1 = 13$",
                "[13×13×384]",
                "$3 \\cdot 3 \\cdot 256 \\cdot 384 + 384 = 885120$ (1.42%)",
            ],
            [
                "CONV4",
                "[13×13×384]",
                "$(13-3+2)/1+1 = 13$",
                "[13×13×384]",
                "$3 \\cdot 3 \\cdot 384 \\cdot 384 + 384 = 1327488$ (2.13%)",
            ],
            [
                "CONV5",
                "[13×13×384]",
                "$(13-3+2)/1+1 = 13$",
                "[13×13×256]",
                "$3 \\cdot 3 \\cdot 384 \\cdot 256 + 256 = 884992$ (1.42%)",
            ],
            [
                "MAXPOOL3",
                "[13×13×256]",
                "$(13-3)/2+1 = 6$",
                "[6×6×256]",
                "0",
            ],
            [
                "FC6",
                "[6×6×256]",
                "–",
                "4096",
                "$6 \\cdot 6 \\cdot 256 \\cdot 4096 + 4096 = 37752832$ (60.52%)",
            ],
            [
                "FC7",
                "4096",
                "–",
                "4096",
                "$4096 \\cdot 4096 + 4096 = 16781312$ (26.90%)",
            ],
            [
                "FC8",
                "4096",
                "–",
                "1000",
                "$4096 \\cdot 1000 + 1000 = 4097000$ (6.57%)",
            ],
        ],
    );
    assert_eq!(total("alexnet", "parameters"), 62_378_344);
    let table = netcalc(&["table", "alexnet"]);
    assert!(table.contains(
        "Total number of parameters: 34944 + 614656 + 885120 + 1327488 + 884992 + 37752832 + 16781312 + 4097000 = 62378344"
    ));
}

#[test]
fn exercise_3b_keras_mnist_cnn_table() {
    assert_table(
        "keras-mnist-cnn",
        &[
            [
                "CONV1",
                "[28×28×1]",
                "$(28-3)/1+1=26$",
                "[26×26×32]",
                "$3 \\cdot 3 \\cdot 1 \\cdot 32 + 32 = 320$ (0.027%)",
            ],
            [
                "CONV2",
                "[26×26×32]",
                "$(26-3)/1+1 = 24$",
                "[24×24×64]",
                "$3 \\cdot 3 \\cdot 32 \\cdot 64 + 64 = 18496$ (1.54%)",
            ],
            [
                "MAXPOOL1",
                "[24×24×64]",
                "$(24-2)/2+1 = 12$",
                "[12×12×64]",
                "0",
            ],
            ["DROPOUT", "[12×12×64]", "–", "[12×12×64]", "0"],
            [
                "DENSE1",
                "[12×12×64]",
                "–",
                "128",
                "$12 \\cdot 12 \\cdot 64 \\cdot 128 + 128 = 1179776$ (98.32%)",
            ],
            ["DROPOUT", "128", "–", "128", "0"],
            [
                "DENSE2",
                "128",
                "–",
                "10",
                "$128 \\cdot 10 + 10 = 1290$ (0.11%)",
            ],
        ],
    );
    assert_eq!(total("keras-mnist-cnn", "parameters"), 1_199_882);
}

#[test]
fn exercise_3b_variations_and_grid_search() {
    assert_eq!(total("keras-mnist-cnn-deeper", "parameters"), 97_482);
    assert_eq!(total("keras-mnist-cnn-small", "parameters"), 63_124);
    assert_eq!(total("keras-mnist-cnn-gap", "parameters"), 167_818);
    assert_eq!(total("keras-mnist-grid-best", "parameters"), 650_698);
    // The parametrised grid model, analysed with its defaults (the best configuration).
    assert_eq!(total("keras-mnist-grid", "parameters"), 650_698);
}

#[test]
fn exercise_4a_mlp() {
    assert_eq!(total("mlp-784-100-100-10", "parameters"), 89_610);
}

/// The sheet's two LeNet-5 summaries (exercise 4b): per layer receptive field, parameters to
/// learn and connections without / with bias; the second number of each (*) pair is the original
/// C3 table's.
#[test]
fn exercise_4b_lenet_summaries() {
    // Layer, receptive field, then (fully connected C3, C3 table) pairs of parameters to learn,
    // connections without bias and connections with bias.
    type Row = (&'static str, &'static str, [u64; 2], [u64; 2], [u64; 2]);
    let sheet: [Row; 7] = [
        ("C1", "5×5", [156, 156], [117600, 117600], [122304, 122304]),
        ("S2", "2×2", [0, 0], [4704, 4704], [5880, 5880]),
        (
            "C3",
            "5×5",
            [2416, 1516],
            [240000, 150000],
            [241600, 151600],
        ),
        ("S4", "2×2", [0, 0], [1600, 1600], [2000, 2000]),
        ("C5", "5×5", [48120, 48120], [48000, 48000], [48120, 48120]),
        (
            "F6",
            "All neurons (fully connected)",
            [10164, 10164],
            [10080, 10080],
            [10164, 10164],
        ),
        (
            "Output",
            "All neurons (fully connected)",
            [850, 850],
            [840, 840],
            [850, 850],
        ),
    ];
    let sums = [[61706, 60806], [422824, 332824], [430918, 340918]];
    for (variant, network) in ["lenet-5", "lenet-5-table"].into_iter().enumerate() {
        let rows = markdown_rows(&netcalc(&["connections", network, "--format", "markdown"]));
        for (name, field, parameters, without, with) in sheet {
            let row = rows.iter().find(|row| row[0] == name).expect("row");
            assert_eq!(row[1], field, "{network} {name}");
            assert_eq!(row[2], parameters[variant].to_string(), "{network} {name}");
            assert_eq!(row[3], without[variant].to_string(), "{network} {name}");
            assert_eq!(row[4], with[variant].to_string(), "{network} {name}");
        }
        let sum = rows.iter().find(|row| row[0] == "Sum").expect("sum row");
        assert_eq!(sum[2], sums[0][variant].to_string());
        assert_eq!(sum[3], sums[1][variant].to_string());
        assert_eq!(sum[4], sums[2][variant].to_string());
    }
}

/// LeCun et al. 1998, section II.B: 60,000 trainable parameters, 340,908 connections; S2 and S4
/// have 12 and 32 trainable parameters; the RBF output has 840 connections.
#[test]
fn lenet_5_of_the_1998_paper() {
    assert_eq!(total("lenet-5-1998", "trainable"), 60_000);
    assert_eq!(total("lenet-5-1998", "connections_with_bias"), 340_908);
    let layers = analysis("lenet-5-1998")["layers"].clone();
    let trainable = |name: &str| {
        layers
            .as_array()
            .and_then(|layers| layers.iter().find(|layer| layer["name"] == name))
            .map(|layer| {
                layer["parameters"]["trainable"]
                    .as_u64()
                    .unwrap_or(u64::MAX)
            })
    };
    assert_eq!(trainable("S2"), Some(12));
    assert_eq!(trainable("S4"), Some(32));
    assert_eq!(trainable("Output"), Some(0));
}

#[test]
fn vgg_16_parameters_and_receptive_field() {
    assert_eq!(total("vgg-16", "parameters"), 138_357_544);
    let layers = analysis("vgg-16")["layers"].clone();
    let pool5 = layers
        .as_array()
        .and_then(|layers| layers.iter().find(|layer| layer["name"] == "pool5"))
        .expect("pool5")
        .clone();
    assert_eq!(
        pool5["receptive_field"]["input"]["size"],
        serde_json::json!([212, 212])
    );
}

#[test]
fn lenet_c5_sees_the_whole_32_by_32_input() {
    let layers = analysis("lenet-5")["layers"].clone();
    let c5 = layers
        .as_array()
        .and_then(|layers| layers.iter().find(|layer| layer["name"] == "C5"))
        .expect("C5")
        .clone();
    assert_eq!(
        c5["receptive_field"]["input"]["size"],
        serde_json::json!([32, 32])
    );
}

/// Two sentences of exercise 4b disagree with their own formulas; the formulas' numbers are the
/// right ones and netcalc prints them. S4: "connected to (2×2+1) units" but the count without bias
/// is 5×5×16×2×2 = 1600 (the sentence would give 2000). C5: "connected to the (5×5+1) units ... in
/// 16 input filters" but the count is 120×(5×5×16+1) = 48120 (the sentence would give
/// 120×16×(5×5+1) = 49920).
#[test]
fn where_the_sheet_text_slips_netcalc_keeps_the_formula() {
    let rows = markdown_rows(&netcalc(&[
        "connections",
        "lenet-5",
        "--format",
        "markdown",
    ]));
    let s4 = rows.iter().find(|row| row[0] == "S4").expect("S4");
    assert_eq!(s4[3], "1600");
    assert_ne!(s4[3], (5 * 5 * 16 * (2 * 2 + 1)).to_string());
    let c5 = rows.iter().find(|row| row[0] == "C5").expect("C5");
    assert_eq!(c5[4], "48120");
    assert_ne!(c5[4], (120 * 16 * (5 * 5 + 1)).to_string());
}
