import type { ConnectionState } from "@synapse/client";
import type { ChatState } from "./store.ts";

const REASONS: Record<string, string> = {
  completed: "completed",
  awaiting_user: "waiting for you",
  max_steps: "stopped at the step limit",
  cancelled: "stopped",
  error: "ended with an error",
};

const CONNECTION: Record<ConnectionState, string> = {
  connecting: "Connecting…",
  open: "Live",
  reconnecting: "Reconnecting…",
  closed: "Disconnected",
};

/** The connection, the running turn (who works, Stop) or how the last one ended. */
export function TurnBar(props: {
  state: ChatState;
  connection: ConnectionState;
  onStop: (turnId: string) => void;
  /** The name to show for a user id (`you` for the reader). */
  nameOf: (userId: string) => string;
}) {
  const { state } = props;
  const running = state.running ? state.turns[state.running] : undefined;
  const ended = !running && state.lastEnded ? state.turns[state.lastEnded] : undefined;
  return (
    <div className="turn-bar">
      <span className={`conn conn-${props.connection}`} role="status" data-state={props.connection}>
        <span className="dot" aria-hidden="true" /> {CONNECTION[props.connection]}
      </span>
      <span className="turn-state" role="status" aria-live="polite">
        {running ? (
          running.cancelling ? (
            <>Cancelling…</>
          ) : (
            <>
              <span className="spinner" aria-hidden="true" /> Turn running
              {running.working.length ? ` · working: ${running.working.join(", ")}` : ""}
            </>
          )
        ) : ended ? (
          <>
            Turn{" "}
            {ended.reason === "cancelled" && ended.stoppedBy
              ? `stopped by ${ended.stoppedBy === "you" ? "you" : props.nameOf(ended.stoppedBy)}`
              : (REASONS[ended.reason ?? ""] ?? "ended")}
            {ended.usage ? ` · ${ended.usage.input_tokens} tokens in, ${ended.usage.output_tokens} out` : ""}
          </>
        ) : null}
      </span>
      {running ? (
        <button
          type="button"
          className="danger stop"
          disabled={running.cancelling}
          onClick={() => props.onStop(running.id)}
        >
          Stop
        </button>
      ) : null}
    </div>
  );
}
