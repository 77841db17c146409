/** A SHA-256 in hex, as a stored keys file is named. Pure, so workflow code checks names with it too. */
export function isSha256(text: unknown): text is string {
  return typeof text === 'string' && /^[0-9a-f]{64}$/.test(text);
}
