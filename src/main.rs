//! The `netcalc` binary: everything happens in `netcalc::cli`.

fn main() -> std::process::ExitCode {
    netcalc::cli::run()
}
