import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', node: 'src/server/node-entry.ts', express: 'src/adapters/express.ts', fastify: 'src/adapters/fastify.ts' },
  external: ['express', 'fastify', 'fastify-plugin', 'undici'],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  platform: 'node',
  splitting: true,
  treeshake: true,
});
