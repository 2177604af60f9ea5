import { resolve } from 'node:path';
import { defineConfig } from 'vite';

/**
 * The console is served by the service under /admin (AdminPageController): built into
 * dist/admin-console with hashed asset names, no inline script or style (the page's CSP allows
 * none), nothing fetched from elsewhere at run time.
 */
export default defineConfig({
  root: import.meta.dirname,
  base: '/admin/',
  logLevel: 'warn',
  build: {
    outDir: resolve(import.meta.dirname, '../../../dist/admin-console'),
    emptyOutDir: true,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    target: 'es2022',
  },
});
