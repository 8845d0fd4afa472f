import { useCallback, useMemo } from "react";
import { linkTo } from "../lib/router.ts";
import { getSession } from "../lib/session.ts";
import { AgentHues, agentHues } from "./avatar.tsx";
import { Composer } from "./composer.tsx";
import { MessageList } from "./message-list.tsx";
import { TurnBar } from "./turn-bar.tsx";
import { useChat } from "./use-chat.ts";

/** A group's conversation. */
export function ChatPage({ groupId }: { groupId: string }) {
  const chat = useChat(groupId);
  const aliases = useMemo(() => chat.group?.members.map((m) => m.alias) ?? [], [chat.group]);
  const hues = useMemo(() => agentHues(aliases), [aliases]);
  const email = getSession()?.email;
  const userId = chat.group?.participants.find((p) => p.email === email)?.user_id;
  const participants = chat.group?.participants;
  const nameOf = useCallback(
    (id: string) =>
      id === userId ? "you" : (participants?.find((p) => p.user_id === id)?.email ?? "a former participant"),
    [userId, participants],
  );
  return (
    <main className="chat">
      <div className="chat-head">
        <h1>{chat.group?.name ?? "…"}</h1>
        <span className="muted small grow">{aliases.length ? `Agents: ${aliases.join(", ")}` : ""}</span>
        <a className="button ghost" {...linkTo(`/app/groups/${groupId}/settings`)}>
          Settings
        </a>
      </div>
      <TurnBar
        state={chat.state}
        connection={chat.connection}
        onStop={(id) => void chat.cancel(id)}
        nameOf={nameOf}
      />
      <AgentHues.Provider value={hues}>
        <MessageList state={chat.state} userId={userId} onNearTop={() => void chat.loadOlder()} />
      </AgentHues.Provider>
      {chat.error ? (
        <p className="error" role="alert">
          {chat.error}
        </p>
      ) : null}
      <Composer aliases={aliases} onSend={chat.post} />
    </main>
  );
}
