//! The YAML reader alone.
#![no_main]

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| {
    netcalc_fuzz::descriptions::lean(bytes, netcalc::syntax::yaml::read);
});
