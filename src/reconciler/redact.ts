/**
 * Scrubbing known secret values out of text before it is written anywhere (a condition, an
 * Event, a log line): a server that echoes a header back must not put a token on display.
 */

/** What a secret value becomes. */
export const redacted = '[REDACTED]';

/** Values shorter than this are not scrubbed: they would match ordinary text. */
const minimumLength = 4;

/** `text` with every occurrence of each of `values` replaced by {@link redacted}. */
export function redactValues(text: string, values: Iterable<string | undefined>): string {
  let out = text;
  for (const value of [...values]
    .filter((v): v is string => typeof v === 'string' && v.length >= minimumLength)
    .sort((a, b) => b.length - a.length)) {
    out = out.split(value).join(redacted);
  }
  return out;
}

/** The longest prefix of `text` that fits in `maxBytes` of UTF-8, never cutting a character in two. */
export function truncateBytes(text: string, maxBytes: number): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= maxBytes) return text;
  let end = maxBytes;
  // Step back over continuation bytes (10xxxxxx) to the start of the character that does not fit.
  while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end).toString('utf8');
}
