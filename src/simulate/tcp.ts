/**
 * A simulated TCP connection between two stations: three-way handshake, data segmented at the MSS and acknowledged
 * (delayed ACK every second segment), orderly FIN teardown, or a rejection (RST-ACK). Sequence and acknowledgement
 * numbers follow RFC 793 exactly, so tshark's TCP analysis finds no lost segments or bad ACKs.
 *
 * The connection keeps its own clock `t` (µs): each call emits frames from `t` on and advances it. Callers start an
 * exchange with `at(now)` when the connection sits idle between scheduled events.
 */
import type { Engine } from './engine.js';
import type { Prng } from './prng.js';
import { tcpFrame, TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, type Station } from './frames.js';

const MSS = 1460;

export class TcpConnection {
  /** Next sequence number each side sends (0 = client, 1 = server). */
  private readonly seq: [number, number];
  t: number;
  open = false;
  /** Payload bytes sent by client / server. */
  bytes: [number, number] = [0, 0];

  constructor(
    private readonly engine: Engine,
    private readonly rng: Prng,
    readonly client: Station,
    readonly server: Station,
    readonly cport: number,
    readonly sport: number,
    /** Round-trip time in µs. */
    readonly rttUs: number,
    readonly vlan = -1,
  ) {
    this.seq = [rng.u32(), rng.u32()];
    this.t = engine.now;
  }

  /** Moves the connection clock forward to `t` (never back). */
  at(t: number): this {
    if (t > this.t) this.t = t;
    return this;
  }

  private frame(fromClient: boolean, flags: number, payload?: Buffer): void {
    const d = fromClient ? 0 : 1;
    const src = fromClient ? this.client : this.server;
    const dst = fromClient ? this.server : this.client;
    const f = tcpFrame(
      this.vlan,
      src,
      dst,
      {
        sport: fromClient ? this.cport : this.sport,
        dport: fromClient ? this.sport : this.cport,
        seq: this.seq[d],
        ack: this.seq[1 - d]!,
        flags,
        window: flags & TCP_RST ? 0 : fromClient ? 502 : 509,
      },
      payload,
    );
    this.engine.emit(this.t, f);
    let adv = payload ? payload.length : 0;
    if (flags & (TCP_SYN | TCP_FIN)) adv += 1;
    this.seq[d] = (this.seq[d] + adv) >>> 0;
  }

  private half(): number {
    return Math.max(20, this.rng.jitter(this.rttUs / 2, 0.2));
  }

  /** SYN, SYN-ACK, ACK. */
  connect(): this {
    this.frame(true, TCP_SYN);
    this.t += this.half();
    this.frame(false, TCP_SYN | TCP_ACK);
    this.t += this.half();
    this.frame(true, TCP_ACK);
    this.open = true;
    return this;
  }

  /** SYN answered by RST-ACK (closed port). */
  reject(): this {
    this.frame(true, TCP_SYN);
    this.t += this.half();
    // The RST-ACK acknowledges the SYN (ack = client ISN + 1, already counted) with seq 0.
    this.seq[1] = 0;
    this.frame(false, TCP_RST | TCP_ACK);
    return this;
  }

  /** A SYN only (no answer: filtered port or flood). */
  synOnly(): this {
    this.frame(true, TCP_SYN);
    return this;
  }

  /** SYN, SYN-ACK, then the client resets (half-open scan). */
  synScanOpen(): this {
    this.frame(true, TCP_SYN);
    this.t += this.half();
    this.frame(false, TCP_SYN | TCP_ACK);
    this.t += 30;
    this.frame(true, TCP_RST);
    return this;
  }

  /** Sends `data` from one side in MSS segments; the other side ACKs every second segment and the last. */
  send(fromClient: boolean, data: Buffer): this {
    const n = Math.max(1, Math.ceil(data.length / MSS));
    // One one-way delay for the whole burst keeps the receiver's ACKs in sequence order on the wire.
    const delay = this.half();
    for (let i = 0; i < n; i++) {
      const chunk = data.subarray(i * MSS, Math.min(data.length, (i + 1) * MSS));
      this.frame(fromClient, TCP_ACK | (i === n - 1 ? TCP_PSH : 0), chunk);
      if (i % 2 === 1 || i === n - 1) {
        const t0 = this.t;
        this.t += delay;
        this.frame(!fromClient, TCP_ACK);
        this.t = i === n - 1 ? this.t : t0 + 15 + this.rng.int(0, 10);
      } else {
        this.t += 12 + this.rng.int(0, 8);
      }
    }
    this.bytes[fromClient ? 0 : 1] += data.length;
    return this;
  }

  /** Request/response: the client sends, the server thinks `serverMs` and answers. */
  exchange(request: Buffer, response: Buffer | undefined, serverUs = 500): this {
    this.send(true, request);
    if (response) {
      this.t += serverUs;
      this.send(false, response);
    }
    return this;
  }

  /** Orderly close started by one side: FIN-ACK, ACK, FIN-ACK, ACK. */
  close(fromClient = true): this {
    this.frame(fromClient, TCP_FIN | TCP_ACK);
    this.t += this.half();
    this.frame(!fromClient, TCP_ACK);
    this.t += 50 + this.rng.int(0, 200);
    this.frame(!fromClient, TCP_FIN | TCP_ACK);
    this.t += this.half();
    this.frame(fromClient, TCP_ACK);
    this.open = false;
    return this;
  }

  /** Abort with RST from one side. */
  abort(fromClient = true): this {
    this.frame(fromClient, TCP_RST | TCP_ACK);
    this.open = false;
    return this;
  }
}
