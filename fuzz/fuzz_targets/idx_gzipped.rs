//! IDX image and label files behind a gzip decoder (the input is compressed first).
#![no_main]

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| {
    netcalc_fuzz::idx_files::gzipped(bytes);
});
