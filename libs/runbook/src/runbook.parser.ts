import { LineCounter, parseDocument, type YAMLError } from 'yaml';
import { formatIssuePath } from './issue-path.js';
import { runbookSchema, type Runbook } from './runbook.schema.js';
import { RunbookValidationError, type RunbookIssue } from './runbook-validation.error.js';
import { locateInYaml } from './yaml-locator.js';
import { ZodIssueMapper, type RawRunbookIssue } from './zod-issue.mapper.js';

/** Aliases expand in place: cap them so a small document cannot expand into a huge one. */
const MAX_ALIAS_COUNT = 100;

/** Clearer words for the YAML errors a runbook author is most likely to meet. */
const YAML_MESSAGES: Partial<Record<YAMLError['code'], string>> = {
  DUPLICATE_KEY: 'duplicate key: each key may appear only once in a mapping',
  MULTIPLE_DOCS: "a runbook file holds one document: remove the '---' separator and what follows",
};

type Checked = { ok: true; runbook: Runbook } | { ok: false; issues: RawRunbookIssue[] };

function check(value: unknown): Checked {
  const mapper = new ZodIssueMapper();
  const result = runbookSchema.safeParse(value, { error: mapper.errorMap });
  return result.success ? { ok: true, runbook: result.data } : { ok: false, issues: mapper.map(result.error.issues) };
}

function yamlIssue(error: YAMLError, lineCounter: LineCounter): RunbookIssue {
  const { line, col } = lineCounter.linePos(error.pos[0]);
  const message = YAML_MESSAGES[error.code] ?? error.message;
  return { path: '', message, ...(line === 0 ? {} : { line, column: col }) };
}

const byPosition = (a: RunbookIssue, b: RunbookIssue): number =>
  (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0);

/**
 * Parses a runbook written in YAML (or JSON, which is YAML) and validates it. Throws a
 * `RunbookValidationError` listing every issue, YAML syntax included, each with its 1-based
 * line and column; `source` (a file name) prefixes each line of the error message.
 */
export function parseRunbook(text: string, source?: string): Runbook {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const syntax = [...doc.errors, ...doc.warnings].map((error) => yamlIssue(error, lineCounter));
  if (syntax.length > 0) throw new RunbookValidationError(syntax.sort(byPosition), source);

  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    throw new RunbookValidationError([{ path: '', message: (error as Error).message }], source);
  }
  const checked = check(value);
  if (checked.ok) return checked.runbook;
  const issues = checked.issues.map((issue): RunbookIssue => ({
    path: formatIssuePath(issue.path),
    message: issue.message,
    ...locateInYaml(doc, lineCounter, issue.path, issue.atKey),
  }));
  throw new RunbookValidationError(issues.sort(byPosition), source);
}

/** Validates an already-parsed runbook (an HTTP body): the same issues, without positions. */
export function validateRunbook(value: unknown, source?: string): Runbook {
  const checked = check(value);
  if (checked.ok) return checked.runbook;
  const issues = checked.issues.map((issue): RunbookIssue => ({
    path: formatIssuePath(issue.path),
    message: issue.message,
  }));
  throw new RunbookValidationError(issues, source);
}
