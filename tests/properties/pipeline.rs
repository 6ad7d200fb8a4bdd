//! Runs a text or a description through everything netcalc does with it (read, print, name
//! positionals, build the graph, analyse, render every report in every format, render the error
//! as the command line does) and tells how far it got, so a property can count its cases.

use netcalc::error::Error;
use netcalc::graph::InLayer;
use netcalc::layers::DeclarationError;
use netcalc::report::{self, OutputFormat, Report};
use netcalc::syntax::{self, Description, Format, dsl, yaml};
use netcalc::{Network, Source, analyse, cli, layers};
use proptest::test_runner::{Config, TestRunner};
use std::cell::RefCell;

/// How far an input got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reached {
    /// The reader refused it.
    Unread,
    /// It was read, but its layers do not form a graph.
    Unbuilt,
    /// The graph was built, but the analysis failed (or an expectation did not hold).
    Unanalysed,
    /// It was analysed and every report rendered.
    Analysed,
}

/// Counts of how far the cases of one property got.
#[derive(Debug, Default)]
pub struct Tally {
    counts: [u32; 4],
}

impl Tally {
    /// Counts one case.
    pub fn add(&mut self, reached: Reached) {
        self.counts[reached as usize] += 1;
    }

    /// All cases counted.
    pub fn total(&self) -> u32 {
        self.counts.iter().sum()
    }

    /// Cases that got at least this far.
    pub fn at_least(&self, reached: Reached) -> u32 {
        self.counts[reached as usize..].iter().sum()
    }

    /// Fails unless at least `percent` of the cases got at least this far.
    pub fn require(&self, what: &str, reached: Reached, percent: u32) {
        let total = self.total();
        assert!(total > 0, "{what}: no case ran");
        assert!(
            self.at_least(reached) * 100 >= total * percent,
            "{what}: only {} of {total} cases reached {reached:?}, fewer than {percent}% ({self:?})",
            self.at_least(reached),
        );
    }
}

/// A test configuration with `cases` cases by default; `PROPTEST_CASES` overrides the count, to
/// run longer by hand.
pub fn config(cases: u32) -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(cases);
    Config::with_cases(cases)
}

/// Runs `property` on `cases` generated values, counting how far each got, and returns the tally.
/// A panic inside `property` fails the test with the smallest input that still panics.
pub fn tally<S>(cases: u32, strategy: S, property: impl Fn(S::Value) -> Reached) -> Tally
where
    S: proptest::strategy::Strategy,
    S::Value: std::fmt::Debug,
{
    let tally = RefCell::new(Tally::default());
    // Failures are not saved: proptest prints the seed and the smallest failing input.
    let mut runner = TestRunner::new(Config {
        failure_persistence: None,
        ..config(cases)
    });
    let result = runner.run(&strategy, |value| {
        let reached = property(value);
        tally.borrow_mut().add(reached);
        Ok(())
    });
    if let Err(error) = result {
        panic!("{error}");
    }
    tally.into_inner()
}

/// Reads a text in a format and takes what it reads as far as it goes: `load` (read, name
/// positionals, build), `analyse`, and every report in every format.
pub fn text(text: &str, format: Format) -> Reached {
    let source = Source::new("generated", text);
    let read = syntax::read(&source, format);
    if let Ok(description) = &read {
        print_both(description);
    }
    match netcalc::load(&source, format) {
        Ok(network) => {
            assert!(read.is_ok(), "`load` accepted what `read` refused");
            analysis_of(&network)
        }
        Err(error) => {
            show(&error);
            if read.is_ok() {
                Reached::Unbuilt
            } else {
                Reached::Unread
            }
        }
    }
}

/// Takes a description built in code as far as it goes.
pub fn description(description: Description) -> Reached {
    print_both(&description);
    let mut named = description.clone();
    for layer in named.all_layers_mut() {
        let _ = layers::name_positionals(layer);
    }
    print_both(&named);
    description_in(&Source::new("generated", ""), description)
}

fn description_in(source: &Source, description: Description) -> Reached {
    match Network::build(source, description, "generated", Default::default()) {
        Err(error) => {
            show(&error);
            Reached::Unbuilt
        }
        Ok(network) => analysis_of(&network),
    }
}

fn analysis_of(network: &Network) -> Reached {
    // Compute without the expectations too, so that failing assertions do not hide the rest.
    if let Ok(analysis) = netcalc::analysis::compute(network) {
        render_all(&analysis);
    }
    match analyse(network) {
        Err(error) => {
            show(&error);
            Reached::Unanalysed
        }
        Ok(analysis) => {
            render_all(&analysis);
            Reached::Analysed
        }
    }
}

fn render_all(analysis: &netcalc::Analysis) {
    for report in [Report::Table, Report::Connections, Report::Summary] {
        for format in [
            OutputFormat::Table,
            OutputFormat::Markdown,
            OutputFormat::Csv,
            OutputFormat::Json,
        ] {
            let text = report::render(analysis, report, format);
            assert!(!text.is_empty(), "{report:?} as {format:?} is empty");
        }
    }
}

/// Renders an error as the command line does, with its position, and checks what it claims.
fn show(error: &Error) {
    let text = cli::render_error(error);
    assert!(!text.is_empty(), "an error renders as nothing");
    let _ = error.line_column();
    let kind: &dyn std::error::Error = &*error.kind;
    if let Some(InLayer {
        error: DeclarationError::UnknownAttribute { kind, key, .. },
        ..
    }) = kind.downcast_ref::<InLayer>()
    {
        let facts = crate::catalogue::facts(kind).expect("the error names a real kind");
        assert!(
            !facts.keys.contains(&key.as_str()),
            "`{kind}` reads `{key}`, yet an error says it has no such attribute: {error}"
        );
    }
}

fn print_both(description: &Description) {
    let _ = dsl::print(description, &layers::positional_keys);
    let _ = yaml::print(description);
}
