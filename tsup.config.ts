import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    'server/index': 'src/server/index.ts',
    'storage-file/index': 'src/storage-file/index.ts',
    'storage-redis/index': 'src/storage-redis/index.ts',
  },
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node18',
  splitting: true,
  external: ['alova', 'ioredis', '@sesamecare-oss/redlock', 'proper-lockfile'],
});
