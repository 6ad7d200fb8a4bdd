//! Builds the page on the host: compiles this crate to WebAssembly with a cargo of its own (its
//! own target folder, `target/web-build`, so that it never waits for the cargo that runs it) and
//! writes the page's static files into the folder `target/web/`.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The workspace's root folder (the parent of this crate's).
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// The release build's size settings (no wasm-opt here): optimise for size (`z`: 1.55 MB against
/// `s`'s 1.74 MB, and VGG-16's update in the page as fast, about 30 ms), whole-program
/// optimisation, symbols stripped. Only this build sees them; the CLI's release profile stays.
const SIZE_SETTINGS: [&str; 5] = [
    "profile.release.opt-level=\"z\"",
    "profile.release.lto=true",
    "profile.release.codegen-units=1",
    "profile.release.strip=true",
    "profile.release.panic=\"abort\"",
];

/// Compiles the WebAssembly module and returns its bytes.
pub fn wasm(workspace: &Path) -> Result<Vec<u8>, String> {
    let target = workspace.join("target").join("web-build");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(workspace)
        .env("CARGO_TARGET_DIR", &target)
        .args(["build", "-p", "netcalc-web", "--lib", "--release"])
        .args(["--target", "wasm32-unknown-unknown"]);
    for setting in SIZE_SETTINGS {
        command.args(["--config", setting]);
    }
    let status = command
        .status()
        .map_err(|error| format!("cannot run cargo: {error}"))?;
    if !status.success() {
        return Err(format!(
            "cargo build for wasm32-unknown-unknown failed ({status})"
        ));
    }
    let path = target
        .join("wasm32-unknown-unknown")
        .join("release")
        .join("netcalc_web.wasm");
    std::fs::read(&path).map_err(|error| format!("cannot read {}: {error}", path.display()))
}

/// The built page: its folder and the module's size.
pub struct Page {
    /// `target/web/`, holding `index.html`, `app.js`, `style.css`, `netcalc.wasm` and
    /// `netcalc-module.js`.
    pub folder: PathBuf,
    /// The size of `netcalc.wasm` in bytes.
    pub module_bytes: usize,
}

/// Builds the module and writes the page's files into `target/web/` (each through a temporary
/// file renamed into place, `index.html` last).
pub fn page(workspace: &Path) -> Result<Page, String> {
    let module = wasm(workspace)?;
    let folder = workspace.join("target").join("web");
    std::fs::create_dir_all(&folder)
        .map_err(|error| format!("cannot create {}: {error}", folder.display()))?;
    for (name, bytes) in crate::bundle::files(&module) {
        let path = folder.join(name);
        let temporary = folder.join(format!(".{name}.partial"));
        std::fs::write(&temporary, bytes)
            .and_then(|()| std::fs::rename(&temporary, &path))
            .map_err(|error| format!("cannot write {}: {error}", path.display()))?;
    }
    Ok(Page {
        folder,
        module_bytes: module.len(),
    })
}
