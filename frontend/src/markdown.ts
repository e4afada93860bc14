import MarkdownIt from "markdown-it";
import emoji from "markdown-it-emoji/lib/bare.mjs";

import { SHORTCODES } from "./emoji/emoji";

/**
 * Message bodies as a safe subset of Markdown: bold, italic, strikethrough, inline code, fenced
 * code blocks, quotes, lists, and bare http(s) URLs made into links. markdown-it escapes
 * everything it does not turn into one of those, because raw HTML is off (`html: false`); what
 * cannot be expressed safely is switched off altogether: images (a URL in a message never loads
 * anything), written links `[text](url)` (a link shows where it goes), headings, rules and
 * tables (a chat line is not a document). Besides: `www.` addresses are links too (to https://),
 * `:shortcodes:` are their emoji (markdown-it-emoji; emoticons such as ":)" stay text), and a
 * fenced block's language is kept for the highlighter (messages/highlight.ts).
 *
 * Links are http and https only (not mailto:, ftp:, a protocol-relative //host, nor what
 * markdown-it refuses anyway: javascript:, vbscript:, file:, data:), and a link shows its host
 * as the ASCII (punycode) name when the host mixes scripts: xn--pple-43d.com is not shown as
 * "аpple.com" with a Cyrillic а. A paragraph that would cost more than a chat line should to
 * format (MAX_LINKS, MAX_MARKS, MAX_LINES; a 16 KiB body of links or asterisks took 60 ms a
 * render) is shown as its plain text, line breaks kept.
 */
const md = new MarkdownIt("default", { html: false, linkify: true, breaks: true, typographer: false });
md.disable(["image", "link", "heading", "lheading", "hr", "table", "reference", "html_block", "html_inline"]);
md.linkify.set({ fuzzyLink: false, fuzzyEmail: false });
for (const schema of ["mailto:", "ftp:", "//"]) md.linkify.add(schema, null);
md.validateLink = (url) => /^https?:\/\//i.test(url);
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

// --- hosts that mix scripts are shown as their ASCII name
const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\p{Script=Bopomofo}]/u;
const SCRIPTS = ["Latin", "Cyrillic", "Greek", "Armenian", "Georgian", "Hebrew", "Arabic", "Devanagari", "Thai"].map(
  (name) => [name, new RegExp(`\\p{Script=${name}}`, "u")] as const,
);
const HOST = /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/?#]*@)?(\[[^\]]*\]|[^:/?#]*)/i;

function scriptOf(letter: string): string {
  if (CJK.test(letter)) return "CJK"; // Japanese and Korean names mix these by design
  return SCRIPTS.find(([, pattern]) => pattern.test(letter))?.[0] ?? `other ${letter}`;
}

/** Whether the host's letters come from more than one script (its labels taken together). */
export function mixesScripts(host: string): boolean {
  const scripts = new Set((host.match(/\p{L}/gu) ?? []).map(scriptOf));
  return scripts.size > 1;
}

const readableLink = md.normalizeLinkText.bind(md);
md.normalizeLinkText = (url) => {
  const shown = readableLink(url);
  const host = HOST.exec(shown)?.[1];
  if (!host || !mixesScripts(host)) return shown;
  try {
    return shown.replace(host, new URL(md.normalizeLink(url)).hostname);
  } catch {
    return md.normalizeLink(url);
  }
};

// --- a bounded cost: a paragraph too dear to format is shown as its text
const MAX_LINKS = 50; // candidate URLs (scheme:// or www.) in one paragraph
const MAX_MARKS = 500; // emphasis, strikethrough, code and :shortcode: marks in one paragraph
const MAX_LINES = 500; // lines of one paragraph

function tooDear(text: string): boolean {
  return (
    (text.match(/:\/\/|www\./gi)?.length ?? 0) > MAX_LINKS ||
    (text.match(/[*_~`:]/g)?.length ?? 0) > MAX_MARKS ||
    text.split("\n").length > MAX_LINES
  );
}

md.core.ruler.before("inline", "bounded", (state) => {
  for (const token of state.tokens) {
    if (token.type === "inline" && tooDear(token.content)) token.type = "plain_inline";
  }
});

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

function withMentions(text: string, env: unknown): string {
  const mentions = (env as Partial<RenderEnv> | undefined)?.mentions;
  if (!mentions) return text;
  return text.replace(mentions, (_whole, before: string, name: string) => `${before}<span class="mention">@${name}</span>`);
}

md.renderer.rules.text = (tokens, idx, _options, env) => withMentions(escapeHtml(tokens[idx]?.content ?? ""), env);

md.renderer.rules.plain_inline = (tokens, idx, _options, env) =>
  withMentions(escapeHtml(tokens[idx]?.content ?? ""), env).replace(/\n/g, "<br>\n");

/** The body as HTML that is safe to put into the page. */
export function renderBody(body: string, mentions: readonly string[] = []): string {
  const env: RenderEnv = { mentions: mentionPattern(mentions) };
  return md.render(body, { ...env });
}
