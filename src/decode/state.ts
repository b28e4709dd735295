/**
 * Per-frame scratch shared by the header decoders (one per `PacketDecoder`, overwritten for every frame): where the
 * transport header starts and how many bytes the IP header says follow it.
 */
export interface DecodeState {
  /** End of the captured bytes of this frame (exclusive offset in the buffer). */
  end: number;
  /** Network-layer EtherType the link layer leads to (after VLAN tags and PPPoE/PPP); -1 when unknown. */
  net: number;
  /** Offset of the transport header (after IPv4 options / IPv6 extension headers). */
  l4: number;
  /** Transport bytes per the IP header lengths (may exceed what was captured). */
  l4len: number;
  /** Offset and header-claimed length of the application payload. */
  app: number;
  applen: number;
}

export function newDecodeState(): DecodeState {
  return { end: 0, net: -1, l4: 0, l4len: 0, app: 0, applen: 0 };
}
