import { ensureSystemDeps } from './system-deps.js';

ensureSystemDeps(process.argv.slice(2));
