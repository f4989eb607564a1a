type T = { version: string; params: string[] } | { file: string; params: string[] };
declare const t: T;
export const x: string = 'file' in t && t.file !== undefined ? t.file : t.version;
export const y: string = 'file' in t ? t.file : t.version;
