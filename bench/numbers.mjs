// Valid, distinct phone numbers for the benchmark, across several countries and number ranges, so
// that every start is a different number and the service's parser sees a realistic mix.
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';

// E.164 prefixes of mobile and geographic ranges, and how many subscriber digits follow each.
const RANGES = [
  ['+4475', 8], // United Kingdom, mobile
  ['+4917', 9], // Germany, mobile
  ['+9198', 8], // India, mobile
  ['+3462', 7], // Spain, mobile
  ['+3933', 8], // Italy, mobile
  ['+33612', 6], // France, mobile
  ['+1415', 7], // United States, San Francisco
  ['+1212', 7], // United States, New York
];

/**
 * `count` distinct numbers, each checked with libphonenumber-js/max (the service's own parser);
 * candidates it refuses are skipped. The sequence is deterministic, so runs are comparable.
 */
export function validPhoneNumbers(count) {
  const numbers = [];
  const counters = RANGES.map(() => 0);
  for (let attempt = 0; numbers.length < count; attempt++) {
    const slot = attempt % RANGES.length;
    const [prefix, digits] = RANGES[slot];
    // A stride through the range instead of +1, so numbers spread over its sub-ranges.
    const subscriber = (counters[slot]++ * 7_919 + 2_000_000) % 10 ** digits;
    const candidate = prefix + String(subscriber).padStart(digits, '0');
    const parsed = parsePhoneNumberFromString(candidate);
    if (parsed?.isValid() && parsed.number === candidate) numbers.push(candidate);
    if (attempt > count * 4) throw new Error(`only ${numbers.length} valid numbers of ${count} wanted`);
  }
  return numbers;
}
