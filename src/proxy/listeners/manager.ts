/**
 * The listeners LDS asks for, bound and kept in step with each config version. A listener whose
 * address is unchanged keeps its socket and takes the new config for new connections only;
 * connections already accepted keep the filter chain they started with. A removed listener
 * stops accepting and its connections finish on their own.
 *
 * Explicit mode (tests, hosts without iptables): a listener can be bound to other addresses,
 * each standing for one original destination, and `bindHost` replaces the wildcard address.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { Destination } from '../clusters/types.js';
import type { ListenerConfig, ProxyConfig } from '../config/index.js';
import type { Logger } from '../../lib/logging.js';
import type { TlsContextCache } from '../tls/index.js';
import { handleConnection, type ConnectionEnv } from './connection.js';
import { listenerStats } from './stats.js';
import type { ProxyRuntime } from './types.js';

/** One address a listener binds in explicit mode, and the destination its connections stand for. */
export interface ExplicitBinding {
  readonly bind: Destination;
  /** Defaults to the bound address itself. */
  readonly destination?: Destination;
}

export interface ListenerManagerOptions {
  readonly runtime: ProxyRuntime;
  readonly tls: TlsContextCache;
  readonly logger: Logger;
  /** By listener name: bind these instead of the LDS address. */
  readonly explicit?: ReadonlyMap<string, readonly ExplicitBinding[]>;
  /** Replaces `0.0.0.0` / `::` in LDS addresses (several sidecars on one host). */
  readonly bindHost?: string;
  readonly originalDestination: (socket: Socket) => Destination | undefined;
}

/** A bound socket of a listener. */
interface Bound {
  readonly server: Server;
  readonly binding: ExplicitBinding;
}

interface Active {
  config: ListenerConfig;
  readonly key: string;
  readonly bound: Bound[];
}

const noop = (): void => undefined;

export interface ListenerProblem {
  readonly listener: string;
  readonly message: string;
}

export interface ListenerStatus {
  readonly name: string;
  readonly address: string;
  readonly port: number;
}

export class ListenerManager {
  private readonly active = new Map<string, Active>();
  private readonly env: ConnectionEnv;
  /** Open downstream connections, with how to drain each (a no-op until its terminal filter says). */
  private readonly connections = new Map<Socket, () => void>();

  constructor(private readonly options: ListenerManagerOptions) {
    this.env = {
      runtime: options.runtime,
      tls: options.tls,
      originalDestination: options.originalDestination,
      refused: (listener, reason) => options.logger.debug({ event: 'connection_refused', listener }, reason),
    };
  }

  /** Applies the listeners of `config`; a listener that cannot bind is reported and the others still apply. */
  async update(config: ProxyConfig): Promise<ListenerProblem[]> {
    const problems: ListenerProblem[] = [];
    for (const [name, a] of this.active) {
      const next = config.listeners.get(name);
      if (!next || this.keyOf(next) !== a.key) {
        this.active.delete(name);
        for (const b of a.bound) b.server.close();
        this.options.logger.info({ event: 'listener_removed', listener: name }, next ? 'listener address changed: rebinding' : 'listener removed: draining');
      }
    }
    for (const [name, listener] of config.listeners) {
      const a = this.active.get(name);
      if (a) {
        a.config = listener;
        continue;
      }
      const entry: Active = { config: listener, key: this.keyOf(listener), bound: [] };
      try {
        for (const binding of this.bindingsOf(listener)) entry.bound.push(await this.bind(entry, binding));
        this.active.set(name, entry);
        this.options.logger.info({ event: 'listener_added', listener: name, addresses: entry.bound.map((b) => `${b.binding.bind.address}:${b.binding.bind.port}`) }, 'listener bound');
      } catch (e) {
        for (const b of entry.bound) b.server.close();
        problems.push({ listener: name, message: (e as Error).message });
      }
    }
    return problems;
  }

  describe(): ListenerStatus[] {
    return [...this.active.values()].flatMap((a) => a.bound.map((b) => ({ name: a.config.name, address: b.binding.bind.address, port: b.binding.bind.port })));
  }

  /**
   * Stops accepting and drains open connections (HTTP ones close after their current response);
   * with `force`, destroys whatever is still open. Servers are not awaited: `server.close`
   * completes only when every connection has gone.
   */
  close(force = false): void {
    for (const a of this.active.values()) for (const b of a.bound) b.server.close();
    this.active.clear();
    for (const [socket, drain] of this.connections) {
      if (force) socket.destroy();
      else drain();
    }
  }

  /** Open downstream connections, for draining on shutdown. */
  get openConnections(): number {
    return this.connections.size;
  }

  private keyOf(listener: ListenerConfig): string {
    return this.bindingsOf(listener)
      .map((b) => `${b.bind.address}:${b.bind.port}>${b.destination ? `${b.destination.address}:${b.destination.port}` : ''}`)
      .join(',');
  }

  private bindingsOf(listener: ListenerConfig): readonly ExplicitBinding[] {
    const explicit = this.options.explicit?.get(listener.name);
    if (explicit) return explicit;
    const wildcard = listener.bindAddress === '0.0.0.0' || listener.bindAddress === '::';
    return [{ bind: { address: wildcard && this.options.bindHost ? this.options.bindHost : listener.bindAddress, port: listener.port } }];
  }

  private bind(entry: Active, binding: ExplicitBinding): Promise<Bound> {
    const stats = listenerStats(this.options.runtime.stats, binding.bind.address, binding.bind.port);
    const server = createServer({ allowHalfOpen: true, pauseOnConnect: false, noDelay: true }, (socket) => {
      stats.downstreamCxTotal.inc();
      stats.downstreamCxActive.add(1);
      this.connections.set(socket, noop);
      socket.once('close', () => {
        stats.downstreamCxActive.add(-1);
        stats.downstreamCxDestroy.inc();
        this.connections.delete(socket);
      });
      // The config is read at accept time: this connection keeps it for its whole life.
      handleConnection(
        {
          socket,
          listener: entry.config,
          stats,
          destination: binding.destination,
          onDrainable: (drain) => {
            if (this.connections.has(socket)) this.connections.set(socket, drain);
          },
        },
        this.env,
      );
    });
    return new Promise((resolve, reject) => {
      server.once('error', (e) => reject(new Error(`listener ${entry.config.name}: cannot bind ${binding.bind.address}:${binding.bind.port}: ${e.message}`)));
      server.listen({ host: binding.bind.address, port: binding.bind.port, backlog: 1024 }, () => {
        server.removeAllListeners('error');
        server.on('error', (e) => this.options.logger.error({ event: 'listener_error', listener: entry.config.name }, e.message));
        resolve({ server, binding });
      });
    });
  }
}
