//! The ops console (issue 6): one self-contained HTML page (inline CSS and vanilla JS, no build
//! step) served by the API's own router at `/` and `/console`. The page itself needs no token:
//! the analyst pastes theirs in, the page keeps it in `sessionStorage` only, and every JSON call
//! carries it as `Authorization: Bearer`, so the API's scoping applies unchanged (another
//! market's queue is 403 through the console as through the API).
//!
//! The page renders API data with `textContent` only (never as HTML), shows card numbers only as
//! the API returns them (masked), clears the account field once a resolution is sent, and is
//! served with a Content-Security-Policy that allows exactly its own inline script and style (by
//! their SHA-256) and requests to this origin.
//!
//! The analyst's workbench (issue 16) is on the same page: an item's ranked candidates, the
//! directory search of the markets the caller reads, the payer's history, what a resolve posted
//! and taught alias memory, and the team view per market. A resolve from the workbench names the
//! account by the `account_ref` token the API gave (never a number the page builds); keys drive
//! it (shown in a legend): `c` claim, `n` next item, `1`-`9` select a candidate or a search
//! result, `Enter` confirm (a number alone never resolves), `a` note, `/` search, `t` team view,
//! `Esc` cancel; they are ignored while the analyst types in a field.
//!
//! `tests/browser.rs` drives the page in headless Debian chromium (installed by `scripts/test`).

use std::sync::OnceLock;

use axum::http::header;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

/// The page, English and French (`<script type="application/json" id="i18n">`), with the API
/// routes it calls listed in `<script type="application/json" id="api-routes">`.
pub const CONSOLE_HTML: &str = include_str!("console.html");

/// The body of each `<open ...>...</close>` element of `html` whose opening tag is exactly `open`.
fn element_bodies<'a>(html: &'a str, open: &str, close: &str) -> Vec<&'a str> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(i) = rest.find(open) {
        let after = &rest[i + open.len()..];
        let Some(j) = after.find(close) else { break };
        out.push(&after[..j]);
        rest = &after[j + close.len()..];
    }
    out
}

fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (k, shift) in [18u32, 12, 6, 0].into_iter().enumerate() {
            if k <= chunk.len() {
                s.push(A[((n >> shift) & 63) as usize] as char);
            } else {
                s.push('=');
            }
        }
    }
    s
}

fn csp_hashes(bodies: &[&str]) -> String {
    bodies
        .iter()
        .map(|b| format!("'sha256-{}'", base64(&Sha256::digest(b.as_bytes()))))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The page's Content-Security-Policy: its inline script and style by hash, fetches to this
/// origin, nothing else.
pub fn content_security_policy() -> &'static str {
    static CSP: OnceLock<String> = OnceLock::new();
    CSP.get_or_init(|| {
        let scripts = csp_hashes(&element_bodies(CONSOLE_HTML, "<script>", "</script>"));
        let styles = csp_hashes(&element_bodies(CONSOLE_HTML, "<style>", "</style>"));
        format!(
            "default-src 'none'; script-src {scripts}; style-src {styles}; connect-src 'self'; \
             img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
        )
    })
}

pub(crate) async fn console_page() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, content_security_policy()),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
            (header::CACHE_CONTROL, "no-store"),
            (header::X_FRAME_OPTIONS, "DENY"),
        ],
        CONSOLE_HTML,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc_4648() {
        for (input, want) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
        ] {
            assert_eq!(base64(input.as_bytes()), want);
        }
    }

    #[test]
    fn the_policy_names_one_script_and_one_style() {
        assert_eq!(element_bodies(CONSOLE_HTML, "<script>", "</script>").len(), 1);
        assert_eq!(element_bodies(CONSOLE_HTML, "<style>", "</style>").len(), 1);
        let csp = content_security_policy();
        assert_eq!(csp.matches("'sha256-").count(), 2, "{csp}");
        assert!(!csp.contains("unsafe-inline"));
    }
}
