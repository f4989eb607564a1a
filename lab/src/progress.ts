/** Progress lines for humans, always on stderr so stdout stays the report (or the JSON). */
export type Progress = (message: string) => void;

export const stderrProgress: Progress = (message) => process.stderr.write(`lab: ${message}\n`);

export const silentProgress: Progress = () => undefined;
