//! The `netcalc` binary: everything happens in `netcalc::cli`, after one allocator setting.

fn main() -> std::process::ExitCode {
    keep_freed_memory();
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
