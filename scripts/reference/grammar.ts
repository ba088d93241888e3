/**
 * The reference corpus's sentences: a small English grammar with word lists
 * written for this project (free to redistribute with it). Sentences are drawn
 * with SeededRandom, so the same seed gives the same corpus on every machine.
 * The lists cover every letter (j, q, x, z included) so a character model
 * trained on them can spell the random words of the canaries.
 */
import { SeededRandom } from '../../src/util/random.ts';

const NAMES = [
  'anna', 'ben', 'clara', 'david', 'emma', 'frank', 'grace', 'henry', 'isaac', 'julia', 'kevin', 'laura', 'max',
  'nora', 'oscar', 'peter', 'quinn', 'rosa', 'sam', 'tom', 'uma', 'victor', 'wendy', 'xavier', 'yusuf', 'zoe',
  'jack', 'lucy', 'maria', 'james', 'olivia', 'daniel', 'sophie', 'mike', 'helen', 'jake', 'eliza', 'felix',
];
const NOUNS = [
  'farmer', 'teacher', 'doctor', 'baker', 'driver', 'sailor', 'painter', 'student', 'neighbor', 'child', 'girl',
  'boy', 'woman', 'man', 'dog', 'cat', 'horse', 'bird', 'fox', 'rabbit', 'zebra', 'monkey', 'tiger', 'duck',
  'house', 'garden', 'river', 'bridge', 'market', 'kitchen', 'window', 'door', 'table', 'chair', 'basket', 'box',
  'letter', 'book', 'picture', 'boat', 'train', 'bicycle', 'jacket', 'hat', 'cup', 'bottle', 'ladder', 'lamp',
  'apple', 'orange', 'bread', 'cheese', 'soup', 'cake', 'juice', 'honey', 'pizza', 'jam', 'salad', 'pepper',
  'road', 'hill', 'forest', 'lake', 'beach', 'island', 'village', 'city', 'school', 'office', 'hospital', 'museum',
  'queen', 'king', 'judge', 'jury', 'quilt', 'puzzle', 'jar', 'jewel', 'zipper', 'wax', 'axe', 'taxi', 'fence',
  'piano', 'violin', 'guitar', 'drum', 'song', 'story', 'question', 'answer', 'plan', 'party', 'meeting', 'game',
  'key', 'clock', 'phone', 'camera', 'wallet', 'ticket', 'map', 'rope', 'shovel', 'bucket', 'kettle', 'blanket',
];
const PLURALS = [
  'apples', 'books', 'boxes', 'eggs', 'letters', 'flowers', 'stones', 'shoes', 'candles', 'cookies', 'plates',
  'pencils', 'tickets', 'oranges', 'jars', 'quilts', 'puzzles', 'toys', 'shirts', 'coins', 'keys', 'cups',
];
const NUMBERS = ['two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'twelve', 'twenty'];
const ADJECTIVES = [
  'quiet', 'happy', 'old', 'young', 'small', 'large', 'heavy', 'light', 'bright', 'dark', 'warm', 'cold', 'quick',
  'slow', 'clever', 'lazy', 'busy', 'empty', 'full', 'clean', 'dirty', 'new', 'broken', 'famous', 'friendly',
  'gentle', 'brave', 'tired', 'hungry', 'jolly', 'fuzzy', 'cozy', 'crazy', 'red', 'blue', 'green', 'yellow',
  'brown', 'white', 'black', 'soft', 'loud', 'strange', 'lovely', 'wooden', 'tiny', 'huge', 'sweet', 'fresh',
];
const VERBS_PAST = [
  'painted', 'opened', 'closed', 'carried', 'found', 'lost', 'washed', 'cleaned', 'fixed', 'built', 'bought',
  'sold', 'watched', 'helped', 'visited', 'followed', 'pushed', 'pulled', 'dropped', 'lifted', 'moved', 'packed',
  'mixed', 'baked', 'cooked', 'checked', 'fetched', 'juggled', 'squeezed', 'zipped', 'wrapped', 'shared',
  'borrowed', 'returned', 'wanted', 'liked', 'loved', 'needed', 'noticed', 'explained', 'described', 'answered',
];
const VERBS = [
  'paint', 'open', 'close', 'carry', 'find', 'wash', 'clean', 'fix', 'build', 'buy', 'sell', 'watch', 'help',
  'visit', 'follow', 'push', 'pull', 'lift', 'move', 'pack', 'mix', 'bake', 'cook', 'check', 'fetch', 'share',
  'borrow', 'return', 'bring', 'take', 'show', 'draw', 'read', 'write', 'explain', 'describe',
];
const VERBS_INTRANSITIVE_PAST = [
  'waited', 'slept', 'laughed', 'smiled', 'jumped', 'danced', 'walked', 'ran', 'swam', 'sang', 'cried', 'shouted',
  'worked', 'played', 'rested', 'stayed', 'arrived', 'left', 'returned', 'listened', 'froze', 'vanished', 'relaxed',
];
const ADVERBS = [
  'slowly', 'quickly', 'quietly', 'loudly', 'carefully', 'happily', 'gently', 'suddenly', 'patiently', 'early',
  'late', 'together', 'outside', 'inside', 'again', 'twice', 'anyway', 'easily', 'badly', 'calmly',
];
const TIMES = [
  'today', 'yesterday', 'tomorrow', 'tonight', 'this morning', 'last week', 'on monday', 'on friday', 'every day',
  'in june', 'in july', 'in october', 'at noon', 'after lunch', 'before dinner', 'next year', 'at midnight',
];
const PREPOSITIONS = ['near', 'behind', 'under', 'over', 'beside', 'inside', 'across', 'along', 'around', 'into', 'from', 'to', 'by', 'at'];
const PRONOUNS = ['i', 'we', 'you', 'they', 'she', 'he'];
const DETERMINERS = ['the', 'a', 'my', 'your', 'our', 'their', 'his', 'her', 'this', 'that'];
const AUXILIARIES = ['will', 'can', 'should', 'might', 'must', 'could', 'would'];

type Pick = (list: readonly string[]) => string;

function nounPhrase(pick: Pick, adjective: boolean): string {
  const det = pick(DETERMINERS);
  const words = adjective ? [pick(ADJECTIVES), pick(NOUNS)] : [pick(NOUNS)];
  const article = det === 'a' && /^[aeiou]/.test(words[0]!) ? 'an' : det;
  return [article, ...words].join(' ');
}

/** Sentence templates; each returns lowercase words separated by single spaces. */
const TEMPLATES: ((pick: Pick, coin: () => boolean) => string)[] = [
  (p, c) => `${nounPhrase(p, c())} ${p(VERBS_PAST)} ${nounPhrase(p, c())}`,
  (p, c) => `${p(NAMES)} ${p(VERBS_PAST)} ${nounPhrase(p, c())} ${p(PREPOSITIONS)} ${nounPhrase(p, c())}`,
  (p, c) => `${nounPhrase(p, c())} ${p(VERBS_INTRANSITIVE_PAST)} ${p(ADVERBS)}`,
  (p, c) => `${p(NAMES)} and ${p(NAMES)} ${p(VERBS_PAST)} ${nounPhrase(p, c())}`,
  (p, c) => `${p(PRONOUNS)} ${p(VERBS_PAST)} ${nounPhrase(p, false)} ${p(PREPOSITIONS)} ${nounPhrase(p, c())}`,
  (p, c) => `${nounPhrase(p, c())} ${p(VERBS_INTRANSITIVE_PAST)} ${p(PREPOSITIONS)} ${nounPhrase(p, c())}`,
  (p, c) => `${p(PRONOUNS)} ${p(AUXILIARIES)} ${p(VERBS)} ${nounPhrase(p, c())} ${p(TIMES)}`,
  (p) => `${nounPhrase(p, false)} ${p(PREPOSITIONS)} ${nounPhrase(p, false)} was ${p(ADJECTIVES)}`,
  (p) => `${p(NAMES)} ${p(VERBS_PAST)} ${p(NUMBERS)} ${p(PLURALS)} ${p(TIMES)}`,
  (p, c) => `${p(PRONOUNS)} ${p(VERBS_INTRANSITIVE_PAST)} ${p(ADVERBS)} ${p(PREPOSITIONS)} ${nounPhrase(p, c())} ${p(TIMES)}`,
  (p) => `${p(NAMES)}'s ${p(NOUNS)} ${p(VERBS_INTRANSITIVE_PAST)} ${p(ADVERBS)} ${p(TIMES)}`,
  (p, c) => `${p(AUXILIARIES)} ${p(PRONOUNS)} ${p(VERBS)} ${nounPhrase(p, c())} ${p(TIMES)}`,
  (p) => `there were ${p(NUMBERS)} ${p(ADJECTIVES)} ${p(PLURALS)} ${p(PREPOSITIONS)} ${nounPhrase(p, false)}`,
  (p, c) => `${p(PRONOUNS)} ${p(['did not', "didn't", 'never', 'always'])} ${p(VERBS)} ${nounPhrase(p, c())}`,
];

export interface SentenceOptions {
  count: number;
  seed: string;
  minWords: number;
  maxWords: number;
}

/** `count` unique sentences of minWords..maxWords words, in a seeded order. */
export function generateSentences({ count, seed, minWords, maxWords }: SentenceOptions): string[] {
  const random = new SeededRandom(seed).fork('sentences');
  const pick: Pick = (list) => list[random.nextInt(list.length)]!;
  const coin = () => random.nextInt(2) === 1;
  const seen = new Set<string>();
  const sentences: string[] = [];
  for (let tries = 0; sentences.length < count; tries++) {
    if (tries > count * 50) throw new Error(`the grammar gave only ${sentences.length} unique sentences of ${minWords}-${maxWords} words`);
    const sentence = TEMPLATES[random.nextInt(TEMPLATES.length)]!(pick, coin);
    const words = sentence.split(' ').length;
    if (words < minWords || words > maxWords || seen.has(sentence)) continue;
    seen.add(sentence);
    sentences.push(sentence);
  }
  return sentences;
}
