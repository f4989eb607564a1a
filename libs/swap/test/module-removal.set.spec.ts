import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { LoadedModule } from '@hotswap/kernel';
import { modulesRemovedWith, reloadOrder, rollbackModuleOf } from '../src/index.js';

/** Modules from "name: dep1 dep2" lines; refcnt = holders plus `extra` references (open files). */
function host(graph: Record<string, string[]>, extra: Record<string, number> = {}): Map<string, LoadedModule> {
  const holdersOf = (name: string) => Object.keys(graph).filter((m) => graph[m]?.includes(name));
  return new Map(
    Object.entries(graph).map(([name, deps]) => [
      name,
      {
        name,
        version: '1.0',
        srcversion: `SRC_${name}`,
        refcnt: holdersOf(name).length + (extra[name] ?? 0),
        holders: holdersOf(name),
        dependsOn: deps,
        unloadable: name !== 'builtin_core',
        file: `/lib/modules/${name}.ko`,
        params: name === 'ib_core' ? ['x=1'] : [],
      },
    ]),
  );
}
const stackOf = (mods: Map<string, LoadedModule>, names: string[]) => names.map((n) => mods.get(n) as LoadedModule);

describe('what modprobe -r takes along', () => {
  it('removes the stack, then the dependencies left unused, recursively (mlx5: ib_uverbs and ib_core go too)', () => {
    const mods = host({
      mlx5_ib: ['mlx5_core', 'ib_uverbs', 'ib_core'],
      mlx5_core: ['mlxfw'],
      ib_uverbs: ['ib_core'],
      ib_core: [],
      mlxfw: [],
      rdma_cm: ['ib_core'],
    });
    const removed = modulesRemovedWith(stackOf(mods, ['mlx5_ib', 'mlx5_core']), mods);
    assert.deepEqual(
      removed.map((r) => [r.module.name, r.why]),
      [
        ['mlx5_ib', 'stack'],
        ['mlx5_core', 'stack'],
        ['ib_uverbs', 'dependency'],
        ['mlxfw', 'dependency'],
      ],
      'ib_core stays: rdma_cm, outside the stack, still uses it',
    );
    assert.deepEqual(rollbackModuleOf(removed[2]!), {
      name: 'ib_uverbs',
      version: '1.0',
      srcversion: 'SRC_ib_uverbs',
      file: '/lib/modules/ib_uverbs.ko',
      params: [],
      why: 'dependency',
    });
  });

  it('keeps a dependency that open files (or anything else) still reference, and built-in ones', () => {
    const mods = host({ hs_rdma: ['hs_ib_core', 'builtin_core'], hs_ib_core: [], builtin_core: [] }, { hs_ib_core: 2 });
    assert.deepEqual(
      modulesRemovedWith(stackOf(mods, ['hs_rdma']), mods).map((r) => r.module.name),
      ['hs_rdma'],
    );
  });

  it('loads back dependencies first', () => {
    const mods = host({ a: ['c', 'b'], b: ['c'], c: [], d: ['a'] });
    const order = reloadOrder(stackOf(mods, ['d', 'a', 'c', 'b']));
    assert.deepEqual(
      order.map((m) => m.name),
      ['c', 'b', 'a', 'd'],
    );
  });

  it('properties: the set is closed (each removed dependency has no holder left), and reload order respects dependencies', () => {
    const names = ['m0', 'm1', 'm2', 'm3', 'm4', 'm5'];
    // A DAG: a module may depend only on modules with a higher index.
    const graphArb = fc
      .tuple(
        fc.array(fc.subarray([1, 2, 3, 4, 5]), { minLength: 6, maxLength: 6 }),
        fc.array(fc.nat(2), { minLength: 6, maxLength: 6 }),
        fc.integer({ min: 1, max: 3 }),
      )
      .map(([deps, extra, stackSize]) => {
        const graph = Object.fromEntries(
          names.map((n, i) => [n, (deps[i] ?? []).filter((d) => d > i).map((d) => names[d] as string)]),
        );
        const extras = Object.fromEntries(names.map((n, i) => [n, i < stackSize ? 0 : (extra[i] ?? 0)]));
        return { mods: host(graph, extras), stack: names.slice(0, stackSize) };
      });
    fc.assert(
      fc.property(graphArb, ({ mods, stack }) => {
        const removed = modulesRemovedWith(stackOf(mods, stack), mods);
        const gone = new Set(removed.map((r) => r.module.name));
        assert.deepEqual(
          removed.filter((r) => r.why === 'stack').map((r) => r.module.name),
          stack,
        );
        for (const r of removed.filter((r) => r.why === 'dependency')) {
          assert.ok(
            r.module.holders.every((h) => gone.has(h)),
            `${r.module.name} has a holder left`,
          );
          assert.equal(r.module.refcnt, r.module.holders.length, `${r.module.name} has other references`);
        }
        // Nothing left behind that modprobe would have taken: a loaded dependency of a removed
        // module whose holders all went and that has no other reference.
        for (const r of removed) {
          for (const dep of r.module.dependsOn) {
            const m = mods.get(dep);
            if (!m || gone.has(dep)) continue;
            assert.ok(!(m.holders.every((h) => gone.has(h)) && m.refcnt === m.holders.length), `${dep} left behind`);
          }
        }
        const order = reloadOrder(removed.map((r) => r.module)).map((m) => m.name);
        assert.equal(order.length, removed.length);
        for (const [i, name] of order.entries()) {
          for (const dep of mods.get(name)?.dependsOn ?? []) {
            if (gone.has(dep)) assert.ok(order.indexOf(dep) < i, `${dep} loads before ${name}`);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
