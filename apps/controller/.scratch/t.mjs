import { Queue, Worker } from 'bullmq';
import IORedisDefault, { Redis } from 'ioredis';
import { startPrivateRedis } from '@hotswap/tools';
console.log(typeof IORedisDefault, typeof Redis, IORedisDefault === Redis);
const r = await startPrivateRedis();
try {
  const c = new Redis(r.url, { maxRetriesPerRequest: null });
  await c.hset('h', { a: '1', labels: '{"x":"y"}' });
  console.log('hgetall', await c.hgetall('h'), await c.hgetall('nope'));
  await c.zadd('z', 5, 'a', 7, 'b');
  console.log('zrange', await c.zrange('z', 0, -1, 'WITHSCORES'));
  console.log('ping', await c.ping());
  await c.watch('k');
  const res = await c.multi().set('k', 'v').exec();
  console.log('multi', res);
  await c.watch('k');
  const c2 = c.duplicate(); await c2.set('k','other');
  console.log('multi-aborted', await c.multi().set('k', 'v').exec());
  const q = new Queue('swaps', { connection: c, prefix: 'hotswap:{host-a}' });
  await q.add('swap', { x: 1 }, { jobId: 'r-abc-a-forward', removeOnComplete: { age: 10 } });
  const dup = await q.add('swap', { x: 2 }, { jobId: 'r-abc-a-forward' });
  console.log('dup', dup.data);
  const done = new Promise((res) => {
    const w = new Worker('swaps', async (job) => { console.log('got', job.name, job.data, job.id); res(w); return 1; }, { connection: c.duplicate({maxRetriesPerRequest:null}), prefix: 'hotswap:{host-a}' });
  });
  const w = await done;
  await w.close(); await q.close(); c.disconnect(); c2.disconnect();
  console.log(await c.status);
} finally { await r.stop(); }
