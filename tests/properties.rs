//! Robustness properties over the real layer catalogue (issue 2, §2 and §8): random text and
//! random descriptions never panic anywhere in the pipeline, descriptions survive printing and
//! reading in both formats (and `netcalc convert`, which keeps the analysis of valid ones), and
//! the analysis obeys invariants checked against naive computations written here.

#[path = "properties/catalogue.rs"]
mod catalogue;
#[path = "properties/invariants.rs"]
mod invariants;
#[path = "properties/pipeline.rs"]
mod pipeline;
#[path = "properties/random_descriptions.rs"]
mod random_descriptions;
#[path = "properties/random_text.rs"]
mod random_text;
#[path = "properties/round_trip.rs"]
mod round_trip;
#[path = "properties/valid_descriptions.rs"]
mod valid_descriptions;
#[path = "properties/values.rs"]
mod values;
