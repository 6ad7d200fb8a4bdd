//! What both fuzz targets do with a description once a reader accepted it: print it in both
//! formats, check that the reader's own printer gives it back, name its positional values, build
//! its graph, analyse it and render every report in every format. Errors are expected; a panic
//! (or a failed round trip) is a finding.

use netcalc::report::{self, OutputFormat, Report};
use netcalc::syntax::{Description, Format, dsl, yaml};
use netcalc::{Network, Source, analysis, cli, layers};

/// Reads `bytes` (as UTF-8, invalid sequences replaced) in `format` and takes the description as
/// far as it goes.
pub fn run(bytes: &[u8], format: Format) {
    let text = String::from_utf8_lossy(bytes);
    let source = Source::new("fuzz", text.as_ref());
    let read = match format {
        Format::Dsl => dsl::read(&source),
        Format::Yaml => yaml::read(&source),
    };
    let mut description = match read {
        Ok(description) => description,
        Err(error) => {
            let _ = cli::render_error(&netcalc::Error::new(&source, error));
            return;
        }
    };
    round_trip(&description, format);
    let _ = yaml::print(&description);
    let _ = dsl::print(&description, &layers::positional_keys);
    for layer in &mut description.layers {
        if let Err(error) = layers::name_positionals(layer) {
            let _ = cli::render_error(&netcalc::Error::new(&source, error));
            return;
        }
    }
    let network = match Network::build(&source, description, "fuzz") {
        Ok(network) => network,
        Err(error) => {
            let _ = cli::render_error(&error);
            return;
        }
    };
    if let Ok(analysis) = analysis::compute(&network) {
        render(&analysis);
    }
    match analysis::analyse(&network) {
        Ok(analysis) => render(&analysis),
        Err(error) => {
            let _ = cli::render_error(&error);
        }
    }
}

/// Printing what a reader read and reading the print again gives the same description.
fn round_trip(description: &Description, format: Format) {
    let (printed, again) = match format {
        Format::Dsl => {
            let printed = dsl::print(description, &|_| &[]);
            let again = dsl::read(&Source::new("printed", printed.as_str()));
            (printed, again)
        }
        Format::Yaml => {
            let printed = yaml::print(description);
            let again = yaml::read(&Source::new("printed", printed.as_str()));
            (printed, again)
        }
    };
    match again {
        Ok(again) => assert!(
            again == *description,
            "printing and reading again changed the description; printed:\n{printed}"
        ),
        Err(error) => panic!("the printed description does not read: {error:?}\n{printed}"),
    }
}

fn render(analysis: &netcalc::Analysis) {
    for report in [Report::Table, Report::Connections, Report::Summary] {
        for format in [
            OutputFormat::Table,
            OutputFormat::Markdown,
            OutputFormat::Csv,
            OutputFormat::Json,
        ] {
            let _ = report::render(analysis, report, format);
        }
    }
}
