import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Unhandled rejections fail the run: the fault-injection tests rely on it.
    dangerouslyIgnoreUnhandledErrors: false,
  },
});
