/**
 * Errors the API answers with: a stable `code` a client can switch on, the HTTP status, a
 * message a person can act on, and optional details that go into the body as they are.
 */
export class ControllerError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    readonly details: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class RolloutNotFoundError extends ControllerError {
  constructor(readonly rolloutId: string) {
    super('ROLLOUT_NOT_FOUND', 404, `no rollout ${JSON.stringify(rolloutId)}`);
  }
}

export class HostsNotRegisteredError extends ControllerError {
  constructor(readonly hosts: readonly string[]) {
    super(
      'HOSTS_NOT_REGISTERED',
      400,
      `hosts not registered (no agent has sent a heartbeat for them): ${hosts.join(', ')}`,
      { hosts },
    );
  }
}

export class UnsupportedMediaTypeError extends ControllerError {
  constructor(contentType: string | undefined) {
    super(
      'UNSUPPORTED_MEDIA_TYPE',
      415,
      `send the runbook as application/json or application/yaml (got ${contentType ?? 'no content type'})`,
    );
  }
}

/** Another writer kept changing the rollout; the caller (a queue job) retries later. */
export class RolloutUpdateConflictError extends ControllerError {
  constructor(rolloutId: string, attempts: number) {
    super('ROLLOUT_UPDATE_CONFLICT', 409, `rollout ${rolloutId} changed under ${attempts} update attempts in a row`);
  }
}

/** A rollout record in Redis that this controller cannot read (written by a newer version?). */
export class RolloutRecordInvalidError extends ControllerError {
  constructor(rolloutId: string, reason: string) {
    super('ROLLOUT_RECORD_INVALID', 500, `stored rollout ${rolloutId} is unreadable: ${reason}`);
  }
}
