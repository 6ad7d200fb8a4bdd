//! Fuzzes the YAML reader and everything after it (see `netcalc_fuzz::run`).
#![no_main]

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| {
    netcalc_fuzz::run(bytes, netcalc::syntax::Format::Yaml);
});
