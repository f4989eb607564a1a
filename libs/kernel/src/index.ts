export * from './kernel.port.js';
export * from './kernel-action.error.js';
export { SimKernelAdapter } from './sim/sim.adapter.js';
export { ensureSimHost, type EnsureSimHostOptions, type SimHostHandle } from './sim/sim-host.launcher.js';
export { parseScenario, validateScenario } from './sim/sim-scenario.schema.js';
export type * from './sim/sim-scenario.schema.js';
export { SimScenarioError, type ScenarioProblem } from './sim/sim-scenario.error.js';
export { SimKernel, type SimKernelOptions } from './sim/sim-kernel.js';
export { SimHostServer } from './sim/sim-host.server.js';
export { SimHostError } from './sim/sim-rpc.protocol.js';
export type { SimHostInfo } from './sim/sim-rpc.methods.js';
export type { SimActionEntry, SimActionLogEntry, SimActionKind } from './sim/sim-action.log.js';
export type * from './sim/sim.snapshot.js';
export type { SimModuleState } from './sim/sim-module.table.js';
export { realClock, type SimClock } from './sim/sim.clock.js';
export { FakeClock } from './sim/fake.clock.js';
export { LinuxKernelAdapter, type LinuxKernelAdapterOptions, type NodeSubsystem } from './linux/linux.adapter.js';
export { defaultLinuxRoots, type LinuxRoots } from './linux/linux-roots.js';
export { defaultLinuxCommands, type LinuxCommands } from './linux/linux-commands.js';
export { capturedNodeStat, deviceNodeStat, type NodeStat, type NodeStatFn } from './linux/device-node.stat.js';
export type { LiveAction } from './linux/kernel-action.runner.js';
export type { LockdownMode, MountedDevice, VermagicCheck } from './linux/kernel-facts.reader.js';
export type { KmsgCursor, KmsgSince } from './linux/kmsg.reader.js';
export type { ModuleSignature } from './linux/modinfo.parser.js';
export type { RouteDevice } from './linux/network-route.reader.js';
export type { KmsgRecord } from './linux/kmsg.parser.js';
export { decodeTaint, TAINT_FLAGS, type KernelTaint, type TaintFlag } from './linux/taint.reader.js';
export { parseCgroup, type CgroupIdentity, type ContainerRuntime } from './linux/cgroup.parser.js';
export {
  SUBSYSTEM_BEHAVIOURS,
  subsystemBehaviour,
  behavioursForClass,
  predictFromRefcnt,
  type FopsOwnerInference,
  type HolderHandle,
  type RefcntObservation,
  type SubsystemBehaviour,
} from './linux/subsystem-behaviour.table.js';
export {
  validateBusId,
  validateBusName,
  validateDriverName,
  validateModuleFile,
  validateModuleName,
  validateModuleParam,
} from './linux/kernel-name.validator.js';
