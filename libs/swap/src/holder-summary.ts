import type { HolderSummary } from '@hotswap/contracts';
import type { Holder } from '@hotswap/kernel';

export function summarizeHolder(holder: Holder): HolderSummary {
  return {
    pid: holder.pid,
    comm: holder.comm,
    unit: holder.unit,
    fds: holder.files.length,
    mappings: holder.mappings.length,
  };
}
