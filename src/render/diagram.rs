//! The network drawn: layout of the units in columns, as TikZ for LaTeX and as SVG for Markdown.
