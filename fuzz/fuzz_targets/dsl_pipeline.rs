//! The DSL reader and everything after it: round trips, graph, analysis, every report.
#![no_main]

libfuzzer_sys::fuzz_target!(|bytes: &[u8]| {
    netcalc_fuzz::descriptions::pipeline(bytes, netcalc::syntax::dsl::read);
});
