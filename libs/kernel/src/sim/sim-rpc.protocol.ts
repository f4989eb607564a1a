import { KernelActionError, type KernelActionErrorCode } from '../kernel-action.error.js';

/**
 * The sim host's wire format: newline-delimited JSON over a unix socket, one object a line.
 * Requests `{id, method, params}`; responses `{id, result}` or `{id, error: {code, message}}`,
 * in completion order (a wait-scheme unbind answers late; other requests are not held up).
 */
export interface SimRpcRequest {
  readonly id: number;
  readonly method: string;
  readonly params?: unknown;
}

export interface SimRpcFailure {
  /** A KernelActionErrorCode for kernel refusals; EPROTO for bad requests; EINTERNAL for sim bugs. */
  readonly code: string;
  readonly message: string;
}

export type SimRpcResponse =
  | { readonly id: number | null; readonly result: unknown }
  | { readonly id: number | null; readonly error: SimRpcFailure };

const kernelCodes: readonly KernelActionErrorCode[] = ['EBUSY', 'ENOENT', 'ENODEV', 'EEXIST', 'EINVAL', 'EIO'];

export function encodeError(err: unknown): SimRpcFailure {
  if (err instanceof KernelActionError) return { code: err.code, message: err.message };
  return { code: 'EINTERNAL', message: err instanceof Error ? err.message : String(err) };
}

/** A kernel refusal comes back as the same KernelActionError; anything else as a SimHostError. */
export function decodeError(failure: SimRpcFailure): Error {
  if ((kernelCodes as readonly string[]).includes(failure.code))
    return new KernelActionError(failure.code as KernelActionErrorCode, failure.message);
  return new SimHostError(failure.code, failure.message);
}

/** The sim host failed for a reason that is not a kernel refusal (bad request, simulator bug, lost connection). */
export class SimHostError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'SimHostError';
  }
}

/** Splits a byte stream into lines; a line may arrive in several chunks. */
export class LineSplitter {
  private buffer = '';

  push(chunk: string): string[] {
    this.buffer += chunk;
    const lines = this.buffer.split('\n');
    this.buffer = lines.pop() ?? '';
    return lines.filter((line) => line.trim().length > 0);
  }
}
