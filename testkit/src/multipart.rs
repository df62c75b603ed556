//! `multipart/form-data` bodies as the fakes read them (Telegram's sendDocument, Discord's
//! messages with files): each part's name, file name and bytes, split on the boundary.

/// One part of a form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub name: String,
    /// Set for a file part (`filename="..."`).
    pub filename: Option<String>,
    pub bytes: Vec<u8>,
}

/// The boundary of a `multipart/form-data` content type, if it is one.
pub fn boundary(content_type: &str) -> Option<&str> {
    content_type
        .strip_prefix("multipart/form-data")?
        .split("boundary=")
        .nth(1)
        .map(|b| b.split(';').next().unwrap_or(b).trim().trim_matches('"'))
}

/// The parts of `body`; `None` when it does not parse as a form with this boundary.
pub fn parts(body: &[u8], boundary: &str) -> Option<Vec<Part>> {
    let delimiter = format!("--{boundary}").into_bytes();
    let mut out = Vec::new();
    let mut rest = &body[find(body, &delimiter)? + delimiter.len()..];
    loop {
        if rest.starts_with(b"--") {
            return Some(out);
        }
        rest = rest.strip_prefix(b"\r\n")?;
        let head_end = find(rest, b"\r\n\r\n")?;
        let head = std::str::from_utf8(&rest[..head_end]).ok()?;
        let after_head = &rest[head_end + 4..];
        let end = find(after_head, &delimiter)?;
        let bytes = after_head[..end]
            .strip_suffix(b"\r\n")
            .unwrap_or(&after_head[..end]);
        let disposition = head
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with("content-disposition"))?;
        let attr = |key: &str| {
            disposition
                .split(';')
                .map(str::trim)
                .find_map(|p| p.strip_prefix(&format!("{key}=")))
                .map(|v| v.trim_matches('"').to_string())
        };
        out.push(Part {
            name: attr("name")?,
            filename: attr("filename"),
            bytes: bytes.to_vec(),
        });
        rest = &after_head[end + delimiter.len()..];
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_fields_and_files() {
        let body = b"--XyZ\r\nContent-Disposition: form-data; name=\"chat_id\"\r\n\r\n42\r\n--XyZ\r\nContent-Disposition: form-data; name=\"document\"; filename=\"a.bib\"\r\nContent-Type: application/octet-stream\r\n\r\n@misc{a,\r\n}\r\n--XyZ--\r\n";
        let p = parts(body, boundary("multipart/form-data; boundary=XyZ").unwrap()).unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!(
            (p[0].name.as_str(), p[0].bytes.as_slice()),
            ("chat_id", &b"42"[..])
        );
        assert_eq!(p[1].filename.as_deref(), Some("a.bib"));
        assert_eq!(p[1].bytes, b"@misc{a,\r\n}");
    }
}
