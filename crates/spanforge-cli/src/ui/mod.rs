//! The web UI of `spanforge serve`: a static single-page app (vanilla JavaScript and CSS, no
//! build step, nothing fetched from outside) compiled into the binary.
//!
//! [`router`] serves it; `spanforge serve` merges it with the JSON API of [`crate::api`] on the
//! UI address. The pages (traces, a trace's waterfall, LLM cost, services) are described in
//! docs/cli/ui.md.
//!
//! | path           | content                                           |
//! |----------------|---------------------------------------------------|
//! | `/`            | `index.html` (also `/index.html`)                  |
//! | `/app.js`      | the application                                   |
//! | `/style.css`   | the style sheet                                   |
//! | `/favicon.svg` | the icon                                          |
//!
//! Every response carries an `ETag` (a hash of the content computed at compile time) and
//! `Cache-Control: no-cache`, so a browser revalidates and gets `304 Not Modified` until the
//! binary changes. The page is sent with a Content-Security-Policy that allows only this
//! origin's scripts, styles and API. Any other path is left to the router it is merged into
//! (404 by default).

use axum::{
    Router,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};

/// One embedded file.
#[derive(Debug)]
struct Asset {
    body: &'static [u8],
    content_type: &'static str,
    etag: &'static str,
    /// The HTML page, which gets the Content-Security-Policy.
    page: bool,
}

/// FNV-1a (64-bit) over the file, at compile time: a cheap content hash for the ETag.
const fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u64;
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        i += 1;
    }
    hash
}

/// `"` + 16 lowercase hex digits + `"`: a strong ETag.
const fn etag_bytes(bytes: &[u8]) -> [u8; 18] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let hash = fnv1a(bytes);
    let mut out = [b'"'; 18];
    let mut i = 0;
    while i < 16 {
        out[1 + i] = HEX[((hash >> (60 - 4 * i)) & 0xf) as usize];
        i += 1;
    }
    out
}

macro_rules! asset {
    ($file:literal, $content_type:literal, $page:literal) => {{
        const BODY: &[u8] = include_bytes!(concat!("assets/", $file));
        const ETAG: [u8; 18] = etag_bytes(BODY);
        Asset {
            body: BODY,
            content_type: $content_type,
            etag: match std::str::from_utf8(&ETAG) {
                Ok(etag) => etag,
                Err(_) => panic!("an ETag is ASCII"),
            },
            page: $page,
        }
    }};
}

static INDEX: Asset = asset!("index.html", "text/html; charset=utf-8", true);
static APP_JS: Asset = asset!("app.js", "text/javascript; charset=utf-8", false);
static STYLE_CSS: Asset = asset!("style.css", "text/css; charset=utf-8", false);
static FAVICON: Asset = asset!("favicon.svg", "image/svg+xml", false);

/// The page's Content-Security-Policy: this origin only, no inline script or style.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
                   connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The web UI's routes: `/`, `/index.html`, `/app.js`, `/style.css` and `/favicon.svg`.
///
/// It has no fallback, so it can be merged with the API router (axum refuses to merge two
/// routers that both have one); an unknown path gets the merged router's 404.
pub fn router() -> Router {
    Router::new()
        .route("/", get(|headers: HeaderMap| serve(&INDEX, headers)))
        .route(
            "/index.html",
            get(|headers: HeaderMap| serve(&INDEX, headers)),
        )
        .route("/app.js", get(|headers: HeaderMap| serve(&APP_JS, headers)))
        .route(
            "/style.css",
            get(|headers: HeaderMap| serve(&STYLE_CSS, headers)),
        )
        .route(
            "/favicon.svg",
            get(|headers: HeaderMap| serve(&FAVICON, headers)),
        )
}

async fn serve(asset: &'static Asset, request: HeaderMap) -> Response {
    let etag = HeaderValue::from_static(asset.etag);
    let mut headers = HeaderMap::new();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(header::ETAG, etag);
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if asset.page {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        );
        headers.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        );
    }
    if not_modified(&request, asset.etag) {
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    (StatusCode::OK, headers, asset.body).into_response()
}

/// Whether `If-None-Match` names this ETag (or `*`); weak comparison, as RFC 9110 asks.
fn not_modified(request: &HeaderMap, etag: &str) -> bool {
    request
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|tag| tag.trim())
        .any(|tag| tag == "*" || tag.trim_start_matches("W/") == etag)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::{Body, to_bytes};
    use http::Request;
    use tower::ServiceExt;

    async fn get(path: &str, if_none_match: Option<&str>) -> Response {
        let mut request = Request::get(path);
        if let Some(tag) = if_none_match {
            request = request.header(header::IF_NONE_MATCH, tag);
        }
        router()
            .oneshot(request.body(Body::empty()).expect("request"))
            .await
            .expect("infallible")
    }

    #[tokio::test]
    async fn serves_each_asset_with_its_content_type() {
        for (path, content_type, needle) in [
            ("/", "text/html; charset=utf-8", "<title>spanforge</title>"),
            ("/index.html", "text/html; charset=utf-8", "app.js"),
            ("/app.js", "text/javascript; charset=utf-8", "hashchange"),
            ("/style.css", "text/css; charset=utf-8", ".waterfall"),
            ("/favicon.svg", "image/svg+xml", "<svg"),
        ] {
            let response = get(path, None).await;
            assert_eq!(response.status(), StatusCode::OK, "{path}");
            let headers = response.headers().clone();
            assert_eq!(headers[header::CONTENT_TYPE], content_type, "{path}");
            assert_eq!(headers[header::CACHE_CONTROL], "no-cache", "{path}");
            assert!(headers.contains_key(header::ETAG), "{path}");
            let body = to_bytes(response.into_body(), usize::MAX)
                .await
                .expect("body");
            let body = String::from_utf8(body.to_vec()).expect("utf-8");
            assert!(body.contains(needle), "{path} lacks {needle}");
        }
    }

    #[tokio::test]
    async fn the_page_has_a_content_security_policy() {
        let response = get("/", None).await;
        let csp = response.headers()[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .expect("ascii");
        assert!(csp.contains("script-src 'self'"), "{csp}");
        assert!(!csp.contains("unsafe-inline"), "{csp}");
    }

    #[tokio::test]
    async fn revalidation_with_the_etag_gets_304() {
        let etag = get("/app.js", None).await.headers()[header::ETAG]
            .to_str()
            .expect("ascii")
            .to_owned();
        assert_eq!(etag.len(), 18, "{etag}");
        let response = get("/app.js", Some(&etag)).await;
        assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
        let weak = format!("W/{etag}");
        let response = get("/app.js", Some(&format!("\"other\", {weak}"))).await;
        assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
        let response = get("/app.js", Some("\"0000000000000000\"")).await;
        assert_eq!(response.status(), StatusCode::OK);
    }

    #[tokio::test]
    async fn an_unknown_asset_is_404() {
        assert_eq!(get("/nope.js", None).await.status(), StatusCode::NOT_FOUND);
        assert_eq!(get("/app.js/x", None).await.status(), StatusCode::NOT_FOUND);
    }
}
