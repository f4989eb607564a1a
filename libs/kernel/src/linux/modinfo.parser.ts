/** `modinfo FILE|NAME` output: each field with every value it has (alias, parm... repeat). */
export type ModinfoFields = ReadonlyMap<string, readonly string[]>;

/**
 * Parses modinfo's "key:   value" lines. Values may be empty ("depends:"); a line that does not
 * start with a key continues the previous value (multi-line descriptions).
 */
export function parseModinfo(text: string): ModinfoFields {
  const fields = new Map<string, string[]>();
  let last: string[] | null = null;
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z0-9_.-]+):\s*(.*)$/.exec(line);
    if (m) {
      const key = m[1] as string;
      const values = fields.get(key) ?? [];
      values.push((m[2] as string).trimEnd());
      fields.set(key, values);
      last = values;
    } else if (last && line.trim() !== '') {
      last[last.length - 1] = `${last[last.length - 1]}\n${line.trim()}`;
    }
  }
  return fields;
}

export function modinfoField(fields: ModinfoFields, key: string): string | null {
  const v = fields.get(key)?.[0];
  return v === undefined || v === '' ? null : v;
}

/** The `depends:` field as a list ("a,b" -> ["a", "b"]). */
export function modinfoDepends(fields: ModinfoFields): string[] {
  return (modinfoField(fields, 'depends') ?? '')
    .split(',')
    .map((d) => d.trim())
    .filter((d) => d !== '');
}

/** Module name of a file as the kernel names it: basename without .ko[.xz|.zst|.gz], '-' -> '_'. */
export function moduleNameOfFile(file: string): string {
  const base = file.slice(file.lastIndexOf('/') + 1);
  return normalizeModuleName(base.replace(/\.ko(\.(xz|zst|gz))?$/, ''));
}

/** The kernel treats '-' and '_' alike in module names and shows '_'. */
export function normalizeModuleName(name: string): string {
  return name.replace(/-/g, '_');
}

/** The signature a module file carries (`modinfo` fields `sig_id`, `signer`, `sig_key`, `sig_hashalgo`). */
export interface ModuleSignature {
  /** "PKCS#7" for modules signed by scripts/sign-file. */
  readonly sigId: string;
  /** Empty for PKCS#7 signatures that name no signer: the kernel still checks them. */
  readonly signer: string | null;
  readonly sigKey: string | null;
  readonly hashAlgo: string | null;
}

/** The module's appended signature, or null when modinfo shows none (an unsigned module). */
export function modinfoSignature(fields: ModinfoFields): ModuleSignature | null {
  const sigId = modinfoField(fields, 'sig_id');
  if (sigId === null) return null;
  return {
    sigId,
    signer: modinfoField(fields, 'signer'),
    sigKey: modinfoField(fields, 'sig_key')?.replace(/\s+/g, '') ?? null,
    hashAlgo: modinfoField(fields, 'sig_hashalgo'),
  };
}

/**
 * Module names in `modprobe -n --show-depends NAME` output, dependencies first ("insmod FILE
 * [params]" lines; "builtin NAME" lines are left out: a built-in module is never removed).
 */
export function showDependsModules(lines: readonly string[]): string[] {
  return lines.flatMap((line) => {
    const m = /^insmod\s+(\S+)/.exec(line.trim());
    return m ? [moduleNameOfFile(m[1] as string)] : [];
  });
}
