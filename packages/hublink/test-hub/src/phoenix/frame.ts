// Phoenix V2 channel frames, the wire format of the NervesHub device socket.
//
// Follows phoenixframework/phoenix lib/phoenix/socket/serializers/v2_json_serializer.ex:
// a text frame is a JSON array `[join_ref, ref, topic, event, payload]`; the decoder takes the
// first five elements and keeps their JSON values as they are (refs are echoed back untouched,
// so a client that sends numbers gets numbers back). Binary frames from a client are "push"
// frames `[0, join_ref_len, ref_len, topic_len, event_len, join_ref, ref, topic, event, data]`;
// the server never decodes the other kinds from a client.

/** Any value JSON can carry. */
export type JsonValue =
  | null
  | boolean
  | number
  | string
  | JsonValue[]
  | { [key: string]: JsonValue };

/** One decoded frame. Fields keep whatever JSON type the peer sent. */
export interface PhoenixFrame {
  joinRef: JsonValue;
  ref: JsonValue;
  topic: JsonValue;
  event: JsonValue;
  /** The JSON payload, or the raw bytes of a binary push frame. */
  payload: JsonValue | Uint8Array;
}

export type FrameDecodeResult = { ok: true; frame: PhoenixFrame } | { ok: false; reason: string };

/**
 * Decodes a text frame. Never throws: a frame the real server cannot decode (not JSON, not an
 * array of at least five elements) comes back as `{ ok: false }` — on the real server that raises
 * in the socket process and the connection ends.
 */
export function decodeTextFrame(text: string): FrameDecodeResult {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { ok: false, reason: "frame is not valid JSON" };
  }
  if (!Array.isArray(parsed)) return { ok: false, reason: "frame is not a JSON array" };
  if (parsed.length < 5) {
    return { ok: false, reason: `frame has ${parsed.length} elements, needs 5` };
  }
  const [joinRef, ref, topic, event, payload] = parsed as JsonValue[];
  return {
    ok: true,
    frame: {
      joinRef: joinRef as JsonValue,
      ref: ref as JsonValue,
      topic: topic as JsonValue,
      event: event as JsonValue,
      payload: payload as JsonValue,
    },
  };
}

const PUSH_KIND = 0;

/**
 * Decodes a binary frame sent by a client. Only the "push" kind (0) exists in that direction;
 * anything else, or a header longer than the frame, is `{ ok: false }`.
 */
export function decodeBinaryFrame(bytes: Uint8Array): FrameDecodeResult {
  if (bytes.length < 5) return { ok: false, reason: "binary frame shorter than its header" };
  if (bytes[0] !== PUSH_KIND) {
    return { ok: false, reason: `binary frame kind ${bytes[0]} is not a push (0)` };
  }
  const joinRefSize = bytes[1]!;
  const refSize = bytes[2]!;
  const topicSize = bytes[3]!;
  const eventSize = bytes[4]!;
  let offset = 5;
  const take = (size: number): string | undefined => {
    if (offset + size > bytes.length) return undefined;
    const text = Buffer.from(bytes.subarray(offset, offset + size)).toString("utf8");
    offset += size;
    return text;
  };
  const joinRef = take(joinRefSize);
  const ref = take(refSize);
  const topic = take(topicSize);
  const event = take(eventSize);
  if (joinRef === undefined || ref === undefined || topic === undefined || event === undefined) {
    return { ok: false, reason: "binary frame header sizes exceed the frame" };
  }
  return {
    ok: true,
    frame: { joinRef, ref, topic, event, payload: Uint8Array.prototype.slice.call(bytes, offset) },
  };
}

/** Encodes a frame as the V2 JSON text the server sends. */
export function encodeTextFrame(
  joinRef: JsonValue,
  ref: JsonValue,
  topic: string,
  event: string,
  payload: JsonValue,
): string {
  return JSON.stringify([joinRef, ref, topic, event, payload]);
}

/**
 * A reply frame (`phx_reply`). `Phoenix.Socket.V2.JSONSerializer.encode!/1` for a `%Reply{}`:
 * `[join_ref, ref, topic, "phx_reply", {"status": status, "response": payload}]`.
 */
export function encodeReply(
  joinRef: JsonValue,
  ref: JsonValue,
  topic: JsonValue,
  status: "ok" | "error",
  response: JsonValue,
): string {
  return JSON.stringify([joinRef, ref, topic, "phx_reply", { status, response }]);
}
