//! The page's static files: `index.html`, `style.css` and `app.js` as they are in `page/`, the
//! WebAssembly module as `netcalc.wasm` (fetched over http and https), and the same bytes as
//! base64 in `netcalc-module.js` (run as a classic script from `file://`, where Chromium refuses
//! to fetch a file beside the page).

/// The page's files, compiled in.
const INDEX: &str = include_str!("../page/index.html");
const STYLE: &str = include_str!("../page/style.css");
const SCRIPT: &str = include_str!("../page/app.js");

/// The module's file, and the script that holds it as base64 (`app.js` names both).
pub const MODULE_FILE: &str = "netcalc.wasm";
pub const MODULE_SCRIPT: &str = "netcalc-module.js";

/// The folder's files, name and bytes, given `wasm` (the module's bytes); `index.html` last, so
/// that a page written file by file never links a file not yet written.
pub fn files(wasm: &[u8]) -> Vec<(&'static str, Vec<u8>)> {
    vec![
        (MODULE_FILE, wasm.to_vec()),
        (MODULE_SCRIPT, module_script(wasm).into_bytes()),
        ("style.css", STYLE.as_bytes().to_vec()),
        ("app.js", SCRIPT.as_bytes().to_vec()),
        ("index.html", INDEX.as_bytes().to_vec()),
    ]
}

/// `netcalc-module.js`: the module's bytes as base64 in the global `NETCALC_WASM`.
pub fn module_script(wasm: &[u8]) -> String {
    format!(
        "// netcalc's WebAssembly module ({MODULE_FILE}, {} bytes) as base64, for a page opened from file://.\n\
         window.NETCALC_WASM = \"{}\";\n",
        wasm.len(),
        base64(wasm)
    )
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding (RFC 4648, section 4), as `atob` reads it.
pub fn base64(bytes: &[u8]) -> String {
    let mut text = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                text.push(char::from(ALPHABET[((n >> shift) & 63) as usize]));
            } else {
                text.push('=');
            }
        }
    }
    text
}

/// Decodes [`base64`]'s text (and any standard base64, whitespace ignored); `None` if it is not
/// base64.
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let mut bytes = Vec::with_capacity(text.len() / 4 * 3);
    let mut buffer = 0u32;
    let mut bits = 0;
    for c in text.bytes().filter(|c| !c.is_ascii_whitespace()) {
        if c == b'=' {
            break;
        }
        let value = ALPHABET.iter().position(|&a| a == c)? as u32;
        buffer = (buffer << 6) | value;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            bytes.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    Some(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_rfc_examples() {
        // RFC 4648, section 10.
        for (plain, coded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(plain.as_bytes()), coded);
            assert_eq!(base64_decode(coded).unwrap(), plain.as_bytes());
        }
        let all: Vec<u8> = (0..=255).collect();
        assert_eq!(base64_decode(&base64(&all)).unwrap(), all);
    }

    #[test]
    fn the_folder_holds_the_page_and_the_module_twice() {
        let files = files(b"\0asm");
        let names: Vec<&str> = files.iter().map(|(name, _)| *name).collect();
        assert_eq!(
            names,
            [
                "netcalc.wasm",
                "netcalc-module.js",
                "style.css",
                "app.js",
                "index.html"
            ]
        );
        assert_eq!(files[0].1, b"\0asm");
        let script = String::from_utf8(files[1].1.clone()).unwrap();
        assert!(script.ends_with("window.NETCALC_WASM = \"AGFzbQ==\";\n"));
        // The page links its style and script, and the script names both forms of the module.
        assert!(INDEX.contains(r#"<link rel="stylesheet" href="style.css">"#));
        assert!(INDEX.contains(r#"<script src="app.js"></script>"#));
        assert!(SCRIPT.contains(&format!("\"{MODULE_FILE}\"")));
        assert!(SCRIPT.contains(&format!("\"{MODULE_SCRIPT}\"")));
        assert!(SCRIPT.contains("window.NETCALC_WASM"));
    }
}
