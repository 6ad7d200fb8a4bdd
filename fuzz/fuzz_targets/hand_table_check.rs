//! `netcalc check` whole: a hand table checked against a built-in network, the report rendered.
#![no_main]

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| {
    netcalc_fuzz::hand_tables::pipeline(bytes);
});
