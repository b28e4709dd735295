/**
 * Alerts to a SIEM as syslog (RFC 5424) messages whose MSG is ArcSight CEF:
 *   <PRI>1 TIMESTAMP HOST wardwatch - ALERT [wardwatch@32473 alert_id="..." device="..."] CEF:0|wardwatch|wardwatch|VERSION|KIND|SUMMARY|SEV|ext
 * Transport: UDP (one message per datagram), or TCP with octet-counting framing (RFC 6587). Facility local4 by default.
 * CEF severity 0–10 from the alert's severity. Escaping follows the CEF spec: `\` and `|` in header fields,
 * `\`, `=` and newlines in extension values; RFC 5424 SD-PARAM values escape `"`, `\` and `]`.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createConnection, type Socket } from 'node:net';
import os from 'node:os';
import type { Alert, Severity } from '../../records/alert.js';
import { componentLogger } from '../../log.js';
import { DEFAULT_SYSLOG } from './config.js';

export interface SyslogOptions {
  host: string;
  port: number;
  protocol: 'udp' | 'tcp';
  /** Syslog facility number (16–23 = local0–local7). */
  facility: number;
  /** HOSTNAME field; defaults to the machine's host name. */
  hostname: string;
  app_version: string;
}


const SYSLOG_SEVERITY: Record<Severity, number> = { critical: 2, high: 3, medium: 4, low: 5, info: 6 };
const CEF_SEVERITY: Record<Severity, number> = { critical: 10, high: 8, medium: 5, low: 3, info: 1 };

const cefHeader = (s: string): string => s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/[\r\n]+/g, ' ');
const cefValue = (s: string): string => s.replace(/\\/g, '\\\\').replace(/=/g, '\\=').replace(/\r?\n/g, '\\n');
const sdValue = (s: string): string => s.replace(/["\\\]]/g, (c) => `\\${c}`);

/** One RFC 5424 line with a CEF message for an alert. */
export function formatSyslogCef(a: Alert, o: SyslogOptions): string {
  const pri = o.facility * 8 + SYSLOG_SEVERITY[a.severity];
  const host = (o.hostname || os.hostname()).replace(/\s/g, '') || '-';
  const ts = new Date(a.ts * 1000).toISOString();
  const sd = `[wardwatch@32473 alert_id="${sdValue(a.alert_id)}" device="${sdValue(a.device_id)}" kind="${a.kind}" severity="${a.severity}"]`;
  const ext: [string, string | number][] = [
    ['rt', Math.round(a.ts * 1000)],
    ['start', Math.round(a.since * 1000)],
    ['dvchost', a.sensor_id],
    ['src', a.device_id.startsWith('ip:') ? a.device_id.slice(3) : ''],
    ['smac', a.device_id.startsWith('mac:') ? a.device_id.slice(4) : ''],
    ['cs1Label', 'device_name'],
    ['cs1', a.device_name],
    ['cs2Label', 'device_class'],
    ['cs2', a.device_class],
    ['cs3Label', 'explanation'],
    ['cs3', a.top_features.map((f) => f.text).join('; ')],
    ['cs4Label', 'new_peers'],
    ['cs4', a.new_peers.join(',')],
    ['cs5Label', 'model'],
    ['cs5', a.model],
    ['cn1Label', 'score'],
    ['cn1', Number(a.score.toFixed(4))],
    ['externalId', a.alert_id],
  ];
  const extension = ext
    .filter(([, v]) => v !== '')
    .map(([k, v]) => `${k}=${cefValue(String(v))}`)
    .join(' ');
  const cef = `CEF:0|wardwatch|wardwatch|${cefHeader(o.app_version)}|${cefHeader(a.kind)}|${cefHeader(`${a.device_name || a.device_id}: ${a.summary}`)}|${CEF_SEVERITY[a.severity]}|${extension}`;
  return `<${pri}>1 ${ts} ${host} wardwatch - ALERT ${sd} ${cef}`;
}

export class SyslogSink {
  private readonly log = componentLogger('syslog-sink');
  private readonly o: SyslogOptions;
  private udp: UdpSocket | undefined;
  private tcp: Socket | undefined;
  sent = 0;
  errors = 0;

  constructor(options: Partial<SyslogOptions> = {}) {
    this.o = { ...DEFAULT_SYSLOG, ...options };
  }

  async write(alerts: readonly Alert[]): Promise<void> {
    for (const a of alerts) {
      const line = formatSyslogCef(a, this.o);
      try {
        if (this.o.protocol === 'udp') await this.sendUdp(line);
        else await this.sendTcp(line);
        this.sent++;
      } catch (err) {
        this.errors++;
        this.log.error({ err: (err as Error).message, host: this.o.host, port: this.o.port }, 'syslog send failed');
      }
    }
  }

  async close(): Promise<void> {
    this.udp?.close();
    if (this.tcp) await new Promise<void>((r) => this.tcp!.end(r));
  }

  private sendUdp(line: string): Promise<void> {
    this.udp ??= createSocket(this.o.host.includes(':') ? 'udp6' : 'udp4');
    return new Promise((resolve, reject) => this.udp!.send(Buffer.from(line), this.o.port, this.o.host, (err) => (err ? reject(err) : resolve())));
  }

  private async sendTcp(line: string): Promise<void> {
    if (!this.tcp || this.tcp.destroyed) {
      this.tcp = createConnection({ host: this.o.host, port: this.o.port });
      await new Promise<void>((resolve, reject) => {
        this.tcp!.once('connect', resolve);
        this.tcp!.once('error', reject);
      });
    }
    const msg = Buffer.from(line);
    await new Promise<void>((resolve, reject) => this.tcp!.write(`${msg.length} ${line}`, (err) => (err ? reject(err) : resolve())));
  }
}
