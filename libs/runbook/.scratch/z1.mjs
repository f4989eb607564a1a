import { z } from 'zod';
const s = z.strictObject({ a: z.number(), b: z.strictObject({ c: z.string() }, { error: (iss) => { console.log('errmap', iss.code, iss.path, Object.keys(iss), iss.inst?.shape && Object.keys(iss.inst.shape)); return undefined; } }) });
const r = s.safeParse({ a: 'x', b: { c: 1, cc: 2, d: 3 }, e: 1 });
console.log(JSON.stringify(r.error.issues, null, 1));
const t = z.strictObject({ version: z.string().optional(), file: z.string().optional(), params: z.array(z.string()).default([]) })
  .superRefine((v, ctx) => { console.log('refine ran', v); if (v.version !== undefined && v.file !== undefined) ctx.addIssue({ code: 'custom', path: ['file'], message: 'both' }); })
  .transform((v) => v.file !== undefined ? { file: v.file, params: v.params } : { version: v.version, params: v.params });
console.log(JSON.stringify(t.safeParse({ version: 'a', file: 'b', x: 1 }), null, 1));
console.log(JSON.stringify(t.safeParse({ version: 'a', file: 'b' }), null, 1));
console.log(JSON.stringify(t.safeParse({ version: 1, file: 'b' }), null, 1));
