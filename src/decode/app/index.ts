/**
 * Application-protocol identification by content (ports only break ties or gate weak signatures), then metadata
 * extraction. Works on the transport payload as captured: a message split across TCP segments yields what its first
 * segment holds (no stream reassembly here).
 */
import type { DecodedPacket } from '../../records/packet.js';
import type { DecodeCounters } from '../counters.js';
import { decodeDhcp, looksLikeDhcp } from './dhcp.js';
import { decodeDicom, dicomPduType, isDicomPort } from './dicom.js';
import { decodeDns, isDnsPort } from './dns.js';
import { decodeHl7, looksLikeHl7 } from './hl7-mllp.js';
import { decodeMqtt, isMqttPort } from './mqtt.js';
import { decodeTls, looksLikeTls } from './tls-sni.js';

/** UDP payload at [off, min(end, off+applen)). */
export function decodeUdpApp(b: Buffer, off: number, end: number, applen: number, p: DecodedPacket, c: DecodeCounters): void {
  if (off + applen < end) end = off + applen;
  if (end <= off) return;
  if (looksLikeDhcp(b, off, end)) {
    if (!decodeDhcp(b, off, end, p)) c.app_malformed++;
    c.app_dhcp++;
    return;
  }
  const onDnsPort = isDnsPort(p.src_port) || isDnsPort(p.dst_port);
  if (decodeDns(b, off, end, p, !onDnsPort)) c.app_dns++;
  else if (onDnsPort) c.app_malformed++;
}

/** TCP payload at [off, min(end, off+applen)). */
export function decodeTcpApp(b: Buffer, off: number, end: number, applen: number, p: DecodedPacket, c: DecodeCounters): void {
  if (off + applen < end) end = off + applen;
  if (end <= off) return;
  const first = b[off] ?? 0;
  if (first >= 20 && first <= 23 && looksLikeTls(b, off, end)) {
    if (!decodeTls(b, off, end, p)) c.app_malformed++;
    c.app_tls++;
    return;
  }
  if ((first === 0x0b || first === 0x4d) && looksLikeHl7(b, off, end)) {
    if (!decodeHl7(b, off, end, p)) c.app_malformed++;
    c.app_hl7++;
    return;
  }
  if (first >= 1 && first <= 7) {
    const type = dicomPduType(b, off, end, isDicomPort(p.src_port) || isDicomPort(p.dst_port));
    if (type !== 0) {
      decodeDicom(b, off, end, type, p);
      c.app_dicom++;
      return;
    }
  }
  if (first >= 0x10) {
    const r = decodeMqtt(b, off, end, applen, isMqttPort(p.src_port) || isMqttPort(p.dst_port), p);
    if (r !== 0) {
      if (r < 0) c.app_malformed++;
      c.app_mqtt++;
      return;
    }
  }
  if ((p.src_port === 53 || p.dst_port === 53) && end - off >= 14) {
    // DNS over TCP: 2-byte message length first.
    if (decodeDns(b, off + 2, end, p, false)) c.app_dns++;
    else c.app_malformed++;
  }
}
