import assert from 'node:assert/strict';
import { internText } from '../../src/decode/app/text.js';

describe('decoder text interning', () => {
  it('gives what toString gives, the same string for the same bytes, and survives slot reuse', () => {
    // 5000 distinct names in 1024 slots: slots are replaced many times; every answer must still be exact.
    const names = Array.from({ length: 5000 }, (_, i) => `host-${i}.ward${i % 7}.example`);
    const seen = new Map<string, string>();
    for (let round = 0; round < 2; round++) {
      for (const name of names) {
        const b = Buffer.from(`xx${name}yy`, 'latin1');
        const got = internText(b, 2, 2 + name.length, true);
        assert.equal(got, name);
        seen.set(name, got);
      }
    }
    // UTF-8 and Latin-1 readings of the same bytes differ and are kept apart.
    const bytes = Buffer.from('Zürich', 'utf8');
    assert.equal(internText(bytes, 0, bytes.length, false), 'Zürich');
    assert.equal(internText(bytes, 0, bytes.length, true), bytes.toString('latin1'));
    assert.equal(internText(bytes, 0, bytes.length, false), 'Zürich');
    // Same bytes at another offset of another buffer: equal text; a one-byte change: the new text.
    const a = Buffer.from('ORU^R01', 'latin1');
    const b = Buffer.from('..ORU^R01', 'latin1');
    assert.equal(internText(a, 0, 7, false), internText(b, 2, 9, false));
    b[8] = 0x32;
    assert.equal(internText(b, 2, 9, false), 'ORU^R02');
    assert.equal(internText(a, 0, 0, false), '');
    assert.equal(seen.size, names.length);
  });
});
