//! The model subcommands in a build without the `engine` feature (the Python wheel, which has no
//! local model so that it builds fast, without a C++ toolchain, and stays small): they exist, so
//! that users learn why they do nothing, and refuse with exit status 2.

use std::ffi::OsString;

use clap::Args;

use crate::{exit, output};

/// Whatever arguments were given; none are looked at.
#[derive(Args, Debug)]
pub struct Unavailable {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
    _args: Vec<OsString>,
}

pub fn refuse(command: &str) -> u8 {
    output::error(&format!(
        "`dagsmith {command}` needs model support (llama.cpp), which this build of dagsmith does \
         not have: it was built without the `engine` feature, as the Python wheel is. \
         Build the full CLI from source with `cargo build --release -p dagsmith` \
         (see the README)."
    ));
    exit::ERROR
}
