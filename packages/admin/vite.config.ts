import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// Served by the gateway under /admin. No React plugin: Vite's own transform compiles JSX (tsconfig "jsx": "react-jsx").
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/admin/',
  logLevel: 'warn',
  build: {
    outDir: fileURLToPath(new URL('./dist', import.meta.url)),
    emptyOutDir: true,
    sourcemap: false,
    reportCompressedSize: false,
    target: 'es2022',
  },
});
