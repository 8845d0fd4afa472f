import { useEffect, useSyncExternalStore } from "react";
import { LoginPage } from "./auth/login-page.tsx";
import { ChatPage } from "./chat/chat-page.tsx";
import { GroupList } from "./groups/group-list.tsx";
import { GroupSettings } from "./groups/group-settings.tsx";
import { linkTo, navigate, useRoute } from "./lib/router.ts";
import { endSession, getSession, onSession } from "./lib/session.ts";

function useSession() {
  return useSyncExternalStore(onSession, getSession);
}

/** The shell: a header with the signed-in user, then the page of the route. */
export function App() {
  const session = useSession();
  const route = useRoute();
  const publicPage = route.page === "login" || route.page === "register";

  useEffect(() => {
    if (!session && !publicPage) navigate("/app/login", { replace: true });
    else if (session && publicPage) navigate("/app/", { replace: true });
  }, [session, publicPage]);

  if (!session || publicPage) {
    return (
      <main className="auth-main">
        {publicPage ? <LoginPage mode={route.page === "register" ? "register" : "login"} /> : null}
      </main>
    );
  }
  return (
    <div className="shell">
      <header className="topbar">
        <a className="brand" {...linkTo("/app/")}>
          Synapse
        </a>
        <span className="who">{session.email}</span>
        <button type="button" className="ghost" onClick={() => endSession()}>
          Log out
        </button>
      </header>
      {route.page === "groups" ? <GroupList /> : null}
      {route.page === "chat" ? <ChatPage key={route.groupId} groupId={route.groupId} /> : null}
      {route.page === "settings" ? <GroupSettings key={route.groupId} groupId={route.groupId} /> : null}
      {route.page === "missing" ? (
        <main className="page">
          <h1>Not found</h1>
          <p>
            <a {...linkTo("/app/")}>Back to your groups</a>
          </p>
        </main>
      ) : null}
    </div>
  );
}
