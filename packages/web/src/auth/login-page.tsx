import { type FormEvent, useState } from "react";
import { api, errorText } from "../lib/net.ts";
import { linkTo } from "../lib/router.ts";
import { startSession, takeNotice } from "../lib/session.ts";

/** Log in, or register then log in. */
export function LoginPage({ mode }: { mode: "login" | "register" }) {
  const [notice] = useState(takeNotice);
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const registering = mode === "register";

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      if (registering) {
        const r = await api.POST("/auth/register", { body: { email, password } });
        if (r.error) return setError(errorText(r.error, "Could not register."));
      }
      const r = await api.POST("/auth/login", { body: { email, password } });
      if (r.error || !r.data) return setError(errorText(r.error, "Wrong email or password."));
      startSession({
        token: r.data.access_token,
        email,
        expiresAt: Date.now() + r.data.expires_in * 1000,
      });
    } catch {
      setError("The server cannot be reached.");
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="card auth" onSubmit={submit} aria-labelledby="auth-title">
      <h1 id="auth-title">{registering ? "Create your account" : "Log in to Synapse"}</h1>
      {notice ? (
        <p className="notice" role="status">
          {notice}
        </p>
      ) : null}
      <label>
        Email
        <input
          type="email"
          autoComplete="email"
          required
          value={email}
          onChange={(e) => setEmail(e.target.value)}
        />
      </label>
      <label>
        Password
        <input
          type="password"
          autoComplete={registering ? "new-password" : "current-password"}
          minLength={registering ? 8 : undefined}
          required
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
      </label>
      {error ? (
        <p className="error" role="alert">
          {error}
        </p>
      ) : null}
      <button type="submit" disabled={busy}>
        {registering ? "Register" : "Log in"}
      </button>
      <p className="muted">
        {registering ? (
          <>
            Already registered? <a {...linkTo("/app/login")}>Log in</a>
          </>
        ) : (
          <>
            New here? <a {...linkTo("/app/register")}>Create an account</a>
          </>
        )}
      </p>
    </form>
  );
}
