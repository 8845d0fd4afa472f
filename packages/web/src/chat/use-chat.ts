import type { ConnectionState, GroupSocket } from "@synapse/client";
import { useCallback, useEffect, useReducer, useRef, useState } from "react";
import { api, errorText, openGroupSocket } from "../lib/net.ts";
import type { GroupDetail, Message, TurnEndReason } from "../lib/types.ts";
import { type ChatFrame, chatReducer, firstSeq, initialChat, lastSeq } from "./store.ts";

const PAGE = 50;

interface TurnBody {
  status: "queued" | "running" | "ended";
  reason: TurnEndReason | null;
  cancelled_by: string | null;
  usage: { input_tokens: number; output_tokens: number };
}

/**
 * One group's chat: its details, the newest page of history, then the live socket from the last
 * seq held (so nothing between the two is missed or doubled), older pages on demand.
 */
export function useChat(groupId: string) {
  const [state, dispatch] = useReducer(chatReducer, initialChat);
  const [group, setGroup] = useState<GroupDetail | null>(null);
  const [connection, setConnection] = useState<ConnectionState>("connecting");
  const [error, setError] = useState<string | null>(null);
  const loadingOlder = useRef(false);
  const stateRef = useRef(state);
  stateRef.current = state;
  const groupRef = useRef(group);
  groupRef.current = group;

  /** Reloads the group when a user it names (who stopped a turn) joined after it was loaded. */
  const knowUser = useCallback(
    async (userId: string) => {
      if (groupRef.current?.participants.some((p) => p.user_id === userId)) return;
      const g = await api.GET("/groups/{id}", { params: { path: { id: groupId } } });
      if (g.data) setGroup(g.data as GroupDetail);
    },
    [groupId],
  );

  const fetchTurn = useCallback(
    async (turnId: string) => {
      const r = await api.GET("/groups/{id}/turns/{turn_id}", {
        params: { path: { id: groupId, turn_id: turnId } },
      });
      const t = r.data as TurnBody | undefined;
      if (!t) return;
      if (t.cancelled_by) void knowUser(t.cancelled_by);
      dispatch({
        type: "turn.status",
        turn_id: turnId,
        status: t.status,
        ...(t.reason ? { reason: t.reason } : {}),
        ...(t.cancelled_by ? { cancelled_by: t.cancelled_by } : {}),
        usage: { input_tokens: t.usage.input_tokens, output_tokens: t.usage.output_tokens },
      });
    },
    [groupId, knowUser],
  );

  useEffect(() => {
    let socket: GroupSocket | undefined;
    let stopped = false;
    let offline: (() => void) | undefined;
    let online: (() => void) | undefined;
    void (async () => {
      const [g, page] = await Promise.all([
        api.GET("/groups/{id}", { params: { path: { id: groupId } } }),
        api.GET("/groups/{id}/messages", { params: { path: { id: groupId }, query: { limit: PAGE } } }),
      ]);
      if (stopped) return;
      if (g.error || page.error) {
        setError(errorText(g.error ?? page.error, "This group cannot be opened."));
        return;
      }
      setGroup(g.data as GroupDetail);
      const messages = page.data as Message[];
      dispatch({ type: "page", messages, complete: messages.length < PAGE });
      const connect = (after: number) => {
        socket = openGroupSocket(groupId, after);
        socket.onState((st) => {
          setConnection(st === "closed" && !navigator.onLine ? "reconnecting" : st);
          // turn events of the time away are not replayed: ask how the running turn is doing
          const running = stateRef.current.running;
          if (st === "open" && running) void fetchTurn(running);
        });
        socket.onFrame((f) => {
          if (f.type === "pong" || f.type === "error") return;
          dispatch({ type: "frame", frame: f as ChatFrame });
          if (f.type === "turn.ended") void fetchTurn(f.turn_id);
        });
      };
      connect(messages.at(-1)?.seq ?? 0);
      // a lost network can leave a socket open but silent for minutes: drop it at once, and
      // resume after the last message held when the network is back
      offline = () => socket?.close();
      online = () => {
        socket?.close();
        if (!stopped) connect(lastSeq(stateRef.current));
      };
      window.addEventListener("offline", offline);
      window.addEventListener("online", online);
      // the turn events of a turn already running were sent before this page: ask for its state
      const lastTurn = [...messages].reverse().find((m) => m.turn_id)?.turn_id;
      if (lastTurn) void fetchTurn(lastTurn);
    })();
    return () => {
      stopped = true;
      if (offline) window.removeEventListener("offline", offline);
      if (online) window.removeEventListener("online", online);
      socket?.close();
    };
  }, [groupId, fetchTurn]);

  const loadOlder = useCallback(async () => {
    const s = stateRef.current;
    const before = firstSeq(s);
    if (!s.hasOlder || loadingOlder.current || before === undefined) return;
    loadingOlder.current = true;
    try {
      const r = await api.GET("/groups/{id}/messages", {
        params: { path: { id: groupId }, query: { limit: PAGE, before } },
      });
      const messages = (r.data ?? []) as Message[];
      if (!r.error) dispatch({ type: "page", messages, complete: messages.length < PAGE });
    } finally {
      loadingOlder.current = false;
    }
  }, [groupId]);

  const post = useCallback(
    async (content: string) => {
      const r = await api.POST("/groups/{id}/messages", {
        params: { path: { id: groupId } },
        body: { content },
        headers: { "Idempotency-Key": crypto.randomUUID() },
      });
      if (r.error || !r.data) {
        setError(errorText(r.error, "The message was not sent."));
        return false;
      }
      setError(null);
      dispatch({ type: "posted", message: r.data as Message });
      return true;
    },
    [groupId],
  );

  const cancel = useCallback(
    async (turnId: string) => {
      dispatch({ type: "cancelling", turn_id: turnId, by: "you" });
      const r = await api.POST("/groups/{id}/turns/{turn_id}/cancel", {
        params: { path: { id: groupId, turn_id: turnId } },
      });
      // 409: it ended on its own meanwhile; its state says how
      if (r.error) void fetchTurn(turnId);
    },
    [groupId, fetchTurn],
  );

  return { state, group, connection, error, loadOlder, post, cancel, lastSeq: lastSeq(state) };
}
