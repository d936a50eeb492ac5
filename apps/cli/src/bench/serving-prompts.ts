// Random prompts for `tpserve bench`: text of random English words, sized in tokens with a linear
// fit (tokens = a + b * words) measured on the server itself with two max_tokens=1 requests, so
// that the bench needs no tokenizer and the chat template's own tokens are accounted for.
// Also the seeded generator that the prompts and the Poisson arrivals share.

const WORDS = (
  'the of and to in is that it was for on are as with his they at be this from have or by one had not but what all were ' +
  'when we there can an your which their said if do will each about how up out them then she many some so these would ' +
  'other into has more her two like him see time could no make than first been its who now people my made over did down ' +
  'only way find use may water long little very after words called just where most know get through back much before go ' +
  'good new write our used me man too any day same right look think also around another came come work three word must ' +
  'because does part even place well such here take why things help put years different away again off went old number ' +
  'great tell men say small every found still between name should home big give air line set own under read last never ' +
  'us left end along while might next sound below saw something thought both few those always looked show large often ' +
  'together asked house world going want school important until form food keep children feet land side without boy once ' +
  'animals life enough took sometimes four head above kind began almost live page got earth need far hand high year mother ' +
  'light parts country father let night following picture being study second eyes soon times story boys since white days ' +
  'ever paper hard near sentence better best across during today others however sure means knew try told young miles sun'
).split(' ');

import { mulberry32 as seededRandom } from '../../../../libs/tiny-model/src/seeded-random';
export { seededRandom };

/** `numWords` random words separated by spaces. */
export function randomText(random: () => number, numWords: number): string {
  return Array.from({ length: Math.max(1, numWords) }, () => WORDS[Math.floor(random() * WORDS.length)]).join(' ');
}

/** Prompt tokens as the server counts them (fixed template tokens + tokens per word). */
export interface TokenFit {
  fixedTokens: number;
  tokensPerWord: number;
}

/** The fit from two measurements (words, prompt tokens). */
export function fitTokens(a: { words: number; tokens: number }, b: { words: number; tokens: number }): TokenFit {
  const tokensPerWord = Math.max(0.1, (b.tokens - a.tokens) / (b.words - a.words));
  return { fixedTokens: Math.max(0, a.tokens - tokensPerWord * a.words), tokensPerWord };
}

/** Words to make a prompt of about `inputLen` tokens (at least one). */
export function wordsFor(fit: TokenFit, inputLen: number): number {
  return Math.max(1, Math.round((inputLen - fit.fixedTokens) / fit.tokensPerWord));
}

/** `numPrompts` prompts of about `inputLen` tokens each. */
export function buildPrompts(fit: TokenFit, inputLen: number, numPrompts: number, seed: number): string[] {
  const random = seededRandom(seed);
  const numWords = wordsFor(fit, inputLen);
  return Array.from({ length: numPrompts }, () => randomText(random, numWords));
}
