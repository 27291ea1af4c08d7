// Template rendering and language choice (RFC 4647 lookup over locale, then Accept-Language by q).
import t from 'tap';
import { acceptLanguageTags, chooseTemplate, renderMessage } from '../../src/verification/message.js';

t.test('renderMessage replaces {app} and {security_code} only', async (t) => {
  t.equal(
    renderMessage('{app}: {security_code} {security_code} {other} {', { app: 'A', security_code: '123' }),
    'A: 123 123 {other} {',
  );
  t.equal(
    renderMessage('{security_code}', { app: 'A', security_code: '$&' }),
    '$&',
    'replacement text is literal',
  );
});

t.test('Accept-Language ordering', async (t) => {
  t.same(acceptLanguageTags('da, en-GB;q=0.8, en;q=0.7'), ['da', 'en-GB', 'en']);
  t.same(acceptLanguageTags('en;q=0.1, de;q=0.9, *;q=0.5, fr;q=0'), ['de', 'en']);
  t.same(acceptLanguageTags('fr, de'), ['fr', 'de'], 'stable for equal q');
  t.same(acceptLanguageTags(undefined), []);
  t.same(acceptLanguageTags(' , ;q=1'), []);
});

t.test('lookup falls back along shorter prefixes', async (t) => {
  const templates = { message: 'default', messages: { ZH_HANT: 'hant', ZH: 'zh', PT_BR: 'br', DE: 'de' } };
  t.same(chooseTemplate(templates, 'zh-Hant-TW', undefined), { template: 'hant', locale: 'zh-hant' });
  t.same(chooseTemplate(templates, 'zh-Hans', undefined), { template: 'zh', locale: 'zh' });
  t.same(chooseTemplate(templates, 'pt_BR', undefined), { template: 'br', locale: 'pt-br' });
  t.same(chooseTemplate(templates, 'pt', undefined), { template: 'default' });
  t.same(
    chooseTemplate(templates, 'de-x-private', undefined),
    { template: 'de', locale: 'de' },
    'x- singleton dropped with what follows',
  );
  t.same(chooseTemplate(templates, undefined, 'fr;q=0.9, pt-BR;q=0.5, de;q=0.4'), {
    template: 'br',
    locale: 'pt-br',
  });
  t.same(chooseTemplate(templates, 'en', 'en-US'), { template: 'default' });
});
