//! The hand-table reader of `netcalc check` (TSV, Markdown, CSV) and its cell readers.
#![no_main]

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| {
    netcalc_fuzz::hand_tables::lean(bytes);
});
