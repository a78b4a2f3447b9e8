// Run inside a loaded page by sources/fetch/browser.py (page.evaluate): one fetch()
// through the page itself, so the site's own scripts (which hook fetch/XHR to
// add their tokens) and cookies apply. Returns status, final URL, headers and
// the raw body as base64; or tooLarge when the body goes over the byte cap
// (the rest is not read); or timedOut after `timeout` ms.
async ({ url, method, body, headers, referrer, cap, timeout }) => {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeout);
  const init = { method, headers, credentials: "include", redirect: "follow", signal: abort.signal };
  if (body !== null) init.body = body;
  if (referrer) init.referrer = referrer;
  try {
    const response = await fetch(url, init);
    const head = {};
    response.headers.forEach((value, name) => { head[name] = value; });
    const result = { status: response.status, url: response.url, headers: head };
    const declared = Number(response.headers.get("content-length") || "0");
    if (declared > cap) {
      if (response.body) await response.body.cancel();
      return { ...result, tooLarge: declared };
    }
    const chunks = [];
    let size = 0;
    if (response.body) {
      const reader = response.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        size += value.length;
        if (size > cap) {
          await reader.cancel();
          return { ...result, tooLarge: size };
        }
        chunks.push(value);
      }
    }
    let binary = "";
    for (const chunk of chunks) {
      for (let i = 0; i < chunk.length; i += 0x8000) {
        binary += String.fromCharCode.apply(null, chunk.subarray(i, i + 0x8000));
      }
    }
    return { ...result, body: btoa(binary) };
  } catch (error) {
    if (abort.signal.aborted) return { timedOut: true };
    throw error;
  } finally {
    clearTimeout(timer);
  }
}
