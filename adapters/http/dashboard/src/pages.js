// Devices, contacts and opt-outs, messages, webhooks and API keys.
import { useEffect, useState } from 'preact/hooks';
import { api, query, subscribe } from './api.js';
import { html, navigate, useLoad, Loading, Err, Form, Field, ActionButton, Table, Pager, usePager, fmtTime, Status, Secret } from './ui.js';

// ---- Devices

function Pairing({ onClose }) {
  const p = useLoad(() => api('POST', '/api/devices/pairing'));
  return html`<section class="card" aria-labelledby="pair-h">
    <h2 id="pair-h">Connect a device</h2>
    <${Loading} state=${p} />
    ${p.data && html`<div class="pairing">
      <img src=${p.data.qrSvgUrl} alt="QR code to scan with the Pulse gateway app" width="220" height="220" />
      <div>
        <ol>
          <li>Install the gateway app on the Android phone.</li>
          <li>Scan this QR code${p.data.code != null ? ', or type the code' : ''} in the app.</li>
          <li>The phone appears in the list below by itself when it registers.</li>
        </ol>
        ${p.data.code != null && html`<p>Code: <strong class="code" id="pairing-code">${p.data.code}</strong></p>`}
        <p>Pairing token: <code id="pairing-token">${p.data.pairingToken}</code></p>
        <p class="muted">Single use; expires ${fmtTime(p.data.expiresAt)}.</p>
        <div class="actions">
          <button type="button" class="secondary" onClick=${p.reload}>New code</button>
          <button type="button" onClick=${onClose}>Close</button>
        </div>
      </div>
    </div>`}
  </section>`;
}

function DeviceRow({ d, reload }) {
  const [editing, setEditing] = useState(false);
  if (!editing)
    return html`<button type="button" class="secondary" onClick=${() => setEditing(true)} aria-label=${'Edit ' + d.deviceName}>Edit</button>
      <${ActionButton} label=${'Unpair ' + d.deviceName} confirm=${`Unpair ${d.deviceName}? Its messages go back to the queue.`} action=${async () => {
        await api('DELETE', `/api/devices/${d.id}`);
        reload();
      }}>Unpair</${ActionButton}>`;
  return html`<${Form} label=${'Edit ' + d.deviceName} action=${async (v, form) => {
    const sims = [...form.querySelectorAll('input[name=sim]:checked')].map((i) => Number(i.value));
    await api('PATCH', `/api/devices/${d.id}`, { deviceName: v.deviceName, sendingSims: sims });
    setEditing(false);
    reload();
  }}>
    <${Field} label="Name" name="deviceName" value=${d.deviceName} idSuffix=${d.id} required />
    <fieldset><legend>Sending SIMs</legend>
      ${d.sims.map((s) => html`<label class="check"><input type="checkbox" name="sim" value=${s.slot} checked=${s.sending} /> SIM ${s.slot + 1} ${s.phoneNumber} ${s.carrier}</label>`)}
    </fieldset>
  </${Form}>`;
}

export function Devices() {
  const [pairing, setPairing] = useState(false);
  const devices = useLoad(() => api('GET', '/api/devices'));
  useEffect(() => subscribe((type) => type === 'device' && devices.reload()), []);
  return html`<h1>Devices</h1>
    ${pairing ? html`<${Pairing} onClose=${() => setPairing(false)} />` : html`<p><button type="button" id="connect-device" onClick=${() => setPairing(true)}>Connect device</button></p>`}
    <${Loading} state=${devices} />
    ${devices.data && html`<${Table} caption="Devices" empty="No device yet: connect one." rows=${devices.data} columns=${[
      { label: 'Name', cell: (d) => html`<strong>${d.deviceName}</strong><br /><small>${d.model} · Android ${d.osVersion}</small>` },
      { label: 'Status', cell: (d) => html`<${Status} value=${d.status} />` },
      { label: 'SIMs', cell: (d) => d.sims.map((s) => html`<div>SIM ${s.slot + 1}: ${s.phoneNumber || 'no number'} ${s.carrier && `(${s.carrier})`} ${s.sending ? '· sending' : '· not sending'}</div>`) },
      { label: 'Last seen', cell: (d) => fmtTime(d.lastSeenAt) },
      { label: 'SMS sent', cell: (d) => d.smsSent },
      { label: 'Battery', cell: (d) => (d.battery == null ? '—' : d.battery + '%') },
      { label: 'Actions', cell: (d) => html`<${DeviceRow} d=${d} reload=${devices.reload} />` },
    ]} />`}`;
}

// ---- Contacts

export function Contacts() {
  const pager = usePager();
  const lists = useLoad(() => api('GET', '/api/contacts' + query({ limit: 50, cursor: pager.cursor }), undefined, { page: true }), [pager.cursor]);
  return html`<h1>Contacts</h1>
    <section class="card" aria-labelledby="newlist-h">
      <h2 id="newlist-h">New list</h2>
      <${Form} label="New contact list" submit="Create list" action=${async (v) => {
        const l = await api('POST', '/api/contacts', { name: v.name });
        navigate(`/app/contacts/${l.id}`);
      }}><${Field} label="List name" name="name" required /></${Form}>
    </section>
    <${Loading} state=${lists} />
    ${lists.data && html`<${Table} caption="Contact lists" empty="No list yet." rows=${lists.data.data} columns=${[
      { label: 'List', cell: (l) => html`<a href=${`/app/contacts/${l.id}`}>${l.name}</a>` },
      { label: 'Contacts', cell: (l) => l.contactCount },
      { label: 'Updated', cell: (l) => fmtTime(l.updatedAt) },
    ]} /><${Pager} pager=${pager} next=${lists.data.next} />`}`;
}

function ContactForm({ listId, contact, done }) {
  return html`<${Form} label=${contact ? 'Edit ' + contact.phone : 'Add a contact'} submit=${contact ? 'Save' : 'Add'} action=${async (v, form) => {
    const body = { firstName: v.firstName, lastName: v.lastName, email: v.email || undefined };
    if (contact) await api('PATCH', `/api/contacts/${listId}/contacts/${encodeURIComponent(contact.phone)}`, body);
    else await api('POST', `/api/contacts/${listId}/contacts`, { phone: v.phone, ...body });
    form.reset();
    done();
  }}>
    ${!contact && html`<${Field} label="Phone (E.164)" name="phone" required placeholder="+14155550100" />`}
    <${Field} label="First name" name="firstName" value=${contact && contact.firstName} idSuffix=${contact ? '-e' : ''} />
    <${Field} label="Last name" name="lastName" value=${contact && contact.lastName} idSuffix=${contact ? '-e' : ''} />
    <${Field} label="Email" name="email" type="email" value=${contact && contact.email} idSuffix=${contact ? '-e' : ''} />
  </${Form}>`;
}

function Import({ listId, done }) {
  const [report, setReport] = useState(null);
  return html`<section class="card" aria-labelledby="import-h">
    <h2 id="import-h">Import a CSV</h2>
    <p class="muted">A header row (phone, firstName, lastName, email, other columns become fields), then one contact per line.</p>
    <${Form} label="Import CSV" submit="Import" action=${async (v, form) => {
      const file = form.querySelector('input[type=file]').files[0];
      const text = file ? await file.text() : v.csv;
      if (!text) throw new Error('Choose a file or paste the CSV');
      setReport(await api('POST', `/api/contacts/${listId}/import`, text));
      form.reset();
      done();
    }}>
      <${Field} label="CSV file" name="file" type="file" accept=".csv,text/csv" />
      <${Field} label="Or paste CSV" name="csv" type="textarea" />
    </${Form}>
    ${report && html`<div id="import-report" role="status">
      <p><strong>${report.imported}</strong> imported, <strong>${report.updated}</strong> updated, <strong>${report.rejected.length}</strong> rejected; the list has ${report.contactCount} contacts.</p>
      ${report.rejected.length > 500 && html`<p>The first 500 rejected rows:</p>`}
      <${Table} caption="Rejected rows" empty="No row was rejected." rows=${report.rejected.slice(0, 500)} columns=${[
        { label: 'Row', cell: (r) => r.row },
        { label: 'Phone', cell: (r) => r.phone },
        { label: 'Why', cell: (r) => r.error },
      ]} />
    </div>`}
  </section>`;
}

export function ContactList({ id }) {
  const pager = usePager();
  const [editing, setEditing] = useState(null);
  const list = useLoad(() => api('GET', `/api/contacts/${id}` + query({ limit: 50, cursor: pager.cursor })), [id, pager.cursor]);
  if (!list.data) return html`<h1>Contact list</h1><${Loading} state=${list} />`;
  const l = list.data;
  return html`<h1>${l.name}</h1>
    <p>${l.contactCount} contacts · <a href=${`/app/campaigns/new?list=${l.id}`}>New campaign on this list</a></p>
    <div class="grid2">
      <section class="card" aria-labelledby="add-h"><h2 id="add-h">${editing ? 'Edit ' + editing.phone : 'Add a contact'}</h2>
        <${ContactForm} key=${editing ? editing.phone : 'new'} listId=${id} contact=${editing} done=${() => { setEditing(null); list.reload(); }} />
      </section>
      <${Import} listId=${id} done=${list.reload} />
    </div>
    <${Table} caption="Contacts" empty="No contact yet." rows=${l.contacts.map((c) => ({ ...c, id: c.phone }))} columns=${[
      { label: 'Phone', cell: (c) => c.phone },
      { label: 'Name', cell: (c) => [c.firstName, c.lastName].filter(Boolean).join(' ') || c.name || '—' },
      { label: 'Email', cell: (c) => c.email || '—' },
      { label: 'Actions', cell: (c) => html`<button type="button" class="secondary" aria-label=${'Edit ' + c.phone} onClick=${() => setEditing(c)}>Edit</button>
        <${ActionButton} label=${'Remove ' + c.phone} action=${async () => { await api('DELETE', `/api/contacts/${id}/contacts/${encodeURIComponent(c.phone)}`); list.reload(); }}>Remove</${ActionButton}>` },
    ]} />
    <${Pager} pager=${pager} next=${l.nextCursor} />
    <p><${ActionButton} class="danger" confirm="Delete this list and its contacts?" action=${async () => { await api('DELETE', `/api/contacts/${id}`); navigate('/app/contacts'); }}>Delete list</${ActionButton}></p>`;
}

export function OptOuts() {
  const pager = usePager();
  const list = useLoad(() => api('GET', '/api/opt-outs' + query({ limit: 50, cursor: pager.cursor }), undefined, { page: true }), [pager.cursor]);
  return html`<h1>Opt-outs</h1>
    <p class="muted">Sends skip these numbers. Replies of STOP add them by themselves.</p>
    <section class="card"><${Form} label="Add an opt-out" submit="Add" action=${async (v, form) => {
      await api('POST', '/api/opt-outs', { phone: v.phone, reason: v.reason || undefined });
      form.reset();
      list.reload();
    }}>
      <${Field} label="Phone (E.164)" name="phone" required />
      <${Field} label="Reason" name="reason" />
    </${Form}></section>
    <${Loading} state=${list} />
    ${list.data && html`<${Table} caption="Opt-outs" empty="Nobody opted out." rows=${list.data.data.map((o) => ({ ...o, id: o.phone }))} columns=${[
      { label: 'Phone', cell: (o) => o.phone },
      { label: 'Reason', cell: (o) => o.reason || '—' },
      { label: 'Source', cell: (o) => o.source },
      { label: 'Since', cell: (o) => fmtTime(o.createdAt) },
      { label: 'Actions', cell: (o) => html`<${ActionButton} label=${'Remove opt-out ' + o.phone} action=${async () => { await api('DELETE', `/api/opt-outs/${encodeURIComponent(o.phone)}`); list.reload(); }}>Remove</${ActionButton}>` },
    ]} /><${Pager} pager=${pager} next=${list.data.next} />`}`;
}

// ---- Messages

export function Timeline({ id, onClose }) {
  const m = useLoad(() => api('GET', `/api/messages/${id}`), [id]);
  return html`<section class="card timeline" aria-labelledby="tl-h" id="message-timeline">
    <h2 id="tl-h">Message ${id}</h2>
    <${Loading} state=${m} />
    ${m.data && html`<p>To ${m.data.contactPhone} · <${Status} value=${m.data.status} /> · ${m.data.encoding}, ${m.data.segments} segment(s) · ${m.data.attempts} attempt(s)</p>
      ${m.data.error && html`<p class="error" id="message-error">Error: ${m.data.error}</p>`}
      <blockquote>${m.data.body}</blockquote>
      <ol class="steps">${m.data.timeline.map((t) => html`<li><${Status} value=${t.status} /> ${fmtTime(t.at)}${t.deviceId ? ` · ${t.deviceId}` : ''}${t.simSlot != null ? ` SIM ${t.simSlot + 1}` : ''}${t.attempt ? ` · attempt ${t.attempt}` : ''}${t.error ? html` · <span class="error">${t.error}</span>` : ''}</li>`)}</ol>`}
    <button type="button" class="secondary" onClick=${onClose}>Close</button>
  </section>`;
}

export const messageColumns = (open) => [
  { label: 'To', cell: (m) => html`${m.contactPhone}${m.contactName ? html`<br /><small>${m.contactName}</small>` : ''}` },
  { label: 'Status', cell: (m) => html`<${Status} value=${m.status} />` },
  { label: 'Body', cell: (m) => html`<span class="body">${m.body}</span>` },
  { label: 'Error', cell: (m) => m.error || '—' },
  { label: 'Updated', cell: (m) => fmtTime(m.updatedAt) },
  { label: 'Timeline', cell: (m) => html`<button type="button" class="secondary" aria-label=${'Timeline of the message to ' + m.contactPhone} onClick=${() => open(m.id)}>Timeline</button>` },
];

export function Messages() {
  const params = new URLSearchParams(location.search);
  const [filters, setFilters] = useState({ status: params.get('status') || '', campaignId: params.get('campaignId') || '', phone: '', from: '', to: '' });
  const [open, setOpen] = useState(null);
  const pager = usePager();
  const q = { ...filters, from: filters.from && new Date(filters.from).toISOString(), to: filters.to && new Date(filters.to).toISOString() };
  const list = useLoad(() => api('GET', '/api/messages' + query({ ...q, limit: 50, cursor: pager.cursor }), undefined, { page: true }), [JSON.stringify(filters), pager.cursor]);
  return html`<h1>Messages</h1>
    <form class="filters" aria-label="Filters" onSubmit=${(e) => {
      e.preventDefault();
      setFilters(Object.fromEntries(new FormData(e.currentTarget).entries()));
      pager.reset();
    }}>
      <label class="field" for="mf-status"><span>Status</span><select id="mf-status" name="status" value=${filters.status}>
        ${['', 'queued', 'sending', 'sent', 'delivered', 'failed'].map((s) => html`<option value=${s}>${s || 'any'}</option>`)}
      </select></label>
      <${Field} label="Campaign id" name="campaignId" value=${filters.campaignId} />
      <${Field} label="Phone" name="phone" value=${filters.phone} />
      <${Field} label="From" name="from" type="datetime-local" value=${filters.from} />
      <${Field} label="To" name="to" type="datetime-local" value=${filters.to} />
      <div class="actions"><button type="submit">Filter</button></div>
    </form>
    ${open && html`<${Timeline} id=${open} onClose=${() => setOpen(null)} />`}
    <${Loading} state=${list} />
    ${list.data && html`<${Table} caption="Messages" empty="No message matches." rows=${list.data.data} columns=${messageColumns(setOpen)} />
      <${Pager} pager=${pager} next=${list.data.next} />`}`;
}

// ---- Webhooks

const EVENTS = ['message.sent', 'message.delivered', 'message.failed', 'message.received', 'campaign.started', 'campaign.completed', 'campaign.cancelled', 'campaign.stalled', 'device.connected', 'device.disconnected', 'verify.approved', 'verify.failed'];

export function Webhooks() {
  const [secret, setSecret] = useState(null);
  const hooks = useLoad(() => api('GET', '/api/webhooks'));
  return html`<h1>Webhooks</h1>
    ${secret && html`<${Secret} id="webhook-secret" label="The endpoint's signing secret." value=${secret.secret} onDone=${() => { setSecret(null); navigate(`/app/webhooks/${secret.id}`); }} />`}
    <section class="card" aria-labelledby="newhook-h">
      <h2 id="newhook-h">New endpoint</h2>
      <${Form} label="New webhook endpoint" submit="Create endpoint" action=${async (v, form) => {
        const events = [...form.querySelectorAll('input[name=event]:checked')].map((i) => i.value);
        const created = await api('POST', '/api/webhooks', { url: v.url, events, description: v.description || undefined });
        form.reset();
        setSecret(created);
        hooks.reload();
      }}>
        <${Field} label="URL" name="url" type="url" required placeholder="https://example.com/pulse" />
        <${Field} label="Description" name="description" />
        <fieldset><legend>Events</legend>
          ${EVENTS.map((e) => html`<label class="check"><input type="checkbox" name="event" value=${e} checked /> ${e}</label>`)}
        </fieldset>
      </${Form}>
    </section>
    <${Loading} state=${hooks} />
    ${hooks.data && html`<${Table} caption="Webhook endpoints" empty="No endpoint yet." rows=${hooks.data} columns=${[
      { label: 'URL', cell: (w) => html`<a href=${`/app/webhooks/${w.id}`}>${w.url}</a>` },
      { label: 'Events', cell: (w) => w.events.join(', ') },
      { label: 'Enabled', cell: (w) => (w.enabled ? 'yes' : `no${w.disabledReason ? ': ' + w.disabledReason : ''}`) },
    ]} />`}`;
}

function Delivery({ d, hookId, reload }) {
  const [open, setOpen] = useState(false);
  return html`<li class="delivery">
    <button type="button" class="link" aria-expanded=${open} onClick=${() => setOpen(!open)}>
      <${Status} value=${d.status} /> ${d.eventType} · ${fmtTime(d.createdAt)} · ${d.attempts.length} attempt(s)${d.attempts.length ? ` · last ${d.attempts[d.attempts.length - 1].statusCode || 'no answer'}` : ''}
    </button>
    ${open && html`<div>
      <${Table} caption="Attempts" empty="Not attempted yet." rows=${d.attempts} columns=${[
        { label: 'At', cell: (a) => fmtTime(a.at) },
        { label: 'Status', cell: (a) => a.statusCode || 'no answer' },
        { label: 'Latency', cell: (a) => a.latencyMs + ' ms' },
        { label: 'Response', cell: (a) => html`<code>${a.response}</code>` },
      ]} />
      ${d.nextAttemptAt && html`<p>Next attempt ${fmtTime(d.nextAttemptAt)}</p>`}
      <${ActionButton} action=${async () => { await api('POST', `/api/webhooks/${hookId}/deliveries/${d.id}/retry`); reload(); }}>Retry now</${ActionButton}>
    </div>`}
  </li>`;
}

export function WebhookDetail({ id }) {
  const [secret, setSecret] = useState(null);
  const [status, setStatus] = useState('');
  const [note, setNote] = useState('');
  const pager = usePager();
  const hook = useLoad(() => api('GET', `/api/webhooks/${id}`), [id]);
  const log = useLoad(() => api('GET', `/api/webhooks/${id}/deliveries` + query({ limit: 25, cursor: pager.cursor, status })), [id, pager.cursor, status]);
  const w = hook.data;
  return html`<h1>Webhook endpoint</h1>
    <${Loading} state=${hook} />
    ${secret && html`<${Secret} id="webhook-secret" label="The new signing secret." value=${secret} onDone=${() => setSecret(null)} />`}
    ${w && html`<section class="card"><p><strong>${w.url}</strong></p><p>${w.description}</p><p>Events: ${w.events.join(', ')}</p>
      <p>${w.enabled ? 'Enabled' : `Disabled${w.disabledReason ? ': ' + w.disabledReason : ''}`}</p>
      <div class="actions">
        <${ActionButton} class="primary" action=${async () => { await api('POST', `/api/webhooks/${id}/test`); setNote('Ping queued: it shows in the log below.'); log.reload(); }}>Send test ping</${ActionButton}>
        <${ActionButton} action=${async () => { await api('PATCH', `/api/webhooks/${id}`, { enabled: !w.enabled }); hook.reload(); }}>${w.enabled ? 'Disable' : 'Enable'}</${ActionButton}>
        <${ActionButton} confirm="Rotate the secret? The old one stops working." action=${async () => { const r = await api('POST', `/api/webhooks/${id}/rotate-secret`); setSecret(r.secret); }}>Rotate secret</${ActionButton}>
        <${ActionButton} class="danger" confirm="Delete this endpoint?" action=${async () => { await api('DELETE', `/api/webhooks/${id}`); navigate('/app/webhooks'); }}>Delete</${ActionButton}>
      </div>
      ${note && html`<p role="status">${note}</p>`}
    </section>`}
    <section class="card" aria-labelledby="replay-h"><h2 id="replay-h">Replay a window</h2>
      <${Form} label="Replay deliveries" submit="Replay" action=${async (v) => {
        await api('POST', `/api/webhooks/${id}/replay`, { since: new Date(v.since).toISOString(), ...(v.until ? { until: new Date(v.until).toISOString() } : {}) });
        setNote('Replay queued.');
        log.reload();
      }}>
        <${Field} label="Since" name="since" type="datetime-local" required />
        <${Field} label="Until (default: now)" name="until" type="datetime-local" />
      </${Form}>
    </section>
    <section aria-labelledby="log-h"><h2 id="log-h">Delivery log</h2>
      <div class="row">
        <label class="field" for="dl-status"><span>Status</span><select id="dl-status" value=${status} onChange=${(e) => { setStatus(e.currentTarget.value); pager.reset(); }}>
          ${['', 'pending', 'succeeded', 'dead'].map((s) => html`<option value=${s}>${s || 'any'}</option>`)}</select></label>
        <button type="button" class="secondary" id="refresh-log" onClick=${log.reload}>Refresh</button>
      </div>
      <${Loading} state=${log} />
      ${log.data && (log.data.deliveries.length
        ? html`<ul class="deliveries" id="delivery-log">${log.data.deliveries.map((d) => html`<${Delivery} key=${d.id} d=${d} hookId=${id} reload=${log.reload} />`)}</ul>`
        : html`<p class="empty">No delivery yet.</p>`)}
      ${log.data && html`<${Pager} pager=${pager} next=${log.data.nextCursor} />`}
    </section>`;
}

// ---- API keys

export function ApiKeys() {
  const [secret, setSecret] = useState(null);
  const keys = useLoad(() => api('GET', '/api/api-keys'));
  return html`<h1>API keys</h1>
    ${secret && html`<${Secret} id="new-api-key" label="Your new API key." value=${secret} onDone=${() => setSecret(null)} />`}
    <section class="card"><${Form} label="New API key" submit="Create key" action=${async (v, form) => {
      const k = await api('POST', '/api/api-keys', { name: v.name || undefined });
      form.reset();
      setSecret(k.apiKey);
      keys.reload();
    }}><${Field} label="Key name" name="name" /></${Form}></section>
    <${Loading} state=${keys} />
    ${keys.data && html`<${Table} caption="API keys" rows=${keys.data} columns=${[
      { label: 'Name', cell: (k) => k.name },
      { label: 'Key', cell: (k) => html`<code>${k.prefix}</code>` },
      { label: 'Created', cell: (k) => fmtTime(k.createdAt) },
      { label: 'Status', cell: (k) => (k.revokedAt ? `revoked ${fmtTime(k.revokedAt)}` : 'active') },
      { label: 'Actions', cell: (k) => !k.revokedAt && html`<${ActionButton} class="danger" label=${'Revoke ' + k.name} confirm=${`Revoke ${k.name}? Its tokens stop working.`} action=${async () => { await api('DELETE', `/api/api-keys/${k.id}`); keys.reload(); }}>Revoke</${ActionButton}>` },
    ]} />`}`;
}
