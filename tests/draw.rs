//! `netcalc draw` on real networks: every built-in architecture and every drawing fixture is
//! drawn both ways with every choice of what to show, and each picture's geometry is checked
//! (boxes and labels apart, text and glyph ink inside, no edge through a box or label). The
//! fixtures' parameter counts are pinned to the frameworks' own figures, the PNG is decoded and
//! looked into, and the DOT text goes through graphviz when it is installed.

use netcalc::draw::inspect::defects;
use netcalc::draw::picture::{Rect, style};
use netcalc::draw::{Diagram, Direction, Picture, Show, dot, png};
use netcalc::syntax::Format;
use netcalc::{Analysis, Network, Source, analyse, builtin, load};

fn networks() -> Vec<(Network, Analysis)> {
    let mut sources: Vec<(Source, Format)> = builtin::BUILTINS
        .iter()
        .map(|b| (Source::new(b.file, b.text), Format::Yaml))
        .collect();
    let mut fixtures: Vec<_> = std::fs::read_dir("tests/fixtures/draw")
        .expect("tests/fixtures/draw")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "nn" || e == "yaml"))
        .collect();
    fixtures.sort();
    assert!(fixtures.len() >= 3, "the drawing fixtures are missing");
    for path in fixtures {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(&path).expect("readable");
        let format = Format::from_path(&name).expect("a known extension");
        sources.push((Source::new(name, text), format));
    }
    sources
        .into_iter()
        .map(|(source, format)| {
            let network = load(&source, format).unwrap_or_else(|e| panic!("{}: {e}", source.name));
            let analysis = analyse(&network).unwrap_or_else(|e| panic!("{}: {e}", source.name));
            (network, analysis)
        })
        .collect()
}

fn network(name: &str) -> (Network, Analysis) {
    networks()
        .into_iter()
        .find(|(network, _)| network.name == name)
        .unwrap_or_else(|| panic!("no network `{name}`"))
}

fn grown(rect: Rect, by: f64) -> Rect {
    Rect {
        x: rect.x - by,
        y: rect.y - by,
        width: rect.width + 2.0 * by,
        height: rect.height + 2.0 * by,
    }
}

#[test]
fn every_picture_keeps_its_geometry() {
    let shows = [
        Show::default(),
        Show {
            shapes: true,
            parameters: true,
            macs: true,
        },
        Show {
            shapes: false,
            parameters: false,
            macs: false,
        },
    ];
    let mut checked = 0;
    for (network, analysis) in networks() {
        let diagrams = shows.iter().flat_map(|&show| {
            [
                Diagram::of(&network, &analysis, show),
                Diagram::collapsed(&network, &analysis, show),
            ]
        });
        for diagram in diagrams {
            let show = &diagram.title;
            for direction in [Direction::TopToBottom, Direction::LeftToRight] {
                let picture = Picture::of(&diagram, direction);
                let found = defects(&picture);
                assert!(
                    found.is_empty(),
                    "{} {direction:?} ({show}): {}",
                    network.name,
                    found
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join("; ")
                );
                // The glyphs themselves, not only their advances, stay inside the boxes, and
                // a label's ink stays within a pixel of the room it was given.
                for layer in &picture.boxes {
                    for line in &layer.lines {
                        let ink = png::ink_bounds(line).expect("text has ink");
                        assert!(
                            layer.rect.contains(&ink),
                            "{}: `{}` {ink:?} outside {:?}",
                            network.name,
                            line.content,
                            layer.rect
                        );
                    }
                }
                for label in &picture.labels {
                    let ink = png::ink_bounds(label).expect("text has ink");
                    assert!(
                        grown(label.bounds(), 1.0).contains(&ink),
                        "{}: label `{}`",
                        network.name,
                        label.content
                    );
                }
                checked += 1;
            }
        }
    }
    assert!(checked >= 12 * (builtin::BUILTINS.len() + 4));
}

/// torchvision's ResNet-50 has 25,557,032 parameters (`ResNet50_Weights.IMAGENET1K_V1`,
/// `num_params`, torchvision's model documentation): convolution weights, BatchNorm weights and
/// biases, and the classifier. netcalc counts them as trainable and adds BatchNorm's running
/// mean and variance (torchvision's buffers, Keras' non-trainable weights): 2 × 26,560
/// channels = 53,120. Keras' own ResNet50 reports the same 53,120 non-trainable parameters.
#[test]
fn resnet_50_has_torchvisions_parameter_count() {
    let (network, analysis) = network("resnet-50");
    assert_eq!(analysis.totals.trainable, 25_557_032);
    assert_eq!(analysis.totals.non_trainable, 53_120);
    // 50 weighted layers: 49 convolutions on the main path and the classifier; the 4
    // projection shortcuts are not counted in the name.
    let kinds: Vec<&str> = analysis.layers.iter().map(|layer| layer.kind).collect();
    let convolutions = kinds.iter().filter(|&&k| k == "conv2d").count();
    assert_eq!(convolutions, 49 + 4);
    assert_eq!(kinds.iter().filter(|&&k| k == "dense").count(), 1);
    assert_eq!(kinds.iter().filter(|&&k| k == "add").count(), 16);
    assert_eq!(network.order().len(), analysis.layers.len());
}

/// torchvision's GoogLeNet has 6,624,904 parameters (`GoogLeNet_Weights.IMAGENET1K_V1`,
/// `num_params`; without the auxiliary classifiers, which its pretrained model drops).
#[test]
fn googlenet_has_torchvisions_parameter_count() {
    let (_, analysis) = network("googlenet");
    assert_eq!(analysis.totals.trainable, 6_624_904);
    let concats = analysis
        .layers
        .iter()
        .filter(|l| l.kind == "concat")
        .count();
    assert_eq!(concats, 9, "nine inception modules");
}

/// `--collapse` on the ResNet-50 written with `repeat`: each stage's identity bottlenecks become
/// one box whose numbers are the sums over its copies (stage 1's two: 2 × (64·256 + 9·64·64 +
/// 64·256 weights + 2·(64+64+256) batch-norm scales and shifts) = 142,336 parameters, of which
/// the running means and variances, 2 × 2·(64+64+256) = 1,536, are not trained); links within a
/// block disappear, links across its border join its box.
#[test]
fn collapsing_draws_each_repeated_block_as_one_box() {
    let (repeated, analysis) = network("resnet-50-repeat");
    let expanded = Diagram::of(&repeated, &analysis, Show::default());
    let collapsed = Diagram::collapsed(&repeated, &analysis, Show::default());
    let names: Vec<&str> = collapsed
        .blocks
        .iter()
        .map(|block| block.name.as_str())
        .filter(|name| name.contains('×'))
        .collect();
    assert_eq!(
        names,
        ["stage1 × 2", "stage2 × 3", "stage3 × 5", "stage4 × 2"]
    );
    // 2 + 3 + 5 + 2 copies of 10 layers each become 4 boxes.
    assert_eq!(collapsed.blocks.len(), expanded.blocks.len() - 12 * 10 + 4);
    let stage1 = collapsed
        .blocks
        .iter()
        .find(|block| block.name == "stage1 × 2")
        .expect("stage 1");
    assert_eq!(
        stage1.details.last().map(String::as_str),
        Some("142,336 params (1,536 non-trainable) in all")
    );
    assert_eq!(stage1.details[1], "conv2d 1×1, 64");
    assert_eq!(stage1.output.as_deref(), Some("[56×56×256]"));
    // The stage-1 box is read by the relu that starts stage 2 and by nothing else; it reads the
    // sum of the first bottleneck.
    let at = collapsed
        .blocks
        .iter()
        .position(|block| block.name == "stage1 × 2")
        .expect("stage 1");
    let name = |index: usize| collapsed.blocks[index].name.as_str();
    let into: Vec<&str> = collapsed
        .links
        .iter()
        .filter(|link| link.1 == at)
        .map(|link| name(link.0))
        .collect();
    let out_of: Vec<&str> = collapsed
        .links
        .iter()
        .filter(|link| link.0 == at)
        .map(|link| name(link.1))
        .collect();
    assert_eq!(into, ["layer1.0.add"]);
    assert_eq!(out_of, ["layer2.0.x"]);
    // Without repeats, collapsing changes nothing.
    let (plain, analysis) = network("resnet-50");
    assert_eq!(
        Diagram::collapsed(&plain, &analysis, Show::default()),
        Diagram::of(&plain, &analysis, Show::default())
    );
}

#[test]
fn the_png_shows_the_picture() {
    let (network, analysis) = network("lenet-5-table");
    let picture = Picture::of(
        &Diagram::of(&network, &analysis, Show::default()),
        Direction::TopToBottom,
    );
    let (bytes, width, height) = png::render(&picture).expect("a PNG");
    let decoder = ::png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info().expect("a valid PNG");
    let mut pixels = vec![0; reader.output_buffer_size().expect("a size")];
    let info = reader.next_frame(&mut pixels).expect("one frame");
    assert_eq!((info.width, info.height), (width, height));
    let scale = png::SCALE;
    assert_eq!(width, (picture.width * scale).ceil() as u32);
    assert_eq!(height, (picture.height * scale).ceil() as u32);
    let channels = info.color_type.samples();
    let pixel = |x: f64, y: f64| {
        let at = ((y * scale) as usize * width as usize + (x * scale) as usize) * channels;
        (pixels[at], pixels[at + 1], pixels[at + 2])
    };
    let colour = |c: style::Colour| (c.0, c.1, c.2);
    // The corner is background; just inside a box's border, its fill; the C3 table's first
    // cell (S2 map 0 feeds C3 map 0), the connected colour.
    assert_eq!(pixel(1.0, 1.0), colour(style::BACKGROUND));
    let first = &picture.boxes[0].rect;
    assert_eq!(pixel(first.x + 3.0, first.y + 3.0), colour(style::BOX_FILL));
    let c3 = picture
        .boxes
        .iter()
        .find(|layer| layer.name == "C3")
        .expect("C3");
    let cell = c3.cells[0];
    assert!(cell.connected);
    assert_eq!(
        pixel(
            cell.rect.x + cell.rect.width / 2.0,
            cell.rect.y + cell.rect.height / 2.0
        ),
        colour(style::CONNECTED)
    );
}

#[test]
fn graphviz_reads_the_dot_text() {
    let version = std::process::Command::new("dot").arg("-V").output();
    if version.is_err() {
        eprintln!("skipped: graphviz's `dot` is not installed (.ci/run installs it)");
        return;
    }
    for (network, analysis) in networks() {
        let diagram = Diagram::of(&network, &analysis, Show::default());
        for direction in [Direction::TopToBottom, Direction::LeftToRight] {
            let text = dot::render(&diagram, direction);
            let mut child = std::process::Command::new("dot")
                .arg("-Tsvg")
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("dot starts");
            std::io::Write::write_all(&mut child.stdin.take().expect("stdin"), text.as_bytes())
                .expect("dot reads");
            let output = child.wait_with_output().expect("dot ends");
            let errors = String::from_utf8_lossy(&output.stderr);
            assert!(output.status.success(), "{}: {errors}", network.name);
            assert!(errors.trim().is_empty(), "{}: {errors}", network.name);
            let svg = String::from_utf8_lossy(&output.stdout);
            for block in &diagram.blocks {
                assert!(
                    svg.contains(&block.name),
                    "{}: {}",
                    network.name,
                    block.name
                );
            }
        }
    }
}
