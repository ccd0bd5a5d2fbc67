/** The raw RFC 6455 client protocol layer: frame codec, handshake, connection. */
export * from './frame.js';
export * from './handshake.js';
export * from './connection.js';
