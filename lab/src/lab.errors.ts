/**
 * The lab could not run the scenario at all: packages missing and not installable, no kernel,
 * QEMU missing or failing, the guest never reaching init, a hard timeout. CI must fail loudly
 * on these, never count them as a skipped test.
 */
export class LabInfraError extends Error {
  override readonly name = 'LabInfraError';
}

/** The scenario file is not valid: a user error, reported with its path. */
export class ScenarioError extends Error {
  override readonly name = 'ScenarioError';
}
