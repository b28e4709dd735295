/** What behaviours and attacks share: the engine, the hospital, options, and helpers to open sessions. */
import type { Engine } from './engine.js';
import type { Hospital, Host } from './hospital.js';
import { TcpConnection } from './tcp.js';
import { clientFinished, clientHello, serverFlight } from './protocols/tls.js';

export interface SimContext {
  engine: Engine;
  hospital: Hospital;
  vlan: number;
  seed: number;
  startUs: number;
  endUs: number;
  /** Pixel bytes per DICOM image (CT/MR; radiographs use 4×). */
  dicomImageBytes: number;
  pacs: Host[];
}

/** Round-trip time between two hosts: LAN 150–600 µs, via the router to the outside 15–40 ms. */
export function rttUs(from: Host, to: Host): number {
  return to.external || from.external ? from.rng.int(15000, 40000) : from.rng.int(150, 600);
}

/** ARP if needed, then a TCP handshake from `from` to `to:dport` starting at `t`. */
export function openTcp(ctx: SimContext, from: Host, to: Host, dport: number, t: number): TcpConnection {
  const t1 = ctx.hospital.arp(from, to, t);
  const c = new TcpConnection(ctx.engine, from.rng, from, to, from.ephemeralPort(), dport, rttUs(from, to), ctx.vlan);
  c.at(t1).connect();
  return c;
}

/** TLS 1.3 handshake on an open connection: ClientHello (SNI), server flight, client Finished. */
export function tlsHandshake(c: TcpConnection, from: Host, sni: string): void {
  const ch = clientHello(from.rng, sni);
  c.send(true, ch.bytes);
  c.t += from.rng.int(300, 2000);
  c.send(false, serverFlight(from.rng, ch.sessionId, from.rng.int(2200, 3600)));
  c.t += from.rng.int(200, 800);
  c.send(true, clientFinished(from.rng));
}

/** Schedules `fn` at `first` and then again at the time it returns, until it returns undefined or the run ends. */
export function repeat(ctx: SimContext, first: number, fn: (now: number) => number | undefined): void {
  const run = (now: number): void => {
    const next = fn(now);
    if (next !== undefined) ctx.engine.at(Math.max(next, now + 1), run);
  };
  ctx.engine.at(first, run);
}
