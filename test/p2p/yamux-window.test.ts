import type { Logger } from '@libp2p/interface';
import { StreamState, YamuxStream } from '@libp2p/yamux/stream';
import { Uint8ArrayList } from 'uint8arraylist';
import { describe, expect, it } from 'vitest';
import { installYamuxWindowHysteresis } from '../../src/p2p/yamux-window.js';

// yamux frame types (spec): 0 data, 1 window update
const DATA = 0;
const WINDOW_UPDATE = 1;
const INITIAL_WINDOW = 256 * 1024;

interface SentFrame {
  readonly type: number;
  readonly flag: number;
  readonly length: number;
}

const silent: Logger = Object.assign(() => {}, {
  error: () => {},
  trace: () => {},
  enabled: false,
  newScope: () => silent,
});

/** A stream as the muxer builds one, with the frames it sends recorded. */
function stream(state: StreamState): { s: YamuxStream; sent: SentFrame[] } {
  const sent: SentFrame[] = [];
  const s = new YamuxStream({
    id: 'test',
    streamId: 1,
    state,
    direction: 'inbound',
    log: silent,
    getRTT: () => -1, // no RTT sample: the window stays at its initial size
    sendFrame: (header) => {
      sent.push({ type: header.type, flag: header.flag, length: header.length });
      return true;
    },
  });
  return { s, sent };
}

function receive(s: YamuxStream, bytes: number): void {
  s.handleData({ header: { type: DATA, flag: 0, streamID: 1, length: bytes, version: 0 }, data: new Uint8ArrayList(new Uint8Array(bytes)) });
}

describe('yamux window updates with hysteresis', () => {
  installYamuxWindowHysteresis();

  it('grants credit once per half window, not once per frame', () => {
    const { s, sent } = stream(StreamState.Established);
    const frames = 2_000;
    for (let i = 0; i < frames; i++) receive(s, 200);
    const updates = sent.filter((f) => f.type === WINDOW_UPDATE);
    // 400,000 bytes over a 256 KiB window: one update each time 128 KiB were used
    expect(updates.length).toBe(Math.floor((frames * 200) / (INITIAL_WINDOW / 2 + 200)));
    expect(updates.length).toBeLessThan(frames / 100);
  });

  it('never lets a sender that obeys the window stall or overrun it', () => {
    const { s, sent } = stream(StreamState.Established);
    let senderCredit = INITIAL_WINDOW;
    let granted = 0;
    for (let i = 0; i < 20_000; i++) {
      // the sender must have room for the next frame, and never uses more than it was granted
      expect(senderCredit).toBeGreaterThanOrEqual(INITIAL_WINDOW / 2);
      receive(s, 200);
      senderCredit -= 200;
      for (const f of sent.splice(0)) {
        if (f.type !== WINDOW_UPDATE) continue;
        senderCredit += f.length;
        granted += f.length;
      }
    }
    expect(granted).toBeGreaterThan(0);
    expect(senderCredit).toBeLessThanOrEqual(INITIAL_WINDOW);
  });

  it('still acknowledges a new inbound stream on its first data frame', () => {
    const { s, sent } = stream(StreamState.SYNReceived);
    receive(s, 200);
    const updates = sent.filter((f) => f.type === WINDOW_UPDATE);
    expect(updates).toHaveLength(1);
    expect(updates[0]!.flag & 0x2).toBe(0x2); // ACK
    expect(s.state).toBe(StreamState.Established);
  });
});
