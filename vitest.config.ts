import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// TEST_DIST=1 runs the suite against the built package (dist/) instead of src/, so packaging
// cannot break silently: every import of src/index.js resolves to dist/index.js.
const dist = process.env.TEST_DIST === '1';

export default defineConfig({
  resolve: {
    alias: dist ? [{ find: /^(\.\.\/)+src\/index\.js$/, replacement: fileURLToPath(new URL('./dist/index.js', import.meta.url)) }] : [],
  },
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup/fail-on-console.ts', 'test/setup/seed-properties.ts'],
    testTimeout: 60_000,
    pool: 'forks',
  },
});
