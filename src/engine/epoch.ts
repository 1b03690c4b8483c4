import { randomInt } from "node:crypto";

const LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

/** A new stream epoch: 8 random letters [a-zA-Z], the same shape Centrifugo's engines produce. */
export function generateEpoch(): string {
  let epoch = "";
  for (let i = 0; i < 8; i++) {
    epoch += LETTERS.charAt(randomInt(LETTERS.length));
  }
  return epoch;
}
