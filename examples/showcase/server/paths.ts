/** Files of the showcase package, found the same way from the sources (tests) and from dist/server (npm run showcase). */
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const PACKAGE_DIR = basename(dirname(here)) === 'dist' ? resolve(here, '../..') : resolve(here, '..');
export const WORKER_FILE = join(PACKAGE_DIR, 'worker/worker.py');
/** The Tidings Python SDK the worker imports (the repository's packages/python). */
export const PYTHON_SDK_DIR = resolve(PACKAGE_DIR, '../../packages/python');
export const WEB_DIR = join(PACKAGE_DIR, 'dist/web');

/** The `tidings` bin of @tidings/server, resolved like any dependency. */
export function tidingsBin(): string {
  const main = fileURLToPath(import.meta.resolve('@tidings/server'));
  return join(dirname(dirname(main)), 'bin/tidings.js');
}
