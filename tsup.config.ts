import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    'server/index': 'src/server/index.ts',
    'fence/index': 'src/fence/index.ts',
    'storage-file/index': 'src/storage-file/index.ts',
    'storage-redis/index': 'src/storage-redis/index.ts',
    // The `alova-atomize` bin (package.json `bin`): dist/cli.js.
    cli: 'src/cli.ts',
  },
  format: ['esm', 'cjs'],
  // Tests build without declarations (faster, and a type error elsewhere must not stop them); CI builds all.
  dts: process.env.ATOMIZE_BUILD_NO_DTS !== '1',
  clean: process.env.ATOMIZE_BUILD_NO_DTS !== '1',
  sourcemap: true,
  // `import.meta.url` in the CommonJS build too (src/storage-redis/peers.ts resolves ioredis from it).
  shims: true,
  target: 'node18',
  splitting: true,
  external: ['alova', 'ioredis', '@sesamecare-oss/redlock', 'proper-lockfile'],
});
