/**
 * servers/common.ts's helpers for the Socket.IO stacks (the bare servers' are
 * exercised through the conformance suite).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  formatStackReadyLine,
  handshakeQueryValue,
  relayInbound,
  relayOutbound,
  roomFromHandshake,
  roomFromQuery,
  sessionFromHandshake,
  sessionFromQuery,
  type HandshakeQuery,
} from '../../servers/common.js';
import { CONTRACT_SETTINGS, STACK_SETTINGS, type StackReadyLine } from '../../servers/settings.js';

describe('room and session from the Engine.IO handshake query', () => {
  // engine.io on ws parses a repeated key into an array; the other engines keep one value. The raw query
  // is what a bare server would see, so both helpers must agree with their bare counterparts.
  const table: [string, HandshakeQuery, string][] = [
    ['', {}, 'default'],
    ['room=', { room: '' }, 'default'],
    ['room=a', { room: 'a' }, 'a'],
    ['room=a&room=b', { room: ['a', 'b'] }, 'a'],
    ['room=%C3%A9%20x', { room: 'é x' }, 'é x'],
  ];
  for (const [raw, query, room] of table) {
    it(`?${raw} → room ${JSON.stringify(room)}, as roomFromQuery`, () => {
      assert.equal(roomFromHandshake(query), room);
      assert.equal(roomFromQuery(raw), room);
    });
  }

  it('reads session the same way (absent: empty), and the first of repeated values', () => {
    assert.equal(sessionFromHandshake({}), '');
    assert.equal(sessionFromQuery(''), '');
    assert.equal(sessionFromHandshake({ session: ['s1', 's2'] }), 's1');
    assert.equal(sessionFromQuery('session=s1&session=s2'), 's1');
    assert.equal(handshakeQueryValue({ session: [] }, 'session'), undefined);
  });
});

describe('relayOutbound / relayInbound', () => {
  it('sends a JSON argument as the same JSON text it arrived as, binary as bytes, nothing for no argument', () => {
    const text = '{"type":"input_audio_buffer.append","seq":1,"audio":"AAEC/+=="}';
    assert.equal(relayOutbound(JSON.parse(text)), text);
    assert.equal(relayOutbound('hello'), '"hello"');
    assert.equal(relayOutbound(null), 'null');
    const bytes = Buffer.from([1, 2, 3]);
    assert.equal(relayOutbound(bytes), bytes);
    assert.deepEqual(relayOutbound(new Uint8Array([4, 5]).buffer), new Uint8Array([4, 5]));
    assert.equal(relayOutbound(undefined), undefined);
  });

  it('parses upstream JSON text into the value the event carries, and keeps other text as a string', () => {
    const delta = '{"type":"response.audio.delta","seq":0,"latencyMs":37,"sentAtUs":1796053097073074,"delta":"IQ+/"}';
    assert.deepEqual(relayInbound(delta), JSON.parse(delta));
    assert.equal(JSON.stringify(relayInbound(delta)), delta, 'Socket.IO writes it back as the same bytes');
    assert.equal(relayInbound('not json'), 'not json');
  });
});

describe('formatStackReadyLine', () => {
  it('is a ready line with the stack manifest, on one line', () => {
    const fields: Omit<StackReadyLine, 'event'> = {
      runtime: 'node',
      runtimeVersion: '20.20.2',
      library: 'socket.io',
      libraryVersion: '4.8.4',
      pid: 1,
      host: '127.0.0.1',
      port: 2,
      settings: CONTRACT_SETTINGS,
      stack: {
        framework: 'socket.io',
        frameworkVersion: '4.8.4',
        engine: 'engine.io',
        engineVersion: '6.6.13',
        websocketLibrary: 'ws',
        websocketLibraryVersion: '8.23.0',
        backpressure: 'by-hand',
        settings: STACK_SETTINGS,
      },
    };
    const line = formatStackReadyLine(fields);
    assert.ok(!line.includes('\n'));
    assert.deepEqual(JSON.parse(line), { event: 'ready', ...fields });
  });
});
