// Plausible-looking prose generated directly as a sequence of tokens. Every word is kept only if
// " word", " Word" and "Word" are each a single o200k token; together with the way the tokenizer's
// pre-splitter separates words and punctuation, this makes the concatenated text re-encode to
// exactly one token per piece, so streamed chunk count == completion_tokens == encode(text).length
// without encoding anything per request.
import { encode } from 'gpt-tokenizer';
import type { Rng } from './rng.js';

const CANDIDATE_WORDS = `
the a an this that these those it they we you he she one some many most every each other
model answer question system request response server network token stream message signal
river mountain city garden window morning evening light water stone paper story music field
data result value method process pattern detail example reason moment idea point part place
people world company project team market report plan problem change number group state order
time year day week night hour minute home house road school office table letter book word
good new first last long great little own old right big high different small large next early
young important few public bad same able best better sure free true full special clear simple
is was are were be been has have had do does did can could will would should may might must
make made take give find think know see look use work call try ask need feel become leave put
mean keep let begin seem help show hear play run move live believe bring happen write provide
sit stand lose pay meet include continue set learn lead understand watch follow stop create
speak read allow add spend grow open walk win offer remember love consider appear buy wait
serve send expect build stay fall cut reach remain suggest raise pass sell require report
and but or so because if when while after before since until although though unless where
in on at by for with about against between into through during without within along across
quickly slowly often always never usually really simply certainly perhaps also still already
`;

interface WordForms {
  lower: string; // " word"
  capitalSpaced: string; // " Word"
  capitalBare: string; // "Word"
}

function capitalize(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

function buildVocabulary(): readonly WordForms[] {
  const seen = new Set<string>();
  const forms: WordForms[] = [];
  for (const word of CANDIDATE_WORDS.split(/\s+/)) {
    if (word.length === 0 || seen.has(word)) continue;
    seen.add(word);
    const candidate = { lower: ` ${word}`, capitalSpaced: ` ${capitalize(word)}`, capitalBare: capitalize(word) };
    if (encode(candidate.lower).length === 1 && encode(candidate.capitalSpaced).length === 1 && encode(candidate.capitalBare).length === 1) {
      forms.push(candidate);
    }
  }
  return forms;
}

const VOCABULARY = buildVocabulary();

/**
 * Appends `count` token pieces of prose to `out`. Sentences run 6-16 words, end in ".", and
 * sometimes carry a "," (never two punctuation marks in a row, which the tokenizer would merge).
 */
export function generateProse(rng: Rng, count: number, out: string[] = []): string[] {
  let wordsLeftInSentence = 0;
  let previousWasPunctuation = true;
  let atStart = out.length === 0;
  let sentenceStart = true;
  while (count > 0) {
    if (wordsLeftInSentence === 0 && !sentenceStart) {
      out.push('.');
      count--;
      sentenceStart = true;
      previousWasPunctuation = true;
      continue;
    }
    if (sentenceStart) wordsLeftInSentence = rng.int(6, 16);
    if (!previousWasPunctuation && !sentenceStart && wordsLeftInSentence > 2 && rng.next() < 0.08) {
      out.push(',');
      count--;
      previousWasPunctuation = true;
      continue;
    }
    const word = rng.pick(VOCABULARY);
    out.push(sentenceStart ? (atStart ? word.capitalBare : word.capitalSpaced) : word.lower);
    count--;
    atStart = false;
    sentenceStart = false;
    previousWasPunctuation = false;
    wordsLeftInSentence--;
  }
  return out;
}

/** Used by tests and by the JSON generator to fill string values with words. */
export function vocabularySize(): number {
  return VOCABULARY.length;
}

export function randomWord(rng: Rng): string {
  return rng.pick(VOCABULARY).lower.slice(1);
}
