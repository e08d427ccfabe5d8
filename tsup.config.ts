import { defineConfig } from 'tsup';

const shared = {
  external: ['express', 'fastify', 'fastify-plugin', 'undici'] as string[],
  sourcemap: true,
  target: 'node20',
  platform: 'node',
  treeshake: true,
} as const;

export default defineConfig([
  {
    ...shared,
    // The library: ESM and CJS with declarations per entry.
    entry: { index: 'src/index.ts', node: 'src/server/node-entry.ts', express: 'src/adapters/express.ts', fastify: 'src/adapters/fastify.ts', testing: 'src/testing/matchers.ts' },
    format: ['esm', 'cjs'],
    dts: true,
    clean: true,
    splitting: true,
  },
  {
    ...shared,
    // The `gateway-api-router` bin: ESM only, one file, runnable.
    entry: { cli: 'src/cli/main.ts' },
    format: ['esm'],
    dts: false,
    clean: false,
    splitting: false,
    banner: { js: '#!/usr/bin/env node' },
  },
]);
