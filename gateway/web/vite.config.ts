/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The gateway serves dist/ with an SPA fallback and a strict CSP
// (default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:),
// so everything is bundled: no CDN, no external fonts, no inline scripts.
// `npm run dev` proxies /api to a running stack (TRIPDESK_API, default port 38080).
export default defineConfig({
  plugins: [react()],
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: false,
    chunkSizeWarningLimit: 1024,
  },
  server: {
    proxy: {
      '/api': process.env.TRIPDESK_API ?? 'http://127.0.0.1:38080',
    },
  },
  test: {
    environment: 'jsdom',
    setupFiles: ['./src/test/setup.ts'],
    include: ['src/**/*.test.{ts,tsx}'],
    css: false,
    restoreMocks: true,
    unstubGlobals: true,
    // Generous: the 2-core CI machine runs the unit suites in parallel.
    testTimeout: 20_000,
  },
});
