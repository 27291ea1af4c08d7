// The provider's id of a sent message, read from whatever sendSms resolved to: the built-in
// backends answer { sid } (Twilio), { messageId } (Vonage) or { id } (webhook); a plugin may answer
// any of those, or the id itself as a string. Delivery receipts find their send by this id.

const MAX_ID_LENGTH = 255;
const KEYS = ['sid', 'messageId', 'message_id', 'id'] as const;

function asId(value: unknown): string | null {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value !== 'string') return null;
  const id = value.trim();
  return id !== '' && id.length <= MAX_ID_LENGTH ? id : null;
}

/** The message id in a send's result, or null when it carries none. Never throws. */
export function providerMessageId(result: unknown): string | null {
  try {
    if (typeof result === 'string') return asId(result);
    if (!result || typeof result !== 'object') return null;
    for (const key of KEYS) {
      const id = asId((result as Record<string, unknown>)[key]);
      if (id) return id;
    }
  } catch {
    // a getter or Proxy of a plugin's result that throws: no id
  }
  return null;
}
