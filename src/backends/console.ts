// The `console` backend: writes each message to the service log instead of sending it. For
// development only: it is the one backend whose log lines carry the message (and so the code), so
// it writes them through the uncensored logger: `this.logger` censors codes and messages.
import { BaseBackend, messageLoggerOf } from './base.js';

export class ConsoleBackend extends BaseBackend {
  override sendSms(number: string, message: string): void {
    messageLoggerOf(this).info(
      { backend: 'console', phone_number: number, message },
      'console backend: SMS not sent, logged',
    );
  }
}
