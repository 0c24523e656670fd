//! The pest parser generated from `grammar/spec.pest`. It parses ONE statement; splitting the
//! text into statements, error conversion and lowering live in the sibling modules.

use pest_derive::Parser;

/// The generated parser; its entry rule is `Rule::statement`.
//
// pest_derive looks for the path relative to the crate root first and falls back to `src/`;
// the crate-root form is used because the fallback form (`../grammar/...`) is first tried
// against the directory *above* the crate, where a stray file would silently win.
#[derive(Parser)]
#[grammar = "grammar/spec.pest"]
pub(crate) struct SpecParser;
