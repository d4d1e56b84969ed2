// Shared notes: every device writes its own note into the store "notes" and sees everyone
// else's, live. React without a build step (createElement instead of JSX), useSyncedStore
// from meshslice-client/react. The daemon's address and token come from the page's fragment:
// http://127.0.0.1:5173/#api=http://127.0.0.1:7071&token=msf_...
import { createElement as h, useEffect, useState } from 'react';
import { MeshsliceClient } from 'meshslice-client';
import { MeshsliceProvider, useSyncedStore } from 'meshslice-client/react';

const params = new URLSearchParams(location.hash.slice(1));
const client = new MeshsliceClient({ baseUrl: params.get('api') || 'http://127.0.0.1:7071', token: params.get('token') || '' });

function Notes() {
  const { localData, version, remote, set, connected, error } = useSyncedStore('notes');
  const [draft, setDraft] = useState('');
  useEffect(() => { if (localData && typeof localData.text === 'string') setDraft(localData.text); }, [version]);
  const others = Object.values(remote);
  return h('main', null,
    h('h1', null, 'Shared notes'),
    h('p', { className: 'status', id: 'status' }, error ? 'error: ' + error.message : connected ? 'live' : 'connecting…'),
    h('label', { htmlFor: 'mine' }, 'My note ', h('span', { className: 'who' }, version ? 'v' + version : 'not set yet')),
    h('textarea', { id: 'mine', value: draft, onChange: (e) => setDraft(e.target.value) }),
    h('button', { id: 'save', onClick: () => set({ text: draft, at: Date.now() }) }, 'Share'),
    h('h2', null, 'Other devices (' + others.length + ')'),
    others.length === 0 ? h('p', null, 'No other device has written a note.') : null,
    ...others.map((s) => h('div', { className: 'note', key: s.deviceId, 'data-device': s.deviceId },
      h('div', { className: 'who' }, s.deviceId.slice(0, 9) + ' · v' + s.version),
      h('div', { className: 'text' }, s.data && typeof s.data.text === 'string' ? s.data.text : JSON.stringify(s.data)))));
}

ReactDOM.createRoot(document.getElementById('root')).render(h(MeshsliceProvider, { client }, h(Notes)));
