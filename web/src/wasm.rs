//! The WebAssembly interface, by hand (no wasm-bindgen): the page's script allocates a buffer
//! with [`netcalc_allocate`], writes the request's UTF-8 bytes into it and calls
//! [`netcalc_call`], which frees the request and returns a pointer to the response: four bytes
//! of its length (little-endian), then its UTF-8 bytes. The script reads it and gives it back
//! with [`netcalc_free`] (pointer and the length + 4).

/// A buffer of `length` bytes (zeroed) for the script to fill; `netcalc_free` gives it back.
#[unsafe(no_mangle)]
pub extern "C" fn netcalc_allocate(length: usize) -> *mut u8 {
    Box::into_raw(vec![0u8; length].into_boxed_slice()).cast::<u8>()
}

/// Frees a buffer made by [`netcalc_allocate`] or returned by [`netcalc_call`].
///
/// # Safety
/// `pointer` and `length` must be those of one such buffer, not freed before.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn netcalc_free(pointer: *mut u8, length: usize) {
    if pointer.is_null() {
        return;
    }
    // SAFETY: the caller gives back a boxed slice of exactly this length (see above).
    drop(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(pointer, length)) });
}

/// Answers the request in the buffer (`pointer`, `length`, made by [`netcalc_allocate`] and
/// freed here) with [`crate::respond`]; returns the response's buffer: its length as four
/// little-endian bytes, then the text.
///
/// # Safety
/// `pointer` and `length` must be a buffer from [`netcalc_allocate`], not freed before.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn netcalc_call(pointer: *mut u8, length: usize) -> *mut u8 {
    // SAFETY: the caller passes one buffer of ours, which is taken back here.
    let request = unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(pointer, length)) };
    let response = match std::str::from_utf8(&request) {
        Ok(text) => crate::respond(text),
        Err(_) => crate::respond("not UTF-8"),
    };
    let bytes = response.as_bytes();
    let size = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
    let mut buffer = Vec::with_capacity(bytes.len() + 4);
    buffer.extend_from_slice(&size.to_le_bytes());
    buffer.extend_from_slice(bytes);
    Box::into_raw(buffer.into_boxed_slice()).cast::<u8>()
}
