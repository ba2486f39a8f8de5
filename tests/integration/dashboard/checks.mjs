// What both browser tests (dashboard_test.mjs, reference_test.mjs) check with: counted checks
// that print ok/FAIL, and a bounded wait on a condition.
export const tally = { checks: 0, failures: 0 };

export function check(ok, what) {
  tally.checks++;
  if (ok) console.log(`ok: ${what}`);
  else {
    tally.failures++;
    console.error(`FAIL: ${what}`);
  }
}

export async function until(what, fn, ms = 20000, every = 100) {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, every));
  }
  throw new Error(`timed out waiting for ${what} (last: ${last})`);
}
