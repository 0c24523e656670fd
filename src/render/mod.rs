//! Rendering: the report model (every quantity as rendered strings), number formatting, and the
//! tera templates that lay reports out as text, Markdown, LaTeX or Moodle XML.

pub mod diagram;
pub mod json;
pub mod number;
pub mod report;
pub mod templates;
