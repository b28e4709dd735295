/**
 * MQTT 3.1, 3.1.1 and 5.0. A CONNECT is identified by content on any port (protocol name `MQTT`/`MQIsdp` and a known
 * level); on the MQTT ports 1883/8883 any control packet whose fixed header fits is identified. Reads the packet
 * type, the CONNECT client identifier and the PUBLISH topic name; never the message payload.
 */
import { AppProto, type AppMeta, type DecodedPacket } from '../../records/packet.js';
import { MAX_IDENT, MAX_NAME, boundedText } from './text.js';

export function isMqttPort(port: number): boolean {
  return port === 1883 || port === 8883;
}

/** Remaining-length varint result (module scratch). */
let remLen = 0;
let remBytes = 0;

function readRemaining(b: Buffer, o: number, end: number): boolean {
  let v = 0;
  let mul = 1;
  for (let i = 0; i < 4; i++) {
    if (o + i >= end) return false;
    const byte = b[o + i] ?? 0;
    v += (byte & 0x7f) * mul;
    if ((byte & 0x80) === 0) {
      remLen = v;
      remBytes = i + 1;
      return true;
    }
    mul *= 128;
  }
  return false;
}

function isConnect(b: Buffer, o: number, end: number): boolean {
  if (end - o < 10) return false;
  const nameLen = b.readUInt16BE(o);
  if (nameLen === 4) {
    // "MQTT", level 4 (3.1.1) or 5
    const level = b[o + 6] ?? 0;
    return b.readUInt32BE(o + 2) === 0x4d515454 && (level === 4 || level === 5);
  }
  if (nameLen === 6 && end - o >= 9) {
    // "MQIsdp", level 3
    return b.toString('latin1', o + 2, o + 8) === 'MQIsdp' && b[o + 8] === 3;
  }
  return false;
}

/**
 * Returns 0 when the payload is not MQTT, 1 when identified, -1 when identified but malformed.
 * `applen` is the header-claimed payload length (used to check the fixed header on MQTT ports).
 */
export function decodeMqtt(b: Buffer, off: number, end: number, applen: number, onMqttPort: boolean, p: DecodedPacket): number {
  const first = b[off] ?? 0;
  const type = first >> 4;
  if (type === 0 || type > 15 || !readRemaining(b, off + 1, end)) return 0;
  const body = off + 1 + remBytes;
  if (type === 1) {
    if (first !== 0x10 || !isConnect(b, body, end)) return 0;
  } else {
    if (!onMqttPort || 1 + remBytes + remLen > applen) return 0;
  }
  p.app = AppProto.MQTT;
  const meta: AppMeta = { mqtt_msg_type: type };
  p.app_meta = meta;
  const msgEnd = Math.min(end, body + remLen);
  if (type === 1) {
    const nameLen = b.readUInt16BE(body);
    const level = b[body + 2 + nameLen] ?? 0;
    let o = body + 2 + nameLen + 1 + 1 + 2; // level, flags, keep-alive
    if (level === 5) {
      if (!readRemaining(b, o, msgEnd)) return -1;
      o += remBytes + remLen;
    }
    if (o + 2 > msgEnd) return -1;
    const idLen = b.readUInt16BE(o);
    if (o + 2 + idLen > msgEnd) return -1;
    meta.mqtt_client_id = boundedText(b, o + 2, o + 2 + idLen, MAX_IDENT);
    return 1;
  }
  if (type === 3) {
    if (body + 2 > msgEnd) return -1;
    const topicLen = b.readUInt16BE(body);
    if (body + 2 + topicLen > msgEnd) return -1;
    meta.mqtt_topic = boundedText(b, body + 2, body + 2 + topicLen, MAX_NAME);
  }
  return 1;
}
