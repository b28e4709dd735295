/** MQTT 3.1.1 control packets: CONNECT, CONNACK, PUBLISH (QoS 0), PINGREQ/PINGRESP, DISCONNECT. */
function remainingLength(n: number): Buffer {
  const out: number[] = [];
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    out.push(byte);
  } while (n > 0);
  return Buffer.from(out);
}

function utf8(text: string): Buffer {
  const b = Buffer.from(text, 'utf8');
  const h = Buffer.alloc(2);
  h.writeUInt16BE(b.length, 0);
  return Buffer.concat([h, b]);
}

function packet(first: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([first]), remainingLength(body.length), body]);
}

export function mqttConnect(clientId: string, keepAliveSecs: number): Buffer {
  const ka = Buffer.alloc(2);
  ka.writeUInt16BE(keepAliveSecs, 0);
  return packet(0x10, Buffer.concat([utf8('MQTT'), Buffer.from([4, 0x02]), ka, utf8(clientId)]));
}

export function mqttConnack(): Buffer {
  return Buffer.from([0x20, 0x02, 0x00, 0x00]);
}

export function mqttPublish(topic: string, payload: string): Buffer {
  return packet(0x30, Buffer.concat([utf8(topic), Buffer.from(payload, 'utf8')]));
}

export const MQTT_PINGREQ = Buffer.from([0xc0, 0x00]);
export const MQTT_PINGRESP = Buffer.from([0xd0, 0x00]);
export const MQTT_DISCONNECT = Buffer.from([0xe0, 0x00]);
