/**
 * Listen addresses as grpc-js takes them (`host:port`, `[v6]:port`, `unix:path`): splitting,
 * the loopback test that guards the plaintext listener, and the address actually bound.
 */
import { isIP } from 'node:net';
import { AdsError } from './errors.js';

/** A `host:port` split into its parts; unix sockets have no port. */
export type ListenAddress = { kind: 'inet'; host: string; port: number } | { kind: 'unix'; path: string };

/** Parses a listen address; throws E7101 naming `option` when it is not one. */
export function parseListenAddress(address: string, option: string): ListenAddress {
  if (address.startsWith('unix:')) return { kind: 'unix', path: address.slice('unix:'.length) };
  const match = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(address);
  const port = Number(match?.[3]);
  const host = match?.[1] ?? match?.[2] ?? '';
  if (match === null || port > 65_535 || host === '' || (match[1] !== undefined && isIP(host) !== 6)) {
    throw new AdsError('E7101', { option, reason: `expected host:port, [ipv6]:port or unix:path, got ${JSON.stringify(address)}` });
  }
  return { kind: 'inet', host, port };
}

/**
 * True when only this machine can reach the address: a unix socket, `localhost`, 127.0.0.0/8
 * or ::1. `0.0.0.0` and `::` listen on every interface, so they are not loopback.
 */
export function isLoopback(address: ListenAddress): boolean {
  if (address.kind === 'unix') return true;
  const host = address.host.toLowerCase();
  if (host === 'localhost' || host === '::1') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

/** The address as bound: the same host with the port the OS chose (for port 0). */
export function boundAddress(address: ListenAddress, port: number): string {
  if (address.kind === 'unix') return `unix:${address.path}`;
  return isIP(address.host) === 6 ? `[${address.host}]:${port}` : `${address.host}:${port}`;
}
