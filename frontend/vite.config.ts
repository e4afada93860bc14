import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";

// The backend serves the built UI from its package, so the build lands there.
const backend = process.env.HUBBUB_DEV_BACKEND ?? "http://127.0.0.1:8000";

export default defineConfig({
  plugins: [react()],
  build: {
    outDir: "../backend/src/hubbub/static",
    emptyOutDir: true,
    sourcemap: true,
  },
  server: {
    proxy: {
      "/api": { target: backend, ws: true },
      "/ws": { target: backend, ws: true },
    },
  },
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.ts", "src/**/*.test.tsx"],
  },
});
