#!/usr/bin/env node
// Runs the TypeScript CLI through tsx's loader, in this process (no extra child, no secret in any argv).
import { register } from 'tsx/esm/api';
register();
process.env.PVMLAB_CLI_ENTRY = '1';
await import('../server/cli.ts');
