//! Builds the browser page: `cargo run -p netcalc-web --bin netcalc-page` writes
//! `target/web/netcalc.html`, one file to open from disk or put on any static host.

use std::process::ExitCode;

fn main() -> ExitCode {
    match netcalc_web::build::page(&netcalc_web::build::workspace()) {
        Ok((path, module)) => {
            println!(
                "wrote {} (WebAssembly module: {module} bytes)",
                path.display()
            );
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}
