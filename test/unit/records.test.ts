import assert from 'node:assert/strict';
import { formatIpv4, formatIpv6, formatMac, parseMac } from '../../src/records/packet.js';
import { FEATURE_NAMES, FEATURE_SCHEMA } from '../../src/records/features.js';

describe('records', () => {
  it('formats and parses MAC addresses', () => {
    assert.equal(formatMac(0x001122aabbcc), '00:11:22:aa:bb:cc');
    assert.equal(parseMac('00:11:22:AA:BB:CC'), 0x001122aabbcc);
    assert.equal(parseMac('00:11:22:AA:BB'), -1);
    assert.equal(formatMac(parseMac('ff:ff:ff:ff:ff:ff')), 'ff:ff:ff:ff:ff:ff');
  });

  it('formats IPv4 and compressed IPv6 (RFC 5952)', () => {
    assert.equal(formatIpv4(0xc0a80101), '192.168.1.1');
    assert.equal(formatIpv6([0x20010db8, 0, 0, 1]), '2001:db8::1');
    assert.equal(formatIpv6([0, 0, 0, 1]), '::1');
    assert.equal(formatIpv6([0xfe800000, 0, 0x02005eff, 0xfe000001]), 'fe80::200:5eff:fe00:1');
    assert.equal(formatIpv6([0x20010db8, 0x00010000, 0x00010000, 0x00010001]), '2001:db8:1:0:1:0:1:1');
  });

  it('feature names are unique snake_case', () => {
    assert.equal(new Set(FEATURE_NAMES).size, FEATURE_SCHEMA.length);
    for (const n of FEATURE_NAMES) assert.match(n, /^[a-z][a-z0-9_]*$/);
  });
});
