//! Optimizer-state files (`optimizer.safetensors`), restored into their optimizer.
#![no_main]

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| {
    netcalc_fuzz::safetensors_files::optimizer_state(bytes);
});
