#!/usr/bin/env node
// In a source checkout (cli/main.ts and tsx present) run the sources, so the command never
// lags behind them; an installed package runs its bundle (`npm run build`).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const source = fileURLToPath(new URL('../cli/main.ts', import.meta.url));
let tsx;
try {
  tsx = existsSync(source) ? await import('tsx/esm/api') : undefined;
} catch {
  tsx = undefined;
}
if (tsx) {
  tsx.register();
  await import(source);
} else {
  await import(fileURLToPath(new URL('../dist/cli/main.js', import.meta.url)));
}
