// Yamux flow control with hysteresis. js-libp2p's yamux (8.x) answers every data frame it
// receives with a window update, so each small message (a vote, a tx batch) costs a second
// frame — encrypted, written and decoded — in the opposite direction. go-yamux and rust-yamux
// grant credit only once half the receive window is used: the sender still always holds at
// least half a window, so it never stalls, and small messages cost one frame. This applies that
// rule to the library's exported YamuxStream class, once per process.
//
// If a later yamux version renames the fields read here, the check below is false and every
// call falls through to the library's own behaviour (correct, only slower); the test of this
// file fails loudly in that case.
import { StreamState, YamuxStream } from '@libp2p/yamux/stream';

/** The stream's own bookkeeping (private in its typings, plain fields at run time). */
interface WindowFields {
  readonly state: StreamState;
  readonly recvWindow: number;
  readonly recvWindowCapacity: number;
}

let installed = false;

export function installYamuxWindowHysteresis(): void {
  if (installed) return;
  installed = true;
  const proto = YamuxStream.prototype;
  const libraryUpdate = proto.sendWindowUpdate;
  proto.sendWindowUpdate = function sendWindowUpdate(this: YamuxStream): void {
    const s = this as unknown as WindowFields;
    // only plain credit is deferred: a SYN/ACK-carrying update and the paused state keep the library's handling
    if (s.state === StreamState.Established && s.recvWindowCapacity * 2 >= s.recvWindow) return;
    libraryUpdate.call(this);
  };
}
