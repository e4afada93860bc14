import hljs from "highlight.js/lib/common";

/**
 * Syntax highlighting for code blocks, with highlight.js's common languages. Loaded on first
 * use only (MessageRow imports it dynamically: a chunk of its own), and safe under the strict
 * Content-Security-Policy: highlight.js escapes the code and marks it up with classes, no
 * inline styles; the colours are styles.css's.
 */

// Blocks that name no language are guessed among these: fewer, surer guesses, and quicker.
const GUESSES = ["bash", "c", "cpp", "css", "go", "java", "javascript", "json", "python", "rust", "sql", "typescript", "xml", "yaml"];
const MAX_CHARS = 20_000; // longer blocks stay plain: highlighting them would stall the page

/** Highlight each `code` element of the node once. */
export function highlightWithin(node: HTMLElement): void {
  for (const code of node.querySelectorAll<HTMLElement>(".code-block code:not([data-highlighted])")) {
    const text = code.textContent;
    code.dataset.highlighted = "";
    if (text.length > MAX_CHARS) continue;
    const named = code.dataset.lang;
    const language = named && hljs.getLanguage(named) ? named : null;
    const result = language ? hljs.highlight(text, { language, ignoreIllegals: true }) : hljs.highlightAuto(text, GUESSES);
    if (!language && result.relevance < 5) continue; // not sure enough: plain is better than wrong
    // highlight.js escapes the text it marks up: the result holds only its own spans.
    code.innerHTML = result.value;
    code.classList.add("hljs");
  }
}
