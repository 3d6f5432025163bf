import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// No React plugin: JSX is compiled by Vite's own transform (tsconfig "jsx": "react-jsx"), which keeps the build small and fast.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  logLevel: 'warn',
  build: {
    outDir: fileURLToPath(new URL('../dist/web', import.meta.url)),
    emptyOutDir: true,
    sourcemap: false,
    reportCompressedSize: false,
    target: 'es2022',
  },
});
