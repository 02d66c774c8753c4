/** The C-STORE-RSP PDU and command set reader of src/dimse/pdu.ts against dcmjs-dimse's own encoding. */
import dimse from "dcmjs-dimse";
import { describe, expect, it } from "vitest";
import { C_STORE_RQ, cStoreResponsePdu, readCommandSet, uidOf, usOf } from "../../src/dimse/pdu.ts";
import { C_STORE_FAST_PATH } from "../../src/dimse/scp.ts";

const { Dataset, responses } = dimse;
const SR = "1.2.840.10008.5.1.4.1.1.88.67";

function dcmjsDimseCommand(status: number, comment: string | null): Buffer {
  const r = new responses.CStoreResponse(status, comment as string);
  r.setAffectedSopClassUid(SR);
  r.setAffectedSopInstanceUid("2.25.123");
  r.setMessageIdBeingRespondedTo(17);
  return (r.getCommandDataset() as unknown as { getDenaturalizedCommandDataset(): Buffer }).getDenaturalizedCommandDataset();
}

describe("C-STORE-RSP PDU", () => {
  const fields = { presentationContextId: 3, messageIdBeingRespondedTo: 17, sopClassUid: SR, sopInstanceUid: "2.25.123" };

  it("is one P-DATA-TF with one command PDV, last fragment, on the request's context", () => {
    const pdu = cStoreResponsePdu({ ...fields, status: 0 });
    expect(pdu[0]).toBe(0x04);
    expect(pdu.readUInt32BE(2)).toBe(pdu.length - 6);
    expect(pdu.readUInt32BE(6)).toBe(pdu.length - 10);
    expect(pdu[10]).toBe(3);
    expect(pdu[11]).toBe(0x03);
  });

  it("carries the same command set as dcmjs-dimse's (which also writes an empty Error Comment on success)", () => {
    const comment = "truncated: ends inside element (0040,A730)";
    expect(cStoreResponsePdu({ ...fields, status: 0xc000, errorComment: comment }).subarray(12).equals(dcmjsDimseCommand(0xc000, comment))).toBe(true);

    const success = new Dataset(Buffer.from(cStoreResponsePdu({ ...fields, status: 0 }).subarray(12))).getElements();
    expect(success).toMatchObject({ AffectedSOPClassUID: SR, CommandField: 0x8001, MessageIDBeingRespondedTo: 17, CommandDataSetType: 0x0101, Status: 0, AffectedSOPInstanceUID: "2.25.123" });
    expect(success).not.toHaveProperty("ErrorComment");
  });

  it("writes the Error Comment in the default repertoire", () => {
    const pdu = cStoreResponsePdu({ ...fields, status: 0xc000, errorComment: "malformed: a very long reason cut at 64 characters, ending in…" });
    const elements = new Dataset(Buffer.from(pdu.subarray(12))).getElements() as { ErrorComment?: string };
    expect(elements.ErrorComment).toBe("malformed: a very long reason cut at 64 characters, ending in.");
  });
});

describe("command set reader", () => {
  it("is used: dcmjs-dimse still has the P-DATA handler the SCP takes over for C-STORE", () => {
    expect(C_STORE_FAST_PATH).toBe(true);
  });

  it("reads a C-STORE-RQ command set as dcmjs writes it", () => {
    const rq = new dimse.requests.CStoreRequest(new Dataset({ SOPClassUID: SR, SOPInstanceUID: "2.25.4567" }));
    rq.setMessageId(9);
    const bytes = (rq.getCommandDataset() as unknown as { getDenaturalizedCommandDataset(): Buffer }).getDenaturalizedCommandDataset();
    const cmd = readCommandSet(bytes)!;
    expect(usOf(cmd.get(0x0100))).toBe(C_STORE_RQ);
    expect(usOf(cmd.get(0x0110))).toBe(9);
    expect(uidOf(cmd.get(0x0002))).toBe(SR);
    expect(uidOf(cmd.get(0x1000))).toBe("2.25.4567");
  });

  it("refuses bytes that are not a group 0000 command set", () => {
    expect(readCommandSet(Buffer.from([0x08, 0x00, 0x18, 0x00, 0x02, 0x00, 0x00, 0x00, 0x31, 0x00]))).toBeNull();
    expect(readCommandSet(Buffer.from([0x00, 0x00, 0x00, 0x01, 0xff, 0x00, 0x00, 0x00]))).toBeNull();
    expect(readCommandSet(Buffer.from([0x00, 0x00]))).toBeNull();
  });
});
