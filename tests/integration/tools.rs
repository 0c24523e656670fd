//! Outside programs some tests need (pdflatex, pdftoppm, node with KaTeX). Where one is missing
//! the test says so loudly and skips, unless `BPSHEET_REQUIRE_TOOLS` is set (as `.ci/run` does),
//! in which case it fails.

use std::process::Command;

/// Whether `program` can be started (its exit status does not matter: `pdftoppm --version`
/// exits 99); if not, skips loudly or fails under BPSHEET_REQUIRE_TOOLS.
pub fn available(program: &str, purpose: &str) -> bool {
    let found = Command::new(program).arg("-v").output().is_ok();
    if !found {
        if std::env::var_os("BPSHEET_REQUIRE_TOOLS").is_some() {
            panic!("`{program}` is required ({purpose}) but not installed; .ci/run installs it");
        }
        eprintln!(
            "\n*** SKIPPED: `{program}` is not installed, so {purpose} is not tested here ***\n"
        );
    }
    found
}

/// Whether node can load KaTeX from tests/katex (installed by `npm ci` there).
pub fn katex_available() -> bool {
    if !available("node", "KaTeX rendering of the Markdown math") {
        return false;
    }
    let installed = crate::support::root()
        .join("tests/katex/node_modules/katex")
        .is_dir();
    if !installed {
        if std::env::var_os("BPSHEET_REQUIRE_TOOLS").is_some() {
            panic!(
                "KaTeX is required but tests/katex/node_modules is missing; run `npm ci` in tests/katex"
            );
        }
        eprintln!("\n*** SKIPPED: KaTeX is not installed (run `npm ci` in tests/katex) ***\n");
    }
    installed
}
