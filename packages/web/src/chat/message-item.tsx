import { memo, useEffect, useRef } from "react";
import type { Message, ToolCall } from "../lib/types.ts";
import { Avatar } from "./avatar.tsx";
import { highlightIn, renderMarkdown } from "./markdown.ts";
import type { Stream } from "./store.ts";

const time = (iso: string) => new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });

/** Markers the server strips from stored text; a stream shows them raw, so they are hidden here. */
const MARKERS = /TASK_COMPLETE|\[MESSAGE_END\]/g;

function Markdown({ source }: { source: string }) {
  const ref = useRef<HTMLDivElement>(null);
  const html = renderMarkdown(source);
  // after every render, not only when the HTML string changes: React may have put the HTML back
  // (a remount) with its code blocks uncoloured; a render with nothing to colour costs one query
  useEffect(() => {
    if (ref.current) void highlightIn(ref.current);
  });
  // biome-ignore lint/security/noDangerouslySetInnerHtml: the HTML is escaped and sanitised by renderMarkdown
  return <div ref={ref} className="md" dangerouslySetInnerHTML={{ __html: html }} />;
}

/** One tool call: a line (tool, agent, status) that opens to its arguments and result. */
export const ToolCallLine = memo(function ToolCallLine(props: {
  call: ToolCall;
  agent: string;
  result?: Message;
}) {
  const { call, agent, result } = props;
  const failed = result?.meta?.is_error === true;
  const status = !result ? "running" : failed ? "error" : "done";
  return (
    <details className={`tool-call tool-${status}`} open={failed}>
      <summary>
        <span aria-hidden="true">⚙ </span>
        <strong>{call.name}</strong> <span className="muted">by {agent}</span>{" "}
        <span className={`status status-${status}`}>{status}</span>
      </summary>
      <div className="tool-body">
        <div className="small muted">Arguments</div>
        <pre>{JSON.stringify(call.args, null, 2)}</pre>
        <div className="small muted">Result</div>
        <pre>{result ? result.content : "…"}</pre>
      </div>
    </details>
  );
});

/** A stored message: a person's or an agent's bubble, a system notice, or an orphan tool result. */
export const MessageItem = memo(function MessageItem(props: {
  message: Message;
  results: Map<string, Message>;
  queued: boolean;
  mine: boolean;
}) {
  const m = props.message;
  if (m.sender_type === "system")
    return (
      <li className="notice-row" data-seq={m.seq}>
        <span className="system-notice" role="note">
          {m.content}
        </span>
      </li>
    );
  if (m.sender_type === "tool") {
    const agent = typeof m.meta?.agent === "string" ? m.meta.agent : "an agent";
    return (
      <li className="msg msg-tool" data-seq={m.seq}>
        <ToolCallLine
          call={{ id: m.tool_call_id ?? m.id, name: m.sender_alias, args: {} }}
          agent={agent}
          result={m}
        />
      </li>
    );
  }
  return (
    <li
      className={`msg msg-${m.sender_type}${props.mine ? " mine" : ""}`}
      data-seq={m.seq}
      data-message-id={m.id}
    >
      <Avatar name={m.sender_alias} kind={m.sender_type} />
      <div className="bubble">
        <div className="meta">
          <span className="name">{m.sender_alias}</span>{" "}
          <time dateTime={m.created_at}>{time(m.created_at)}</time>
          {props.queued ? <span className="badge queued">queued</span> : null}
        </div>
        {m.content ? <Markdown source={m.content} /> : null}
        {m.tool_calls?.map((c) => (
          <ToolCallLine key={c.id} call={c} agent={m.sender_alias} result={props.results.get(c.id)} />
        ))}
      </div>
    </li>
  );
});

/** A reply still streaming: plain text (cheap to update per token) until the final message. */
export const StreamItem = memo(function StreamItem({ stream }: { stream: Stream }) {
  return (
    <li className="msg msg-agent streaming" data-message-id={stream.id} aria-busy="true">
      <Avatar name={stream.alias} kind="agent" />
      <div className="bubble">
        <div className="meta">
          <span className="name">{stream.alias}</span> <span className="badge">typing…</span>
        </div>
        <div className="md stream-text">{stream.text.replace(MARKERS, "")}</div>
      </div>
    </li>
  );
});
