import { type FormEvent, useCallback, useEffect, useState } from "react";
import { api, errorText } from "../lib/net.ts";
import { linkTo, navigate } from "../lib/router.ts";
import type { GroupSummary } from "../lib/types.ts";
import { ConfirmButton } from "./confirm-button.tsx";

/** The groups the user belongs to: open, create, rename, delete. */
export function GroupList() {
  const [groups, setGroups] = useState<GroupSummary[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [name, setName] = useState("");
  const [editing, setEditing] = useState<string | null>(null);
  const [draft, setDraft] = useState("");

  const load = useCallback(async () => {
    const r = await api.GET("/groups");
    if (r.error) setError(errorText(r.error));
    else setGroups(r.data as GroupSummary[]);
  }, []);
  useEffect(() => {
    void load();
  }, [load]);

  async function create(e: FormEvent) {
    e.preventDefault();
    const r = await api.POST("/groups", { body: { name: name.trim() } });
    if (r.error || !r.data) return setError(errorText(r.error));
    setName("");
    navigate(`/app/groups/${(r.data as GroupSummary).id}/settings`);
  }

  async function rename(e: FormEvent, id: string) {
    e.preventDefault();
    const r = await api.PUT("/groups/{id}", { params: { path: { id } }, body: { name: draft.trim() } });
    if (r.error) return setError(errorText(r.error));
    setEditing(null);
    await load();
  }

  async function remove(id: string) {
    const r = await api.DELETE("/groups/{id}", { params: { path: { id } } });
    if (r.error) return setError(errorText(r.error));
    await load();
  }

  return (
    <main className="page">
      <h1>Your groups</h1>
      <form className="row" onSubmit={create}>
        <label className="grow">
          New group name
          <input required maxLength={200} value={name} onChange={(e) => setName(e.target.value)} />
        </label>
        <button type="submit">Create group</button>
      </form>
      {error ? (
        <p className="error" role="alert">
          {error}
        </p>
      ) : null}
      {groups === null ? <p className="muted">Loading…</p> : null}
      {groups?.length === 0 ? <p className="muted">No groups yet: create one above.</p> : null}
      <ul className="group-list" aria-label="Groups">
        {groups?.map((g) => (
          <li key={g.id} className="group-item">
            {editing === g.id ? (
              <form className="row grow" onSubmit={(e) => void rename(e, g.id)}>
                <label className="grow">
                  Name of {g.name}
                  <input
                    required
                    ref={(el) => el?.focus()}
                    value={draft}
                    onChange={(e) => setDraft(e.target.value)}
                  />
                </label>
                <button type="submit">Save</button>
                <button type="button" className="ghost" onClick={() => setEditing(null)}>
                  Cancel
                </button>
              </form>
            ) : (
              <>
                <a className="group-name grow" {...linkTo(`/app/groups/${g.id}`)}>
                  {g.name}
                </a>
                <a className="button ghost" {...linkTo(`/app/groups/${g.id}/settings`)}>
                  Settings<span className="sr-only"> of {g.name}</span>
                </a>
                <button
                  type="button"
                  className="ghost"
                  aria-label={`Rename ${g.name}`}
                  onClick={() => {
                    setEditing(g.id);
                    setDraft(g.name);
                  }}
                >
                  Rename
                </button>
                <ConfirmButton
                  label={`Delete ${g.name}`}
                  text="Delete"
                  confirm="Delete this group and its messages?"
                  onConfirm={() => remove(g.id)}
                />
              </>
            )}
          </li>
        ))}
      </ul>
    </main>
  );
}
