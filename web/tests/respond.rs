//! `respond` on the host, against the command line's reviewed goldens (tests/cmd at the
//! workspace's root): the page must show the CLI's bytes.

use netcalc_core::builtin;
use serde_json::{Value, json};
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn call(request: Value) -> Value {
    serde_json::from_str(&netcalc_web::respond(&request.to_string())).unwrap()
}

/// The output a trycmd file records for one command line.
fn golden(file: &str, command: &str) -> String {
    let text = read(file);
    let start = text
        .find(&format!("$ {command}\n"))
        .unwrap_or_else(|| panic!("{file} has no `{command}`"))
        + command.len()
        + 3;
    let end = start + text[start..].find("```").unwrap();
    text[start..end].to_string()
}

fn builtin_text(name: &str) -> &'static str {
    builtin::find(name).unwrap().text
}

#[test]
fn the_reports_are_the_clis_for_built_ins() {
    for name in ["lenet-5", "alexnet"] {
        let response = call(json!({"command": "analyse", "description": builtin_text(name)}));
        assert_eq!(response["ok"], true, "{response}");
        let file = format!("tests/cmd/architectures/{name}.trycmd");
        for report in ["table", "connections", "summary"] {
            let web = response[report].as_str().unwrap();
            let cli = golden(&file, &format!("netcalc {report} {name}"));
            // trycmd keeps the blank line before the closing fence; the text itself is equal.
            assert_eq!(web.trim_end(), cli.trim_end(), "{name} {report}");
            assert!(web.ends_with('\n'));
        }
        assert!(response["svg"].as_str().unwrap().starts_with("<svg"));
        assert_eq!(response["network"], name);
    }
}

#[test]
fn the_layers_are_listed_in_order() {
    let response =
        call(json!({"command": "analyse", "description": read("architectures/lenet-5.nn")}));
    let layers: Vec<&str> = response["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert_eq!(
        layers,
        ["input_1", "C1", "S2", "C3", "S4", "C5", "F6", "Output"]
    );
}

#[test]
fn a_description_error_is_the_clis_message_with_its_line_and_column() {
    let response = call(json!({
        "command": "analyse",
        "description": read("tests/fixtures/broken/kernel-too-large.nn"),
    }));
    assert_eq!(response["ok"], false);
    let cli = read("tests/cmd/errors/kernel-too-large.stderr")
        .replace("tests/fixtures/broken/kernel-too-large.nn", "network.nn");
    assert_eq!(response["error"]["message"], cli);
    assert_eq!(response["error"]["line"], 2);
    assert_eq!(response["error"]["column"], 1);
}

#[test]
fn the_sheets_alexnet_table_has_no_wrong_cell() {
    let response = call(json!({
        "command": "check",
        "description": builtin_text("alexnet"),
        "table": read("tests/fixtures/hand/sheet-4c-alexnet.tsv"),
    }));
    assert_eq!(response["ok"], true, "{response}");
    assert_eq!(response["cells_wrong"], 0);
    let cli = read("tests/cmd/check/sheet-4c-alexnet.stdout");
    assert_eq!(response["text"], cli);
    let cells: Vec<&Value> = response["tables"][0]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|row| row["cells"].as_array().unwrap())
        .collect();
    assert!(cells.iter().all(|cell| cell["state"] != "wrong"));
    // Every checked cell of the table is right; the check also counts the two total lines
    // below it (the sum and "62 million"), which are no cells.
    let right = cells.iter().filter(|cell| cell["state"] == "right").count();
    assert_eq!(
        right as u64 + 2,
        response["cells_checked"].as_u64().unwrap()
    );
    assert!(response["other_findings"].as_array().unwrap().is_empty());
}

#[test]
fn a_planted_error_marks_its_cell_with_the_clis_finding() {
    let table = "tests/fixtures/hand/planted/wrong-depth.tsv";
    let response = call(json!({
        "command": "check",
        "description": builtin_text("alexnet"),
        "table": read(table),
    }));
    assert_eq!(response["ok"], true, "{response}");
    let cli = read("tests/cmd/check/wrong-depth.stdout").replace(table, "table");
    assert_eq!(response["text"], cli);
    let mut wrong = Vec::new();
    for row in response["tables"][0]["rows"].as_array().unwrap() {
        for (index, cell) in row["cells"].as_array().unwrap().iter().enumerate() {
            if cell["state"] == "wrong" {
                wrong.push((row["line"].clone(), index, cell["findings"].clone()));
            }
        }
    }
    // CONV2's parameters (line 5, the fifth column) say depth 1 instead of 96.
    assert_eq!(wrong.len(), 1, "{wrong:?}");
    assert_eq!(wrong[0].0, 5);
    assert_eq!(wrong[0].1, 4);
    let findings: Vec<&str> = wrong[0]
        .2
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    let printed: Vec<&str> = cli.lines().filter(|l| l.starts_with("table:5:")).collect();
    assert_eq!(findings, printed);
    assert_eq!(response["tables"][0]["rows"][3]["layer"], "CONV2");
}

#[test]
fn explain_is_the_clis_text_for_one_layer() {
    let response = call(json!({
        "command": "explain",
        "description": builtin_text("alexnet"),
        "layer": "conv1",
    }));
    assert_eq!(response["layer"], "CONV1");
    // The CLI's explanation of every layer holds this one's, word for word.
    let cli = golden(
        "tests/cmd/explain/alexnet.trycmd",
        "netcalc explain alexnet",
    );
    let text = response["text"].as_str().unwrap();
    assert!(text.starts_with("CONV1"), "{text}");
    assert!(text.len() > 200 && cli.contains(text.trim_end()), "{text}");
}

#[test]
fn the_built_ins_are_all_listed_with_their_texts() {
    let response = call(json!({"command": "builtins"}));
    let list = response["builtins"].as_array().unwrap();
    assert_eq!(list.len(), builtin::BUILTINS.len());
    assert_eq!(list[0]["name"], "lenet-5");
    assert_eq!(list[0]["text"], read("architectures/lenet-5.yaml"));
}

#[test]
fn a_request_that_cannot_be_read_is_an_error_response() {
    for request in ["", "{", "{\"command\": \"fly\"}", "[1, 2]", "not UTF-8"] {
        let response: Value = serde_json::from_str(&netcalc_web::respond(request)).unwrap();
        assert_eq!(response["ok"], false, "{request}");
        assert!(response["error"]["line"].is_null());
    }
}

/// Every `netcalc check` golden (tests/cmd/check) through `respond`: the same report, and each
/// finding shown exactly once, in its cell or in the list of the others.
#[test]
fn every_check_golden_is_the_pages_report_and_each_finding_has_one_place() {
    let folder = root().join("tests/cmd/check");
    let mut compared = 0;
    let mut entries: Vec<_> = std::fs::read_dir(&folder)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "toml"))
        .collect();
    entries.sort();
    for toml in entries {
        let stdout = toml.with_extension("stdout");
        let settings = std::fs::read_to_string(&toml).unwrap();
        let Some(args) = settings.lines().find_map(|l| l.strip_prefix("args = ")) else {
            continue;
        };
        let args: Vec<String> = serde_json::from_str(args).unwrap();
        if !stdout.exists() || args.contains(&"json".to_string()) {
            continue;
        }
        let Ok(table) = std::fs::read_to_string(root().join(&args[2])) else {
            continue;
        };
        let description = match builtin::find(&args[1]) {
            Some(builtin) => builtin.text.to_string(),
            None => read(&args[1]),
        };
        let variant = if args.contains(&"starred".to_string()) {
            "starred"
        } else {
            "first"
        };
        let response = call(json!({
            "command": "check", "description": description, "table": table, "variant": variant,
        }));
        let name = toml.display();
        if response["ok"] == false {
            // A table netcalc cannot check: the CLI's message, the table named `table`.
            let stderr = std::fs::read_to_string(toml.with_extension("stderr")).unwrap();
            assert_eq!(
                response["error"]["message"],
                stderr.replace(&args[2], "table")
            );
            compared += 1;
            continue;
        }
        let cli = std::fs::read_to_string(&stdout)
            .unwrap()
            .replace(&args[2], "table");
        assert_eq!(response["text"], cli, "{name}");
        let mut shown: Vec<String> = response["other_findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f.as_str().unwrap().to_string())
            .collect();
        let mut wrong = 0;
        for marked in response["tables"].as_array().unwrap() {
            for row in marked["rows"].as_array().unwrap() {
                for cell in row["cells"].as_array().unwrap() {
                    let findings = cell["findings"].as_array().unwrap();
                    assert_eq!(cell["state"] == "wrong", !findings.is_empty(), "{name}");
                    wrong += usize::from(!findings.is_empty());
                    shown.extend(findings.iter().map(|f| f.as_str().unwrap().to_string()));
                }
            }
        }
        let mut printed: Vec<String> = cli
            .lines()
            .filter(|line| line.starts_with("table:"))
            .map(str::to_string)
            .collect();
        shown.sort();
        printed.sort();
        assert_eq!(shown, printed, "{name}");
        // A wrong cell is a wrong cell of the CLI's count (which also counts total lines).
        assert!(
            wrong <= response["cells_wrong"].as_u64().unwrap() as usize,
            "{name}"
        );
        compared += 1;
    }
    assert!(compared >= 25, "only {compared} goldens compared");
}
