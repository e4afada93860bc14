import MarkdownIt from "markdown-it";

/**
 * Message bodies as a safe subset of Markdown: bold, italic, strikethrough, inline code, fenced
 * code blocks, quotes, lists, and bare URLs made into links. markdown-it escapes everything it
 * does not turn into one of those, because raw HTML is off (`html: false`); what cannot be
 * expressed safely is switched off altogether: images (a URL in a message never loads
 * anything), written links `[text](url)` (a link shows where it goes), headings, rules and
 * tables (a chat line is not a document). markdown-it's own link check refuses `javascript:`,
 * `vbscript:`, `file:` and `data:` URLs.
 */
const md = new MarkdownIt("default", { html: false, linkify: true, breaks: true, typographer: false });
md.disable(["image", "link", "heading", "lheading", "hr", "table", "reference", "html_block", "html_inline"]);
md.linkify.set({ fuzzyLink: false, fuzzyEmail: false });

const escapeHtml = md.utils.escapeHtml;

md.renderer.rules.link_open = (tokens, idx, options, _env, self) => {
  const token = tokens[idx];
  if (token) {
    token.attrSet("target", "_blank");
    token.attrSet("rel", "noopener noreferrer nofollow");
  }
  return self.renderToken(tokens, idx, options);
};

md.renderer.rules.fence = (tokens, idx) => {
  const code = tokens[idx]?.content ?? "";
  return (
    '<div class="code-block"><button type="button" class="copy" data-copy="">Copy</button>' +
    `<pre tabindex="0"><code>${escapeHtml(code)}</code></pre></div>`
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
  // As the server reads them (backend chat/mentions.py): an @ not preceded by a word character.
  return new RegExp(`(^|[^\\w@])@(${alternatives.join("|")})(?![\\w-])`, "gu");
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
