//! Network descriptions. A description reader is any function from a [`Source`] to a
//! [`Description`] or an error that can point into the source: the DSL and YAML readers today,
//! importers of other frameworks' files tomorrow. [`lean`] only reads; [`pipeline`] takes what
//! was read through everything netcalc does with a description.

use netcalc::error::{Locate, LocatedError};
use netcalc::graph::Overrides;
use netcalc::report::{self, OutputFormat, Report};
use netcalc::syntax::{Description, dsl, yaml};
use netcalc::{Network, Source, analysis, cli, explain, layers};

/// The name the fuzzed text is reported under.
const NAME: &str = "fuzz";

/// Reads the bytes as text with `read`; an error must point inside the text.
pub fn lean<E: Locate>(bytes: &[u8], read: impl Fn(&Source) -> Result<Description, E>) {
    let source = Source::new(NAME, crate::text(bytes).as_ref());
    if let Err(error) = read(&source) {
        assert_points_inside(&source, &error);
    }
}

/// Reads the bytes with `read`, then: prints the description and reads the print back (it must
/// give the same description: in the DSL as read, and in both formats once its positional values
/// are named, which is what `netcalc convert` relies on); builds its graph; analyses it; renders every report
/// in every format, the explanation, and every error met on the way.
pub fn pipeline<E: LocatedError>(bytes: &[u8], read: impl Fn(&Source) -> Result<Description, E>) {
    let source = Source::new(NAME, crate::text(bytes).as_ref());
    let mut description = match read(&source) {
        Ok(description) => description,
        Err(error) => {
            assert_points_inside(&source, &error);
            let _ = cli::render_error(&netcalc::Error::new(&source, error));
            return;
        }
    };
    // The reader's description, positional values as written: the DSL prints them as they came.
    let printed = dsl::print(&description, &|_| &[]);
    assert_reads_back("DSL", &printed, dsl::read, &description);
    for layer in description.all_layers_mut() {
        if let Err(error) = layers::name_positionals(layer) {
            assert_points_inside(&source, &error);
            let _ = cli::render_error(&netcalc::Error::new(&source, error));
            return;
        }
    }
    // What `netcalc convert` prints, in either format, reads back to the same description.
    let printed = yaml::print(&description);
    assert_reads_back("YAML", &printed, yaml::read, &description);
    let printed = dsl::print(&description, &layers::positional_keys);
    assert_reads_back("DSL", &printed, read_named, &description);
    let network = match Network::build(&source, description, NAME, Overrides::default()) {
        Ok(network) => network,
        Err(error) => {
            let _ = cli::render_error(&error);
            return;
        }
    };
    match analysis::analyse(&network) {
        Ok(analysis) => render(&analysis),
        Err(error) => {
            let _ = cli::render_error(&error);
            // A failed `expect` still leaves an analysis to print.
            if let Ok(analysis) = analysis::compute(&network) {
                render(&analysis);
            }
        }
    }
}

/// An error's span lies within the text it points into (or the renderer would point nowhere).
fn assert_points_inside(source: &Source, error: &impl Locate) {
    let span = error.span();
    assert!(
        span.offset
            .checked_add(span.length)
            .is_some_and(|end| end <= source.text.len()),
        "the error `{}` points at bytes {}..+{} of a {}-byte text",
        error.code(),
        span.offset,
        span.length,
        source.text.len()
    );
}

/// Reading `printed` with `read` gives `description`.
fn assert_reads_back<E: std::fmt::Debug>(
    format: &str,
    printed: &str,
    read: impl Fn(&Source) -> Result<Description, E>,
    description: &Description,
) {
    match read(&Source::new("printed", printed)) {
        Ok(again) => assert!(
            again == *description,
            "printing in {format} and reading again changed the description; printed:\n{printed}"
        ),
        Err(error) => panic!("the {format} print does not read: {error:?}\n{printed}"),
    }
}

/// Reads DSL text and names its positional values, as `netcalc convert` does.
fn read_named(source: &Source) -> Result<Description, String> {
    let mut description = dsl::read(source).map_err(|error| format!("{error:?}"))?;
    for layer in description.all_layers_mut() {
        layers::name_positionals(layer).map_err(|error| format!("{error:?}"))?;
    }
    Ok(description)
}

fn render(analysis: &netcalc::Analysis) {
    for report in [Report::Table, Report::Connections, Report::Summary] {
        for format in [
            OutputFormat::Table,
            OutputFormat::Markdown,
            OutputFormat::Csv,
        ] {
            let _ = report::render(analysis, report, format);
        }
    }
    // JSON is the whole analysis whichever report asks for it.
    let _ = report::render(analysis, Report::Table, OutputFormat::Json);
    let _ = explain::explain(analysis, None);
}
