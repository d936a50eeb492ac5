// Tool call ids in OpenAI's style: `call_` followed by 24 random letters and digits.

import { randomBytes } from 'node:crypto';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A fresh `call_<24 alnum>` id (uniform over the alphabet: bytes >= 248 are redrawn). */
export function generateToolCallId(): string {
  let id = 'call_';
  while (id.length < 29) {
    for (const byte of randomBytes(32)) {
      if (byte < 248 && id.length < 29) id += ALPHABET[byte % ALPHABET.length];
    }
  }
  return id;
}
