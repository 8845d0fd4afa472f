import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// served by the gateway under /app/ (same origin as the API and /ws)
export default defineConfig({
  root: import.meta.dirname,
  base: "/app/",
  plugins: [react()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: false,
    target: "es2022",
    chunkSizeWarningLimit: 800,
  },
  server: { proxy: { "^/(auth|groups|system|ws|health)": { target: "http://127.0.0.1:8000", ws: true } } },
});
