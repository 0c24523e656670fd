// Renders every math expression of Markdown files with KaTeX and reports the ones it rejects.
// Usage: node check.js FILE.md... ; exit code 1 when any expression fails, 0 otherwise.
// Display math is $$...$$ (possibly over several lines), inline math is $...$; `\$` is a literal
// dollar sign, as bpsheet escapes text.
"use strict";
const fs = require("fs");
const katex = require("katex");

function expressions(text) {
  const found = [];
  let i = 0;
  let line = 1;
  while (i < text.length) {
    const c = text[i];
    if (c === "\\" && text[i + 1] === "$") { i += 2; continue; }
    if (c === "\n") { line += 1; i += 1; continue; }
    if (c !== "$") { i += 1; continue; }
    const display = text[i + 1] === "$";
    const open = display ? 2 : 1;
    const close = display ? "$$" : "$";
    let j = i + open;
    while (j < text.length && !(text.startsWith(close, j) && text[j - 1] !== "\\")) j += 1;
    if (j >= text.length) { found.push({ line, display, tex: null }); break; }
    const tex = text.slice(i + open, j);
    found.push({ line, display, tex });
    line += (tex.match(/\n/g) || []).length;
    i = j + close.length;
  }
  return found;
}

let failures = 0;
let total = 0;
for (const file of process.argv.slice(2)) {
  for (const { line, display, tex } of expressions(fs.readFileSync(file, "utf8"))) {
    total += 1;
    if (tex === null) {
      failures += 1;
      console.log(`${file}:${line}: unclosed math`);
      continue;
    }
    try {
      katex.renderToString(tex, { displayMode: display, throwOnError: true, strict: "error" });
    } catch (e) {
      failures += 1;
      console.log(`${file}:${line}: ${e.message}`);
    }
  }
}
console.log(`${total} expressions, ${failures} rejected`);
process.exit(failures > 0 ? 1 : 0);
