// markdown-it-emoji ships no types; these are the two parts Hubbub uses.
declare module "markdown-it-emoji/lib/bare.mjs" {
  import type MarkdownIt from "markdown-it";

  interface EmojiOptions {
    /** shortcode (without colons) -> emoji */
    defs: Record<string, string>;
    /** emoji name -> emoticons that stand for it (":)"); none here */
    shortcuts?: Record<string, string | string[]>;
    enabled?: string[];
  }
  export default function emoji(md: MarkdownIt, options: EmojiOptions): void;
}

declare module "markdown-it-emoji/lib/data/full.mjs" {
  /** Every GitHub-style shortcode (without colons) -> its emoji. */
  const full: Record<string, string>;
  export default full;
}
