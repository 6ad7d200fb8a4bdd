//! netcalc in the browser. The page talks to the core through one call, [`respond`]: a JSON
//! request in, a JSON response out, the same on the host (tests) as in WebAssembly ([`wasm`]
//! exports it without wasm-bindgen). Every text it returns is made by the same core functions the
//! command line calls, so the page shows the CLI's bytes. [`bundle`] builds the page: one HTML
//! file with the module, the script and the style inside, which works offline from `file://`.

// The bundler runs on the host only; the module does not carry the page it is part of.
#[cfg(not(target_arch = "wasm32"))]
pub mod build;
#[cfg(not(target_arch = "wasm32"))]
pub mod bundle;
mod cells;
pub mod respond;
pub mod wasm;

pub use respond::respond;
