//! The wasm entry point trunk builds. Natively there is nothing to run: the app is a web page.

fn main() {
    #[cfg(target_arch = "wasm32")]
    dagsmith_web::start();
    #[cfg(not(target_arch = "wasm32"))]
    eprintln!("dagsmith-web runs in a browser: build it with scripts/build-web.sh");
}
