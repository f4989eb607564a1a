/** Stable codes for the ways the kernel refuses an action. */
export type KernelActionErrorCode =
  | 'EBUSY' // module in use (refcnt > 0), or device busy
  | 'ENOENT' // no such module, device, driver or file
  | 'ENODEV' // probe found no device, or the device is gone
  | 'EEXIST' // already loaded / already bound
  | 'EINVAL' // bad argument
  | 'EIO'; // anything else the kernel or a tool reported

/** A kernel action that the kernel (or modprobe) refused. `code` is stable; message is for people. */
export class KernelActionError extends Error {
  constructor(
    readonly code: KernelActionErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'KernelActionError';
  }
}
