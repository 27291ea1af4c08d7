// The text fields of a multipart/form-data body (RFC 7578), enough for django-phone-verify's
// clients: files are skipped, field values read as UTF-8.

export function parseMultipartFields(contentType: string, body: Buffer): Record<string, string> {
  const boundary = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  const mark = boundary?.[1] ?? boundary?.[2];
  if (!mark) throw new Error('The multipart body has no boundary.');
  const fields: Record<string, string> = {};
  const text = body.toString('latin1');
  for (const part of text.split(`--${mark}`).slice(1)) {
    if (part.startsWith('--')) break;
    const split = part.indexOf('\r\n\r\n');
    if (split < 0) continue;
    const head = part.slice(0, split);
    const name = /content-disposition:[^\r\n]*;\s*name="([^"]*)"/i.exec(head)?.[1];
    if (name === undefined || /filename=/i.test(head)) continue;
    const value = part.slice(split + 4).replace(/\r\n$/, '');
    fields[name] ??= Buffer.from(value, 'latin1').toString('utf8');
  }
  return fields;
}
