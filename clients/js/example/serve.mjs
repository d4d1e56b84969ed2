// Serves the example app (example/) on 127.0.0.1, with React's UMD builds from node_modules
// and the client from src/: nothing from a CDN. Usage: node example/serve.mjs [port] (default
// 5173); then open the address it prints with #api=<daemon URL>&token=<token>.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { dirname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const port = Number(process.argv[2] || process.env.PORT || 5173);
const files = {
  '/': ['example/index.html', 'text/html; charset=utf-8'],
  '/app.js': ['example/app.js', 'text/javascript'],
  '/react-shim.js': ['example/react-shim.js', 'text/javascript'],
  '/vendor/react.js': ['node_modules/react/umd/react.production.min.js', 'text/javascript'],
  '/vendor/react-dom.js': ['node_modules/react-dom/umd/react-dom.production.min.js', 'text/javascript'],
  '/src/index.js': ['src/index.js', 'text/javascript'],
  '/src/react.js': ['src/react.js', 'text/javascript'],
};

const server = createServer(async (req, res) => {
  const entry = files[new URL(req.url, 'http://x').pathname];
  if (!entry) {
    res.writeHead(404).end('not found');
    return;
  }
  try {
    const body = await readFile(normalize(join(root, entry[0])));
    res.writeHead(200, { 'Content-Type': entry[1], 'Cache-Control': 'no-cache' }).end(body);
  } catch {
    res.writeHead(500).end('cannot read ' + entry[0] + ' (run npm install first)');
  }
});
server.listen(port, '127.0.0.1', () => {
  console.log('example app on http://127.0.0.1:' + server.address().port + '/');
});
