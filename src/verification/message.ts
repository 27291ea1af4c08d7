// Chooses the message template for a request and renders it. Language candidates: the request's
// `locale`, then Accept-Language tags by descending q; each tried as itself and then its shorter
// prefixes (RFC 4647 lookup), against the PHONE_VERIFICATION_MESSAGE_<LANG> translations.

export interface Templates {
  /** PHONE_VERIFICATION_MESSAGE */
  message: string;
  /** translations keyed by upper-case tag with underscores (DE, PT_BR, ZH_HANT) */
  messages: Record<string, string>;
}

export interface ChosenTemplate {
  template: string;
  /** the BCP 47 tag whose translation was chosen, if any */
  locale?: string;
}

/** Accept-Language tags, highest q first (stable for equal q), without "*" and q=0. */
export function acceptLanguageTags(header: string | undefined): string[] {
  if (!header) return [];
  const weighted: { tag: string; q: number; index: number }[] = [];
  header.split(',').forEach((part, index) => {
    const [rawTag, ...params] = part.trim().split(';');
    const tag = rawTag?.trim();
    if (!tag || tag === '*') return;
    let q = 1;
    for (const param of params) {
      const match = /^\s*q\s*=\s*([0-9.]+)\s*$/i.exec(param);
      if (match) q = Number(match[1]);
    }
    if (Number.isFinite(q) && q > 0) weighted.push({ tag, q, index });
  });
  return weighted.sort((a, b) => b.q - a.q || a.index - b.index).map((entry) => entry.tag);
}

function lookupKeys(tag: string): string[] {
  const parts = tag
    .trim()
    .toUpperCase()
    .split(/[-_]/)
    .filter((part) => /^[A-Z0-9]{1,8}$/.test(part));
  const keys: string[] = [];
  for (let length = parts.length; length > 0; length--) {
    // RFC 4647 §3.4: a single-letter subtag is dropped together with the one after it.
    if (parts[length - 1]!.length === 1) continue;
    keys.push(parts.slice(0, length).join('_'));
  }
  return keys;
}

export function chooseTemplate(
  templates: Templates,
  locale: string | undefined,
  acceptLanguage: string | undefined,
): ChosenTemplate {
  const candidates = [...(locale ? [locale] : []), ...acceptLanguageTags(acceptLanguage)];
  for (const candidate of candidates) {
    for (const key of lookupKeys(candidate)) {
      const template = templates.messages[key];
      if (template !== undefined) return { template, locale: key.replaceAll('_', '-').toLowerCase() };
    }
  }
  return { template: templates.message };
}

/** Replaces {app} and {security_code}; any other {placeholder} is left as it is. */
export function renderMessage(template: string, values: { app: string; security_code: string }): string {
  return template.replace(/\{(app|security_code)\}/g, (_, name: 'app' | 'security_code') => values[name]);
}
