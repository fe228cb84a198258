#!/usr/bin/env node
// `npx tributary …` from a checkout: runs the TypeScript CLI through tsx, as `npm start` does.
import { register } from 'tsx/esm/api';

register();
await import('../engine/src/cli/tributary.ts');
