import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { errorCodeOf } from '../src/linux/action-error.mapper.js';
import { parseCgroup } from '../src/linux/cgroup.parser.js';
import { devMajor, devMinor, formatDev, hexDevToRdev, makeDev } from '../src/linux/dev-number.codec.js';
import { parseKmsg } from '../src/linux/kmsg.parser.js';
import { modinfoDepends, modinfoField, moduleNameOfFile, parseModinfo } from '../src/linux/modinfo.parser.js';
import { parseMountinfo } from '../src/linux/mountinfo.parser.js';
import { parseProcMaps, splitDeleted } from '../src/linux/proc-maps.parser.js';
import { parseProcModules } from '../src/linux/proc-modules.parser.js';
import { predictFromRefcnt } from '../src/linux/subsystem-behaviour.table.js';
import { decodeTaint } from '../src/linux/taint.reader.js';

const ID = 'f'.repeat(12) + '0123456789abcdef'.repeat(3) + 'a'.repeat(4);

describe('linux parsers', () => {
  it('decodes dev_t like glibc: 1:3, 259:1, and big majors and minors round-trip', () => {
    assert.equal(formatDev(0x103), '1:3');
    assert.equal(formatDev(259 * 256 + 1), '259:1');
    assert.equal(formatDev(makeDev(4095, 1048575)), '4095:1048575');
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer({ min: 0, max: 2 ** 32 - 1 }), (ma, mi) => {
        const dev = makeDev(ma, mi);
        assert.equal(devMajor(dev), ma);
        assert.equal(devMinor(dev), mi);
        if (dev < 2n ** 53n) assert.equal(formatDev(Number(dev)), `${ma}:${mi}`);
      }),
    );
    assert.equal(hexDevToRdev('fe:01'), '254:1');
    assert.equal(hexDevToRdev('00:1a'), '0:26');
  });

  it('parses /proc/modules: used-by, permanent, states, taints, no-unload kernels', () => {
    const entries = parseProcModules(
      [
        'ib_core 479232 2 mlx5_ib,ib_uverbs, Live 0xffffffffc0980000',
        'hs_misc 16384 1 - Live 0xffffffffc0a50000 (OE)',
        'permmod 16384 0 [permanent], Live 0x0000000000000000',
        'going 16384 0 - Unloading 0xffffffffc0a60000',
        'coming 16384 0 - Loading 0xffffffffc0a70000 (O)',
        'nounload 16384 - - Live 0xffffffffc0a80000',
        'garbage line',
      ].join('\n'),
    );
    assert.deepEqual(
      entries.map((e) => [e.name, e.refcnt, e.usedBy, e.permanent, e.state, e.taints]),
      [
        ['ib_core', 2, ['mlx5_ib', 'ib_uverbs'], false, 'live', ''],
        ['hs_misc', 1, [], false, 'live', 'OE'],
        ['permmod', 0, [], true, 'live', ''],
        ['going', 0, [], false, 'unloading', ''],
        ['coming', 0, [], false, 'loading', 'O'],
        ['nounload', null, [], false, 'live', ''],
      ],
    );
  });

  it('parses maps: device of the filesystem, inode, (deleted), and drops anonymous lines', () => {
    const maps = parseProcMaps(
      [
        '55d0c0a00000-55d0c0a02000 r--p 00000000 fe:01 1835012                    /usr/bin/sleep',
        '7f5c2a000000-7f5c2a001000 rw-s 00000000 00:06 12                         /dev/vport1p1 (deleted)',
        '7f5c2b000000-7f5c2b001000 rw-p 00000000 00:00 0 ',
        '7ffd0c1f0000-7ffd0c211000 rw-p 00000000 00:00 0                          [stack]',
        '7f5c2c000000-7f5c2c001000 r--s 00000000 00:01 1119                       /dev/zero (deleted)',
        '7f5c2d000000-7f5c2d001000 r--p 00000000 fe:00 42                         /tmp/a dir/with spaces',
      ].join('\n'),
    );
    assert.deepEqual(maps, [
      { range: '55d0c0a00000-55d0c0a02000', fsDev: '254:1', ino: 1835012, path: '/usr/bin/sleep', deleted: false },
      { range: '7f5c2a000000-7f5c2a001000', fsDev: '0:6', ino: 12, path: '/dev/vport1p1', deleted: true },
      { range: '7f5c2c000000-7f5c2c001000', fsDev: '0:1', ino: 1119, path: '/dev/zero', deleted: true },
      { range: '7f5c2d000000-7f5c2d001000', fsDev: '254:0', ino: 42, path: '/tmp/a dir/with spaces', deleted: false },
    ]);
    assert.deepEqual(splitDeleted('/dev/hsmisc0 (deleted)'), { path: '/dev/hsmisc0', deleted: true });
    assert.deepEqual(splitDeleted('/dev/hsmisc0'), { path: '/dev/hsmisc0', deleted: false });
  });

  it('names the unit of a process from its cgroup: systemd service and scope, containers, pods', () => {
    const v2 = (path: string) => `0::${path}\n`;
    assert.equal(parseCgroup(v2('/system.slice/rdma-app.service')).unit, 'rdma-app.service');
    assert.equal(parseCgroup(v2('/system.slice/rdma-app.service/worker')).unit, 'rdma-app.service');
    assert.equal(parseCgroup(v2('/user.slice/user-1000.slice/session-3.scope')).unit, 'session-3.scope');
    assert.equal(
      parseCgroup(v2('/user.slice/user-1000.slice/user@1000.service/app.slice/app-term-1.scope')).unit,
      'app-term-1.scope',
    );
    assert.deepEqual(parseCgroup(v2(`/system.slice/docker-${ID}.scope`)), {
      path: `/system.slice/docker-${ID}.scope`,
      unit: `docker://${ID}`,
      container: { runtime: 'docker', id: ID },
      pod: null,
    });
    assert.equal(parseCgroup(`12:pids:/docker/${ID}\n1:name=systemd:/docker/${ID}\n0::/\n`).unit, `docker://${ID}`);
    const pod = parseCgroup(
      v2(
        '/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1b2c3d4e_0000_4a4a_8b8b_123456789abc.slice/' +
          `cri-containerd-${ID}.scope`,
      ),
    );
    assert.equal(pod.unit, `containerd://${ID}`);
    assert.equal(pod.pod, '1b2c3d4e-0000-4a4a-8b8b-123456789abc');
    const cgroupfs = parseCgroup(
      `11:memory:/kubepods/besteffort/pod1b2c3d4e-0000-4a4a-8b8b-123456789abc/${ID}\n0::/\n`,
    );
    assert.equal(cgroupfs.unit, `container://${ID}`);
    assert.equal(cgroupfs.pod, '1b2c3d4e-0000-4a4a-8b8b-123456789abc');
    assert.equal(parseCgroup(v2(`/machine.slice/libpod-${ID}.scope/container`)).unit, `podman://${ID}`);
    assert.equal(parseCgroup(v2(`/kubepods.slice/crio-${ID}.scope`)).unit, `cri-o://${ID}`);
    assert.equal(parseCgroup('0::/\n').unit, null);
    assert.equal(parseCgroup('4:memory:/process_api/abc\n0::/\n').unit, null, 'a cgroup that is no unit');
    assert.equal(parseCgroup('').unit, null);
  });

  it('parses /dev/kmsg records with dictionaries and continuation flags', () => {
    const records = parseKmsg(
      '6,339,5140900,-;NET: Registered protocol family 10\n' +
        '7,160,424069,-;pci_root PNP0A03:00: host bridge window [io  0x0000-0x0cf7] (ignored)\n' +
        ' SUBSYSTEM=acpi\n DEVICE=+acpi:PNP0A03:00\n' +
        '4,341,5141000,c,more;partial',
    );
    assert.deepEqual(
      records.map((r) => [r.seq, r.level, r.facility, r.usec, r.continuation, r.fields]),
      [
        [339, 6, 0, 5140900, false, {}],
        [160, 7, 0, 424069, false, { SUBSYSTEM: 'acpi', DEVICE: '+acpi:PNP0A03:00' }],
        [341, 4, 0, 5141000, true, {}],
      ],
    );
    assert.equal(records[1]?.message, 'pci_root PNP0A03:00: host bridge window [io  0x0000-0x0cf7] (ignored)');
  });

  it('decodes taint values into letters', () => {
    assert.deepEqual(decodeTaint(0), { value: 0, flags: '', reasons: [] });
    assert.equal(decodeTaint(1).flags, 'P');
    assert.equal(decodeTaint(4096 + 8192).flags, 'OE');
    assert.equal(decodeTaint(512 + 1).flags, 'PW');
    assert.equal(decodeTaint(2 ** 25).flags, '?');
  });

  it('parses mountinfo with escaped paths', () => {
    assert.deepEqual(
      parseMountinfo('36 35 98:0 /mnt1 /mnt/a\\040b rw,noatime master:1 - ext3 /dev/root rw,errors=continue\n'),
      [{ rdev: '98:0', mountPoint: '/mnt/a b', fstype: 'ext3', source: '/dev/root' }],
    );
  });

  it('parses modinfo output, multi-line values and dependencies; names a module by its file', () => {
    const fields = parseModinfo(
      'filename:       /x/mlx5_ib.ko\nparm:           a:first\n                 line two (int)\nparm:           b:x (int)\n' +
        'depends:        mlx5_core,ib_core\nvermagic:       6.1.0 SMP\n',
    );
    assert.equal(modinfoField(fields, 'filename'), '/x/mlx5_ib.ko');
    assert.deepEqual(fields.get('parm'), ['a:first\nline two (int)', 'b:x (int)']);
    assert.deepEqual(modinfoDepends(fields), ['mlx5_core', 'ib_core']);
    assert.deepEqual(modinfoDepends(parseModinfo('depends:        \n')), []);
    assert.equal(moduleNameOfFile('/lib/modules/x/virtio-console.ko.zst'), 'virtio_console');
  });

  it('maps what kmod, busybox and dd print to stable codes', () => {
    const cases: [string, string][] = [
      ['modprobe: FATAL: Module hs_misc is in use.', 'EBUSY'],
      ['rmmod: ERROR: could not remove module virtio_console: Resource temporarily unavailable', 'EBUSY'],
      ["dd: error writing '/sys/bus/pci/drivers/x/bind': No such device", 'ENODEV'],
      ["modprobe: ERROR: could not insert 'x': No such device or address", 'ENODEV'],
      ['modprobe: FATAL: Module nosuch not found in directory /lib/modules/6.1.0', 'ENOENT'],
      ["dd: failed to open '/sys/bus/pci/drivers/x/unbind': No such file or directory", 'ENOENT'],
      ['insmod: ERROR: could not insert module /x.ko: File exists', 'EEXIST'],
      ['modprobe: FATAL: Module vt is builtin.', 'EINVAL'],
      ["dd: error writing '/sys/x': Invalid argument", 'EINVAL'],
      ["modprobe: ERROR: could not insert 'x': Exec format error", 'EIO'],
      ["modprobe: ERROR: could not insert 'x': Key was rejected by service", 'EIO'],
    ];
    for (const [text, code] of cases) assert.equal(errorCodeOf(text), code, text);
  });

  it('infers the fops owner from refcounts', () => {
    const obs = (openFiles: number, refcnt: number, holderModules = 0) => ({ openFiles, refcnt, holderModules });
    assert.equal(predictFromRefcnt([obs(0, 1, 1), obs(1, 2, 1), obs(3, 4, 1)]).owner, 'driver');
    assert.equal(predictFromRefcnt([obs(0, 2, 2), obs(2, 2, 2)]).owner, 'subsystem');
    assert.equal(predictFromRefcnt([obs(0, 0), obs(2, 1)]).owner, null);
    assert.equal(predictFromRefcnt([obs(2, 3, 1)]).owner, 'driver');
    assert.equal(predictFromRefcnt([obs(2, 1, 1)]).owner, 'subsystem');
    assert.equal(predictFromRefcnt([obs(0, 0)]).owner, null);
    assert.equal(predictFromRefcnt([]).owner, null);
  });
});
