//! The Hugging Face config importer.
#![no_main]

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| {
    netcalc_fuzz::imports::hugging_face(bytes);
});
