// Bundles harness.js (and everything it imports from node_modules) into dist/harness.js + dist/harness.css.
// Run by tests/frontends/test_standard_manager_browser.py after `npm ci`; by hand: `npm ci && node build.mjs`.
import { build } from "esbuild";

const fonts = Object.fromEntries([".woff", ".woff2", ".ttf", ".eot", ".svg", ".png", ".gif"].map((e) => [e, "file"]));
await build({
  entryPoints: ["harness.js"],
  bundle: true,
  format: "iife",
  platform: "browser",
  target: "es2020",
  outfile: "dist/harness.js",
  loader: fonts,
  define: { "process.env.NODE_ENV": '"production"' },
  logLevel: "warning",
  // html-manager's libembed (reached through its index) assigns webpack's public path; give it one to assign.
  banner: { js: 'var __webpack_public_path__ = "";' },
});
