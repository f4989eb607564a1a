import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseModuleIndex, resolveModules } from '../src/modules-dep.js';

const DEP = `kernel/drivers/virtio/virtio_ring.ko:
kernel/drivers/virtio/virtio.ko: kernel/drivers/virtio/virtio_ring.ko
kernel/drivers/virtio/virtio_pci.ko: kernel/drivers/virtio/virtio_pci_modern_dev.ko kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko
kernel/drivers/virtio/virtio_pci_modern_dev.ko:
kernel/drivers/char/virtio_console.ko: kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko
kernel/drivers/char/hw_random/virtio-rng.ko: kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko
`;
const BUILTIN = 'kernel/drivers/tty/serial/8250/8250.ko\n';

describe('modules.dep resolution', () => {
  const index = parseModuleIndex(DEP, BUILTIN);

  it('lists every dependency before its users, each once', () => {
    const { files } = resolveModules(['virtio_pci', 'virtio_console'], index);
    assert.deepEqual(files, [
      'kernel/drivers/virtio/virtio_pci_modern_dev.ko',
      'kernel/drivers/virtio/virtio_ring.ko',
      'kernel/drivers/virtio/virtio.ko',
      'kernel/drivers/virtio/virtio_pci.ko',
      'kernel/drivers/char/virtio_console.ko',
    ]);
  });

  it("treats '-' and '_' alike", () => {
    assert.deepEqual(resolveModules(['virtio_rng'], index).files.at(-1), 'kernel/drivers/char/hw_random/virtio-rng.ko');
  });

  it('reports built-in modules apart and refuses unknown ones', () => {
    assert.deepEqual(resolveModules(['8250'], index), { files: [], builtin: ['8250'] });
    assert.throws(() => resolveModules(['nope'], index), /neither in modules.dep nor built into the kernel/);
  });
});
