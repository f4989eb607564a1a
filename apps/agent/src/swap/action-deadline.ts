/**
 * The deadline of one kernel action: `onStuck` once `deadlineMs` has passed without the action
 * settling. An action that says when it really begins (an unbind's child, just before its
 * write: `begun()`) has its deadline counted from there, not from the start of its child's
 * runtime (0.3–0.7 s under QEMU/TCG), so a waiting unbind is not reported blocked before it has
 * waited that long. One that never says so is still bounded by the same deadline from its start.
 */
export class ActionDeadline {
  private timer: NodeJS.Timeout;
  private settled = false;
  private fired = false;

  constructor(
    private readonly deadlineMs: number,
    private readonly onStuck: () => void,
  ) {
    this.timer = setTimeout(() => this.fire(), deadlineMs);
  }

  /**
   * The action really begins now: its deadline starts again from here. Once the deadline has
   * fired (the child took longer than the deadline to get to its write) it is not armed again:
   * one stuck report per action.
   */
  begun(): void {
    if (this.settled || this.fired) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.fire(), this.deadlineMs);
  }

  private fire(): void {
    this.fired = true;
    this.onStuck();
  }

  /** It settled: no stuck report any more. */
  clear(): void {
    this.settled = true;
    clearTimeout(this.timer);
  }
}
