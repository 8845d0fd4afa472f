import { useEffect, useLayoutEffect, useMemo, useRef, useState } from "react";
import type { Message } from "../lib/types.ts";
import { MessageItem, StreamItem } from "./message-item.tsx";
import type { ChatState } from "./store.ts";

/** Within this many pixels of the end counts as "at the bottom" (following the stream). */
const BOTTOM_SLACK = 48;

/** Tool results by call id, and those shown inside their call's line (not on their own). */
function useToolResults(state: ChatState) {
  const { byId, order } = state;
  return useMemo(() => {
    const results = new Map<string, Message>();
    const calls = new Set<string>();
    for (const id of order) {
      const m = byId[id]!;
      if (m.sender_type === "tool" && m.tool_call_id) results.set(m.tool_call_id, m);
      for (const c of m.tool_calls ?? []) calls.add(c.id);
    }
    return {
      results,
      folded: (m: Message) => m.sender_type === "tool" && !!m.tool_call_id && calls.has(m.tool_call_id),
    };
  }, [byId, order]);
}

function copyCode(e: MouseEvent) {
  const button = (e.target as HTMLElement).closest("[data-copy]");
  const code = button?.parentElement?.querySelector("code")?.textContent;
  if (!button || code == null) return;
  void navigator.clipboard?.writeText(code).then(() => {
    button.textContent = "Copied";
    setTimeout(() => {
      button.textContent = "Copy";
    }, 1500);
  });
}

/**
 * The conversation: loaded pages plus live streams. Follows new content only while the reader is
 * at the bottom; keeps the reader's place when an older page is put above; asks for that page
 * when the top comes near.
 */
export function MessageList(props: { state: ChatState; userId: string | undefined; onNearTop: () => void }) {
  const { state } = props;
  const box = useRef<HTMLDivElement>(null);
  const [atBottom, setAtBottom] = useState(true);
  const follow = useRef(true);
  const anchor = useRef<{ first: string | undefined; height: number }>({ first: undefined, height: 0 });
  const { results, folded } = useToolResults(state);

  useEffect(() => {
    const el = box.current;
    // one listener for every code block's copy button (their HTML comes from the renderer)
    el?.addEventListener("click", copyCode);
    return () => el?.removeEventListener("click", copyCode);
  }, []);

  useLayoutEffect(() => {
    const el = box.current;
    if (!el) return;
    const first = state.order[0];
    const prev = anchor.current;
    // an older page went in above: keep what the reader was looking at where it was
    if (prev.first !== undefined && first !== prev.first && !follow.current)
      el.scrollTop += el.scrollHeight - prev.height;
    else if (follow.current) el.scrollTop = el.scrollHeight;
    anchor.current = { first, height: el.scrollHeight };
  });

  function onScroll() {
    const el = box.current!;
    const bottom = el.scrollHeight - el.scrollTop - el.clientHeight < BOTTOM_SLACK;
    follow.current = bottom;
    if (bottom !== atBottom) setAtBottom(bottom);
    anchor.current.height = el.scrollHeight;
    if (el.scrollTop < 300 && state.hasOlder) props.onNearTop();
  }

  function jump() {
    const el = box.current!;
    follow.current = true;
    setAtBottom(true);
    el.scrollTop = el.scrollHeight;
  }

  const queued = (m: Message) => !!m.turn_id && state.turns[m.turn_id]?.status === "queued";
  return (
    <div className="list-wrap">
      {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region must be reachable by keyboard to scroll it */}
      <div className="messages" ref={box} onScroll={onScroll} tabIndex={0} role="log" aria-label="Messages">
        {state.hasOlder ? (
          <p className="muted center">Scroll up for older messages</p>
        ) : (
          <p className="muted center">Start of the conversation</p>
        )}
        <ol className="message-ol" aria-live="off">
          {state.order.map((id) => {
            const m = state.byId[id]!;
            if (folded(m)) return null;
            return (
              <MessageItem
                key={id}
                message={m}
                results={results}
                queued={queued(m)}
                mine={!!props.userId && m.sender_user_id === props.userId}
              />
            );
          })}
          {state.streamOrder.map((id) => (
            <StreamItem key={id} stream={state.streams[id]!} />
          ))}
        </ol>
      </div>
      {atBottom ? null : (
        <button type="button" className="jump" onClick={jump}>
          ↓ Jump to latest
        </button>
      )}
    </div>
  );
}
