//! The limits on what netcalc reads (core/src/limits.rs): a description of more layers than the limit
//! is refused at the first layer too many, with the golden message
//! `tests/fixtures/limits/too-many-layers.stderr`; one at the limit is read. (The 16 MiB limit on
//! a file's size has its golden case under tests/cmd/errors, on /dev/zero.)

use netcalc::limits::MAX_LAYERS;
use std::process::Command;

/// An input layer and `dense` layers up to `layers` layers in all.
fn description(layers: usize) -> String {
    let mut text = String::from("input 1\n");
    for _ in 1..layers {
        text.push_str("dense 1\n");
    }
    text
}

#[test]
fn one_layer_past_the_limit_is_refused_there_and_the_limit_itself_is_read() {
    let folder = tempfile::tempdir().unwrap();
    std::fs::write(folder.path().join("over.nn"), description(MAX_LAYERS + 1)).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_netcalc"))
        .args(["convert", "--to", "dsl", "over.nn"])
        .current_dir(folder.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(String::from_utf8_lossy(&output.stdout), "");
    let golden = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/limits/too-many-layers.stderr");
    assert_eq!(
        String::from_utf8_lossy(&output.stderr),
        std::fs::read_to_string(golden).unwrap()
    );
    // The library reads exactly the limit.
    let source = netcalc::Source::new("limit.nn", description(MAX_LAYERS));
    let read = netcalc::syntax::read(&source, netcalc::Format::Dsl).unwrap();
    assert_eq!(read.layers.len(), MAX_LAYERS);
}

/// The peak resident memory of `netcalc summary` on a 50,000-layer description stays below
/// 3.2 KB a layer over a 16 MB start. Before netcalc drew its tables itself it took about 4.8 KB
/// a layer (README, "Limits"); today about 2.6 KB.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[test]
fn a_large_description_takes_bounded_memory() {
    const LAYERS: usize = 50_000;
    let folder = tempfile::tempdir().unwrap();
    std::fs::write(folder.path().join("large.nn"), description(LAYERS)).unwrap();
    // Reaped below by wait4, which also gives its peak memory (Child::wait would not).
    #[allow(clippy::zombie_processes)]
    let child = Command::new(env!("CARGO_BIN_EXE_netcalc"))
        .args(["summary", "large.nn"])
        .current_dir(folder.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut status = 0;
    // Safety: an all-zero rusage is valid, and wait4 fills it for this one child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = child.id() as libc::pid_t;
    assert_eq!(unsafe { libc::wait4(pid, &mut status, 0, &mut usage) }, pid);
    assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0);
    let peak_bytes = usage.ru_maxrss as usize * 1024;
    let bound = (16 << 20) + LAYERS * 3200;
    assert!(
        peak_bytes < bound,
        "{} KB at the peak, {} bytes a layer",
        peak_bytes / 1024,
        peak_bytes / LAYERS
    );
    eprintln!("{} KB at the peak for {LAYERS} layers", peak_bytes / 1024);
}
