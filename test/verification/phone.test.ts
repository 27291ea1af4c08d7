// Phone numbers: any common spelling of an international number → E.164; anything else refused.
import t from 'tap';
import { AppError } from '../../src/errors.js';
import { maskPhoneNumber, normalizePhoneNumber } from '../../src/verification/phone.js';

t.test('spellings normalise to E.164', async (t) => {
  for (const spelling of [
    '+14155550100',
    '+1 (415) 555-0100',
    '+1.415.555.0100',
    ' +1 415 555 0100 ',
    '0014155550100',
    '00 1 415-555-0100',
  ]) {
    t.equal(normalizePhoneNumber(spelling), '+14155550100', spelling);
  }
  t.equal(normalizePhoneNumber('+44 20 7183 8750'), '+442071838750');
  t.equal(normalizePhoneNumber('+49 (0)30 901820'), '+4930901820');
});

t.test('a repeated spelling answers alike, and a refused one stays refused', async (t) => {
  t.equal(normalizePhoneNumber('+1 (415) 555-0199'), '+14155550199');
  t.equal(normalizePhoneNumber('+1 (415) 555-0199'), '+14155550199', 'again (remembered)');
  for (let i = 0; i < 2; i++) {
    t.throws(
      () => normalizePhoneNumber('+1 415'),
      { code: 'invalid_phone_number' },
      `refused, time ${i + 1}`,
    );
  }
});

t.test('non-numbers are refused with invalid_phone_number', async (t) => {
  for (const input of ['', 'abc', '4155550100', '+1 415', '+0 123 456 789', '+44 20 7183 8750 1234 5']) {
    let refusal: unknown;
    try {
      normalizePhoneNumber(input);
    } catch (error) {
      refusal = error;
    }
    t.ok(refusal instanceof AppError && refusal.code === 'invalid_phone_number', JSON.stringify(input));
  }
});

t.test('masking keeps the country and the last digits only', async (t) => {
  t.equal(maskPhoneNumber('+14155550100'), '+1415*****00');
  t.equal(maskPhoneNumber('+123'), '****');
});
