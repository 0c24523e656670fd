//! Reading submissions: Markdown with LaTeX math, or a plain answers file, into claims.
