/** One thing wrong with a runbook. `line`/`column` are 1-based, present when parsed from text. */
export interface RunbookIssue {
  /** Where, like `spec.modules[1].target.file`; empty for the document as a whole. */
  readonly path: string;
  readonly message: string;
  readonly line?: number;
  readonly column?: number;
}

/** How an issue reads in a message: `source:line:column: path: message`, like a compiler. */
export function formatRunbookIssue(issue: RunbookIssue, source?: string): string {
  const position = issue.line === undefined ? [] : [issue.line, issue.column ?? 1];
  const where = [source, ...position].filter((part) => part !== undefined).join(':');
  const path = issue.path === '' ? '(document)' : issue.path;
  return `${where === '' ? '' : `${where}: `}${path}: ${issue.message}`;
}

/** A runbook that cannot be used. Never worth retrying: the document itself must change. */
export class RunbookValidationError extends Error {
  readonly code = 'RUNBOOK_INVALID';
  override readonly name = 'RunbookValidationError';

  constructor(
    readonly issues: readonly RunbookIssue[],
    readonly source?: string,
  ) {
    const count = issues.length === 1 ? '1 issue' : `${issues.length} issues`;
    const lines = issues.map((issue) => formatRunbookIssue(issue, source));
    super([`invalid runbook${source === undefined ? '' : ` ${source}`} (${count}):`, ...lines].join('\n'));
  }
}
