// The dashboard: a Preact + htm single page under /app, routed in the browser, on the public
// REST API only (api.js). Pages live in pages.js and campaigns.js.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, activeOrg, setActiveOrg, onUnauthorized, closeStream, query } from './api.js';
import { html, navigate, Form, Field, Secret, useLoad, Loading } from './ui.js';
import { Devices, Contacts, ContactList, OptOuts, Webhooks, WebhookDetail, ApiKeys, Messages } from './pages.js';
import { Campaigns, CampaignDetail, NewCampaign, SendForm } from './campaigns.js';

const NAV = [
  ['/app/', 'Overview'],
  ['/app/devices', 'Devices'],
  ['/app/contacts', 'Contacts'],
  ['/app/campaigns', 'Campaigns'],
  ['/app/send', 'Send'],
  ['/app/messages', 'Messages'],
  ['/app/opt-outs', 'Opt-outs'],
  ['/app/webhooks', 'Webhooks'],
  ['/app/api-keys', 'API keys'],
];

function route(path) {
  const m = (re) => path.match(re);
  let r;
  if ((r = m(/^\/app\/campaigns\/new$/))) return [NewCampaign, {}];
  if ((r = m(/^\/app\/campaigns\/([^/]+)$/))) return [CampaignDetail, { id: r[1] }];
  if ((r = m(/^\/app\/contacts\/([^/]+)$/))) return [ContactList, { id: r[1] }];
  if ((r = m(/^\/app\/webhooks\/([^/]+)$/))) return [WebhookDetail, { id: r[1] }];
  const simple = {
    '/app/devices': Devices,
    '/app/contacts': Contacts,
    '/app/campaigns': Campaigns,
    '/app/send': SendForm,
    '/app/messages': Messages,
    '/app/opt-outs': OptOuts,
    '/app/webhooks': Webhooks,
    '/app/api-keys': ApiKeys,
  };
  return [simple[path.replace(/\/$/, '')] || Overview, {}];
}

const DEFAULT_MONTHLY = { free: 100, pro: null, enterprise: null };

function Overview({ orgs, org, reloadOrgs }) {
  const now = new Date();
  const month = now.toISOString().slice(0, 8) + '01';
  const today = now.toISOString().slice(0, 10);
  const stats = useLoad(() => api('GET', '/api/stats' + query({ from: month, to: today })), [org && org.id]);
  const cap = org ? DEFAULT_MONTHLY[org.plan] : null;
  return html`<h1>Overview</h1>
    ${org && html`<section class="card" aria-labelledby="plan-h">
      <h2 id="plan-h">${org.name}</h2>
      <p>Plan: <strong id="plan">${org.plan}</strong> · your role: ${org.role}</p>
      <${Loading} state=${stats} />
      ${stats.data && html`<p id="usage">SMS queued this month: <strong>${stats.data.queued}</strong>${cap ? ` of ${cap} (the ${org.plan} plan's default limit)` : ' (no monthly limit by default)'}</p>
        ${cap && html`<progress max=${cap} value=${Math.min(cap, stats.data.queued)} aria-label="Monthly SMS used"></progress>`}
        <dl class="counters">
          <div><dt>Sent</dt><dd>${stats.data.sent}</dd></div>
          <div><dt>Delivered</dt><dd>${stats.data.delivered}</dd></div>
          <div><dt>Failed</dt><dd>${stats.data.failed}</dd></div>
          <div title="Delivered messages as a share of the sent ones (the API's deliveryRate)"><dt>Delivered of sent</dt><dd>${Math.round(stats.data.deliveryRate * 100)}%</dd></div>
        </dl>`}
    </section>`}
    <section class="card" aria-labelledby="neworg-h">
      <h2 id="neworg-h">New organization</h2>
      <${Form} label="New organization" submit="Create" action=${async (v, form) => {
        const created = await api('POST', '/api/organizations', { name: v.name });
        form.reset();
        setActiveOrg(created.id);
        await reloadOrgs();
      }}>
        <${Field} label="Name" name="name" required />
      </${Form}>
    </section>
    <p>The REST API these pages use is documented at <a href="/reference">/reference</a>.</p>`;
}

function Login({ onIn }) {
  return html`<main id="main" class="auth">
    <h1>Log in to Pulse</h1>
    <${Form} label="Log in" submit="Log in" action=${async (v) => {
      await api('POST', '/api/auth/login', { email: v.email, password: v.password }, { quiet: true });
      setActiveOrg('');
      await onIn();
    }}>
      <${Field} label="Email" name="email" type="email" required autocomplete="username" />
      <${Field} label="Password" name="password" type="password" required autocomplete="current-password" />
    </${Form}>
    <p>No account? <a href="/app/signup">Sign up</a></p>
  </main>`;
}

function Signup({ onIn }) {
  const [key, setKey] = useState(null);
  if (key)
    return html`<main id="main" class="auth"><h1>Welcome to Pulse</h1>
      <${Secret} id="signup-api-key" label="Your organization's API key." value=${key} onDone=${async () => {
        navigate('/app/devices');
        setKey(null);
        await onIn();
      }} />
    </main>`;
  return html`<main id="main" class="auth">
    <h1>Create your Pulse account</h1>
    <${Form} label="Sign up" submit="Sign up" action=${async (v) => {
      const r = await api('POST', '/api/auth/signup', v, { quiet: true });
      await api('POST', '/api/auth/login', { email: v.email, password: v.password }, { quiet: true });
      setActiveOrg('');
      setKey(r.apiKey);
    }}>
      <${Field} label="Your name" name="name" autocomplete="name" />
      <${Field} label="Organization" name="organizationName" />
      <${Field} label="Email" name="email" type="email" required autocomplete="username" />
      <${Field} label="Password (8 characters or more)" name="password" type="password" minlength="8" required autocomplete="new-password" />
    </${Form}>
    <p>Have an account? <a href="/app/login">Log in</a></p>
  </main>`;
}

function Shell({ path, orgs, reloadOrgs, onOut }) {
  const current = orgs.find((o) => o.id === activeOrg()) || orgs[0];
  const [Page, params] = route(path);
  useEffect(() => {
    const h1 = document.querySelector('main h1');
    if (h1) document.title = h1.textContent + ' · Pulse';
  });
  return html`<a class="skip" href="#main">Skip to content</a>
    <header class="top">
      <a class="brand" href="/app/">Pulse</a>
      <label class="org">
        <span class="visually-hidden">Organization</span>
        <select id="org-switch" value=${current && current.id} onChange=${(e) => {
          setActiveOrg(e.currentTarget.value);
          closeStream();
          reloadOrgs();
        }}>
          ${orgs.map((o) => html`<option value=${o.id}>${o.name}</option>`)}
        </select>
      </label>
      <button type="button" class="secondary" id="logout" onClick=${async () => {
        try {
          await api('POST', '/api/auth/logout', undefined, { quiet: true });
        } finally {
          setActiveOrg('');
          closeStream();
          onOut();
        }
      }}>Log out</button>
    </header>
    <nav class="side" aria-label="Sections">
      <ul>${NAV.map(([href, label]) => {
        const on = href === '/app/' ? path === '/app/' || path === '/app' : path.startsWith(href);
        return html`<li><a href=${href} aria-current=${on ? 'page' : undefined}>${label}</a></li>`;
      })}</ul>
    </nav>
    <main id="main" tabindex="-1" key=${(current && current.id) + path}>
      <${Page} ...${params} org=${current} orgs=${orgs} reloadOrgs=${reloadOrgs} />
    </main>`;
}

function App() {
  const [path, setPath] = useState(location.pathname);
  const [orgs, setOrgs] = useState(undefined); // undefined: checking; null: logged out
  const loadOrgs = async () => {
    try {
      const list = await api('GET', '/api/organizations', undefined, { quiet: true });
      if (activeOrg() && !list.some((o) => o.id === activeOrg())) setActiveOrg('');
      setOrgs(list);
    } catch (e) {
      if (e.status === 401 || e.status === 403) {
        if (e.status === 403 && activeOrg()) {
          setActiveOrg('');
          return loadOrgs();
        }
        setOrgs(null);
      } else throw e;
    }
  };
  useEffect(() => {
    const onPop = () => setPath(location.pathname);
    addEventListener('popstate', onPop);
    // Links inside the app move without a reload.
    const onClick = (e) => {
      const a = e.target.closest && e.target.closest('a[href^="/app"]');
      if (!a || e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
      e.preventDefault();
      navigate(a.getAttribute('href'));
    };
    document.addEventListener('click', onClick);
    onUnauthorized(() => setOrgs(null));
    loadOrgs();
    return () => {
      removeEventListener('popstate', onPop);
      document.removeEventListener('click', onClick);
    };
  }, []);
  useEffect(() => {
    const main = document.getElementById('main');
    if (main && document.activeElement === document.body) main.focus({ preventScroll: true });
  }, [path]);
  if (orgs === undefined) return html`<main id="main"><p>Loading…</p></main>`;
  if (orgs === null) {
    if (path === '/app/signup') return html`<${Signup} onIn=${loadOrgs} />`;
    return html`<${Login} onIn=${async () => {
      await loadOrgs();
      if (path === '/app/login' || path === '/app/signup') navigate('/app/');
    }} />`;
  }
  if (path === '/app/login' || path === '/app/signup') {
    queueMicrotask(() => navigate('/app/'));
    return null;
  }
  return html`<${Shell} path=${path} orgs=${orgs} reloadOrgs=${loadOrgs} onOut=${() => {
    setOrgs(null);
    navigate('/app/login');
  }} />`;
}

render(html`<${App} />`, document.getElementById('root'));
