//! Golden tests of the command line: every `tests/cmd/**/*.trycmd` and `*.toml` case runs the
//! real binary and compares stdout, stderr and the exit code byte for byte. Regenerate with
//! `TRYCMD=overwrite cargo test --test cli` and review the diff; CI never rewrites them.

#[test]
fn golden_cases() {
    trycmd::TestCases::new()
        .case("tests/cmd/**/*.trycmd")
        .case("tests/cmd/**/*.toml");
}
