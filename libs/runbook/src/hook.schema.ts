import { z } from 'zod';
import { secondsSchema } from './deadlines.schema.js';
import { tokenSchema } from './kernel-token.schema.js';
import { describeValue } from './value-description.js';

export const hookNameSchema = tokenSchema({
  what: 'hook name',
  pattern: /^[a-z0-9]([a-z0-9_-]{0,61}[a-z0-9])?$/,
  maxLength: 63,
  allowed: "use lowercase letters, digits, '_' and '-', starting and ending with a letter or digit",
  reaches: 'it names the hook in the journal, logs and metrics',
});

const SHELL_FORM = 'argv: [sh, -c, "<script>"]';

const argvItemSchema = z
  .string({
    error: (iss) =>
      iss.input === undefined ? undefined : `each argument must be a string, got ${describeValue(iss.input)}`,
  })
  .refine((arg) => !arg.includes('\0'), { error: 'an argument cannot contain a NUL character' });

/**
 * argv, as execve receives it. A string is refused whatever `shell` says: a command line would
 * be split by a shell, and a shell only runs when the runbook says `shell: true` in so many
 * words, with the script as the one argument of `sh -c`.
 */
const argvSchema = z.array(argvItemSchema, {
  error: (iss) => {
    if (typeof iss.input === 'string') {
      return `argv is a string: give a list of arguments, e.g. [systemctl, restart, my-app]; to run a shell script, set shell: true and write ${SHELL_FORM}`;
    }
    return iss.input === undefined ? undefined : `argv must be a list of arguments, got ${describeValue(iss.input)}`;
  },
});

/** A prompt a tool asks in its terminal (a literal substring of its output) and the answer to type. */
const expectationSchema = z.strictObject({
  prompt: z.string().min(1, 'prompt must not be empty'),
  answer: z
    .string()
    .refine((a) => !/[\r\n]/.test(a), { error: 'answer is typed then Enter is pressed: no line breaks' }),
});

/** A command run on the host before or after the swap (in a PTY, by the agent). */
export const hookSchema = z
  .strictObject({
    name: hookNameSchema,
    argv: argvSchema,
    timeoutSeconds: secondsSchema('timeoutSeconds').default(60),
    shell: z
      .boolean({ error: (iss) => (iss.input === undefined ? undefined : 'shell must be true or false') })
      .default(false),
    /** Prompts the tool prints and what to type (followed by Enter), in order of appearance. */
    expect: z.array(expectationSchema).default([]),
    /** Exit codes that count as success. */
    successExitCodes: z.array(z.number().int().min(0).max(255)).min(1).default([0]),
  })
  .superRefine((hook, ctx) => {
    const [program, flag, script] = hook.argv;
    const isShellForm = hook.argv.length === 3 && program === 'sh' && flag === '-c' && (script ?? '').trim() !== '';
    if (hook.shell) {
      if (!isShellForm) {
        ctx.addIssue({
          code: 'custom',
          path: ['argv'],
          message: `with shell: true, argv must be exactly [sh, -c, "<script>"] with a non-empty script`,
        });
      }
      return;
    }
    if (hook.argv.length === 0 || program === '') {
      ctx.addIssue({ code: 'custom', path: ['argv'], message: 'argv is empty: give the program and its arguments' });
    } else if (/^(\/(usr\/)?bin\/)?(ba|da|z|k)?sh$/.test(program ?? '') && hook.argv.includes('-c')) {
      ctx.addIssue({
        code: 'custom',
        path: ['argv'],
        message: `argv runs a shell script: say so with shell: true and write ${SHELL_FORM}`,
      });
    }
  });
export type Hook = z.output<typeof hookSchema>;

const hookListSchema = z.array(hookSchema).superRefine((hooks, ctx) => {
  hooks.forEach((hook, index) => {
    const first = hooks.findIndex((other) => other.name === hook.name);
    if (first !== index) {
      ctx.addIssue({
        code: 'custom',
        path: [index, 'name'],
        message: `hook "${hook.name}" is already listed at [${first}]: give each hook its own name`,
      });
    }
  });
});

/** Commands run before the unbind (`pre`) and after the recovery watch (`post`), in order. */
export const hooksSchema = z.strictObject({
  pre: hookListSchema.default([]),
  post: hookListSchema.default([]),
});
export type Hooks = z.output<typeof hooksSchema>;
