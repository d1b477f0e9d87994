// `Base.url_decode64(text, padding: false)` as elixir-lang/elixir lib/elixir/lib/base.ex decodes
// it, because that is what `Plug.Crypto.MessageVerifier` uses on both halves of a token:
//
// - alphabet `A-Z a-z 0-9 - _`; any other character is an error;
// - padding is optional: "=" may complete the last group to four characters, nowhere else;
// - a final group of one character is an error;
// - the unused low bits of the last character are ignored (Elixir shifts them away), so two
//   spellings of the same bytes both decode. The verifier inherits that leniency on purpose: a
//   token the real server accepts must be accepted here too.

const ALPHABET = /^[A-Za-z0-9_-]*$/;

/** Decoded bytes, or `undefined` where Elixir returns `:error`. */
export function elixirUrlDecode64(text: string): Uint8Array | undefined {
  let body = text;
  if (body.endsWith("==")) {
    if (body.length % 4 !== 0) return undefined;
    body = body.slice(0, -2);
  } else if (body.endsWith("=")) {
    if (body.length % 4 !== 0) return undefined;
    body = body.slice(0, -1);
  }
  if (!ALPHABET.test(body) || body.length % 4 === 1) return undefined;
  // Node's decoder drops the trailing partial bits exactly like Elixir's `bsr`; the alphabet and
  // length checks above reject everything Node would otherwise skip silently.
  return new Uint8Array(Buffer.from(body, "base64url"));
}

/** Base64url without padding, the spelling every token part is written in. */
export function urlEncode64(bytes: Uint8Array | string): string {
  return Buffer.from(bytes).toString("base64url");
}
