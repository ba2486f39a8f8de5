// Campaigns: the list, a new one with its live preview, one watched live, and one-off sends.
import { useEffect, useState } from 'preact/hooks';
import { api, query, subscribe } from './api.js';
import { measure, render } from './sms.js';
import { html, navigate, useLoad, Loading, Form, Field, ActionButton, Table, Pager, usePager, fmtTime, Status } from './ui.js';
import { Timeline, messageColumns } from './pages.js';

const STATUSES = ['', 'draft', 'scheduled', 'running', 'paused', 'completed', 'cancelled'];
// Past the phone (sent, delivered or failed): sentCount also counts the delivered ones.
const done = (c) => Math.max(0, c.totalMessages - c.queuedCount - c.sendingCount);

export function Campaigns() {
  const [status, setStatus] = useState('');
  const pager = usePager();
  const list = useLoad(() => api('GET', '/api/campaigns' + query({ limit: 25, cursor: pager.cursor, status }), undefined, { page: true }), [pager.cursor, status]);
  useEffect(() => subscribe((type, c) => {
    if (type !== 'campaign') return;
    list.update((d) => d && { ...d, data: d.data.map((x) => (x.id === c.id ? c : x)) });
  }), []);
  return html`<h1>Campaigns</h1>
    <div class="row">
      <a class="button" href="/app/campaigns/new">New campaign</a>
      <a class="button secondary" href="/app/send">Send a message</a>
      <label class="field" for="cf-status"><span>Status</span><select id="cf-status" value=${status} onChange=${(e) => { setStatus(e.currentTarget.value); pager.reset(); }}>
        ${STATUSES.map((s) => html`<option value=${s}>${s || 'any'}</option>`)}</select></label>
    </div>
    <${Loading} state=${list} />
    ${list.data && html`<${Table} caption="Campaigns" empty="No campaign yet." rows=${list.data.data} columns=${[
      { label: 'Name', cell: (c) => html`<a href=${`/app/campaigns/${c.id}`}>${c.name}</a>` },
      { label: 'Status', cell: (c) => html`<${Status} value=${c.status} />` },
      { label: 'Progress', cell: (c) => html`<progress max=${c.totalMessages || 1} value=${done(c)} aria-label=${'Progress of ' + c.name}></progress> ${done(c)}/${c.totalMessages}` },
      { label: 'Delivered', cell: (c) => c.deliveredCount },
      { label: 'Failed', cell: (c) => c.failedCount },
      { label: 'Created', cell: (c) => fmtTime(c.createdAt) },
    ]} /><${Pager} pager=${pager} next=${list.data.next} />`}`;
}

function Preview({ listId, message }) {
  const contacts = useLoad(() => (listId ? api('GET', `/api/contacts/${listId}` + query({ limit: 3 })) : Promise.resolve(null)), [listId]);
  if (!message) return html`<p class="muted">Type a message to see it as the first contacts will get it.</p>`;
  const sample = contacts.data && contacts.data.contacts.length ? contacts.data.contacts : [{ phone: '+10000000000', firstName: 'Ada', lastName: 'Lovelace' }];
  return html`<div id="preview" aria-live="polite">
    <h3>Preview</h3>
    ${sample.map((c) => {
      const text = render(message, c);
      const m = measure(text);
      return html`<div class="preview"><p class="muted">To ${c.phone}</p><blockquote>${text}</blockquote>
        <p class="meta"><span>${m.characters} characters</span> · <span class="encoding">${m.encoding}</span> · <span class="segments">${m.segments} segment${m.segments === 1 ? '' : 's'}</span></p></div>`;
    })}
  </div>`;
}

export function NewCampaign() {
  const [listId, setListId] = useState(new URLSearchParams(location.search).get('list') || '');
  const [message, setMessage] = useState('');
  const lists = useLoad(() => api('GET', '/api/contacts' + query({ limit: 100 })));
  useEffect(() => {
    if (!listId && lists.data && lists.data.length) setListId(lists.data[0].id);
  }, [lists.data]);
  return html`<h1>New campaign</h1>
    <${Loading} state=${lists} />
    <div class="grid2">
      <section class="card"><${Form} label="New campaign" submit="Launch campaign" action=${async (v) => {
        const c = await api('POST', '/api/campaigns', {
          name: v.name, message: v.message, contactListId: v.contactListId,
          ...(v.scheduledAt ? { scheduledAt: new Date(v.scheduledAt).toISOString() } : {}),
        });
        navigate(`/app/campaigns/${c.id}`);
      }}>
        <${Field} label="Name" name="name" required />
        <label class="field" for="f-list"><span>Contact list</span>
          <select id="f-list" name="contactListId" required value=${listId} onChange=${(e) => setListId(e.currentTarget.value)}>
            ${(lists.data || []).map((l) => html`<option value=${l.id}>${l.name} (${l.contactCount})</option>`)}
          </select></label>
        <${Field} label="Message" name="message" type="textarea" required hint="Placeholders: {{firstName}}, {{lastName}}, {{name}}, {{phone}}, {{email}} and your CSV's columns." onInput=${(e) => setMessage(e.currentTarget.value)} />
        <${Field} label="Schedule (optional)" name="scheduledAt" type="datetime-local" />
      </${Form}></section>
      <section class="card"><${Preview} listId=${listId} message=${message} /></section>
    </div>`;
}

export function CampaignDetail({ id }) {
  const [open, setOpen] = useState(null);
  const [failedOnly, setFailedOnly] = useState(false);
  const pager = usePager();
  const campaign = useLoad(() => api('GET', `/api/campaigns/${id}/stats`), [id]);
  const info = useLoad(() => api('GET', `/api/campaigns/${id}` + query({ limit: 50, messagesCursor: pager.cursor })), [id, pager.cursor]);
  const failed = useLoad(() => (failedOnly ? api('GET', '/api/messages' + query({ campaignId: id, status: 'failed', limit: 50 })) : Promise.resolve(null)), [id, failedOnly]);
  useEffect(() => subscribe((type, data) => {
    if (type === 'campaign' && data.id === id) {
      // The event carries the counters: show them now, then the rest of the stats.
      const { status, totalMessages, queuedCount, sendingCount, sentCount, deliveredCount, failedCount, startedAt, completedAt } = data;
      campaign.update((d) => d && { ...d, status, totalMessages, queuedCount, sendingCount, sentCount, deliveredCount, failedCount, startedAt, completedAt });
      campaign.reload();
      info.update((d) => d && { ...d, ...data, messages: d.messages, nextMessagesCursor: d.nextMessagesCursor });
    }
    if (type === 'message' && data.campaignId === id)
      info.update((d) => d && { ...d, messages: d.messages.map((m) => (m.id === data.id ? { ...m, ...data } : m)) });
  }), [id]);
  const s = campaign.data;
  const c = info.data;
  if (!s || !c) return html`<h1>Campaign</h1><${Loading} state=${s ? info : campaign} />`;
  const finished = done(s);
  const pct = s.totalMessages ? Math.round((finished * 100) / s.totalMessages) : 0;
  return html`<h1>${c.name}</h1>
    <section class="card" aria-labelledby="live-h">
      <h2 id="live-h">Status: <span id="campaign-status"><${Status} value=${s.status} /></span></h2>
      <progress id="campaign-progress" max=${s.totalMessages || 1} value=${finished} aria-label="Campaign progress"></progress> <span>${pct}%</span>
      <dl class="counters" id="campaign-counters">
        ${[['total', 'Total', s.totalMessages], ['queued', 'Queued', s.queuedCount], ['sending', 'Sending', s.sendingCount], ['sent', 'Sent', s.sentCount], ['delivered', 'Delivered', s.deliveredCount], ['failed', 'Failed', s.failedCount], ['suppressed', 'Opted out', s.suppressedCount]]
          .map(([k, label, v]) => html`<div><dt>${label}</dt><dd data-counter=${k}>${v}</dd></div>`)}
      </dl>
      <p class="muted">${c.message}</p>
      <p class="muted">Created ${fmtTime(c.createdAt)}${c.scheduledAt ? ` · scheduled ${fmtTime(c.scheduledAt)}` : ''}${s.startedAt ? ` · started ${fmtTime(s.startedAt)}` : ''}${s.completedAt ? ` · completed ${fmtTime(s.completedAt)}` : ''}</p>
      <div class="actions">
        ${s.status === 'running' && html`<${ActionButton} action=${async () => { await api('POST', `/api/campaigns/${id}/pause`); campaign.reload(); }}>Pause</${ActionButton}>`}
        ${s.status === 'paused' && html`<${ActionButton} action=${async () => { await api('POST', `/api/campaigns/${id}/resume`); campaign.reload(); }}>Resume</${ActionButton}>`}
        ${['running', 'paused', 'scheduled'].includes(s.status) && html`<${ActionButton} class="danger" confirm="Cancel this campaign? Its queued messages fail." action=${async () => { await api('POST', `/api/campaigns/${id}/cancel`); campaign.reload(); }}>Cancel</${ActionButton}>`}
      </div>
    </section>
    ${open && html`<${Timeline} id=${open} onClose=${() => setOpen(null)} />`}
    <section aria-labelledby="msgs-h">
      <h2 id="msgs-h">Messages</h2>
      <label class="check"><input type="checkbox" id="failed-only" checked=${failedOnly} onChange=${(e) => setFailedOnly(e.currentTarget.checked)} /> Only failed messages</label>
      ${failedOnly
        ? failed.data && html`<${Table} caption="Failed messages" empty="No failed message." rows=${failed.data} columns=${messageColumns(setOpen)} />`
        : html`<${Table} caption="Messages" rows=${c.messages} columns=${messageColumns(setOpen)} /><${Pager} pager=${pager} next=${c.nextMessagesCursor} />`}
    </section>`;
}

export function SendForm() {
  const [message, setMessage] = useState('');
  const [result, setResult] = useState(null);
  const devices = useLoad(() => api('GET', '/api/devices'));
  const m = measure(message);
  return html`<h1>Send a message</h1>
    <section class="card"><${Form} label="Send a message" submit="Send" action=${async (v) => {
      const recipients = v.recipients.split(/[\s,;]+/).filter(Boolean);
      const r = await api('POST', '/api/sms/send', {
        recipients, message: v.message,
        ...(v.deviceId ? { deviceId: v.deviceId } : {}),
        ...(v.scheduledAt ? { scheduledAt: new Date(v.scheduledAt).toISOString() } : {}),
      });
      setResult(r);
    }}>
      <${Field} label="Recipients (E.164, separated by commas or lines)" name="recipients" type="textarea" required />
      <${Field} label="Message" name="message" type="textarea" required onInput=${(e) => setMessage(e.currentTarget.value)} hint=${`${m.characters} characters · ${m.encoding} · ${m.segments} segment(s)`} />
      <label class="field" for="f-device"><span>Device</span><select id="f-device" name="deviceId">
        <option value="">Any online device</option>
        ${(devices.data || []).map((d) => html`<option value=${d.id}>${d.deviceName}</option>`)}</select></label>
      <${Field} label="Schedule (optional)" name="scheduledAt" type="datetime-local" />
    </${Form}>
    ${result && html`<p role="status">Queued for ${result.recipientCount} recipient(s): <a href=${`/app/campaigns/${result.campaignId}`}>follow it</a>.</p>`}</section>`;
}
