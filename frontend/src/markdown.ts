import MarkdownIt from "markdown-it";
import emoji from "markdown-it-emoji/lib/bare.mjs";

import { SHORTCODES } from "./emoji/emoji";

/**
 * Message bodies as a safe subset of Markdown: bold, italic, strikethrough, inline code, fenced
 * code blocks, quotes, lists, and bare URLs made into links. markdown-it escapes everything it
 * does not turn into one of those, because raw HTML is off (`html: false`); what cannot be
 * expressed safely is switched off altogether: images (a URL in a message never loads
 * anything), written links `[text](url)` (a link shows where it goes), headings, rules and
 * tables (a chat line is not a document). markdown-it's own link check refuses `javascript:`,
 * `vbscript:`, `file:` and `data:` URLs. Besides: `www.` addresses are links too, `:shortcodes:`
 * are their emoji (markdown-it-emoji; emoticons such as ":)" stay text), and a fenced block's
 * language is kept for the highlighter (messages/highlight.ts).
 */
const md = new MarkdownIt("default", { html: false, linkify: true, breaks: true, typographer: false });
md.disable(["image", "link", "heading", "lheading", "hr", "table", "reference", "html_block", "html_inline"]);
md.linkify.set({ fuzzyLink: false, fuzzyEmail: false });
md.use(emoji, { defs: SHORTCODES, shortcuts: {} });

// "www.example.com" is a link (to https://), as people type them; a bare "example.com" is not.
let wwwTail: RegExp | null = null;
md.linkify.add("www.", {
  validate: (text, pos, self) => {
    wwwTail ??= new RegExp(self.re.get_fuzzy_url_host_port().source + self.re.get_path().source, "iy");
    wwwTail.lastIndex = pos;
    return wwwTail.exec(text)?.[0].length ?? 0;
  },
  normalize: (match) => {
    match.url = `https://${match.url}`;
  },
});

const escapeHtml = md.utils.escapeHtml;

md.renderer.rules.link_open = (tokens, idx, options, _env, self) => {
  const token = tokens[idx];
  if (token) {
    token.attrSet("target", "_blank");
    token.attrSet("rel", "noopener noreferrer nofollow");
  }
  return self.renderToken(tokens, idx, options);
};

// A fence's language, as the highlighter names them: a word, nothing that could leave the attribute.
const LANGUAGE = /^[A-Za-z0-9_+#.-]{1,20}$/;

md.renderer.rules.fence = (tokens, idx) => {
  const token = tokens[idx];
  const code = token?.content ?? "";
  const language = token?.info.trim().split(/\s+/)[0] ?? "";
  const lang = LANGUAGE.test(language) ? ` data-lang="${escapeHtml(language.toLowerCase())}"` : "";
  return (
    '<div class="code-block"><button type="button" class="copy" data-copy="">Copy</button>' +
    `<pre tabindex="0"><code${lang}>${escapeHtml(code)}</code></pre></div>`
  );
};
md.renderer.rules.code_block = md.renderer.rules.fence;

/** What a render is told besides the body: the mentions to highlight. */
interface RenderEnv {
  /** Matches "@name" for each member the message mentions (and @room), longest name first. */
  mentions: RegExp | null;
}

function mentionPattern(mentions: readonly string[]): RegExp | null {
  const names = mentions.map((name) => (name === "@room" ? "room" : name)).sort((a, b) => b.length - a.length);
  if (names.length === 0) return null;
  const alternatives = names.map((name) => escapeHtml(name).replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  // As the server reads them (backend chat/mentions.py): an @ not preceded by a word character
  // (a letter or digit of any script).
  return new RegExp(`(^|[^\\p{L}\\p{N}\\p{M}_@])@(${alternatives.join("|")})(?![\\p{L}\\p{N}\\p{M}_-])`, "gu");
}

md.renderer.rules.text = (tokens, idx, _options, env) => {
  const text = escapeHtml(tokens[idx]?.content ?? "");
  const mentions = (env as Partial<RenderEnv> | undefined)?.mentions;
  if (!mentions) return text;
  return text.replace(mentions, (_whole, before: string, name: string) => `${before}<span class="mention">@${name}</span>`);
};

/** The body as HTML that is safe to put into the page. */
export function renderBody(body: string, mentions: readonly string[] = []): string {
  const env: RenderEnv = { mentions: mentionPattern(mentions) };
  return md.render(body, { ...env });
}
