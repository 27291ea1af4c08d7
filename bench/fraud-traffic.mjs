// The traffic of the fraud simulation (`npm run bench:fraud`, test/abuse/attacks.test.ts): real
// users' numbers in many prefixes of ten countries, and the numbers of the two shapes of SMS pumping
// the fraud guard must stop. Everything comes from a seeded PRNG, so runs are comparable.
import { getExampleNumber, parsePhoneNumberFromString } from 'libphonenumber-js/max';
import examples from 'libphonenumber-js/mobile/examples';

/** mulberry32: a small, fast, seeded PRNG; `next()` is uniform in [0, 1). */
export function seededRandom(seed) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    /** a whole number in [0, n) */
    below: (n) => Math.floor(next() * n),
    /** exponentially distributed, with the given mean (the gap between Poisson arrivals) */
    exponential: (mean) => -Math.log(1 - next()) * mean,
    /** log-normally distributed, with the given median and log-space spread */
    logNormal: (median, sigma) => {
      const u = 1 - next();
      const v = next();
      return median * Math.exp(sigma * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v));
    },
    digits: (count) => {
      let text = '';
      for (let i = 0; i < count; i++) text += String(Math.floor(next() * 10));
      return text;
    },
  };
}

/**
 * The countries real users come from: their share of the users and of those who type their code
 * (60–90 %, as the issue sets real traffic's conversion).
 */
export const REAL_USER_COUNTRIES = [
  { country: 'US', share: 0.24, conversion: 0.85 },
  { country: 'IN', share: 0.15, conversion: 0.6 },
  { country: 'GB', share: 0.1, conversion: 0.8 },
  { country: 'BR', share: 0.1, conversion: 0.65 },
  { country: 'DE', share: 0.08, conversion: 0.9 },
  { country: 'FR', share: 0.08, conversion: 0.75 },
  { country: 'MX', share: 0.07, conversion: 0.7 },
  { country: 'ES', share: 0.06, conversion: 0.8 },
  { country: 'IT', share: 0.06, conversion: 0.75 },
  { country: 'AU', share: 0.06, conversion: 0.85 },
];

/**
 * The concentrated attack: random numbers in the 100 blocks of 10,000 numbers of one UK mobile
 * range (+447441 00 0000 … +447441 99 9999), a range in a country that real users come from too.
 */
export const CONCENTRATED_RANGE = '+447441';

/**
 * The thin attack: Uzbekistan's mobile numbers (+998 9…, 100 million numbers, 10,000 blocks), a
 * country none of the real users come from, no block started twice.
 */
export const THIN_RANGE = '+9989';

/** E.164 without its last 4 digits: the contract's number block (10,000 numbers). */
export function blockOf(number) {
  return number.slice(0, -4);
}

function isMobile(number) {
  const parsed = parsePhoneNumberFromString(number);
  if (!parsed?.isValid() || parsed.number !== number) return false;
  const type = parsed.getType();
  return type === 'MOBILE' || type === 'FIXED_LINE_OR_MOBILE';
}

/** A random valid mobile number of the country (as long as its example mobile number). */
function randomMobile(random, country) {
  const example = getExampleNumber(country, examples);
  if (!example) throw new Error(`no example mobile number for ${country}`);
  for (let attempt = 0; attempt < 10_000; attempt++) {
    const candidate = `+${example.countryCallingCode}${random.digits(example.nationalNumber.length)}`;
    if (isMobile(candidate)) return candidate;
  }
  throw new Error(`no valid mobile number of ${country} found`);
}

/** A random valid mobile number that starts with `prefix` and has `total` digits after the "+". */
function randomInRange(random, prefix, total) {
  for (let attempt = 0; attempt < 10_000; attempt++) {
    const candidate = prefix + random.digits(total - (prefix.length - 1));
    if (isMobile(candidate)) return candidate;
  }
  throw new Error(`no valid mobile number in ${prefix} found`);
}

/** Picks a real user's country by share. */
export function realUserCountry(random) {
  let point = random.next() * REAL_USER_COUNTRIES.reduce((sum, c) => sum + c.share, 0);
  for (const entry of REAL_USER_COUNTRIES) {
    point -= entry.share;
    if (point < 0) return entry;
  }
  return REAL_USER_COUNTRIES.at(-1);
}

/**
 * Number generators that never give one number twice: real users (outside both attacked ranges),
 * the concentrated attack, and the thin attack (one start per block, ever).
 */
export function numberSource(random) {
  const used = new Set();
  const thinBlocks = new Set();
  const fresh = (make) => {
    for (;;) {
      const number = make();
      if (!used.has(number)) {
        used.add(number);
        return number;
      }
    }
  };
  return {
    realUser(country) {
      return fresh(() => {
        for (;;) {
          const number = randomMobile(random, country);
          if (!number.startsWith(CONCENTRATED_RANGE) && !number.startsWith(THIN_RANGE)) return number;
        }
      });
    },
    concentrated() {
      return fresh(() => randomInRange(random, CONCENTRATED_RANGE, 12));
    },
    thin() {
      return fresh(() => {
        for (;;) {
          const number = randomInRange(random, THIN_RANGE, 12);
          if (!thinBlocks.has(blockOf(number))) {
            thinBlocks.add(blockOf(number));
            return number;
          }
        }
      });
    },
  };
}
