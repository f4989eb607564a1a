/** One problem in a scenario file: where (field path, and line when the text is YAML/JSON) and what. */
export interface ScenarioProblem {
  readonly path: string;
  readonly line: number | null;
  readonly message: string;
}

/** A scenario file that does not describe a valid host. The message lists every problem. */
export class SimScenarioError extends Error {
  constructor(readonly problems: readonly ScenarioProblem[]) {
    super(
      `invalid sim scenario:\n${problems
        .map((p) => `  ${p.path}${p.line === null ? '' : ` (line ${p.line})`}: ${p.message}`)
        .join('\n')}`,
    );
    this.name = 'SimScenarioError';
  }
}
