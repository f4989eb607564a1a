import { ControllerError } from './controller.errors.js';

/** The host's agent did not answer a live census in time: down, or cut off from Redis. */
export class HostCensusTimeoutError extends ControllerError {
  constructor(hostId: string, deadlineMs: number, pickedUp: boolean, lastHeartbeatSecondsAgo: number) {
    const why = pickedUp
      ? 'its agent took the census but did not finish it (a kernel read is slow?)'
      : `no agent took the census (last heartbeat ${lastHeartbeatSecondsAgo} s ago): is the agent running and connected to Redis?`;
    super('HOST_CENSUS_TIMEOUT', 504, `host ${hostId} did not answer within ${deadlineMs} ms: ${why}`, {
      hostId,
      deadlineMs,
      pickedUp,
    });
  }
}

/** The agent refused or failed the census; its reason is passed on. */
export class HostCensusFailedError extends ControllerError {
  constructor(hostId: string, reason: string) {
    super('HOST_CENSUS_FAILED', 502, `host ${hostId} could not take the census: ${reason}`, { hostId });
  }
}
