//! Builds the browser page: `cargo run -p netcalc-web --bin netcalc-page` writes the folder
//! `target/web/` (`index.html`, `app.js`, `style.css`, `netcalc.wasm`, `netcalc-module.js`), to
//! open from disk or put on any static host.

use std::process::ExitCode;

fn main() -> ExitCode {
    match netcalc_web::build::page(&netcalc_web::build::workspace()) {
        Ok(page) => {
            println!(
                "wrote {} (open index.html; the WebAssembly module netcalc.wasm has {} bytes)",
                page.folder.display(),
                page.module_bytes
            );
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}
