import { rm } from "node:fs/promises";
import path from "node:path";
import { build, type Plugin } from "esbuild";
import { buildWeb } from "./lib/web-build.ts";

/**
 * `npm run build`: the JavaScript that production processes run (`node dist/role.js <role>`), and
 * the browser client the gateway serves (`packages/web/dist`).
 * One bundle per role, split into shared chunks, loaded lazily by `scripts/role.ts`. Our own code
 * (the services and `@synapse/*`) is bundled; npm packages stay external and are installed
 * alongside (`npm ci --omit=dev`), so their files and native modules load as they were published.
 */
const root = path.resolve(import.meta.dirname, "..");
const outdir = path.join(root, "dist");

/** Bare imports are npm packages and stay external, except our own workspaces. */
const npmPackagesExternal: Plugin = {
  name: "npm-packages-external",
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) =>
      args.path.startsWith("@synapse/") ? undefined : { path: args.path, external: true },
    );
  },
};

await rm(outdir, { recursive: true, force: true });
const result = await build({
  absWorkingDir: root,
  entryPoints: { role: "scripts/role.ts" },
  outdir,
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  sourcemap: true,
  metafile: true,
  logLevel: "warning",
  plugins: [npmPackagesExternal],
});
buildWeb(root);
const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
process.stdout.write(
  `built dist/ (${Object.keys(result.metafile.outputs).length} files, ${Math.round(bytes / 1024)} KiB) and packages/web/dist/\n`,
);
