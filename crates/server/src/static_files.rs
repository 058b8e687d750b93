//! The built web app: files from the static directory, `index.html` for any other path outside
//! the APIs (the app routes in the browser), and 404 for anything that tries to leave the
//! directory (`..`, encoded or not, backslashes, symlinks pointing out).

use std::path::{Component, Path, PathBuf};

use axum::body::Body;
use axum::extract::State;
use axum::http::{Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use percent_encoding::percent_decode_str;

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

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        // WebAssembly.instantiateStreaming insists on this type.
        "wasm" => "application/wasm",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "txt" => "text/plain; charset=utf-8",
        "woff2" => "font/woff2",
        _ => "application/octet-stream",
    }
}

async fn file_response(path: PathBuf) -> Response {
    let read_path = path.clone();
    match tokio::task::spawn_blocking(move || std::fs::read(read_path)).await {
        Ok(Ok(bytes)) => {
            // The app's file names carry content hashes, except index.html: always revalidate it.
            let cache = if path.file_name().is_some_and(|n| n == "index.html") {
                "no-cache"
            } else {
                "public, max-age=3600"
            };
            Response::builder()
                .header(header::CONTENT_TYPE, content_type(&path))
                .header(header::CACHE_CONTROL, cache)
                .body(Body::from(bytes))
                .unwrap_or_default()
        }
        _ => ApiError::not_found("not found").into_response(),
    }
}

/// Whether a path belongs to the APIs (`/api`, `/v1`) rather than the web app.
pub fn is_api(path: &str) -> bool {
    ["/api", "/v1"].iter().any(|p| path == *p || path.starts_with(&format!("{p}/")))
}

/// The router's fallback: unknown API paths, the web app and its files.
pub async fn fallback(State(state): State<SharedState>, method: Method, uri: Uri) -> Response {
    let path = uri.path();
    if is_api(path) {
        return ApiError::not_found(format!("no endpoint {method} {path}")).into_response();
    }
    if method != Method::GET && method != Method::HEAD {
        return ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "invalid_request_error",
            format!("{method} is not allowed here"),
        )
        .into_response();
    }
    let Some(root) = &state.config.static_dir else {
        return ApiError::not_found(
            "this server has no web app: build it (scripts/build-web.sh) into dist/ or pass \
             --static-dir DIR; the API is under /api and /v1",
        )
        .into_response();
    };
    match resolve(root, path) {
        Resolved::File(file) => file_response(file).await,
        Resolved::Missing => match resolve(root, "/index.html") {
            Resolved::File(index) => file_response(index).await,
            _ => {
                ApiError::not_found(format!("{path} not found (and no index.html)")).into_response()
            }
        },
        Resolved::Forbidden => ApiError::not_found(format!("{path} not found")).into_response(),
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
