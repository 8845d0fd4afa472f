/**
 * Markdown of untrusted text (model output, other people's messages) to safe HTML: marked renders
 * (GitHub tables included), DOMPurify removes anything active, highlight.js colours code later. Raw HTML
 * in the source is escaped before marked sees it, so no tag of the author's reaches the page.
 */
import DOMPurify from "dompurify";
import type { HLJSApi } from "highlight.js";
import { Marked, type Tokens } from "marked";

const SAFE_URL = /^(https?:|mailto:|#|\/(?!\/))/i;

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const marked = new Marked({
  gfm: true,
  breaks: true,
  renderer: {
    // the author's HTML is shown as text, never parsed
    html({ text }: Tokens.HTML | Tokens.Tag) {
      return escapeHtml(text);
    },
    // highlighted after mounting (highlightIn): highlight.js stays out of the first view's script
    code({ text, lang }: Tokens.Code) {
      const language = lang && /^[\w+-]{1,30}$/.test(lang) ? ` language-${lang}` : "";
      return `<div class="code"><button type="button" class="copy" data-copy>Copy</button><pre><code class="hljs${language}">${escapeHtml(text)}</code></pre></div>`;
    },
    link({ href, title, tokens }: Tokens.Link) {
      const text = this.parser.parseInline(tokens);
      if (!SAFE_URL.test(href.trim())) return `<span class="dead-link">${text}</span>`;
      const t = title ? ` title="${escapeHtml(title)}"` : "";
      return `<a href="${escapeHtml(href)}"${t} target="_blank" rel="noopener noreferrer">${text}</a>`;
    },
    // images would load from anywhere the author names; show the link instead
    image({ href, text }: Tokens.Image) {
      return SAFE_URL.test(href.trim())
        ? `<a href="${escapeHtml(href)}" target="_blank" rel="noopener noreferrer">${escapeHtml(text || href)}</a>`
        : escapeHtml(text);
    },
  },
});

DOMPurify.addHook("afterSanitizeAttributes", (node) => {
  if (node.tagName === "A") {
    const href = node.getAttribute("href") ?? "";
    if (!SAFE_URL.test(href)) node.removeAttribute("href");
    node.setAttribute("target", "_blank");
    node.setAttribute("rel", "noopener noreferrer");
  }
});

const cache = new Map<string, string>();

/** Safe HTML for `source`; the last few hundred results are kept (final messages render once). */
export function renderMarkdown(source: string): string {
  const hit = cache.get(source);
  if (hit !== undefined) return hit;
  const html = DOMPurify.sanitize(marked.parse(source, { async: false }), {
    FORBID_TAGS: ["style", "img", "form", "input", "iframe", "svg", "math"],
    FORBID_ATTR: ["style"],
    ADD_ATTR: ["target", "data-copy"],
  });
  if (cache.size > 500) cache.delete(cache.keys().next().value!);
  cache.set(source, html);
  return html;
}

let hljs: Promise<HLJSApi> | undefined;

/** Colours the code blocks under `el` (highlight.js reads their text and escapes it itself). */
export async function highlightIn(el: HTMLElement): Promise<void> {
  const pending = "pre code:not([data-highlighted])";
  if (!el.querySelector(pending)) return;
  hljs ??= import("highlight.js/lib/common").then((m) => m.default);
  const api = await hljs;
  // read the blocks again: the element's HTML may have been replaced while highlight.js loaded
  for (const code of el.querySelectorAll<HTMLElement>(pending))
    if (code.textContent!.length < 20_000) api.highlightElement(code);
}
