/** The raw RFC 6455 client protocol layer: frame codec, handshake, connection; and Engine.IO/Socket.IO over it. */
export * from './frame.js';
export * from './handshake.js';
export * from './connection.js';
export * from './socketio.js';
