// The builder UI: built into dist/ and served by the API server under `npm start`; `npm run dev
// --workspace builder-ui` runs Vite with /api proxied to a running `npm start`.
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

export default defineConfig({
  plugins: [react()],
  server: {
    proxy: { '/api': `http://localhost:${process.env.PORT ?? 3000}` },
  },
  // React Flow and CodeMirror are big; the SQL editor is split into its own chunk.
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 800 },
});
