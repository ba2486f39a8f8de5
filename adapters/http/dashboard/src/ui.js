// Small shared pieces: htm bound to Preact, a loader hook, forms, tables and their pager.
import { h } from 'preact';
import { useCallback, useEffect, useState } from 'preact/hooks';
import htm from 'htm';

export const html = htm.bind(h);

export function navigate(path) {
  history.pushState(null, '', path);
  dispatchEvent(new PopStateEvent('popstate'));
}

// Runs `load` now and whenever a dependency changes; reload() runs it again.
export function useLoad(load, deps = []) {
  const [state, setState] = useState({ loading: true, data: null, error: null });
  const run = useCallback(() => {
    let live = true;
    load().then(
      (data) => live && setState({ loading: false, data, error: null }),
      (error) => live && setState({ loading: false, data: null, error }),
    );
    return () => (live = false);
  }, deps);
  useEffect(run, [run]);
  // `update(fn)` applies fn to the newest data, so several stream events arriving before one
  // render each keep their change (a `set` built from a render's data would drop all but one).
  const update = (fn) => setState((prev) => ({ loading: false, data: fn(prev.data), error: null }));
  return { ...state, reload: run, set: (data) => setState({ loading: false, data, error: null }), update };
}

export function Err({ error }) {
  if (!error) return null;
  return html`<p class="error" role="alert">${error.message}${error.details ? `: ${error.details}` : ''}</p>`;
}

export function Loading({ state }) {
  if (state.loading) return html`<p aria-live="polite">Loading…</p>`;
  return html`<${Err} error=${state.error} />`;
}

// A form whose submit runs `action(values)`; shows its error, disables itself while busy.
export function Form({ action, children, label, submit = 'Save', class: cls = '' }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const onSubmit = async (e) => {
    e.preventDefault();
    const form = e.currentTarget;
    const values = Object.fromEntries(new FormData(form).entries());
    setBusy(true);
    setError(null);
    try {
      await action(values, form);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return html`<form class=${'form ' + cls} aria-label=${label} onSubmit=${onSubmit}>
    ${children}
    <div class="actions"><button type="submit" disabled=${busy}>${submit}</button></div>
    <${Err} error=${error} />
  </form>`;
}

export function Field({ label, name, type = 'text', required, value, placeholder, hint, idSuffix = '', ...rest }) {
  const id = 'f-' + name + idSuffix;
  return html`<label class="field" for=${id}>
    <span>${label}</span>
    ${type === 'textarea'
      ? html`<textarea id=${id} name=${name} required=${required} placeholder=${placeholder} rows="4" value=${value} ...${rest}></textarea>`
      : html`<input id=${id} name=${name} type=${type} required=${required} value=${value} placeholder=${placeholder} ...${rest} />`}
    ${hint && html`<small>${hint}</small>`}
  </label>`;
}

// Buttons that act on one row: confirm when asked, show the error beside them.
export function ActionButton({ action, children, confirm: ask, class: cls = 'secondary', label }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const run = async () => {
    if (ask && !window.confirm(ask)) return;
    setBusy(true);
    setError(null);
    try {
      await action();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return html`<button type="button" class=${cls} aria-label=${label} disabled=${busy} onClick=${run}>${children}</button>${error && html` <span class="error" role="alert">${error.message}</span>`}`;
}

export function Table({ caption, columns, rows, empty = 'Nothing yet.' }) {
  if (!rows || !rows.length) return html`<p class="empty">${empty}</p>`;
  return html`<div class="table-wrap" tabindex="0" role="region" aria-label=${caption}>
    <table>
      <caption class="visually-hidden">${caption}</caption>
      <thead><tr>${columns.map((c) => html`<th scope="col">${c.label}</th>`)}</tr></thead>
      <tbody>${rows.map((r, i) => html`<tr key=${r.id || i}>${columns.map((c) => html`<td data-label=${c.label}>${c.cell(r)}</td>`)}</tr>`)}</tbody>
    </table>
  </div>`;
}

// Cursor paging: the pages seen so far make "Previous" work without the API going backwards.
export function usePager() {
  const [stack, setStack] = useState(['']);
  const cursor = stack[stack.length - 1];
  return {
    cursor,
    page: stack.length,
    reset: () => setStack(['']),
    next: (c) => setStack([...stack, c]),
    prev: () => setStack(stack.slice(0, -1)),
  };
}

export function Pager({ pager, next }) {
  if (pager.page === 1 && !next) return null;
  return html`<nav class="pager" aria-label="Pages">
    <button type="button" class="secondary" disabled=${pager.page === 1} onClick=${pager.prev}>Previous</button>
    <span>Page ${pager.page}</span>
    <button type="button" class="secondary" disabled=${!next} onClick=${() => pager.next(next)}>Next</button>
  </nav>`;
}

export const fmtTime = (t) => (t ? new Date(t).toLocaleString() : '—');

export function Status({ value }) {
  return html`<span class=${'badge s-' + value}>${value}</span>`;
}

// A secret shown once: the page keeps it only in memory until dismissed.
export function Secret({ label, value, onDone, id }) {
  return html`<div class="secret" role="status">
    <p><strong>${label}</strong> This is shown only once: copy it now.</p>
    <code id=${id}>${value}</code>
    <div class="actions">
      <button type="button" class="secondary" onClick=${() => navigator.clipboard && navigator.clipboard.writeText(value)}>Copy</button>
      <button type="button" onClick=${onDone}>Done</button>
    </div>
  </div>`;
}
