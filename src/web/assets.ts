import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, normalize, sep } from 'node:path';
import type { Context, Env, Hono } from 'hono';

/**
 * The NHS.UK frontend's compiled CSS, JavaScript and images, served from node_modules (no build
 * step), with the pages' own small stylesheet and scripts (static/). The frontend's CSS points at
 * `/assets/…`; it is served with those URLs moved under the pages' prefix.
 */
const frontendDist = join(dirname(createRequire(import.meta.url).resolve('nhsuk-frontend/package.json')), 'dist', 'nhsuk');
const ownStatic = new URL('./static/', import.meta.url);

const TYPES: Record<string, string> = {
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
};

interface Asset {
  body: Uint8Array | string;
  type: string;
}

/** Each file read once, on first request. */
const cache = new Map<string, Asset>();

function load(name: string, prefix: string): Asset | undefined {
  const extension = name.slice(name.lastIndexOf('.'));
  const type = TYPES[extension];
  if (!type) return undefined;
  try {
    switch (name) {
      case 'nhsuk-frontend.min.css':
        return { type, body: readFileSync(join(frontendDist, 'nhsuk-frontend.min.css'), 'utf8').replaceAll('url(/assets/', `url(${prefix}/assets/`) };
      case 'nhsuk-frontend.min.js':
        return { type, body: readFileSync(join(frontendDist, 'nhsuk-frontend.min.js')) };
      case 'stepwise.css':
      case 'init.js':
      case 'js-enabled.js':
      case 'queue-updates.js':
        return { type, body: readFileSync(new URL(name, ownStatic)) };
    }
    if (!name.startsWith('images/')) return undefined;
    const images = join(frontendDist, 'assets', 'images');
    const path = normalize(join(images, name.slice('images/'.length)));
    if (!path.startsWith(images + sep)) return undefined;
    return { type, body: readFileSync(path) };
  } catch {
    return undefined;
  }
}

/** GET {prefix}/assets/*: the frontend's files and the pages' own; anything else is not found. */
export function mountAssets<E extends Env>(app: Hono<E>, prefix: string, notFound: (c: Context<E>) => Response | Promise<Response>): void {
  app.get('/assets/*', (c) => {
    const name = c.req.path.slice(`${prefix}/assets/`.length);
    let asset = cache.get(name);
    if (!asset) {
      asset = load(name, prefix);
      if (!asset) return notFound(c as unknown as Context<E>);
      cache.set(name, asset);
    }
    return c.body(asset.body as never, 200, { 'Content-Type': asset.type, 'Cache-Control': 'public, max-age=3600' });
  });
}
