//! The access log (issue 15, PCI DSS 10.2): one `tracing` event per request on the
//! `remit::access` target, written by `OpsApi::handle`, so both listeners (`remit serve`, the
//! Lambda) log alike. A line says who (the token's analyst, or `anonymous`), the method, the
//! route's template (never the raw path: it may carry a card number), the item or market the
//! path names (card numbers masked), the status and the API's error code; a resolve is marked as
//! a card lookup, the card shown by its last four digits. Refusals (401, 403, 429) are WARN, so
//! they stay when a log level above INFO is set; the rest is INFO.

use axum::http::{header, HeaderMap, Method, Response, StatusCode};
use percent_encoding::percent_decode_str;
use remit_domain::mask_card_numbers;
use remit_domain::text::shown::shown;

use crate::openapi::ROUTES;
use crate::Tokens;

/// The `tracing` target of the access log (`REMIT_LOG=remit::access=info` keeps only it).
pub const TARGET: &str = "remit::access";

/// The route a card number is looked up by.
const RESOLVE: &str = "/api/items/{id}/resolve";

/// The API's error code of an answer (`{"error": code}`), put in the response's extensions by
/// whoever made it, for the access log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ErrorCode(pub &'static str);

/// The card a request looked up, masked (`masked_card`), put in the response's extensions by
/// the route, for the access log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CardLookup(pub String);

/// What the access log keeps of a router's answer: copied before the answer is turned into
/// bytes (the idempotency layer's saved response has no extensions).
#[derive(Clone, Debug, Default)]
pub(crate) struct Facts {
    code: Option<ErrorCode>,
    card: Option<CardLookup>,
}

impl Facts {
    /// The facts a response carries.
    pub fn of<B>(response: &Response<B>) -> Self {
        let x = response.extensions();
        Self { code: x.get::<ErrorCode>().copied(), card: x.get::<CardLookup>().cloned() }
    }

    /// Puts them back on a response made from saved bytes.
    pub fn put<B>(self, response: &mut Response<B>) {
        let x = response.extensions_mut();
        if let Some(c) = self.code {
            x.insert(c);
        }
        if let Some(c) = self.card {
            x.insert(c);
        }
    }
}

/// A card number as typed, as the log may show it: stars and the last four digits when it is
/// card-shaped (`mask_card_numbers`), else only how many digits it had.
pub(crate) fn masked_card(raw: &str) -> String {
    let digits: String = raw.chars().filter(|c| c.is_numeric()).collect();
    let masked = mask_card_numbers(&digits);
    if masked == digits {
        format!("(not card-shaped, {} digits)", digits.chars().count())
    } else {
        masked
    }
}

/// One request as the access log sees it before it is answered.
pub(crate) struct Access {
    analyst: String,
    method: String,
    route: &'static str,
    item: Option<String>,
    market: Option<String>,
}

impl Access {
    /// Who asks for what: the analyst the bearer token stands for (`anonymous` without a known
    /// one), the route template matching the path, and the item or market it names.
    pub fn of(method: &Method, path: &str, headers: &HeaderMap, tokens: &Tokens) -> Self {
        let analyst = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .and_then(|t| tokens.authenticate(t.trim()))
            .map_or_else(|| "anonymous".to_string(), |c| c.analyst.clone());
        let (route, value) = route_of(path);
        let (mut item, mut market) = (None, None);
        if let Some(v) = value {
            if route.contains("{market}") {
                market = Some(v);
            } else {
                item = Some(v);
            }
        }
        Self { analyst, method: shown(method.as_str()), route, item, market }
    }

    /// Writes the line for `response` (`replayed`: answered from an earlier run of the same
    /// idempotent request, nothing looked up again).
    pub fn log<B>(&self, response: &Response<B>, replayed: bool) {
        let status = response.status();
        let facts = Facts::of(response);
        let outcome = match facts.code {
            Some(ErrorCode(c)) => c,
            None if status.is_success() => "ok",
            None => "refused",
        };
        let card = facts.card.map(|c| c.0);
        macro_rules! line {
            ($level:expr) => {
                tracing::event!(
                    target: "remit::access",
                    $level,
                    analyst = %self.analyst,
                    method = %self.method,
                    route = %self.route,
                    item = self.item.as_deref(),
                    market = self.market.as_deref(),
                    status = status.as_u16(),
                    outcome = %outcome,
                    card_lookup = self.route == RESOLVE,
                    card = card.as_deref(),
                    replayed,
                    "ops API request"
                )
            };
        }
        match status {
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN | StatusCode::TOO_MANY_REQUESTS => {
                line!(tracing::Level::WARN)
            }
            _ => line!(tracing::Level::INFO),
        }
    }
}

/// The pages the router serves besides the API's documented routes.
const PAGES: [&str; 2] = ["/", "/console"];

/// The template `path` matches (`(no route)` if none) and the value of its one `{...}` segment:
/// percent-decoded (as the router's `Path` sees it), card numbers masked, on one line, cut short.
fn route_of(path: &str) -> (&'static str, Option<String>) {
    let segments: Vec<&str> = path.split('/').collect();
    for template in ROUTES.iter().map(|r| r.0).chain(PAGES) {
        let parts: Vec<&str> = template.split('/').collect();
        if parts.len() != segments.len() {
            continue;
        }
        let mut value = None;
        let matched = parts.iter().zip(&segments).all(|(p, s)| {
            if p.starts_with('{') {
                value = Some(*s);
                !s.is_empty()
            } else {
                p == s
            }
        });
        if matched {
            let decoded = value.map(|v| percent_decode_str(v).decode_utf8_lossy().into_owned());
            return (template, decoded.map(|v| shown(&mask_card_numbers(&v))));
        }
    }
    ("(no route)", None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_are_templates_and_values_are_masked() {
        assert_eq!(route_of("/api/items/RQ-CA-1/resolve"), (RESOLVE, Some("RQ-CA-1".into())));
        assert_eq!(route_of("/api/queues/IN/items").0, "/api/queues/{market}/items");
        assert_eq!(route_of("/api/me"), ("/api/me", None));
        assert_eq!(route_of("/"), ("/", None));
        assert_eq!(route_of("/api/items//claim"), ("(no route)", None));
        assert_eq!(route_of("/etc/passwd"), ("(no route)", None));
        let (route, id) = route_of("/api/items/3726%20018159%2008301");
        assert_eq!(route, "/api/items/{id}");
        assert_eq!(id.as_deref(), Some("***********8301"));
    }

    #[test]
    fn a_card_is_shown_by_its_last_four() {
        assert_eq!(masked_card("3726 018159 08301"), "***********8301");
        assert_eq!(masked_card("1234"), "(not card-shaped, 4 digits)");
        assert_eq!(masked_card("12345678901"), "(not card-shaped, 11 digits)");
    }
}
