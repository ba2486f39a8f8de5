// What a message body costs, as the server counts it (domain/message_body.cpp): GSM-7 when
// every character is in the GSM 03.38 alphabet (its extension table costs two septets), else
// UCS-2; 160/153 septets or 70/67 UTF-16 units per segment.
const BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
const EXTENSION = '\f^{}\\[~]|€';

export function measure(text) {
  let septets = 0;
  let gsm = true;
  for (const ch of text) {
    if (BASIC.includes(ch)) septets += 1;
    else if (EXTENSION.includes(ch)) septets += 2;
    else {
      gsm = false;
      break;
    }
  }
  const characters = [...text].length;
  if (gsm)
    return { characters, encoding: 'GSM-7', segments: septets <= 160 ? 1 : Math.ceil(septets / 153) };
  const units = text.length;
  return { characters, encoding: 'UCS-2', segments: units <= 70 ? 1 : Math.ceil(units / 67) };
}

// "Hi {{ firstName }}" with a contact's fields (a missing one renders empty).
export function render(template, contact) {
  const vars = {
    ...(contact.fields || {}),
    firstName: contact.firstName || '',
    lastName: contact.lastName || '',
    name: contact.name || [contact.firstName, contact.lastName].filter(Boolean).join(' '),
    phone: contact.phone || '',
    email: contact.email || '',
  };
  return template.replace(/\{\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}\}/g, (_, n) => vars[n] ?? '');
}
