// One socket write per send instead of one per buffer. @libp2p/tcp (11) writes each buffer of
// what a connection sends with its own socket.write, and Noise hands it every frame as two: the
// 2-byte length, then the ciphertext. Each became a system call (strace: half of a validator's
// socket writes were 2 bytes long) and, often, a TCP segment the peer had to read by itself.
//
// This wraps the TCP connection class's sendData, found on the first connection that opens (the
// class is not exported), so a send of several buffers goes out as one: the same bytes, in the
// same order, with the library's own flow control. If a later version renames what is read here,
// nothing is wrapped and this file's test fails.
import type { Connection } from '@libp2p/interface';

/** What sendData is given: a Uint8ArrayList (uint8arraylist's, not a dependency of ours). */
interface Buffers extends Iterable<Uint8Array> {
  readonly bufs?: readonly Uint8Array[];
  subarray?(): Uint8Array;
}

type SendData = (this: object, data: Iterable<Uint8Array>) => unknown;

const wrapped = new WeakSet<object>();

/** Wraps the class of `connection`'s TCP socket connection once per process; true if it is (now) wrapped. */
export function writeWholeSends(connection: Connection): boolean {
  const raw = (connection as unknown as { maConn?: object }).maConn;
  if (raw === undefined || !('socket' in raw)) return false;
  const proto = Object.getPrototypeOf(raw) as { sendData?: SendData };
  if (wrapped.has(proto)) return true;
  const send = proto.sendData;
  if (typeof send !== 'function') return false;
  wrapped.add(proto);
  proto.sendData = function sendData(this: object, data: Iterable<Uint8Array>): unknown {
    const list = data as Buffers;
    if (list.bufs !== undefined && list.bufs.length > 1 && typeof list.subarray === 'function') return send.call(this, [list.subarray()]);
    return send.call(this, data);
  };
  return true;
}
