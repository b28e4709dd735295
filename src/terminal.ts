/**
 * Text that reaches a terminal: whatever came from the wire (DHCP host names, SNI, DNS names) or from a file may hold
 * control characters (an escape sequence can rewrite the screen). Every table and human-readable log line goes
 * through `printable`.
 */

/** Terminal-safe text: control characters (C0, DEL, C1) shown as `?`. */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
}
