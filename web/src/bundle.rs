//! Builds the page: `page/index.html` with `page/style.css`, `page/app.js` and the WebAssembly
//! module (base64) written into it, so that one file works from `file://` and fetches nothing.

/// The page's files, compiled in.
const INDEX: &str = include_str!("../page/index.html");
const STYLE: &str = include_str!("../page/style.css");
const SCRIPT: &str = include_str!("../page/app.js");

/// Where `index.html` links the style and the script; the bundle puts them there.
const STYLE_LINK: &str = r#"<link rel="stylesheet" href="style.css">"#;
const SCRIPT_LINK: &str = r#"<script src="app.js"></script>"#;

/// The one HTML file of the page, with `wasm` (the module's bytes) inside.
pub fn page(wasm: &[u8]) -> String {
    let style = format!("<style>\n{STYLE}</style>");
    let script = format!(
        "<script>\nconst NETCALC_WASM = \"{}\";\n</script>\n<script>\n{}</script>",
        base64(wasm),
        SCRIPT.replace("</script", "<\\/script")
    );
    INDEX
        .replacen(STYLE_LINK, &style, 1)
        .replacen(SCRIPT_LINK, &script, 1)
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
    fn the_page_holds_its_style_script_and_module() {
        let page = page(b"\0asm");
        assert!(!page.contains(STYLE_LINK) && !page.contains(SCRIPT_LINK));
        assert!(page.contains("const NETCALC_WASM = \"AGFzbQ==\";"));
        assert!(page.contains(STYLE.trim()) && page.contains(SCRIPT.trim()));
    }
}
