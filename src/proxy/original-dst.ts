// The original destination of a connection that iptables REDIRECT (nat table) sent to the
// sidecar's outbound listener. Node has no API for getsockopt(SO_ORIGINAL_DST), so this wraps the
// small N-API addon in native/original-dst/ (Linux only), loaded on first use so that importing
// this module never fails where the addon is not built (macOS, control-plane-only machines).
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';

/** Where a redirected connection was going: what the application dialled, before the REDIRECT. */
export interface OriginalDestination {
  /** Dotted IPv4 (also for IPv4 clients of a dual-stack listener) or compressed IPv6 text. */
  readonly address: string;
  readonly port: number;
  readonly family: 4 | 6;
}

/** `code` of the error thrown when the addon has not been built. */
export const ADDON_NOT_BUILT = 'ERR_ORIGINAL_DST_ADDON_NOT_BUILT';

/** Thrown when native/original-dst was not built (or was built for another Node.js). */
export class AddonNotBuiltError extends Error {
  readonly code = ADDON_NOT_BUILT;
}

interface OriginalDstAddon {
  originalDestination(fd: number): OriginalDestination;
}

// This file runs compiled, from dist/src/proxy/, three levels below the repository root, where
// node-gyp leaves the addon (native/original-dst/build/Release/, named by binding.gyp).
const addonPath = fileURLToPath(
  new URL('../../../native/original-dst/build/Release/original_dst.node', import.meta.url),
);

let addon: OriginalDstAddon | undefined;

function loadAddon(): OriginalDstAddon {
  if (addon) return addon;
  let loaded: unknown;
  try {
    loaded = createRequire(import.meta.url)(addonPath);
  } catch (cause) {
    throw new AddonNotBuiltError(
      `original-dst: cannot load the native addon at ${addonPath}; build it with \`npm run build:native\` ` +
        '(part of `npm run build` and ./scripts/setup.sh), which needs python3, make and g++ (Linux only)',
      { cause },
    );
  }
  if (!isAddon(loaded)) {
    throw new AddonNotBuiltError(
      `original-dst: ${addonPath} does not export originalDestination; rebuild it with \`npm run build:native\``,
    );
  }
  addon = loaded;
  return addon;
}

function isAddon(value: unknown): value is OriginalDstAddon {
  return typeof value === 'object' && value !== null && typeof Reflect.get(value, 'originalDestination') === 'function';
}

/**
 * Reads the original destination of the accepted TCP connection on `fd`.
 *
 * Throws an Error shaped like Node's system errors (`code` such as 'ENOENT', negative `errno`,
 * `syscall`, message "ENOENT: no such file or directory, getsockopt SO_ORIGINAL_DST") when the
 * kernel has none: ENOENT when conntrack has no entry for the connection (it was not redirected),
 * ENOPROTOOPT when conntrack is not loaded at all. Throws AddonNotBuiltError when the addon is missing.
 */
export function originalDestination(fd: number): OriginalDestination {
  return loadAddon().originalDestination(fd);
}

/**
 * The file descriptor of a connected net.Socket, for originalDestination.
 *
 * Relies on an undocumented internal: on Linux a plain TCP socket's `_handle` is libuv's TCP handle
 * (TCPWrap), whose `fd` getter returns the descriptor. It is checked at run time because it is
 * missing once the socket is destroyed, is -1 on Windows, and a TLSSocket's handle is a TLSWrap.
 */
export function socketFd(socket: Socket): number {
  const handle: unknown = Reflect.get(socket, '_handle');
  const fd: unknown = typeof handle === 'object' && handle !== null ? Reflect.get(handle, 'fd') : undefined;
  if (typeof fd !== 'number' || !Number.isInteger(fd) || fd < 0) {
    throw new Error(
      `socketFd: socket has no file descriptor (_handle.fd is ${String(fd)}); ` +
        'it must be an open, plain TCP socket on Linux',
    );
  }
  return fd;
}
