//! The files of architectures/: every one is a built-in, each DSL file means exactly what its
//! YAML twin means, and converting either way and back loses nothing.

use netcalc::syntax::{self, Description, Format};
use netcalc::{Source, builtin, layers};
use std::path::Path;

fn read(path: &Path) -> Description {
    let text = std::fs::read_to_string(path).expect("readable");
    let name = path.display().to_string();
    let format = Format::from_path(&name).expect("a known extension");
    let mut description = syntax::read(&Source::new(name, text), format).expect("reads");
    layers::name_all_positionals(&mut description).expect("positionals");
    description
}

fn files(extension: &str) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir("architectures")
        .expect("architectures/")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == extension))
        .collect();
    files.sort();
    files
}

#[test]
fn every_yaml_file_is_a_builtin_and_every_builtin_a_file() {
    let yaml = files("yaml");
    assert_eq!(yaml.len(), builtin::BUILTINS.len());
    for path in yaml {
        let stem = path.file_stem().and_then(|s| s.to_str()).expect("stem");
        let builtin = builtin::find(stem).expect("a built-in of that name");
        assert_eq!(builtin.text, std::fs::read_to_string(&path).expect("text"));
    }
}

#[test]
fn dsl_twins_mean_what_their_yaml_means() {
    let dsl = files("nn");
    assert!(
        dsl.len() * 2 >= builtin::BUILTINS.len(),
        "DSL for at least half"
    );
    for path in dsl {
        let twin = path.with_extension("yaml");
        assert_eq!(
            read(&path),
            read(&twin),
            "{} and {}",
            path.display(),
            twin.display()
        );
    }
}

#[test]
fn converting_back_and_forth_loses_nothing() {
    for path in files("yaml") {
        let description = read(&path);
        let dsl = syntax::dsl::print(&description, &layers::positional_keys);
        let mut from_dsl =
            syntax::dsl::read(&Source::new("x.nn", dsl.as_str())).expect("DSL reads");
        layers::name_all_positionals(&mut from_dsl).expect("positionals");
        assert_eq!(from_dsl, description, "{} through the DSL", path.display());
        let yaml = syntax::yaml::print(&from_dsl);
        let from_yaml =
            syntax::yaml::read(&Source::new("x.yaml", yaml.as_str())).expect("YAML reads");
        assert_eq!(from_yaml, description, "{} through YAML", path.display());
    }
}
