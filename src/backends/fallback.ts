// The fallback strategy: one message through each channel in turn (the primary backend, then
// PHONE_VERIFICATION_FALLBACK_BACKEND) until one sends. Every start begins with the primary again:
// there is no sticky switch, so a recovered primary takes the next message.
import { type SendChannel, type SendOutcome, type Sms, sendWithDeadline } from './send.js';

/**
 * Every send tried, in order: the last one is the one that sent, or all of them failed. `failedOver`
 * is told of each switch to the next channel (the failed outcome, and the channel tried next).
 */
export async function sendWithFallback(
  channels: readonly SendChannel[],
  sms: Sms,
  failedOver: (failed: SendOutcome & { ok: false }, next: SendChannel) => void = () => {},
): Promise<SendOutcome[]> {
  const outcomes: SendOutcome[] = [];
  for (const [index, channel] of channels.entries()) {
    const outcome = await sendWithDeadline(channel, sms);
    outcomes.push(outcome);
    if (outcome.ok) break;
    const next = channels[index + 1];
    if (next) failedOver(outcome, next);
  }
  return outcomes;
}
