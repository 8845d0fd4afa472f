import { type FormEvent, useState } from "react";
import type { AgentCreate, Member } from "../lib/types.ts";

export interface LlmOption {
  provider_name: string;
  models: { id: string; name: string }[];
}
export interface ToolInfo {
  name: string;
  description: string;
}

export type AgentInput = Required<AgentCreate>;
type ToolName = AgentInput["tools"][number];

/** Add or edit an agent; the Orchestrator keeps its alias and has no tools to pick. */
export function AgentForm(props: {
  initial?: Member;
  options: LlmOption[];
  tools: ToolInfo[];
  onSubmit: (a: AgentInput) => Promise<string | null>;
  onCancel?: () => void;
}) {
  const init = props.initial;
  const first = props.options[0];
  const [alias, setAlias] = useState(init?.alias ?? "");
  const [rolePrompt, setRolePrompt] = useState(init?.role_prompt ?? "");
  const [provider, setProvider] = useState(init?.provider ?? first?.provider_name ?? "demo");
  const [model, setModel] = useState(init?.model ?? first?.models[0]?.id ?? "");
  const [temperature, setTemperature] = useState(init?.temperature ?? 0.7);
  const [tools, setTools] = useState<ToolName[]>((init?.tools ?? []) as ToolName[]);
  const [error, setError] = useState<string | null>(null);
  const models = props.options.find((o) => o.provider_name === provider)?.models ?? [];
  const orchestrator = init?.is_orchestrator === true;
  const idp = init ? `agent-${init.id}` : "agent-new";

  async function submit(e: FormEvent) {
    e.preventDefault();
    const err = await props.onSubmit({
      alias: alias.trim(),
      role_prompt: rolePrompt,
      provider,
      model,
      temperature,
      tools,
    });
    setError(err);
    if (!err && !init) {
      setAlias("");
      setRolePrompt("");
      setTools([]);
    }
  }

  return (
    <form className="agent-form" onSubmit={submit} aria-label={init ? `Edit ${init.alias}` : "Add an agent"}>
      <label>
        Alias
        <input
          required
          maxLength={100}
          disabled={orchestrator}
          value={alias}
          onChange={(e) => setAlias(e.target.value)}
        />
      </label>
      <label>
        Role prompt
        <textarea rows={3} value={rolePrompt} onChange={(e) => setRolePrompt(e.target.value)} />
      </label>
      <div className="row">
        <label>
          Provider
          <select
            value={provider}
            onChange={(e) => {
              setProvider(e.target.value);
              setModel(props.options.find((o) => o.provider_name === e.target.value)?.models[0]?.id ?? "");
            }}
          >
            {props.options.some((o) => o.provider_name === provider) ? null : (
              <option value={provider}>{provider}</option>
            )}
            {props.options.map((o) => (
              <option key={o.provider_name} value={o.provider_name}>
                {o.provider_name}
              </option>
            ))}
          </select>
        </label>
        <label className="grow">
          Model
          <input list={`${idp}-models`} required value={model} onChange={(e) => setModel(e.target.value)} />
          <datalist id={`${idp}-models`}>
            {models.map((m) => (
              <option key={m.id} value={m.id}>
                {m.name}
              </option>
            ))}
          </datalist>
        </label>
        <label>
          Temperature
          <input
            type="number"
            min={0}
            max={2}
            step={0.1}
            value={temperature}
            onChange={(e) => setTemperature(Number(e.target.value))}
          />
        </label>
      </div>
      {orchestrator ? null : (
        <fieldset>
          <legend>Tools</legend>
          {props.tools.map((t) => (
            <label key={t.name} className="check" title={t.description}>
              <input
                type="checkbox"
                checked={tools.includes(t.name as ToolName)}
                onChange={(e) =>
                  setTools(
                    e.target.checked ? [...tools, t.name as ToolName] : tools.filter((x) => x !== t.name),
                  )
                }
              />
              {t.name}
            </label>
          ))}
        </fieldset>
      )}
      {error ? (
        <p className="error" role="alert">
          {error}
        </p>
      ) : null}
      <div className="row">
        <button type="submit">{init ? "Save agent" : "Add agent"}</button>
        {props.onCancel ? (
          <button type="button" className="ghost" onClick={props.onCancel}>
            Cancel
          </button>
        ) : null}
      </div>
    </form>
  );
}
