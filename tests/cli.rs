//! Golden tests of the command line: every `tests/cmd/**/*.trycmd` and `*.toml` case runs the
//! real binary and compares stdout, stderr and the exit code byte for byte. Regenerate with
//! `TRYCMD=overwrite cargo test --test cli` and review the diff; CI never rewrites them.

#[test]
fn golden_cases() {
    // netcalc reads a relative `NETCALC_MNIST` (or `--data`) against the folder it runs in, as
    // every command-line tool reads a relative path: that is what a user who types it means. The
    // sandboxed cases run in a temporary folder, where the README's `../shared/datasets/mnist`
    // points nowhere, so the harness, not netcalc, makes the path absolute: against the folder
    // `cargo test` runs tests in, the repository root where the README's command is typed.
    // (`TestCases::env` would not do: it overrides the cases that remove the variable.)
    if let Some(folder) = std::env::var_os("NETCALC_MNIST") {
        let absolute = std::path::absolute(&folder).expect("NETCALC_MNIST names a folder");
        // SAFETY: this binary holds this one test, and no other thread of it has started yet.
        unsafe { std::env::set_var("NETCALC_MNIST", absolute) };
    }
    trycmd::TestCases::new()
        .case("tests/cmd/**/*.trycmd")
        .case("tests/cmd/**/*.toml");
}
