import { type KeyboardEvent, useRef, useState } from "react";

/** The `@word` being typed just before the caret, if any. */
function mentionAt(text: string, caret: number): { start: number; query: string } | null {
  const m = /(^|\s)@([^\s@[\]]*)$/.exec(text.slice(0, caret));
  return m ? { start: caret - m[2]!.length - 1, query: m[2]! } : null;
}

/**
 * The message box. `@` opens the group's agents; arrows move, Enter or Tab inserts `@[Alias]`,
 * Escape closes. Enter sends, Shift+Enter starts a new line. It stays usable while a turn runs.
 */
export function Composer(props: { aliases: string[]; onSend: (text: string) => Promise<boolean> }) {
  const [text, setText] = useState("");
  const [mention, setMention] = useState<{ start: number; query: string } | null>(null);
  const [active, setActive] = useState(0);
  const input = useRef<HTMLTextAreaElement>(null);
  /**
   * Posts in flight, chained so that messages reach the group in the order they were written; the
   * chain resolves false once a post failed, and the posts behind it are then not sent.
   */
  const posting = useRef<Promise<boolean>>(Promise.resolve(true));
  /** Messages of the failed chain not sent, in order, waiting to come back into the box. */
  const unsent = useRef<string[]>([]);
  const matches = mention
    ? props.aliases.filter((a) => a.toLowerCase().startsWith(mention.query.toLowerCase())).slice(0, 8)
    : [];
  const open = matches.length > 0;

  function update(value: string, caret: number) {
    setText(value);
    const m = mentionAt(value, caret);
    setMention(m);
    if (m?.query !== mention?.query) setActive(0);
  }

  function insert(alias: string) {
    if (!mention) return;
    const caret = input.current?.selectionStart ?? text.length;
    const inserted = `@[${alias}] `;
    const value = text.slice(0, mention.start) + inserted + text.slice(caret);
    setText(value);
    setMention(null);
    const pos = mention.start + inserted.length;
    requestAnimationFrame(() => input.current?.setSelectionRange(pos, pos));
  }

  /**
   * Empties the box at once, so the next message can be written (and sent) while this one posts.
   * When a post fails, it and every message written after it come back into the box, in order,
   * before whatever was typed since.
   */
  async function send() {
    const content = text.trim();
    if (!content) return;
    setText("");
    setMention(null);
    const sent = posting.current.then((ok) => ok && props.onSend(content)).catch(() => false);
    posting.current = sent;
    const ok = await sent;
    if (!ok) unsent.current.push(content);
    if (posting.current !== sent) return; // later messages are still in the chain
    posting.current = Promise.resolve(true);
    if (unsent.current.length > 0) {
      const back = unsent.current.join("\n\n");
      unsent.current = [];
      setText((now) => (now.trim() ? `${back}\n\n${now}` : back));
    }
    input.current?.focus();
  }

  function onKeyDown(e: KeyboardEvent<HTMLTextAreaElement>) {
    if (open) {
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        const n = matches.length;
        setActive((i) => (i + (e.key === "ArrowDown" ? 1 : n - 1)) % n);
        return;
      }
      if (e.key === "Enter" || e.key === "Tab") {
        e.preventDefault();
        insert(matches[Math.min(active, matches.length - 1)]!);
        return;
      }
      if (e.key === "Escape") {
        e.preventDefault();
        setMention(null);
        return;
      }
    }
    if (e.key === "Enter" && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      void send();
    }
  }

  return (
    <form
      className="composer"
      onSubmit={(e) => {
        e.preventDefault();
        void send();
      }}
    >
      {open ? (
        // the combobox pattern: focus stays in the textarea, which points at the active option
        <div className="mentions" id="mention-list" role="listbox" aria-label="Agents">
          {matches.map((a, i) => (
            // biome-ignore lint/a11y/useFocusableInteractive: options are reached through aria-activedescendant
            <div
              key={a}
              id={`mention-${i}`}
              role="option"
              aria-selected={i === active}
              className={i === active ? "active" : undefined}
              onMouseDown={(e) => {
                e.preventDefault();
                insert(a);
              }}
            >
              @{a}
            </div>
          ))}
        </div>
      ) : null}
      <label className="sr-only" htmlFor="composer-input">
        Write a message
      </label>
      <textarea
        id="composer-input"
        ref={input}
        rows={2}
        maxLength={10000}
        placeholder="@ mentions an agent; Enter sends, Shift+Enter adds a line"
        value={text}
        role="combobox"
        aria-expanded={open}
        aria-controls="mention-list"
        aria-autocomplete="list"
        aria-activedescendant={open ? `mention-${active}` : undefined}
        onChange={(e) => update(e.target.value, e.target.selectionStart)}
        onKeyDown={onKeyDown}
        onBlur={() => setMention(null)}
      />
      <button type="submit" disabled={!text.trim()}>
        Send
      </button>
    </form>
  );
}
