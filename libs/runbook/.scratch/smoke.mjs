import { parseRunbook, validateRunbook } from '../dist/src/index.js';
const good = `apiVersion: hotswap/v1
kind: Runbook
metadata:
  name: mlx5-5-9
spec:
  modules:
    - name: mlx5_ib
      target:
        version: "5.9-1"
        params: ["prof_sel=2"]
    - name: mlx5_core
      target: { file: /opt/drivers/mlx5_core.ko }
  devices:
    bus: pci
    driver: mlx5_core
    vendor: "0x15b3"
  hosts:
    names: [host-a, host-b]
`;
console.log(JSON.stringify(parseRunbook(good, 'x.yaml')));
const bad = `apiVersion: hotswap/v2
kind: Runbook
metadata:
  name: Mlx
spec:
  modules:
    - name: ../mlx5_ib
      target:
        version: 5.9
        file: /opt//x.ko
        params: ["a b"]
    - name: mlx5-ib
      target: { file: /opt/drivers/mlx5_core.ko, extra: 1 }
    - name: x
      target: {}
  devices:
    bus: pci
    vendor: 0x15b3
  deadlines:
    unbindSecond: 3
    actionSeconds: -1
    zombieCloseSeconds: "10"
  blockedUnbind: { policy: kill }
  recovery:
    pollMilliseconds:
  hosts:
    names: [a, a]
  foo: 1
`;
try { parseRunbook(bad, 'bad.yaml'); } catch (e) { console.log(e.message); console.log(e.code); }
try { parseRunbook('a: 1\na: 2\nb: [\n', 'syn.yaml'); } catch (e) { console.log(e.message); }
try { parseRunbook('', 'empty.yaml'); } catch (e) { console.log(e.message); }
try { parseRunbook('a: 1\n---\nb: 2\n', 'multi.yaml'); } catch (e) { console.log(e.message); }
try { parseRunbook('__proto__: {x: 1}\napiVersion: hotswap/v1\n', 'proto.yaml'); } catch (e) { console.log(e.message); }
try { validateRunbook({ apiVersion: 'hotswap/v1', kind: 'Runbook', metadata: { name: 'a' }, spec: { modules: [{ name: 'a', target: { version: '1', file: '/a.ko' } }], devices: { bus: 'pci', driver: 'x' } } }); } catch (e) { console.log(e.message); }
