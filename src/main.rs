//! The `mcsh` binary: parse, run, exit with the code the library chose.

fn main() {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let worker = std::thread::Builder::new()
        .name("mcsh".into())
        .stack_size(mcsh::STACK_BYTES)
        .spawn(move || mcsh::run(args));
    let code = match worker {
        Ok(handle) => handle.join().unwrap_or(101),
        // No thread with that stack (a tight ulimit): run here instead.
        Err(_) => mcsh::run(std::env::args_os()),
    };
    std::process::exit(code);
}
