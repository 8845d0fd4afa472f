/** The WebSocket part of the OpenAPI description (OpenAPI cannot describe the socket itself). */
export const WEBSOCKET_API_DOC = `

## WebSocket \`/ws/{group_id}\`

Authenticate with \`?token=<jwt>\`, the \`Authorization\` header or the subprotocol \`bearer.<jwt>\`.
\`?after=<seq>\` first replays every stored message with a greater seq, then goes live.

Server frames (JSON, each with \`type\`): \`message\` \`{message}\`; \`turn.started\`
\`{group_id, turn_id, message_id}\`; \`turn.ended\` \`{group_id, turn_id, reason, cancelled_by?}\` (\`cancelled_by\`: the user who cancelled it); \`agent.started\` /
\`agent.finished\` \`{group_id, turn_id, alias}\`; \`token\` \`{group_id, turn_id, alias, message_id, delta}\`;
\`partial\` \`{group_id, turn_id, alias, message_id, text}\`.

A socket that opens while a turn runs gets, after its stored messages and before live frames, the
turn's \`turn.started\`, an \`agent.started\` per agent still answering, and one \`partial\` per reply
still being streamed: \`text\` is the reply so far, and that reply's \`token\` frames continue exactly
after it (set the text on \`partial\`, append \`delta\` on \`token\`). No \`partial\` of a reply follows
its \`message\` frame, which holds the authoritative text.

Client frames: \`{"type":"ping"}\` only (answered \`{"type":"pong"}\`; anything else gets an \`error\`
frame). A client frame over 16 KiB closes the socket with 1009; invalid UTF-8 (1007) or another
protocol violation (1002) closes it too. 1008: bad token or not a participant; 4404: group deleted;
1013: slow consumer (reconnect with \`?after=\`); 1011: internal error; 1001: server shutting down.`;
