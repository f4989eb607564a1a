// Lint for the whole monorepo. The rule that matters most here: the pure libs (contracts,
// runbook, swap, and later rollout) must not import a framework, Redis, a PTY or the file
// system; the kernel lib may touch the host but never a framework.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const frameworks = ['@nestjs/*', 'bullmq', 'ioredis', 'node-pty', 'prom-client', 'express', 'pino'];
const hostIo = ['fs', 'node:fs', 'fs/*', 'node:fs/*', 'net', 'node:net', 'child_process', 'node:child_process'];

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/*.js', '**/*.cjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { disallowTypeAnnotations: false }],
    },
  },
  {
    files: ['libs/contracts/**/*.ts', 'libs/runbook/src/**/*.ts', 'libs/swap/src/**/*.ts', 'libs/rollout/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [...frameworks, ...hostIo],
              message: 'Pure domain libs take no framework and no host I/O: put it behind a port.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['libs/kernel/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: frameworks, message: 'libs/kernel is framework-free: Nest, BullMQ and Redis belong in apps/.' },
          ],
        },
      ],
    },
  },
  {
    // Nest's DI reads constructor parameter types at run time: a type-only import erases them.
    files: ['apps/**/*.ts'],
    rules: { '@typescript-eslint/consistent-type-imports': 'off' },
  },
);
