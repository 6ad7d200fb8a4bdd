//! The `netcalc` binary: everything happens in `netcalc::cli`, after one allocator setting and
//! one signal setting.

fn main() -> std::process::ExitCode {
    keep_freed_memory();
    report_file_size_limit();
    netcalc::cli::run()
}

/// Training allocates and frees the same large buffers (layer outputs, gradients, im2col
/// columns) in every mini-batch. glibc's defaults hand buffers above its (adaptive) mmap
/// threshold back to the kernel when they are freed, and trim the heap's top, so the next batch
/// takes fresh zeroed pages again: on the Keras MNIST CNN, ~18 % of the process's CPU time went
/// to the kernel (page faults, munmap). Buffers up to 32 MiB (the most `M_MMAP_THRESHOLD` takes
/// on 64-bit glibc) now stay on the heap and freed memory stays with the process, which cut that
/// to ~12 % with the same peak memory (bench/README.md, "Allocator settings").
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn keep_freed_memory() {
    // Safety: mallopt only changes allocator parameters; it is called before any thread starts.
    // A refused setting (return value 0) leaves glibc's defaults, which are correct, only slower.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
    }
}

/// Other allocators keep their own defaults.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn keep_freed_memory() {}

/// A write beyond the file-size limit (`ulimit -f`, `RLIMIT_FSIZE`) raises SIGXFSZ, which ends
/// the process with no word by default. Ignored, the write fails with EFBIG instead, and netcalc
/// reports it as it reports a full disk: the file it could not write, and what was kept.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn report_file_size_limit() {
    // Safety: setting a signal's disposition to "ignore" before any thread starts.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
}

/// Elsewhere the signal keeps its default.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn report_file_size_limit() {}
