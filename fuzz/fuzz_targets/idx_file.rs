//! IDX image and label files, gzipped or plain as their first bytes say.
#![no_main]

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| {
    netcalc_fuzz::idx_files::as_file(bytes);
});
