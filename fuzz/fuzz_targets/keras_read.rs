//! The Keras importer: a model's JSON, or a `.keras` archive.
#![no_main]

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| {
    netcalc_fuzz::imports::keras(bytes);
});
