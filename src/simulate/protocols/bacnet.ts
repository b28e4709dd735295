/**
 * BACnet/IP (ASHRAE 135 Annex J) over UDP 47808: BVLC + NPDU + APDU for ReadProperty (present-value) requests and
 * their ComplexACK, Who-Is and I-Am.
 */
export const BACNET_PORT = 47808;
export const OBJ_ANALOG_INPUT = 0;
export const OBJ_DEVICE = 8;

function bvlc(fn: number, npdu: Buffer): Buffer {
  const h = Buffer.alloc(4);
  h[0] = 0x81;
  h[1] = fn;
  h.writeUInt16BE(npdu.length + 4, 2);
  return Buffer.concat([h, npdu]);
}

function objectId(type: number, instance: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(((type << 22) | (instance & 0x3fffff)) >>> 0, 0);
  return b;
}

export function readPropertyRq(invokeId: number, objType: number, instance: number): Buffer {
  const apdu = Buffer.concat([Buffer.from([0x00, 0x05, invokeId & 0xff, 0x0c, 0x0c]), objectId(objType, instance), Buffer.from([0x19, 0x55])]);
  return bvlc(0x0a, Buffer.concat([Buffer.from([0x01, 0x04]), apdu]));
}

export function readPropertyAck(invokeId: number, objType: number, instance: number, value: number): Buffer {
  const real = Buffer.alloc(4);
  real.writeFloatBE(value, 0);
  const apdu = Buffer.concat([
    Buffer.from([0x30, invokeId & 0xff, 0x0c, 0x0c]),
    objectId(objType, instance),
    Buffer.from([0x19, 0x55, 0x3e, 0x44]),
    real,
    Buffer.from([0x3f]),
  ]);
  return bvlc(0x0a, Buffer.concat([Buffer.from([0x01, 0x00]), apdu]));
}

export function whoIs(): Buffer {
  return bvlc(0x0b, Buffer.from([0x01, 0x20, 0xff, 0xff, 0x00, 0xff, 0x10, 0x08]));
}

export function iAm(deviceInstance: number, vendorId: number): Buffer {
  const apdu = Buffer.concat([Buffer.from([0x10, 0x00, 0xc4]), objectId(OBJ_DEVICE, deviceInstance), Buffer.from([0x22, 0x05, 0xc4, 0x91, 0x03, 0x21, vendorId & 0xff])]);
  return bvlc(0x0b, Buffer.concat([Buffer.from([0x01, 0x20, 0xff, 0xff, 0x00, 0xff]), apdu]));
}
