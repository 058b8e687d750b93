//! The wasm entry point trunk builds. Natively there is nothing to run: the app is a web page.
//! The same wasm also runs the validator's Web Worker (`dagsmith_web::validator`), where there
//! is no window and `validator_worker_main` starts it instead.

fn main() {
    #[cfg(target_arch = "wasm32")]
    if web_sys::window().is_some() {
        dagsmith_web::start();
    }
    #[cfg(not(target_arch = "wasm32"))]
    eprintln!("dagsmith-web runs in a browser: build it with scripts/build-web.sh");
}

/// Called by the validator worker's script once the wasm is instantiated there.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn validator_worker_main() {
    dagsmith_web::worker::main();
}
