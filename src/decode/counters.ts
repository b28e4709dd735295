/**
 * Decoder counters: frames seen, frames decoded cleanly, and one count per malformed-input reason
 * (`DecodeError` in src/records/packet.ts), plus informational counts (fragments, protocols not decoded,
 * application protocols identified). `snapshot()` gives a plain typed object for InfluxDB health points.
 */
import { DecodeError, type DecodeErrorCode } from '../records/packet.js';

export type DecodeErrorName = Lowercase<Exclude<keyof typeof DecodeError, 'NONE'>>;

const ERROR_NAMES: readonly DecodeErrorName[] = (() => {
  const names: DecodeErrorName[] = [];
  for (const [name, code] of Object.entries(DecodeError)) {
    if (code !== 0) names[code] = name.toLowerCase() as DecodeErrorName;
  }
  return names;
})();

/** Name of a `DecodeError` code, e.g. `bad_ipv4_header_length`; `none` for 0. */
export function decodeErrorName(code: number): DecodeErrorName | 'none' {
  return code === 0 ? 'none' : (ERROR_NAMES[code] ?? 'none');
}

export interface DecodeCountersSnapshot {
  frames: number;
  /** Frames decoded without any `DecodeError`. */
  clean: number;
  /** Frames with a `DecodeError` (sum of `errors`). */
  malformed: number;
  /** Count per `DecodeError` reason. */
  errors: Record<DecodeErrorName, number>;
  ipv4_fragments: number;
  ipv6_fragments: number;
  /** EtherTypes (or SLL protocols / null families) the decoder does not go into. */
  unknown_ethertype: number;
  /** IP protocols other than TCP, UDP, ICMP, ICMPv6 (and AH, which is walked). */
  unknown_ip_proto: number;
  /** Frames identified per application protocol. */
  app_dns: number;
  app_dhcp: number;
  app_tls: number;
  app_hl7: number;
  app_dicom: number;
  app_mqtt: number;
  /** Application payloads that looked like the protocol (port or magic) but failed its structure checks. */
  app_malformed: number;
}

export class DecodeCounters {
  frames = 0;
  readonly errors = new Float64Array(ERROR_NAMES.length);
  ipv4_fragments = 0;
  ipv6_fragments = 0;
  unknown_ethertype = 0;
  unknown_ip_proto = 0;
  app_dns = 0;
  app_dhcp = 0;
  app_tls = 0;
  app_hl7 = 0;
  app_dicom = 0;
  app_mqtt = 0;
  app_malformed = 0;

  error(code: DecodeErrorCode): void {
    this.errors[code] = (this.errors[code] ?? 0) + 1;
  }

  snapshot(): DecodeCountersSnapshot {
    const errors = {} as Record<DecodeErrorName, number>;
    let malformed = 0;
    for (let code = 1; code < ERROR_NAMES.length; code++) {
      const name = ERROR_NAMES[code];
      if (name === undefined) continue;
      const n = this.errors[code] ?? 0;
      errors[name] = n;
      malformed += n;
    }
    return {
      frames: this.frames,
      clean: this.frames - malformed,
      malformed,
      errors,
      ipv4_fragments: this.ipv4_fragments,
      ipv6_fragments: this.ipv6_fragments,
      unknown_ethertype: this.unknown_ethertype,
      unknown_ip_proto: this.unknown_ip_proto,
      app_dns: this.app_dns,
      app_dhcp: this.app_dhcp,
      app_tls: this.app_tls,
      app_hl7: this.app_hl7,
      app_dicom: this.app_dicom,
      app_mqtt: this.app_mqtt,
      app_malformed: this.app_malformed,
    };
  }
}
