import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  HandshakeResponseParser,
  buildUpgradeRequest,
  computeAcceptKey,
  createHandshakeKey,
  type HandshakeResult,
} from '../../../loadgen/protocol/handshake.js';

function response101(key: string, extra = ''): string {
  return (
    'HTTP/1.1 101 Switching Protocols\r\n' +
    'Upgrade: websocket\r\n' +
    'Connection: Upgrade\r\n' +
    `Sec-WebSocket-Accept: ${computeAcceptKey(key)}\r\n` +
    extra +
    '\r\n'
  );
}

function feed(key: string, chunks: Array<Buffer | string>): HandshakeResult | null {
  const p = new HandshakeResponseParser(key);
  let r: HandshakeResult | null = null;
  for (const c of chunks) r = p.push(typeof c === 'string' ? Buffer.from(c, 'latin1') : c);
  return r;
}

describe('computeAcceptKey', () => {
  it("matches RFC 6455's example (section 1.3)", () => {
    // The RFC's value has "9kYG"; a copy of it with "9kxG" circulates and is wrong.
    assert.equal(computeAcceptKey('dGhlIHNhbXBsZSBub25jZQ=='), 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
  });
});

describe('createHandshakeKey', () => {
  it('is 16 random bytes in base64', () => {
    const a = createHandshakeKey();
    assert.equal(Buffer.from(a, 'base64').length, 16);
    assert.equal(a.length, 24);
    assert.notEqual(a, createHandshakeKey());
  });
});

describe('buildUpgradeRequest', () => {
  it('sends the RFC 6455 headers and offers no extension', () => {
    const text = buildUpgradeRequest({ host: '127.0.0.1', port: 8080, path: '/ws', key: 'abc' }).toString('latin1');
    assert.ok(text.startsWith('GET /ws HTTP/1.1\r\n'));
    assert.ok(text.endsWith('\r\n\r\n'));
    for (const h of [
      'Host: 127.0.0.1:8080',
      'Upgrade: websocket',
      'Connection: Upgrade',
      'Sec-WebSocket-Key: abc',
      'Sec-WebSocket-Version: 13',
    ]) {
      assert.ok(text.includes(`\r\n${h}\r\n`), h);
    }
    assert.ok(!/extensions/i.test(text));
    assert.ok(!/protocol:/i.test(text));
  });

  it('brackets IPv6 hosts and rejects header injection', () => {
    const text = buildUpgradeRequest({ host: '::1', port: 1, key: 'k' }).toString('latin1');
    assert.ok(text.includes('\r\nHost: [::1]:1\r\n'));
    assert.throws(() => buildUpgradeRequest({ host: 'h', port: 1, key: 'k', headers: { Origin: 'x\r\nEvil: 1' } }), RangeError);
  });
});

describe('HandshakeResponseParser', () => {
  const key = 'dGhlIHNhbXBsZSBub25jZQ==';

  it('accepts a valid 101 and keeps the bytes after the header', () => {
    const r = feed(key, [response101(key) + 'FRAMES']);
    assert.ok(r !== null && r.ok);
    assert.equal(r.rest.toString(), 'FRAMES');
    assert.equal(r.headers['upgrade'], 'websocket');
  });

  it('keeps the bytes after the header when the response is split at any byte', () => {
    const full = Buffer.from(response101(key) + '\x81\x02hi', 'latin1');
    for (let split = 1; split < full.length; split++) {
      const p = new HandshakeResponseParser(key);
      const first = p.push(full.subarray(0, split));
      const headerEnd = full.length - 4;
      if (split < headerEnd) {
        assert.equal(first, null, `split ${split}`);
        const r = p.push(full.subarray(split));
        assert.ok(r !== null && r.ok);
        assert.deepEqual(r.rest, Buffer.from('\x81\x02hi', 'latin1'), `split ${split}`);
      } else {
        // Header complete in the first chunk: rest holds what came with it.
        assert.ok(first !== null && first.ok);
        assert.deepEqual(first.rest, full.subarray(headerEnd, split), `split ${split}`);
      }
    }
  });

  it('copies input, so a reused read buffer does not corrupt the rest', () => {
    const shared = Buffer.from(response101(key) + 'XY', 'latin1');
    const r = new HandshakeResponseParser(key).push(shared);
    shared.fill(0);
    assert.ok(r !== null && r.ok);
    assert.equal(r.rest.toString(), 'XY');
  });

  it('reports handshake-rejected with the status for a non-101 response', () => {
    const r = feed(key, ['HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n']);
    assert.deepEqual(r, { ok: false, kind: 'handshake-rejected', status: 403, message: 'handshake rejected with status 403' });
    const r2 = feed(key, ['HTTP/1.1 200 OK\r\n', '\r\n']);
    assert.ok(r2 !== null && !r2.ok && r2.kind === 'handshake-rejected' && r2.status === 200);
  });

  const protocolCases: Array<[string, string, string]> = [
    ['a wrong accept key', response101('b3RoZXIga2V5IGhlcmUhIQ=='), 'bad-accept'],
    ['a missing Upgrade header', response101(key).replace('Upgrade: websocket\r\n', ''), 'bad-upgrade-header'],
    ['a missing Connection header', response101(key).replace('Connection: Upgrade\r\n', ''), 'bad-connection-header'],
    ['an extension not offered', response101(key, 'Sec-WebSocket-Extensions: permessage-deflate\r\n'), 'unsolicited-extension'],
    ['a subprotocol not offered', response101(key, 'Sec-WebSocket-Protocol: chat\r\n'), 'unsolicited-subprotocol'],
    ['a garbage status line', 'SSH-2.0-OpenSSH\r\n\r\n', 'malformed-response'],
  ];
  for (const [name, text, detail] of protocolCases) {
    it(`reports protocol/${detail} for ${name}`, () => {
      const r = feed(key, [text]);
      assert.ok(r !== null && !r.ok && r.kind === 'protocol', JSON.stringify(r));
      assert.equal(r.detail, detail);
    });
  }

  it('accepts header names and tokens in any case, and Connection lists', () => {
    const text = response101(key).replace('Upgrade: websocket', 'upgrade: WebSocket').replace('Connection: Upgrade', 'connection: keep-alive, upgrade');
    const r = feed(key, [text]);
    assert.ok(r !== null && r.ok);
  });

  it('reports header-too-large when no blank line comes within 16 KiB', () => {
    const r = feed(key, ['HTTP/1.1 101 Switching Protocols\r\n', 'X-Pad: ' + 'a'.repeat(17000)]);
    assert.ok(r !== null && !r.ok && r.kind === 'protocol' && r.detail === 'header-too-large');
  });
});
