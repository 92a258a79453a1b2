//! The `mcsh` binary: parse, run, exit with the code the library chose.

fn main() {
    std::process::exit(mcsh::run(std::env::args_os()));
}
