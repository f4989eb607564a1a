import type { FopsOwner, RevokeScheme } from '../kernel.port.js';

/** How holders of a subsystem's devices can be found by the census. */
export type HolderHandle = 'device-node' | 'group-node' | 'anonymous-inode';

/** What is known of a subsystem's behaviour on unbind, before acting. */
export interface SubsystemBehaviour {
  readonly subsystem: string;
  /** sysfs class directories its nodes sit in (`.../infiniband_verbs/uverbs0/dev`). */
  readonly sysfsClasses: readonly string[];
  /** Whether remove() waits for every open file ('wait': the unbind blocks) or disables them. */
  readonly revokeScheme: RevokeScheme;
  /** The errno zombie FDs get (predicted, never observed by the agent); null when it depends on the driver. */
  readonly predictedErrno: string | null;
  /** Which module each open file pins: the driver's ('driver') or only the subsystem's. */
  readonly fopsOwner: FopsOwner;
  readonly holdersVia: readonly HolderHandle[];
  /** Kernel source file or document the row comes from. */
  readonly source: string;
  /** 'lab': observed on a real kernel (KERNEL-LAB.md); 'source': read in the kernel source only. */
  readonly evidence: 'lab' | 'source';
  readonly caveat?: string;
}

/**
 * Known subsystems. A runbook may override any row for its driver; preflight may refine the
 * fops owner from refcounts on the host (predictFromRefcnt). The agent states these as
 * predictions and reports when the swap contradicts them.
 */
export const SUBSYSTEM_BEHAVIOURS: readonly SubsystemBehaviour[] = [
  {
    subsystem: 'misc',
    sysfsClasses: ['misc'],
    revokeScheme: 'revoke',
    predictedErrno: null,
    fopsOwner: 'driver',
    holdersVia: ['device-node'],
    source: 'drivers/char/misc.c (misc_open replaces f_op with the driver fops; misc_deregister does not wait)',
    evidence: 'lab',
    caveat:
      'misc_deregister removes the node and returns; open files keep calling the driver, so whether they fail ' +
      '(and with which errno) is up to the driver (the lab driver fences with SRCU and returns ENODEV).',
  },
  {
    subsystem: 'uio',
    sysfsClasses: ['uio'],
    revokeScheme: 'revoke',
    predictedErrno: 'EIO',
    fopsOwner: 'driver',
    holdersVia: ['device-node'],
    source:
      'drivers/uio/uio.c (uio_unregister_device sets idev->info = NULL, read/write/mmap then fail with -EIO; ' +
      'uio_open takes try_module_get(idev->owner), the driver module)',
    evidence: 'source',
  },
  {
    subsystem: 'virtio-console',
    sysfsClasses: ['virtio-ports'],
    revokeScheme: 'revoke',
    predictedErrno: 'ENODEV',
    fopsOwner: 'driver',
    holdersVia: ['device-node'],
    source: 'drivers/char/virtio_console.c (port_fops, .owner = THIS_MODULE); KERNEL-LAB.md',
    evidence: 'lab',
    caveat: 'A reopen may see ENOENT (no node yet), then ENXIO (port not ready), then succeed. One opener per port.',
  },
  {
    subsystem: 'rdma-uverbs-disassociate',
    sysfsClasses: ['infiniband_verbs'],
    revokeScheme: 'revoke',
    predictedErrno: 'EIO',
    fopsOwner: 'subsystem',
    holdersVia: ['device-node'],
    source:
      'drivers/infiniband/core/uverbs_main.c (ib_uverbs_remove_one: with ops.disassociate_ucontext, ' +
      'ib_uverbs_free_hw_resources and return; ib_uverbs_open pins the driver module only without it)',
    evidence: 'source',
    caveat: 'Applies to drivers implementing disassociate_ucontext (mlx4, mlx5, ...). ib_uverbs stays pinned.',
  },
  {
    subsystem: 'rdma-uverbs',
    sysfsClasses: ['infiniband_verbs'],
    revokeScheme: 'wait',
    predictedErrno: null,
    fopsOwner: 'driver',
    holdersVia: ['device-node'],
    source:
      'drivers/infiniband/core/uverbs_main.c (ib_uverbs_remove_one waits on uverbs_dev->comp until every ' +
      'file is closed when the driver has no disassociate_ucontext)',
    evidence: 'source',
  },
  {
    subsystem: 'vfio',
    sysfsClasses: ['vfio', 'vfio-dev'],
    revokeScheme: 'wait',
    predictedErrno: null,
    fopsOwner: 'driver',
    holdersVia: ['group-node', 'anonymous-inode', 'device-node'],
    source:
      'drivers/vfio/vfio_main.c (vfio_unregister_group_dev loops on wait_for_completion_interruptible_timeout ' +
      'calling ops->request, which vfio-pci relays to the user as a request eventfd; device open pins ' +
      'the bus driver module)',
    evidence: 'source',
    caveat:
      'A device FD obtained from VFIO_GROUP_GET_DEVICE_FD is an anonymous inode ("anon_inode:[vfio-device]") ' +
      'that the census cannot match by rdev; holders are found through the group node /dev/vfio/N (or ' +
      '/dev/vfio/devices/vfioX on 6.6+).',
  },
  {
    subsystem: 'drm',
    sysfsClasses: ['drm'],
    revokeScheme: 'revoke',
    predictedErrno: 'ENODEV',
    fopsOwner: 'driver',
    holdersVia: ['device-node'],
    source:
      'drivers/gpu/drm/drm_drv.c (drm_dev_unplug), drm_ioctl.c (drm_ioctl returns -ENODEV once unplugged); ' +
      'DEFINE_DRM_GEM_FOPS sets .owner = THIS_MODULE',
    evidence: 'source',
    caveat: 'Only drivers that call drm_dev_unplug in remove() revoke; others leave open files unsafe.',
  },
  {
    subsystem: 'nvme-char',
    sysfsClasses: ['nvme', 'nvme-generic'],
    revokeScheme: 'revoke',
    predictedErrno: 'ENODEV',
    fopsOwner: 'driver',
    holdersVia: ['device-node'],
    source:
      'drivers/nvme/host/core.c (nvme_dev_open takes try_module_get(ctrl->ops->module), the transport ' +
      'module; removal does not wait for openers, commands on a dying queue fail)',
    evidence: 'source',
    caveat: 'The errno of commands on a removed controller is inferred from the block layer, not observed.',
  },
];

/** The rows that may describe a node of this sysfs class (RDMA has two: with and without disassociate). */
export function behavioursForClass(sysfsClass: string | null): SubsystemBehaviour[] {
  if (sysfsClass === null) return [];
  return SUBSYSTEM_BEHAVIOURS.filter((b) => b.sysfsClasses.includes(sysfsClass));
}

export function subsystemBehaviour(subsystem: string): SubsystemBehaviour | undefined {
  return SUBSYSTEM_BEHAVIOURS.find((b) => b.subsystem === subsystem);
}

/** One look at a module: its refcnt, how many of its holders are modules, how many files are open on its nodes. */
export interface RefcntObservation {
  readonly refcnt: number;
  /** Modules depending on it (each holds one reference): `/sys/module/NAME/holders`. */
  readonly holderModules: number;
  /** Open files (FDs, zombie or not) on the nodes of its devices, from the census. */
  readonly openFiles: number;
}

export interface FopsOwnerInference {
  readonly owner: FopsOwner | null;
  readonly reason: string;
}

/**
 * Infers who owns the file operations from refcounts: a module whose refcnt (less the
 * references of dependent modules) rises by one per open file of its nodes owns them ('driver'):
 * each file pins it. One that stays put while files come and go does not ('subsystem').
 * Several observations with different file counts give the slope; a single one only tells when
 * it is unambiguous.
 */
export function predictFromRefcnt(observations: readonly RefcntObservation[]): FopsOwnerInference {
  const points = observations.map((o) => ({ files: o.openFiles, extra: o.refcnt - o.holderModules }));
  const distinct = [...new Map(points.map((p) => [p.files, p])).values()].sort((a, b) => a.files - b.files);
  if (distinct.length >= 2) {
    const slopes = distinct.slice(1).map((p, i) => {
      const prev = distinct[i] as { files: number; extra: number };
      return (p.extra - prev.extra) / (p.files - prev.files);
    });
    if (slopes.every((s) => s === 1))
      return { owner: 'driver', reason: 'refcnt rose by one per open file: each file pins the module' };
    if (slopes.every((s) => s === 0))
      return { owner: 'subsystem', reason: 'refcnt did not move with the open files: they pin another module' };
    return { owner: null, reason: `refcnt moved irregularly with the open files (slopes ${slopes.join(', ')})` };
  }
  const only = points[0];
  if (!only || only.files === 0) return { owner: null, reason: 'no open file observed: refcnt tells nothing' };
  if (only.extra === 0)
    return { owner: 'subsystem', reason: `${only.files} open file(s) and no reference beyond dependent modules` };
  if (only.extra >= only.files)
    return {
      owner: 'driver',
      reason: `${only.files} open file(s) and ${only.extra} reference(s) beyond dependent modules`,
    };
  return { owner: null, reason: `${only.files} open file(s) but only ${only.extra} extra reference(s)` };
}
