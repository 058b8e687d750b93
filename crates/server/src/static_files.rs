//! The built web app: files from the static directory, `index.html` for any other path outside
//! the APIs (the app routes in the browser), and 404 for anything that tries to leave the
//! directory (`..`, encoded or not, backslashes, symlinks pointing out). Paths are resolved and
//! checked here; tower-http serves the file (ranges, conditional requests, precompressed
//! variants, MIME types).

use std::path::{Component, Path, PathBuf};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use percent_encoding::percent_decode_str;
use tower_http::services::ServeFile;

use crate::error::ApiError;
use crate::state::SharedState;

/// What a request path names inside the static directory.
#[derive(Debug, PartialEq)]
pub enum Resolved {
    File(PathBuf),
    /// Inside the directory but absent: the SPA fallback.
    Missing,
    /// Malformed or escaping the directory.
    Forbidden,
}

/// Maps a URL path to a file under `root` without touching anything outside it.
pub fn resolve(root: &Path, url_path: &str) -> Resolved {
    let Ok(decoded) = percent_decode_str(url_path).decode_utf8() else {
        return Resolved::Forbidden;
    };
    let mut path = root.to_path_buf();
    for segment in decoded.split('/').filter(|s| !s.is_empty()) {
        if segment == "." || segment == ".." || segment.contains(['\\', '\0', ':']) {
            return Resolved::Forbidden;
        }
        // One plain name per segment, nothing a platform would read as a root or prefix.
        let mut components = Path::new(segment).components();
        if !matches!((components.next(), components.next()), (Some(Component::Normal(_)), None)) {
            return Resolved::Forbidden;
        }
        path.push(segment);
    }
    if path.is_dir() {
        path.push("index.html");
    }
    if !path.is_file() {
        return Resolved::Missing;
    }
    // A symlink inside the directory may point outside it.
    match (path.canonicalize(), root.canonicalize()) {
        (Ok(file), Ok(root)) if file.starts_with(&root) => Resolved::File(file),
        _ => Resolved::Forbidden,
    }
}

/// Serves one resolved file with tower-http's file service (`ServeFile` is `ServeDir` for a
/// single path): Range and conditional requests, HEAD, MIME types, and a `.br`/`.gz` variant
/// beside the file when the client accepts it. The path was resolved and checked by [`resolve`]
/// already; `ServeDir` itself would follow a symlink out of the directory.
async fn file_response(root: &Path, path: PathBuf, request: Request) -> Response {
    let mut service = ServeFile::new(&path);
    // A variant is a file of its own: served only when it, too, stays inside the directory.
    if variant_inside(root, &path, "br") {
        service = service.precompressed_br();
    }
    if variant_inside(root, &path, "gz") {
        service = service.precompressed_gzip();
    }
    let response = match service.try_call(request).await {
        Ok(response) if response.status() != StatusCode::NOT_FOUND => response,
        // Removed since it was resolved, or unreadable.
        _ => return ApiError::not_found("not found").into_response(),
    };
    let mut response = response.map(Body::new);
    let headers = response.headers_mut();
    // The app's text files are UTF-8; mime_guess names no charset.
    if let Some(mime) = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok())
        && mime.starts_with("text/")
        && !mime.contains("charset")
        && let Ok(value) = HeaderValue::from_str(&format!("{mime}; charset=utf-8"))
    {
        headers.insert(header::CONTENT_TYPE, value);
    }
    // The app's file names carry content hashes, except index.html: always revalidate it.
    let cache = if path.file_name().is_some_and(|n| n == "index.html") {
        "no-cache"
    } else {
        "public, max-age=3600"
    };
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    response
}

/// Whether `file.EXT` exists and stays inside `root` (symlinks followed).
fn variant_inside(root: &Path, file: &Path, ext: &str) -> bool {
    let mut variant = file.as_os_str().to_owned();
    variant.push(".");
    variant.push(ext);
    match (Path::new(&variant).canonicalize(), root.canonicalize()) {
        (Ok(variant), Ok(root)) => variant.starts_with(root) && variant.is_file(),
        _ => false,
    }
}

/// Whether a path belongs to the APIs (`/api`, `/v1`) rather than the web app.
pub fn is_api(path: &str) -> bool {
    ["/api", "/v1"].iter().any(|p| path == *p || path.starts_with(&format!("{p}/")))
}

/// The router's fallback: unknown API paths, the web app and its files.
pub async fn fallback(
    State(state): State<SharedState>,
    request: Request,
) -> Result<Response, ApiError> {
    let method = request.method();
    let path = request.uri().path().to_string();
    if is_api(&path) {
        return Err(ApiError::not_found(format!("no endpoint {method} {path}")));
    }
    if method != Method::GET && method != Method::HEAD {
        return Err(ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "invalid_request_error",
            format!("{method} is not allowed here"),
        ));
    }
    let Some(root) = &state.config.static_dir else {
        return Err(ApiError::not_found(
            "this server has no web app: build it (scripts/build-web.sh) into dist/ or pass \
             --static-dir DIR; the API is under /api and /v1",
        ));
    };
    match resolve(root, &path) {
        Resolved::File(file) => Ok(file_response(root, file, request).await),
        Resolved::Missing => match resolve(root, "/index.html") {
            Resolved::File(index) => Ok(file_response(root, index, request).await),
            _ => Err(ApiError::not_found(format!("{path} not found (and no index.html)"))),
        },
        Resolved::Forbidden => Err(ApiError::not_found(format!("{path} not found"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_cannot_leave_the_root() {
        let dir = std::env::temp_dir().join(format!("dagsmith-static-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(dir.join("index.html"), "<html>").unwrap();
        std::fs::write(dir.join("sub/app.js"), "x").unwrap();
        let root = dir.canonicalize().unwrap();
        assert_eq!(resolve(&dir, "/"), Resolved::File(root.join("index.html")));
        assert_eq!(resolve(&dir, "/sub/app.js"), Resolved::File(root.join("sub/app.js")));
        assert_eq!(resolve(&dir, "/sub%2fapp.js"), Resolved::File(root.join("sub/app.js")));
        assert_eq!(resolve(&dir, "/share/abc"), Resolved::Missing);
        for bad in ["/../etc/passwd", "/%2e%2e/x", "/sub/..%2f..%2fx", "/a\\..\\b", "/%00", "/%ff"]
        {
            assert_eq!(resolve(&dir, bad), Resolved::Forbidden, "{bad}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
