import { html, layout, type Markup } from '../../../lib/html.ts';

/** One kind of block the page edits: its API path and the directive every block of it starts with. */
interface Section {
  readonly kind: 'camera' | 'stream';
  readonly api: '/api/cameras' | '/api/streams';
  readonly first: { readonly directive: string; readonly placeholder: string };
}

const SECTIONS: readonly Section[] = [
  { kind: 'camera', api: '/api/cameras', first: { directive: 'Source', placeholder: 'rtsp://camera.lan/stream1' } },
  { kind: 'stream', api: '/api/streams', first: { directive: 'Feed', placeholder: 'camera name' } },
];

/**
 * `/admin`: cameras and streams of relay.conf, added, changed and removed through /api/cameras and /api/streams,
 * and a source tested before it is added. The page is a static frame; player/admin.js fills and submits it.
 */
export function renderAdminPage(): string {
  const body = html`<h1>Cameras and streams</h1>
<p class="nav"><a href="/">cameras</a> · <a href="/stat.html">status</a> · <a href="/api/openapi.json">API</a>
 · changes are written to relay.conf (the previous file is kept as relay.conf.bak) and applied by a reload</p>
<p id="admin-error" class="error" role="alert" hidden></p>
<p id="admin-done" class="muted" role="status"></p>
${SECTIONS.map(section)}
${sourceTest()}`;
  return layout('Relay admin', body, { scripts: ['/assets/admin.js'], bodyClass: 'admin' });
}

function section({ kind, api, first }: Section): Markup {
  return html`<section class="admin-section" data-kind="${kind}" data-api="${api}">
<h2>${kind === 'camera' ? 'Cameras' : 'Streams'}</h2>
<table class="${kind}-list"><thead><tr><th>Name</th><th>${first.directive}</th><th>Details</th><th></th></tr></thead><tbody></tbody></table>
<form class="add-form" data-kind="${kind}">
<h3>Add a ${kind}</h3>
<label>Name <input name="name" required></label>
<label>${first.directive} <input name="first" data-directive="${first.directive}" required placeholder="${first.placeholder}"></label>
<label>Other directives, one per line (<code>Directive value</code>)
<textarea name="directives" rows="3" placeholder="${kind === 'camera' ? 'OnDemand yes' : 'Format mjpeg'}"></textarea></label>
<button type="submit">Add ${kind}</button>
</form>
<form class="change-form" data-kind="${kind}" hidden>
<h3>Change <span class="change-name"></span></h3>
<label>Directives to set, one per line (<code>Directive value</code>); a name alone removes that directive
<textarea name="directives" rows="3"></textarea></label>
<button type="submit">Save</button> <button type="button" class="cancel">Cancel</button>
</form>
</section>`;
}

function sourceTest(): Markup {
  return html`<section class="source-test">
<h2>Test a source</h2>
<form id="test-form">
<label>Source <input name="source" required placeholder="rtsp://camera.lan/stream1"></label>
<label>User <input name="username" autocomplete="off"></label>
<label>Password <input name="password" type="password" autocomplete="new-password"></label>
<button type="submit">Test this source</button> <span id="test-state" class="muted"></span>
</form>
<div id="test-result" hidden><p id="test-figures"></p><img id="test-snapshot" alt="snapshot of the tested source"></div>
</section>`;
}
