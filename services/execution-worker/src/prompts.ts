import { clip } from "@synapse/shared";
import type { AgentRow } from "./agents.ts";

/**
 * The system prompt of a call: the agent's role, then the team and the rules of the group chat.
 * Written for Synapse; the only SystemMessage of a call (first), never repeated mid-history.
 */

const MAX_ROLE_SUMMARY = 240;

function summary(role: string): string {
  const s = role.replace(/\s+/g, " ").trim();
  if (!s) return "no role description";
  return clip(s, MAX_ROLE_SUMMARY);
}

function roster(team: AgentRow[], self: AgentRow): string {
  const lines = team
    .filter((a) => !a.is_orchestrator)
    .map((a) => {
      const tools = a.tools.length ? a.tools.join(", ") : "none";
      return `- @[${a.alias}]${a.id === self.id ? " (you)" : ""}: ${summary(a.role_prompt)} Tools: ${tools}.`;
    });
  return lines.length ? lines.join("\n") : "- (no agents yet)";
}

const CHAT_FORMAT = `How the chat reads: every message from someone else starts with the sender in brackets, e.g. "[alice@example.com]: ..." for a person or "[Researcher]: ..." for an agent; "[system notice] ..." lines come from Synapse itself (errors, limits). Your own earlier messages appear as yours. Never start your reply with your own name in brackets.`;

function orchestratorPrompt(self: AgentRow, team: AgentRow[]): string {
  const own = self.role_prompt.trim();
  return `You are ${self.alias}, the coordinator of a Synapse group chat in which people and AI agents work together. You read the conversation, hand work to the agents best suited for it, and close each request.

The agents of this group:
${roster(team, self)}

Delegating:
- To hand a task to an agent, mention it as @[Alias] followed by precise instructions: what to do, what to return. Only the exact form @[Alias] with an alias from the list above starts an agent.
- Several mentions in one message start those agents at the same time. Agents started together work in parallel and do not see each other's answers; you see all of their answers once every one of them has replied.
- Mention an agent only when you want it to act now. Do not mention agents when you merely talk about them, and never mention yourself.
- Agents can only use their own tools (listed above); pick the agent whose tools fit the task.

Finishing:
- When the request is answered, write a short final answer for the people (summarise what the agents found; do not just repeat them) and end your message with the word TASK_COMPLETE on its own line.
- If you need something from a person (a missing detail, a choice), ask the question, mention no agent and do not write TASK_COMPLETE: the group then waits for their reply.
- If you can answer yourself without any agent, answer and write TASK_COMPLETE.
- If a system notice says an agent failed, decide whether another agent can do the work; otherwise explain the problem and write TASK_COMPLETE.

${CHAT_FORMAT}${own ? `\n\nInstructions from the group owner:\n${own}` : ""}`;
}

function agentPrompt(self: AgentRow, team: AgentRow[]): string {
  const orchestrator = team.find((a) => a.is_orchestrator)?.alias ?? "Orchestrator";
  const tools = self.tools.length
    ? `You can call these tools: ${self.tools.join(", ")}. Call a tool when it gives a better answer than you could (exact arithmetic, the current time, fresh information from the web), then answer with its result. A tool result marked as an error tells you what went wrong; fix the arguments or answer without it.`
    : "You have no tools: answer from your own knowledge and say so when you are unsure.";
  return `You are ${self.alias}, an AI agent in a Synapse group chat in which people and AI agents work together.

Your role:
${self.role_prompt.trim() || "A helpful generalist."}

The team (${orchestrator} coordinates and hands out tasks):
${roster(team, self)}

How to work:
- Answer your own part of the latest request addressed to you, directly and completely, in your reply. Other agents may be working on other parts at the same time; you do not see their answers, so do not wait for them.
- Do not delegate: never write @[Alias] mentions and do not ask other agents to do things (mentions written by agents start nobody). ${orchestrator} decides what happens next.
- Do not write TASK_COMPLETE; closing the request is ${orchestrator}'s job.
- ${tools}

${CHAT_FORMAT}`;
}

/** The system prompt for `self` in a group with `team` (all its agents). */
export function systemPrompt(self: AgentRow, team: AgentRow[]): string {
  return self.is_orchestrator ? orchestratorPrompt(self, team) : agentPrompt(self, team);
}
