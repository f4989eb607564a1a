import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/** The repository root, from tools/dist/src/. */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export const paths = {
  controllerMain: join(REPO_ROOT, 'apps/controller/dist/src/main.js'),
  agentMain: join(REPO_ROOT, 'apps/agent/dist/src/main.js'),
  simHostMain: join(REPO_ROOT, 'libs/kernel/dist/src/sim/sim-host.main.js'),
  scenarios: join(REPO_ROOT, 'libs/kernel/scenarios'),
  runbooks: join(REPO_ROOT, 'deploy/runbooks'),
};
