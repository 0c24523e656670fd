//! The `bpsheet` binary: runs the command line on a thread with a large stack (deeply nested
//! input is checked iteratively where it can be, but dropping a deep syntax tree is recursive)
//! and maps the result to the exit code. A closed pipe (`bpsheet derive ... | head`) is not an
//! error.

use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    let worker = std::thread::Builder::new()
        .stack_size(bpsheet::parallel::STACK_BYTES)
        .spawn(|| {
            let mut out = std::io::BufWriter::new(stdout());
            let mut err = std::io::stderr().lock();
            let code = bpsheet::run(std::env::args_os(), &mut out, &mut err);
            match out.flush() {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => 2,
                _ => code,
            }
        })
        .expect("a thread can be started");
    let code = worker.join().unwrap_or(3);
    ExitCode::from(u8::try_from(code).unwrap_or(3))
}

/// Standard output without the line buffering `std::io::Stdout` adds, which searches every
/// write for a newline (a whole JSON report on one line is megabytes of searching).
#[cfg(unix)]
fn stdout() -> Box<dyn Write> {
    use std::os::fd::AsFd;
    match std::io::stdout().as_fd().try_clone_to_owned() {
        Ok(fd) => Box::new(std::fs::File::from(fd)),
        Err(_) => Box::new(std::io::stdout().lock()),
    }
}

#[cfg(not(unix))]
fn stdout() -> Box<dyn Write> {
    Box::new(std::io::stdout().lock())
}

// Millions of small strings and numbers are made and freed per run; mimalloc does that about
// 20% faster than the system allocator.
#[global_allocator]
static GLOBAL: bpsheet::alloc::Mimalloc = bpsheet::alloc::Mimalloc;
