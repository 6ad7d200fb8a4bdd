//! Safetensors weights files, loaded into a small model.
#![no_main]

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| {
    netcalc_fuzz::safetensors_files::weights(bytes);
});
