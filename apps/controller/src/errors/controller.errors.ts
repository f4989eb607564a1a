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

/** A `spec.hosts.selector` that no registered host matches: nothing to roll out. */
export class SelectorMatchesNoHostsError extends ControllerError {
  constructor(matchLabels: Readonly<Record<string, string>>, registered: number) {
    const selector = Object.entries(matchLabels)
      .map(([key, value]) => `${key}=${value}`)
      .join(',');
    super(
      'SELECTOR_MATCHES_NO_HOSTS',
      400,
      `spec.hosts.selector {${selector}} matches none of the ${registered} registered host(s): check the labels ` +
        `the agents report (GET /v1/hosts)`,
      { matchLabels },
    );
  }
}

/** Another unfinished rollout (running, paused, waiting) already owns some of the hosts. */
export class RolloutHostConflictError extends ControllerError {
  constructor(message: string, rolloutId: string, state: string, hosts: readonly string[]) {
    super('ROLLOUT_HOST_CONFLICT', 409, message, { rolloutId, state, hosts });
  }
}

/** pause/resume/abort/rollback asked of a rollout in a state where it means nothing. */
export class RolloutCommandNotApplicableError extends ControllerError {
  constructor(rolloutId: string, command: string, state: string, why: string) {
    super('ROLLOUT_COMMAND_NOT_APPLICABLE', 409, `cannot ${command} rollout ${rolloutId}: it is ${state} (${why})`, {
      state,
    });
  }
}

export class RunbookNotFoundError extends ControllerError {
  constructor(name: string) {
    super('RUNBOOK_NOT_FOUND', 404, `no stored runbook ${JSON.stringify(name)} (POST /v1/runbooks stores one)`);
  }
}

/** `{"runbook": name, "revision": n}` asked for a revision that is no longer (or not yet) the stored one. */
export class RunbookRevisionMismatchError extends ControllerError {
  constructor(name: string, wanted: number, stored: number) {
    super(
      'RUNBOOK_REVISION_MISMATCH',
      409,
      `runbook ${name} is at revision ${stored}, not ${wanted}: review the stored one (GET /v1/runbooks/${name})`,
      { revision: stored },
    );
  }
}

export class HostNotFoundError extends ControllerError {
  constructor(hostId: string) {
    super('HOST_NOT_FOUND', 404, `no registered host ${JSON.stringify(hostId)} (no agent has sent a heartbeat)`);
  }
}

/** A request body or query that is well-formed JSON but not what the endpoint takes. */
export class RequestInvalidError extends ControllerError {
  constructor(message: string) {
    super('REQUEST_INVALID', 400, message);
  }
}
