import type { AddressInfo } from 'node:net';

/** The URL to announce: a wildcard bind address is reachable through loopback. */
export function listenUrl(address: AddressInfo | string | null, host: string): string {
  if (address === null || typeof address === 'string') throw new Error(`server is not listening on TCP (${address})`);
  const shown = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return `http://${shown.includes(':') ? `[${shown}]` : shown}:${address.port}`;
}
