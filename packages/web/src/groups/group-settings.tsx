import { type FormEvent, useCallback, useEffect, useState } from "react";
import { api, errorText } from "../lib/net.ts";
import { linkTo } from "../lib/router.ts";
import type { GroupDetail } from "../lib/types.ts";
import { AgentForm, type AgentInput, type LlmOption, type ToolInfo } from "./agent-form.tsx";
import { ConfirmButton } from "./confirm-button.tsx";

/** A group's agents and people. */
export function GroupSettings({ groupId }: { groupId: string }) {
  const [group, setGroup] = useState<GroupDetail | null>(null);
  const [options, setOptions] = useState<LlmOption[]>([]);
  const [tools, setTools] = useState<ToolInfo[]>([]);
  const [editing, setEditing] = useState<string | null>(null);
  const [email, setEmail] = useState("");
  const [error, setError] = useState<string | null>(null);
  const path = { params: { path: { id: groupId } } };

  const load = useCallback(async () => {
    const r = await api.GET("/groups/{id}", { params: { path: { id: groupId } } });
    if (r.error) setError(errorText(r.error, "This group cannot be opened."));
    else setGroup(r.data as GroupDetail);
  }, [groupId]);
  useEffect(() => {
    void load();
    void api.GET("/system/llm-options").then((r) => r.data && setOptions(r.data as LlmOption[]));
    void api.GET("/system/tools").then((r) => r.data && setTools(r.data as ToolInfo[]));
  }, [load]);

  async function addAgent(a: AgentInput) {
    const r = await api.POST("/groups/{id}/members", { ...path, body: a });
    if (r.error) return errorText(r.error);
    await load();
    return null;
  }
  async function saveAgent(memberId: string, orchestrator: boolean, a: AgentInput) {
    const { alias: _, tools: t, ...rest } = a;
    const body = orchestrator ? rest : { ...rest, alias: a.alias, tools: t };
    const r = await api.PUT("/groups/{id}/members/{member_id}", {
      params: { path: { id: groupId, member_id: memberId } },
      body,
    });
    if (r.error) return errorText(r.error);
    setEditing(null);
    await load();
    return null;
  }
  async function removeAgent(memberId: string) {
    const r = await api.DELETE("/groups/{id}/members/{member_id}", {
      params: { path: { id: groupId, member_id: memberId } },
    });
    if (r.error) setError(errorText(r.error));
    await load();
  }
  async function addPerson(e: FormEvent) {
    e.preventDefault();
    const r = await api.POST("/groups/{id}/participants", { ...path, body: { email: email.trim() } });
    if (r.error) return setError(errorText(r.error));
    setEmail("");
    setError(null);
    await load();
  }
  async function removePerson(userId: string) {
    const r = await api.DELETE("/groups/{id}/participants/{user_id}", {
      params: { path: { id: groupId, user_id: userId } },
    });
    if (r.error) setError(errorText(r.error));
    await load();
  }

  if (!group)
    return (
      <main className="page">
        {error ? (
          <p className="error" role="alert">
            {error}
          </p>
        ) : (
          <p className="muted">Loading…</p>
        )}
      </main>
    );
  return (
    <main className="page">
      <p>
        <a {...linkTo(`/app/groups/${groupId}`)}>← Back to the chat</a>
      </p>
      <h1>{group.name}: settings</h1>
      {error ? (
        <p className="error" role="alert">
          {error}
        </p>
      ) : null}
      <section aria-labelledby="agents-title">
        <h2 id="agents-title">Agents</h2>
        <ul className="agent-list">
          {group.members.map((m) => (
            <li key={m.id} className="agent-item">
              {editing === m.id ? (
                <AgentForm
                  initial={m}
                  options={options}
                  tools={tools}
                  onSubmit={(a) => saveAgent(m.id, m.is_orchestrator, a)}
                  onCancel={() => setEditing(null)}
                />
              ) : (
                <div className="row">
                  <div className="grow">
                    <strong>{m.alias}</strong>
                    {m.is_orchestrator ? <span className="badge">Orchestrator · protected</span> : null}
                    <div className="muted small">
                      {m.provider} / {m.model} · temperature {m.temperature}
                      {m.tools.length ? ` · tools: ${m.tools.join(", ")}` : ""}
                    </div>
                  </div>
                  <button
                    type="button"
                    className="ghost"
                    aria-label={`Edit ${m.alias}`}
                    onClick={() => setEditing(m.id)}
                  >
                    Edit
                  </button>
                  {m.is_orchestrator ? null : (
                    <ConfirmButton
                      label={`Remove ${m.alias}`}
                      text="Remove"
                      confirm={`Remove ${m.alias}?`}
                      onConfirm={() => removeAgent(m.id)}
                    />
                  )}
                </div>
              )}
            </li>
          ))}
        </ul>
        <h3>Add an agent</h3>
        <AgentForm options={options} tools={tools} onSubmit={addAgent} />
      </section>
      <section aria-labelledby="people-title">
        <h2 id="people-title">People</h2>
        <ul className="people-list">
          {group.participants.map((p) => (
            <li key={p.user_id} className="row">
              <span className="grow">
                {p.email} <span className="muted small">({p.role})</span>
              </span>
              {p.role === "owner" ? null : (
                <ConfirmButton
                  label={`Remove ${p.email}`}
                  text="Remove"
                  confirm={`Remove ${p.email}?`}
                  onConfirm={() => removePerson(p.user_id)}
                />
              )}
            </li>
          ))}
        </ul>
        <form className="row" onSubmit={addPerson}>
          <label className="grow">
            Add a person by email
            <input type="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
          </label>
          <button type="submit">Add person</button>
        </form>
      </section>
    </main>
  );
}
