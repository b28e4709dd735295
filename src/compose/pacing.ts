/**
 * Paced replay of a capture file (`replay --speed`, `sensor -r --speed`): the one pacer every command uses.
 *
 * Each frame is processed when the wall clock reaches its packet time ÷ `speed`, counted from the first paced frame.
 * A frame due within 1 ms is processed at once (no timer); one already due (late, or out of order) never waits.
 * Windows still close on packet time, so the pace changes when results arrive, never what they are.
 */

/**
 * The wait before the frame of packet time `ts` is processed (undefined: none). Frames before `from` (seconds since
 * the epoch) are not paced: they are read at full speed and the clock starts at the first frame at or after it.
 */
export function replayPacer(speed: number, from = -Infinity): (ts: number) => Promise<void> | undefined {
  let first = NaN;
  let wallStart = 0;
  return (ts) => {
    if (ts < from) return undefined;
    if (Number.isNaN(first)) {
      first = ts;
      wallStart = performance.now();
    }
    const ahead = ((ts - first) * 1000) / speed - (performance.now() - wallStart);
    return ahead > 1 ? new Promise<void>((r) => setTimeout(r, ahead)) : undefined;
  };
}
