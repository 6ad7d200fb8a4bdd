//! Analysis speed: the whole pipeline (read, build the graph, analyse, render the table) on
//! VGG-16 and on generated plain networks of 1,000 to 10,000 layers, to show that the cost grows
//! linearly with the layer count. Timings are reported, never asserted.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use netcalc::report::{OutputFormat, Report};
use netcalc::{Format, Source};
use std::hint::black_box;

fn table(source: &Source, format: Format) -> String {
    let network = netcalc::load(source, format).expect("loads");
    let analysis = netcalc::analyse(&network).expect("analyses");
    netcalc::report::render(&analysis, Report::Table, OutputFormat::Table)
}

/// `layers` convolutions with `same` padding and a pooling layer every 100, in the DSL.
fn generated(layers: usize) -> Source {
    let mut text = String::from("network generated\ninput 64x64x8\n");
    for index in 0..layers {
        if index % 100 == 99 {
            text.push_str("maxpool 1\n");
        } else {
            text.push_str("conv2d 8 3 padding=same activation=relu\n");
        }
    }
    Source::new("generated.nn", text)
}

fn analysis_speed(criterion: &mut Criterion) {
    let vgg = netcalc::builtin::find("vgg-16").expect("built-in");
    let source = Source::new(vgg.file, vgg.text);
    criterion.bench_function("table vgg-16", |bench| {
        bench.iter(|| black_box(table(&source, Format::Yaml)))
    });
    let mut group = criterion.benchmark_group("table of a generated network");
    group.sample_size(10);
    for layers in [1_000, 2_500, 5_000, 10_000] {
        let source = generated(layers);
        group.throughput(Throughput::Elements(layers as u64));
        group.bench_with_input(
            BenchmarkId::from_parameter(layers),
            &source,
            |bench, source| bench.iter(|| black_box(table(source, Format::Dsl))),
        );
    }
    group.finish();
}

criterion_group!(benches, analysis_speed);
criterion_main!(benches);
