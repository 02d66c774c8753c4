/**
 * The few DIMSE bytes the SCP writes and reads itself on the C-STORE path (PS3.7 §9.3.1,
 * Annex E; PS3.8 §9.3.5), instead of building them through dcmjs: a command set is a handful of
 * group 0000 elements in implicit VR little endian, and dcmjs's general writer and reader cost
 * more per object than everything else on the path except parsing and the commit.
 *
 * - `cStoreResponsePdu`: the whole P-DATA-TF PDU of a C-STORE-RSP (one PDV, command, last
 *   fragment), with Command Group Length, Affected SOP Class UID, Command Field 0x8001, Message
 *   ID Being Responded To, Command Data Set Type 0x0101 (none), Status, Error Comment (when
 *   given) and Affected SOP Instance UID, in tag order.
 * - `readCommandSet`: the elements of a received command set by tag (values as bytes; UIDs and
 *   US values decoded by the helpers), or null when the bytes are not a well-formed command set.
 */

export interface StoreResponseFields {
  presentationContextId: number;
  messageIdBeingRespondedTo: number;
  sopClassUid: string;
  sopInstanceUid: string;
  status: number;
  /** Error Comment (0000,0902), LO: at most 64 characters (status.ts errorComment). */
  errorComment?: string | null;
}

/** Command Field of C-STORE-RQ and C-STORE-RSP (PS3.7 §E.1). */
export const C_STORE_RQ = 0x0001;
export const C_STORE_RSP = 0x8001;
/** Command Data Set Type: no data set follows. */
export const NO_DATA_SET = 0x0101;

export function cStoreResponsePdu(f: StoreResponseFields): Buffer {
  const elements: Buffer[] = [
    element(0x0002, uidBytes(f.sopClassUid)),
    element(0x0100, us(C_STORE_RSP)),
    element(0x0120, us(f.messageIdBeingRespondedTo)),
    element(0x0800, us(NO_DATA_SET)),
    element(0x0900, us(f.status)),
  ];
  if (f.errorComment) elements.push(element(0x0902, textBytes(f.errorComment)));
  elements.push(element(0x1000, uidBytes(f.sopInstanceUid)));
  const groupLength = elements.reduce((n, b) => n + b.length, 0);
  const lengthValue = Buffer.alloc(4);
  lengthValue.writeUInt32LE(groupLength);
  const command = Buffer.concat([element(0x0000, lengthValue), ...elements]);

  // P-DATA-TF: type 0x04, reserved, length; one PDV item: length, context id, control header
  // (bit 0 command, bit 1 last fragment), then the command bytes.
  const pdu = Buffer.alloc(6 + 4 + 2 + command.length);
  pdu.writeUInt8(0x04, 0);
  pdu.writeUInt32BE(4 + 2 + command.length, 2);
  pdu.writeUInt32BE(2 + command.length, 6);
  pdu.writeUInt8(f.presentationContextId, 10);
  pdu.writeUInt8(0x03, 11);
  command.copy(pdu, 12);
  return pdu;
}

/** Group 0000 elements by element number (values as received), or null when malformed. */
export function readCommandSet(bytes: Uint8Array): Map<number, Uint8Array> | null {
  const out = new Map<number, Uint8Array>();
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  while (at < bytes.length) {
    if (at + 8 > bytes.length) return null;
    const group = view.getUint16(at, true);
    const elementNumber = view.getUint16(at + 2, true);
    const length = view.getUint32(at + 4, true);
    at += 8;
    if (group !== 0x0000 || length > bytes.length - at) return null;
    out.set(elementNumber, bytes.subarray(at, at + length));
    at += length;
  }
  return out;
}

/** A UI value without its padding (NUL or space). */
export function uidOf(value: Uint8Array | undefined): string {
  if (!value) return "";
  let end = value.length;
  while (end > 0 && (value[end - 1] === 0x00 || value[end - 1] === 0x20)) end--;
  return Buffer.from(value.buffer, value.byteOffset, end).toString("latin1");
}

/** A US value, or null when it is not 2 bytes. */
export function usOf(value: Uint8Array | undefined): number | null {
  if (!value || value.length !== 2) return null;
  return value[0]! | (value[1]! << 8);
}

function element(elementNumber: number, value: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt16LE(0x0000, 0);
  header.writeUInt16LE(elementNumber, 2);
  header.writeUInt32LE(value.length, 4);
  return Buffer.concat([header, value]);
}

function us(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(n & 0xffff);
  return b;
}

function uidBytes(value: string): Buffer {
  const v = value.replace(/\0/g, "").trim();
  return Buffer.from(v.length % 2 === 0 ? v : `${v}\0`, "latin1");
}

/** LO in the default repertoire (command sets carry no Specific Character Set). */
function textBytes(value: string): Buffer {
  const v = value.replace(/\u2026/g, ".").replace(/[^\x20-\x7e]/g, "?");
  return Buffer.from(v.length % 2 === 0 ? v : `${v} `, "latin1");
}
